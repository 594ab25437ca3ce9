#include "transport/tcp/tls.hpp"

#include <arpa/inet.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

namespace nvmf::tcp {

namespace kr = keyring;

namespace {

// TLS record content types (RFC 8446 B.1).
constexpr unsigned char record_alert = 21;
constexpr unsigned char record_handshake = 22;
constexpr unsigned char record_application_data = 23;
constexpr size_t max_identity = 1024;
constexpr size_t stage_size = 64 * 1024;
// OpenSSL's receive buffer after the handshake (read ahead): several records
// per recv instead of two system calls per record.
constexpr long read_buffer_size = 128 * 1024;

// The cipher suites NVMe/TCP names, by their TLS 1.3 code points.
const unsigned char aes128_id[2] = {0x13, 0x01};
const unsigned char aes256_id[2] = {0x13, 0x02};

std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 300)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (s.size() > 300) out += "...";
    return out;
}

std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

const SSL_CIPHER* find_cipher(SSL* ssl, kr::tls_cipher c) {
    return SSL_CIPHER_find(ssl, c == kr::tls_cipher::aes_256_gcm_sha384 ? aes256_id : aes128_id);
}

SSL_SESSION* psk_session(SSL* ssl, kr::tls_cipher c, const kr::secret_bytes& psk) {
    const SSL_CIPHER* cipher = find_cipher(ssl, c);
    SSL_SESSION* s = SSL_SESSION_new();
    if (s == nullptr || cipher == nullptr ||
        !SSL_SESSION_set1_master_key(s, psk.data(), psk.size()) ||
        !SSL_SESSION_set_cipher(s, cipher) ||
        !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
        SSL_SESSION_free(s);
        return nullptr;
    }
    return s;
}

