// SPDK's sock_impl_set_options for its "ssl" socket implementation, as far as
// they mean something to this target's TLS listeners (SPDK's names), plus
// how long a TLS handshake may take. Read by reactors when they accept, set
// by the control plane: relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>

namespace nvmf {

struct tls_sock_options {
    // The record layer goes to the kernel (kTLS) when it has it. SPDK's
    // default is off; ours is on: it is the fast path, and it falls back by
    // itself where the kernel lacks TLS.
    std::atomic<bool> enable_ktls{true};
    // 0 (any) or 13: NVMe/TCP needs TLS 1.3, the only version offered.
    std::atomic<uint32_t> tls_version{0};
    // A connection that has not completed its handshake by then is closed.
    std::atomic<uint32_t> handshake_timeout_ms{10000};
};

}  // namespace nvmf
