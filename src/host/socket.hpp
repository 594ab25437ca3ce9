// A blocking TCP connection with deadline-bounded reads, buffered for the
// many small header reads of the PDU stream.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "keyring/tls_psk.hpp"
#include "util/result.hpp"

namespace nvmf::tcp {
class tls_channel;
class tls_context;
}  // namespace nvmf::tcp

namespace nvmf::host {

// TLS for a connection (NVMe/TCP secure channel): the PSK identity and TLS
// PSK to offer, and whether the record layer may go to the kernel (kTLS).
struct tls_options {
    keyring::tls_credentials creds;
    bool ktls = true;
};

class tcp_socket {
public:
    tcp_socket();
    ~tcp_socket();
    tcp_socket(const tcp_socket&) = delete;
    tcp_socket& operator=(const tcp_socket&) = delete;

    result<void> connect(const std::string& traddr, const std::string& trsvcid, int timeout_ms);
    // TLS 1.3 handshake on the connected socket; from then on every byte
    // goes through it (kTLS, or OpenSSL's record layer).
    result<void> start_tls(const tls_options& tls, int timeout_ms);
    bool tls() const { return tls_ != nullptr; }
    // Both directions of the record layer in the kernel.
    bool tls_kernel() const;
    // Why kTLS is not used (empty when it is, or without TLS).
    std::string tls_note() const;
    // Takes ownership of an already connected socket (socketpair in tests).
    void adopt(int fd) {
        close();
        fd_ = fd;
    }
    bool is_open() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    void close();
    // Half-close our side so the peer sees EOF but we can still read.
    void shutdown_write();

    // Sends everything, after whatever defer_send queued.
    result<void> send_all(const void* data, size_t len);
    result<void> sendv_all(iovec* iov, int iovcnt);
    // Queues bytes (copied) to go out in one write with the rest of the queue:
    // at the next send, flush(), or read that has to wait for the peer. Work
    // deferred this way is never stuck behind a read that blocks.
    // With a limit set, the limit-th deferred message sends the batch at once.
    result<void> defer_send(const iovec* iov, int iovcnt);
    void set_defer_limit(uint32_t n) { defer_limit_ = n; }
    result<void> flush();
    bool has_deferred() const { return !deferred_.empty(); }

    // Reads exactly len bytes before the deadline. -ECONNRESET when the peer
    // closed, -ETIMEDOUT when the deadline passed.
    result<void> read_exact(void* dst, size_t len, int timeout_ms);
    // Waits until n bytes (n <= 64 KiB) are buffered, consuming nothing, so
    // a timeout never leaves a PDU half read.
    result<void> wait_available(size_t n, int timeout_ms);
    // Reads what is available (at least one byte). 0 means the peer closed.
    result<size_t> read_some(void* dst, size_t len, int timeout_ms);
    // Whether the peer closes the connection within timeout_ms; buffered and
    // newly arriving bytes are discarded.
    bool wait_closed(int timeout_ms);

    // Microseconds a read polls with non-blocking recv before it sleeps.
    void set_busy_poll(uint32_t us) { busy_poll_us_ = us; }

private:
    result<void> fill(int timeout_ms);
    // One recv of up to len bytes, waiting (poll) only when none are there.
    result<size_t> recv_ready(void* dst, size_t len, int timeout_ms);
    result<void> send_iov(iovec* iov, int iovcnt);

    // One receive (recv with MSG_DONTWAIT semantics), through TLS when on.
    ssize_t recv_once(void* dst, size_t len);
    // Waits until the socket can take more (TLS sends on a non-blocking socket).
    result<void> wait_writable();

    int fd_ = -1;
    std::unique_ptr<tcp::tls_context> tls_ctx_;
    std::unique_ptr<tcp::tls_channel> tls_;
    std::unique_ptr<uint8_t[]> buf_ = std::make_unique<uint8_t[]>(buf_size);
    size_t head_ = 0;
    size_t tail_ = 0;
    uint32_t busy_poll_us_ = 0;
    std::vector<uint8_t> deferred_;
    uint32_t deferred_msgs_ = 0;
    uint32_t defer_limit_ = 0;
    static constexpr size_t buf_size = 64 * 1024;
};

}  // namespace nvmf::host