// HKDF-Expand-Label(secret, label, "", len) of RFC 8446 7.1 (no Extract).
bool expand_label(const EVP_MD* md, const kr::secret_bytes& secret, std::string_view label,
                  uint8_t* out, size_t len) {
    std::vector<uint8_t> info;
    const std::string full = "tls13 " + std::string(label);
    info.push_back(static_cast<uint8_t>(len >> 8));
    info.push_back(static_cast<uint8_t>(len));
    info.push_back(static_cast<uint8_t>(full.size()));
    info.insert(info.end(), full.begin(), full.end());
    info.push_back(0);  // empty context
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
    size_t got = len;
    const bool ok =
        ctx != nullptr && EVP_PKEY_derive_init(ctx) > 0 &&
        EVP_PKEY_CTX_set_hkdf_mode(ctx, EVP_PKEY_HKDEF_MODE_EXPAND_ONLY) > 0 &&
        EVP_PKEY_CTX_set_hkdf_md(ctx, md) > 0 &&
        EVP_PKEY_CTX_set1_hkdf_key(ctx, secret.data(), static_cast<int>(secret.size())) > 0 &&
        EVP_PKEY_CTX_add1_hkdf_info(ctx, info.data(), static_cast<int>(info.size())) > 0 &&
        EVP_PKEY_derive(ctx, out, &got) > 0 && got == len;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

// Hands one direction's traffic keys to the kernel (SOL_TLS), for either
// AES-GCM size. TLS 1.3's 12-byte IV is the kernel's 4-byte salt then 8-byte
// iv; rec_seq starts at 0: no record has used these keys yet.
template <typename crypto_info>
int set_kernel_keys(int fd, int direction, uint16_t cipher_type, const EVP_MD* md,
                    const kr::secret_bytes& secret, bool& derived) {
    crypto_info ci{};
    uint8_t iv[12];
    ci.info.version = TLS_1_3_VERSION;
    ci.info.cipher_type = cipher_type;
    derived = expand_label(md, secret, "key", ci.key, sizeof(ci.key)) &&
              expand_label(md, secret, "iv", iv, sizeof(iv));
    std::memcpy(ci.salt, iv, sizeof(ci.salt));
    std::memcpy(ci.iv, iv + sizeof(ci.salt), sizeof(ci.iv));
    const int rc = derived ? ::setsockopt(fd, SOL_TLS, direction, &ci, sizeof(ci)) : -1;
    OPENSSL_cleanse(&ci, sizeof(ci));
    OPENSSL_cleanse(iv, sizeof(iv));
    return rc;
}

bool hex_to_secret(std::string_view hex, kr::secret_bytes& out) {
    if (hex.size() % 2 != 0 || hex.size() > 2 * EVP_MAX_MD_SIZE) return false;
    out.resize(hex.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) {
        unsigned v = 0;
        for (size_t k = 0; k < 2; ++k) {
            const char c = hex[2 * i + k];
            v <<= 4;
            if (c >= '0' && c <= '9') {
                v |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                v |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                out.resize(0);
                return false;
            }
        }
        out.data()[i] = static_cast<uint8_t>(v);
    }
    return true;
}

// Gathers up to dst_len bytes of iov into dst.
size_t gather(const iovec* iov, int iovcnt, uint8_t* dst, size_t dst_len) {
    size_t n = 0;
    for (int i = 0; i < iovcnt && n < dst_len; ++i) {
        const size_t k = std::min(iov[i].iov_len, dst_len - n);
        std::memcpy(dst + n, iov[i].iov_base, k);
        n += k;
    }
    return n;
}

// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own writes with
// write(2), and a peer that vanished mid-handshake would raise SIGPIPE in a
// process (a tool, a test) that does not ignore it.
int bio_write(BIO* b, const char* data, int len) {
    BIO_clear_retry_flags(b);
    const ssize_t n = ::send(BIO_get_fd(b, nullptr), data, static_cast<size_t>(len), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return static_cast<int>(n);
}

int bio_read(BIO* b, char* data, int len) {
    BIO_clear_retry_flags(b);
    const ssize_t n = ::recv(BIO_get_fd(b, nullptr), data, static_cast<size_t>(len), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
    return static_cast<int>(n);
}

long bio_ctrl(BIO* b, int cmd, long num, void* ptr) {
    switch (cmd) {
    case BIO_C_SET_FD:
        BIO_set_data(b, reinterpret_cast<void*>(static_cast<intptr_t>(*static_cast<int*>(ptr))));
        BIO_set_init(b, 1);
        return 1;
    case BIO_C_GET_FD: {
        const int fd = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
        if (ptr != nullptr) *static_cast<int*>(ptr) = fd;
        return fd;
    }
    case BIO_CTRL_FLUSH:
        return 1;
    default:
        return 0;
    }
}

const BIO_METHOD* socket_method() {
    static const BIO_METHOD* m = [] {
        BIO_METHOD* bm = BIO_meth_new(BIO_TYPE_SOCKET | BIO_get_new_index(), "nvmf-socket");
        if (bm == nullptr) return static_cast<BIO_METHOD*>(nullptr);
        BIO_meth_set_write(bm, bio_write);
        BIO_meth_set_read(bm, bio_read);
        BIO_meth_set_ctrl(bm, bio_ctrl);
        return bm;
    }();
    return m;
}

// An SSL on fd (not owned) through socket_method().
SSL* new_ssl(SSL_CTX* ctx, int fd) {
    SSL* ssl = SSL_new(ctx);
    BIO* bio = socket_method() ? BIO_new(socket_method()) : nullptr;
    if (ssl == nullptr || bio == nullptr) {
        SSL_free(ssl);
        BIO_free(bio);
        return nullptr;
    }
    BIO_ctrl(bio, BIO_C_SET_FD, 0, &fd);
    SSL_set_bio(ssl, bio, bio);
    return ssl;
}

result<std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)>> base_context(const SSL_METHOD* method,
                                                                  const char* suites) {
    std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(method), SSL_CTX_free);
    if (!ctx) return make_error(-ENOMEM, "SSL_CTX_new: " + openssl_errors());
    if (!SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) ||
        !SSL_CTX_set_ciphersuites(ctx.get(), suites)) {
        return make_error(-EINVAL, "TLS 1.3 set-up: " + openssl_errors());
    }
    // Resumption would carry a PSK of OpenSSL's making past our checks, and
    // a ticket is a record the kernel's receive side would have to skip.
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx.get(), 0);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
    return ctx;
}

}  // namespace

// ---------------------------------------------------------------- callbacks

