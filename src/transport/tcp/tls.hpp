// TLS 1.3 with pre-shared keys under an NVMe/TCP connection (NVMe/TCP
// Transport spec, TLS; secure channel established before ICReq). OpenSSL does
// the handshake; the record layer then goes to the kernel (kTLS: TCP_ULP
// "tls", TLS_TX/TLS_RX) when the kernel has it, so a connection keeps plain
// recvmsg/sendmsg on its socket, or stays in OpenSSL (SSL_read/SSL_write)
// when it has not. The PDU codec above never knows which.
//
// Why our own kTLS set-up rather than SSL_OP_ENABLE_KTLS: OpenSSL 3.0 (Debian
// 12) hands only the transmit direction of TLS 1.3 to the kernel, and the
// receive side is where the target spends its time. The traffic secrets come
// from OpenSSL's key log callback (public API); key and IV are derived with
// HKDF-Expand-Label as RFC 8446 7.3 says. The target sends no session tickets,
// so both directions start at record sequence 0 when the handshake returns.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keyring/tls_psk.hpp"
#include "util/result.hpp"

// OpenSSL's SSL_CTX and SSL, without its headers here.
struct ssl_ctx_st;
struct ssl_st;

namespace nvmf::tcp {

// A server's answer to a PSK identity offered in a ClientHello: the TLS PSK
// and its cipher suite, or an error (unknown identity) that refuses it.
struct tls_psk_match {
    keyring::secret_bytes tls_psk;
    keyring::tls_cipher cipher = keyring::tls_cipher::aes_128_gcm_sha256;
};
using tls_psk_lookup = result<tls_psk_match> (*)(void* ctx, std::string_view identity);

// An SSL_CTX set up for NVMe/TCP: TLS 1.3 only, TLS_AES_128_GCM_SHA256 and
// TLS_AES_256_GCM_SHA384, PSK only (no certificate: a ClientHello without a
// PSK we accept cannot succeed), no session tickets or resumption.
class tls_context {
public:
    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    // session_tickets: send two NewSessionTickets after the handshake, as
    // SPDK's target does; only tests ask for it (our target never sends
    // one: a ticket is a record written before the kernel could take over).
    static result<std::unique_ptr<tls_context>> server(bool session_tickets = false);
    // A client offering one cipher suite: the one its key goes with.
    static result<std::unique_ptr<tls_context>> client(keyring::tls_cipher c);

    ssl_ctx_st* get() const { return ctx_; }

private:
    explicit tls_context(ssl_ctx_st* c) : ctx_(c) {}
    ssl_ctx_st* ctx_;
};

// Whether this kernel can take a TLS record layer (the "tls" TCP ULP): tried
// once on a throw-away TCP socket pair, then remembered.
bool kernel_tls_available();

class tls_channel {
public:
    ~tls_channel();
    tls_channel(const tls_channel&) = delete;
    tls_channel& operator=(const tls_channel&) = delete;

    // The target's side of an accepted socket (non-blocking; not owned).
    static result<std::unique_ptr<tls_channel>> accept(const tls_context& ctx, int fd,
                                                       tls_psk_lookup lookup, void* lookup_ctx);
    // The host's side: offers creds.identity with creds.tls_psk.
    static result<std::unique_ptr<tls_channel>> connect(const tls_context& ctx, int fd,
                                                        const keyring::tls_credentials& creds);

    enum class step : uint8_t { done, want_read, want_write, failed };
    // Advances the handshake on a non-blocking socket.
    step handshake();
    // Why the handshake or the record layer failed (no key material in it).
    const std::string& failure() const { return failure_; }
    // The PSK identity the handshake used (the target: what the host offered
    // and the lookup accepted).
    const std::string& identity() const { return identity_; }
    keyring::tls_cipher cipher() const { return cipher_; }

    // After the handshake: hands each direction of the record layer to the
    // kernel when allowed (want_kernel) and possible; the rest stays with
    // OpenSSL. Never fails: kTLS is an optimisation.
    void finish(bool want_kernel);
    bool kernel_tx() const { return ktx_; }
    bool kernel_rx() const { return krx_; }
    // Why kTLS was not used (empty when both directions are in the kernel).
    const std::string& kernel_note() const { return ktls_note_; }

    // recvmsg/sendmsg semantics on a non-blocking socket: bytes moved; 0 on
    // receive means the peer closed (close_notify or EOF); -1 with errno
    // (EAGAIN when nothing can move now, EBADMSG for a record that fails
    // authentication, EPROTO for a TLS protocol error). A receive returns
    // less than asked only when nothing more is available now.
    ssize_t recv(const iovec* iov, int iovcnt);
    ssize_t send(const iovec* iov, int iovcnt);
    // OpenSSL's record layer encrypts a whole send into records held here and
    // writes them with as few system calls as the socket allows: what the
    // socket did not take yet waits (as it would in a kernel socket buffer).
    // While send_pending(), the owner waits for the socket to be writable and
    // calls flush_pending() (0: all out, -1 with errno, EAGAIN: not yet).
    bool send_pending() const { return out_off_ < out_.size(); }
    int flush_pending();
    // Best effort close_notify before the socket closes.
    void close_notify();

private:
    friend struct tls_callbacks;  // OpenSSL's callbacks (tls.cpp)
    friend struct tls_collector;  // the write BIO of OpenSSL's record layer (tls.cpp)
    tls_channel(ssl_st* ssl, int fd, bool server);
    void ssl_failure(const char* what, int ret);
    bool install_kernel(int direction, const keyring::secret_bytes& secret);
    ssize_t recv_kernel(const iovec* iov, int iovcnt);
    ssize_t recv_openssl(const iovec* iov, int iovcnt);
    ssize_t send_openssl(const iovec* iov, int iovcnt);

    ssl_st* ssl_;
    int fd_;
    bool server_;
    tls_psk_lookup lookup_ = nullptr;
    void* lookup_ctx_ = nullptr;
    const keyring::tls_credentials* creds_ = nullptr;  // host side, during the handshake
    std::string identity_;
    keyring::tls_cipher cipher_ = keyring::tls_cipher::aes_128_gcm_sha256;
    std::string failure_;
    keyring::secret_bytes client_secret_;  // CLIENT_TRAFFIC_SECRET_0
    keyring::secret_bytes server_secret_;  // SERVER_TRAFFIC_SECRET_0
    bool ktx_ = false;
    bool krx_ = false;
    bool finished_ = false;
    std::string ktls_note_;
    std::vector<uint8_t> stage_;  // OpenSSL send path: iovecs gathered for one SSL_write
    std::vector<uint8_t> out_;    // records encrypted and not yet on the socket
    size_t out_off_ = 0;
};

}  // namespace nvmf::tcp
