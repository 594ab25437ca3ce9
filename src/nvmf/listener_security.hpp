// How a listener secures its connections (NVMe/TCP): the RPC's
// secure_channel (TLS required, as SPDK) and secure_concat (TLS, or a plain
// TCP admin queue that authenticates with DH-HMAC-CHAP and generates its TLS
// PSK: NVMe Base 2.1 secure channel concatenation; Linux nvmet's port with
// addr_tsas "tls1.3" and addr_treq "not required").
#pragma once

#include <cstdint>

namespace nvmf {

enum class listener_security : uint8_t {
    plain,   // TCP
    tls,     // secure_channel: TLS 1.3 only
    concat,  // secure_concat: TLS 1.3, or plain TCP for concatenation alone
};

// Whether connections may arrive over TLS there.
constexpr bool takes_tls(listener_security s) { return s != listener_security::plain; }

// "plain", "secure_channel", "secure_concat" (the RPC's words), for messages.
const char* to_string(listener_security s);

}  // namespace nvmf