// The write BIO of OpenSSL's record layer after the handshake: records are
// appended to the channel's out_ (never blocks), then sent in batches.
struct tls_collector {
    static int write(BIO* b, const char* data, int len) {
        auto* ch = static_cast<tls_channel*>(BIO_get_data(b));
        if (ch->out_off_ == ch->out_.size()) {
            ch->out_.clear();
            ch->out_off_ = 0;
        }
        const size_t at = ch->out_.size();
        ch->out_.resize(at + static_cast<size_t>(len));
        std::memcpy(ch->out_.data() + at, data, static_cast<size_t>(len));
        return len;
    }
    static long ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }
    static const BIO_METHOD* method() {
        static const BIO_METHOD* m = [] {
            BIO_METHOD* bm = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "nvmf-out");
            if (bm == nullptr) return static_cast<BIO_METHOD*>(nullptr);
            BIO_meth_set_write(bm, write);
            BIO_meth_set_ctrl(bm, ctrl);
            return bm;
        }();
        return m;
    }
};

struct tls_callbacks {
    static tls_channel* of(const SSL* ssl) {
        return static_cast<tls_channel*>(SSL_get_app_data(ssl));
    }

    // Target: the host's PSK identity -> the TLS PSK, or no session (refused).
    static int find_session(SSL* ssl, const unsigned char* id, size_t len, SSL_SESSION** sess) {
        *sess = nullptr;
        tls_channel* ch = of(ssl);
        if (ch == nullptr || ch->lookup_ == nullptr) return 0;
        const std::string_view identity(reinterpret_cast<const char*>(id), len);
        if (len == 0 || len > max_identity || std::memchr(id, '\0', len) != nullptr) {
            ch->failure_ = "malformed PSK identity (" + std::to_string(len) + " bytes)";
            return 1;  // no PSK: the handshake fails (there is no certificate)
        }
        auto match = ch->lookup_(ch->lookup_ctx_, identity);
        if (!match) {
            ch->failure_ =
                "PSK identity '" + printable(identity) + "' refused: " + match.err().message;
            return 1;
        }
        *sess = psk_session(ssl, match->cipher, match->tls_psk);
        if (*sess == nullptr) {
            ch->failure_ = "cannot make a PSK session: " + openssl_errors();
            return 0;
        }
        ch->identity_ = std::string(identity);
        ch->cipher_ = match->cipher;
        return 1;
    }

    // Host: offer our identity with a session holding the TLS PSK. After a
    // HelloRetryRequest md is the hash the server chose: ours or nothing.
    static int use_session(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* len,
                           SSL_SESSION** sess) {
        *sess = nullptr;
        tls_channel* ch = of(ssl);
        if (ch == nullptr || ch->creds_ == nullptr) return 0;
        const SSL_CIPHER* c = find_cipher(ssl, ch->creds_->cipher);
        if (md != nullptr && c != nullptr && SSL_CIPHER_get_handshake_digest(c) != md) return 1;
        *sess = psk_session(ssl, ch->creds_->cipher, ch->creds_->tls_psk);
        if (*sess == nullptr) return 0;
        *id = reinterpret_cast<const unsigned char*>(ch->identity_.data());
        *len = ch->identity_.size();
        return 1;
    }

    // "CLIENT_TRAFFIC_SECRET_0 <client random> <secret>" and the server's:
    // the application traffic secrets kTLS needs. Nothing is logged.
    static void keylog(const SSL* ssl, const char* line) {
        tls_channel* ch = of(ssl);
        if (ch == nullptr) return;
        const std::string_view l(line);
        const size_t a = l.find(' ');
        const size_t b = a == std::string_view::npos ? a : l.find(' ', a + 1);
        if (b == std::string_view::npos) return;
        const std::string_view label = l.substr(0, a);
        const std::string_view secret = l.substr(b + 1);
        if (label == "CLIENT_TRAFFIC_SECRET_0") {
            hex_to_secret(secret, ch->client_secret_);
        } else if (label == "SERVER_TRAFFIC_SECRET_0") {
            hex_to_secret(secret, ch->server_secret_);
        }
    }
};

// ---------------------------------------------------------------- context

tls_context::~tls_context() { SSL_CTX_free(ctx_); }

result<std::unique_ptr<tls_context>> tls_context::server(bool session_tickets) {
    // SPDK's target offers the same two, SHA-384 first.
    auto ctx = base_context(TLS_server_method(), "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256");
    if (!ctx) return ctx.err();
    if (session_tickets) {
        SSL_CTX_clear_options(ctx->get(), SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx->get(), 2);
    }
    SSL_CTX_set_psk_find_session_callback(ctx->get(), tls_callbacks::find_session);
    SSL_CTX_set_keylog_callback(ctx->get(), tls_callbacks::keylog);
    return std::unique_ptr<tls_context>(new tls_context(ctx->release()));
}

result<std::unique_ptr<tls_context>> tls_context::client(kr::tls_cipher c) {
    auto ctx = base_context(TLS_client_method(), kr::cipher_name(c));
    if (!ctx) return ctx.err();
    SSL_CTX_set_psk_use_session_callback(ctx->get(), tls_callbacks::use_session);
    SSL_CTX_set_keylog_callback(ctx->get(), tls_callbacks::keylog);
    return std::unique_ptr<tls_context>(new tls_context(ctx->release()));
}

// ---------------------------------------------------------------- kernel TLS

bool kernel_tls_available() {
    static std::once_flag once;
    static bool available = false;
    std::call_once(once, [] {
        const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t alen = sizeof(a);
        int c = -1, s = -1;
        if (l >= 0 && ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
            ::listen(l, 1) == 0 && ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &alen) == 0) {
            c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (c >= 0 && ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
                s = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
                available = ::setsockopt(c, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) == 0;
            }
        }
        for (int fd : {l, c, s}) {
            if (fd >= 0) ::close(fd);
        }
    });
    return available;
}

// ---------------------------------------------------------------- channel

tls_channel::tls_channel(SSL* ssl, int fd, bool server) : ssl_(ssl), fd_(fd), server_(server) {
    SSL_set_app_data(ssl_, this);
}

tls_channel::~tls_channel() { SSL_free(ssl_); }

result<std::unique_ptr<tls_channel>> tls_channel::accept(const tls_context& ctx, int fd,
                                                         tls_psk_lookup lookup, void* lookup_ctx) {
    SSL* ssl = new_ssl(ctx.get(), fd);
    if (ssl == nullptr) return make_error(-ENOMEM, "SSL_new: " + openssl_errors());
    SSL_set_accept_state(ssl);
    std::unique_ptr<tls_channel> ch(new tls_channel(ssl, fd, true));
    ch->lookup_ = lookup;
    ch->lookup_ctx_ = lookup_ctx;
    return ch;
}

result<std::unique_ptr<tls_channel>> tls_channel::connect(const tls_context& ctx, int fd,
                                                          const kr::tls_credentials& creds) {
    SSL* ssl = new_ssl(ctx.get(), fd);
    if (ssl == nullptr) return make_error(-ENOMEM, "SSL_new: " + openssl_errors());
    SSL_set_connect_state(ssl);
    std::unique_ptr<tls_channel> ch(new tls_channel(ssl, fd, false));
    ch->creds_ = &creds;
    ch->identity_ = creds.identity;
    ch->cipher_ = creds.cipher;
    return ch;
}

void tls_channel::ssl_failure(const char* what, int ret) {
    const int e = SSL_get_error(ssl_, ret);
    std::string why = openssl_errors();
    if (why.empty()) {
        if (e == SSL_ERROR_SYSCALL) {
            why = errno != 0 ? std::strerror(errno) : "the peer closed the connection";
        } else if (e == SSL_ERROR_ZERO_RETURN) {
            why = "the peer closed the TLS session";
        } else {
            why = "SSL error " + std::to_string(e);
        }
    }
    // A refusal from our own PSK lookup says more than OpenSSL's alert.
    failure_ = failure_.empty() ? std::string(what) + ": " + why
                                : failure_ + " (" + what + ": " + why + ")";
}

tls_channel::step tls_channel::handshake() {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
        // Both sides must have used the PSK: without one there is no key
        // agreement we accept (and no certificate to fall back on).
        if (!SSL_session_reused(ssl_)) {
            failure_ = "handshake completed without the PSK";
            return step::failed;
        }
        const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
        const uint16_t id = c ? static_cast<uint16_t>(SSL_CIPHER_get_protocol_id(c)) : 0;
        if (id == 0x1302) {
            cipher_ = kr::tls_cipher::aes_256_gcm_sha384;
        } else if (id == 0x1301) {
            cipher_ = kr::tls_cipher::aes_128_gcm_sha256;
        } else {
            failure_ = "unexpected cipher suite";
            return step::failed;
        }
        creds_ = nullptr;
        return step::done;
    }
    switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
        return step::want_read;
    case SSL_ERROR_WANT_WRITE:
        return step::want_write;
    default:
        ssl_failure("TLS handshake", rc);
        return step::failed;
    }
}

bool tls_channel::install_kernel(int direction, const kr::secret_bytes& secret) {
    bool derived = false;
    const int rc = cipher_ == kr::tls_cipher::aes_256_gcm_sha384
                       ? set_kernel_keys<tls12_crypto_info_aes_gcm_256>(
                             fd_, direction, TLS_CIPHER_AES_GCM_256, EVP_sha384(), secret, derived)
                       : set_kernel_keys<tls12_crypto_info_aes_gcm_128>(
                             fd_, direction, TLS_CIPHER_AES_GCM_128, EVP_sha256(), secret, derived);
    if (!derived) {
        ktls_note_ = "key derivation failed";
        return false;
    }
    if (rc != 0) {
        ktls_note_ =
            std::string(direction == TLS_TX ? "TLS_TX" : "TLS_RX") + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

void tls_channel::finish(bool want_kernel) {
    if (finished_) return;
    finished_ = true;
    if (!want_kernel) {
        ktls_note_ = "kTLS disabled";
    } else if (client_secret_.empty() || server_secret_.empty()) {
        ktls_note_ = "no traffic secrets from OpenSSL";
    } else if (SSL_has_pending(ssl_)) {
        // Bytes OpenSSL already read past the handshake would be lost to the kernel.
        ktls_note_ = "OpenSSL holds unread records";
    } else if (::setsockopt(fd_, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) != 0) {
        ktls_note_ = std::string("TCP_ULP tls: ") + std::strerror(errno);
    } else {
        ktx_ = install_kernel(TLS_TX, server_ ? server_secret_ : client_secret_);
        krx_ = install_kernel(TLS_RX, server_ ? client_secret_ : server_secret_);
        if (krx_) {
            // TLS 1.3 records we receive carry no padding (neither OpenSSL nor
            // the kernel pad): lets the kernel decrypt straight into our buffers.
            const int one = 1;
            (void)::setsockopt(fd_, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &one, sizeof(one));
        }
        if (ktx_ && krx_) ktls_note_.clear();
    }
    client_secret_ = kr::secret_bytes();
    server_secret_ = kr::secret_bytes();
    if (!krx_) {
        // No kernel to hand records to any more: read as much as arrived,
        // into a buffer with room for many records (the handshake's is
        // dropped; the next read allocates this one, once).
        SSL_set_default_read_buffer_len(ssl_, read_buffer_size);
        SSL_set_read_ahead(ssl_, 1);
    }
    if (!ktx_) {
        // Writes go to out_ and leave in batches (send_openssl).
        BIO* out = tls_collector::method() ? BIO_new(tls_collector::method()) : nullptr;
        if (out != nullptr) {
            BIO_set_data(out, this);
            BIO_set_init(out, 1);
            SSL_set0_wbio(ssl_, out);  // the socket BIO stays the read BIO
        }
    }
    // The handshake's buffers (unused from here in kTLS, regrown as needed
    // otherwise): not kept for the life of the connection.
    (void)SSL_free_buffers(ssl_);
}

ssize_t tls_channel::recv(const iovec* iov, int iovcnt) {
    return krx_ ? recv_kernel(iov, iovcnt) : recv_openssl(iov, iovcnt);
}

ssize_t tls_channel::recv_kernel(const iovec* iov, int iovcnt) {
    for (;;) {
        alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(unsigned char))];
        msghdr msg{};
        msg.msg_iov = const_cast<iovec*>(iov);
        msg.msg_iovlen = static_cast<size_t>(iovcnt);
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof(cbuf);
        const ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
        if (n <= 0) {
            if (n < 0 && errno == EBADMSG) failure_ = "a TLS record failed authentication";
            return n;
        }
        unsigned char type = record_application_data;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE) {
                type = *CMSG_DATA(c);
            }
        }
        if (type == record_application_data) return n;
        if (type == record_alert) {
            uint8_t alert[2] = {0, 0};
            const size_t got =
                gather(iov, iovcnt, alert, std::min<size_t>(2, static_cast<size_t>(n)));
            if (got == 2 && alert[1] == 0) return 0;  // close_notify
            failure_ = "TLS alert " + std::to_string(alert[1]) + " from the peer";
            errno = ECONNRESET;
            return -1;
        }
        if (type == record_handshake && !server_) {
            // Session tickets a server sends after the handshake (SPDK's
            // does): nothing to use them for. Skip, read on.
            continue;
        }
        failure_ = "unexpected TLS record type " + std::to_string(type) + " after the handshake";
        errno = EPROTO;
        return -1;
    }
}

ssize_t tls_channel::recv_openssl(const iovec* iov, int iovcnt) {
    size_t total = 0;
    for (int i = 0; i < iovcnt; ++i) {
        auto* base = static_cast<uint8_t*>(iov[i].iov_base);
        size_t off = 0;
        while (off < iov[i].iov_len) {
            ERR_clear_error();
            errno = 0;
            size_t got = 0;
            const int rc = SSL_read_ex(ssl_, base + off, iov[i].iov_len - off, &got);
            if (rc == 1) {
                off += got;
                total += got;
                continue;
            }
            const int e = SSL_get_error(ssl_, rc);
            if (total > 0) {
                ERR_clear_error();
                return static_cast<ssize_t>(total);  // the error, if any, comes again next time
            }
            switch (e) {
            case SSL_ERROR_WANT_READ:
            case SSL_ERROR_WANT_WRITE:
                errno = EAGAIN;
                return -1;
            case SSL_ERROR_ZERO_RETURN:
                return 0;
            case SSL_ERROR_SYSCALL:
                if (errno == 0) return 0;  // EOF without close_notify
                return -1;
            default:
                ssl_failure("TLS receive", rc);
                errno = failure_.find("decrypt") != std::string::npos ? EBADMSG : EPROTO;
                return -1;
            }
        }
    }
    return static_cast<ssize_t>(total);
}

ssize_t tls_channel::send(const iovec* iov, int iovcnt) {
    if (ktx_) {
        msghdr msg{};
        msg.msg_iov = const_cast<iovec*>(iov);
        msg.msg_iovlen = static_cast<size_t>(iovcnt);
        return ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    return send_openssl(iov, iovcnt);
}

int tls_channel::flush_pending() {
    while (out_off_ < out_.size()) {
        const ssize_t n = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;  // EAGAIN: the socket is full
        }
        out_off_ += static_cast<size_t>(n);
    }
    out_.clear();
    out_off_ = 0;
    return 0;
}

ssize_t tls_channel::send_openssl(const iovec* iov, int iovcnt) {
    // Records from the last call go first; new plaintext waits until the
    // socket took them, so out_ holds one call's worth at most.
    if (flush_pending() < 0) return -1;
    if (stage_.empty()) stage_.resize(stage_size);
    const size_t n = gather(iov, iovcnt, stage_.data(), stage_.size());
    if (n == 0) return 0;
    // The write BIO never blocks: every byte becomes records in out_.
    ERR_clear_error();
    errno = 0;
    size_t written = 0;
    if (SSL_write_ex(ssl_, stage_.data(), n, &written) != 1 || written != n) {
        ssl_failure("TLS send", 0);
        errno = EPROTO;
        return -1;
    }
    // Accepted: what the socket does not take now stays in out_ for later.
    if (flush_pending() < 0 && errno != EAGAIN) return -1;
    return static_cast<ssize_t>(n);
}

void tls_channel::close_notify() {
    if (!finished_) return;
    if (ktx_) {
        alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(unsigned char))] = {};
        uint8_t alert[2] = {1, 0};  // warning, close_notify
        iovec v{alert, sizeof(alert)};
        msghdr msg{};
        msg.msg_iov = &v;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof(cbuf);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_TLS;
        c->cmsg_type = TLS_SET_RECORD_TYPE;
        c->cmsg_len = CMSG_LEN(sizeof(unsigned char));
        *CMSG_DATA(c) = record_alert;
        (void)::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        return;
    }
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);
    ERR_clear_error();
    (void)flush_pending();
}

}  // namespace nvmf::tcp
