#include "host/socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "transport/tcp/tls.hpp"

namespace nvmf::host {

namespace {

error sys_error(const char* what) {
    const int e = errno;
    return make_error(-e, std::string(what) + ": " + strerror(e));
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Waits for readability; false when the deadline passed. timeout_ms < 0 waits forever.
result<bool> wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    for (;;) {
        const int rc = ::poll(&p, 1, timeout_ms);
        if (rc > 0) return true;
        if (rc == 0) return false;
        if (errno != EINTR) return sys_error("poll");
    }
}

}  // namespace

tcp_socket::tcp_socket() = default;

tcp_socket::~tcp_socket() { close(); }

void tcp_socket::close() {
    if (tls_ && fd_ >= 0) tls_->close_notify();
    tls_.reset();
    tls_ctx_.reset();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    head_ = tail_ = 0;
    deferred_.clear();
    deferred_msgs_ = 0;
}

void tcp_socket::shutdown_write() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

result<void> tcp_socket::connect(const std::string& traddr, const std::string& trsvcid,
                                 int timeout_ms) {
    close();
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const int gai = ::getaddrinfo(traddr.c_str(), trsvcid.c_str(), &hints, &res);
    if (gai != 0) {
        return make_error(-EINVAL,
                          "bad address " + traddr + ":" + trsvcid + ": " + gai_strerror(gai));
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, ::freeaddrinfo);
    const int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return sys_error("socket");
    fd_ = fd;
    const std::string where = traddr + ":" + trsvcid;
    if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            auto e = sys_error("connect");
            close();
            return make_error(e.code, e.message + " (" + where + ")");
        }
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
            close();
            return make_error(-ETIMEDOUT, "connect to " + where + " timed out");
        }
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            close();
            return make_error(-err, "connect to " + where + ": " + strerror(err));
        }
    }
    // Blocking from here on; reads are bounded by poll() deadlines.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return {};
}

result<void> tcp_socket::start_tls(const tls_options& tls, int timeout_ms) {
    if (fd_ < 0) return make_error(-ENOTCONN, "not connected");
    auto ctx = tcp::tls_context::client(tls.creds.cipher);
    if (!ctx) return ctx.err();
    tls_ctx_ = std::move(*ctx);
    // Non-blocking for good: TLS reads and writes wait in poll() as plain ones do.
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    auto ch = tcp::tls_channel::connect(*tls_ctx_, fd_, tls.creds);
    if (!ch) return ch.err();
    const int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        const auto st = (*ch)->handshake();
        if (st == tcp::tls_channel::step::done) break;
        if (st == tcp::tls_channel::step::failed) {
            return make_error(-ECONNREFUSED,
                              "TLS handshake with the target failed: " + (*ch)->failure());
        }
        const int left = static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
        pollfd p{fd_,
                 static_cast<short>(st == tcp::tls_channel::step::want_read ? POLLIN : POLLOUT), 0};
        const int rc = ::poll(&p, 1, left);
        if (rc == 0) return make_error(-ETIMEDOUT, "TLS handshake timed out");
        if (rc < 0 && errno != EINTR) return sys_error("poll");
    }
    (*ch)->finish(tls.ktls);
    tls_ = std::move(*ch);
    return {};
}

bool tcp_socket::tls_kernel() const { return tls_ && tls_->kernel_tx() && tls_->kernel_rx(); }

std::string tcp_socket::tls_note() const { return tls_ ? tls_->kernel_note() : std::string(); }

ssize_t tcp_socket::recv_once(void* dst, size_t len) {
    if (tls_) {
        iovec v{dst, len};
        return tls_->recv(&v, 1);
    }
    return ::recv(fd_, dst, len, MSG_DONTWAIT);
}

result<void> tcp_socket::wait_writable() {
    pollfd p{fd_, POLLOUT, 0};
    for (;;) {
        const int rc = ::poll(&p, 1, -1);
        if (rc > 0) return {};
        if (rc < 0 && errno != EINTR) return sys_error("poll");
    }
}

result<void> tcp_socket::send_all(const void* data, size_t len) {
    iovec iov{const_cast<void*>(data), len};
    return sendv_all(&iov, 1);
}

result<void> tcp_socket::sendv_all(iovec* iov, int iovcnt) {
    if (auto r = flush(); !r) return r;
    return send_iov(iov, iovcnt);
}

result<void> tcp_socket::defer_send(const iovec* iov, int iovcnt) {
    for (int i = 0; i < iovcnt; ++i) {
        const auto* b = static_cast<const uint8_t*>(iov[i].iov_base);
        deferred_.insert(deferred_.end(), b, b + iov[i].iov_len);
    }
    if (defer_limit_ != 0 && ++deferred_msgs_ >= defer_limit_) return flush();
    return {};
}

result<void> tcp_socket::flush() {
    if (deferred_.empty()) return {};
    iovec iov{deferred_.data(), deferred_.size()};
    auto r = send_iov(&iov, 1);
    deferred_.clear();
    deferred_msgs_ = 0;
    return r;
}

result<void> tcp_socket::send_iov(iovec* iov, int iovcnt) {
    if (fd_ < 0) return make_error(-ENOTCONN, "not connected");
    while (iovcnt > 0) {
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = static_cast<size_t>(std::min(iovcnt, 1024));
        const ssize_t n = tls_ ? tls_->send(iov, static_cast<int>(msg.msg_iovlen))
                               : ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (tls_ && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (auto r = wait_writable(); !r) return r;
                continue;
            }
            if (tls_ && !tls_->failure().empty()) {
                return make_error(-errno, "TLS send: " + tls_->failure());
            }
            return sys_error("send");
        }
        size_t left = static_cast<size_t>(n);
        while (iovcnt > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            ++iov;
            --iovcnt;
        }
        if (iovcnt > 0) {
            iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
            iov->iov_len -= left;
        }
    }
    // Records TLS encrypted but the socket did not take yet: out before we return.
    while (tls_ && tls_->send_pending()) {
        if (tls_->flush_pending() == 0) break;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (auto r = wait_writable(); !r) return r;
            continue;
        }
        return sys_error("send");
    }
    return {};
}

result<void> tcp_socket::fill(int timeout_ms) {
    if (head_ == tail_) {
        head_ = tail_ = 0;
    } else if (tail_ == buf_size) {
        std::memmove(buf_.get(), buf_.get() + head_, tail_ - head_);
        tail_ -= head_;
        head_ = 0;
    }
    auto n = recv_ready(buf_.get() + tail_, buf_size - tail_, timeout_ms);
    if (!n) return n.err();
    tail_ += n.value();
    return {};
}

result<size_t> tcp_socket::recv_ready(void* dst, size_t len, int timeout_ms) {
    // Under load the bytes are usually there already: a non-blocking recv
    // first saves the poll() that would only say so.
    using clock = std::chrono::steady_clock;
    const auto spin_until = busy_poll_us_ > 0
                                ? clock::now() + std::chrono::microseconds(busy_poll_us_)
                                : clock::time_point{};
    for (;;) {
        const ssize_t n = recv_once(dst, len);
        if (n > 0) return static_cast<size_t>(n);
        if (n == 0) return make_error(-ECONNRESET, "connection closed by the target");
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) return make_error(-ECONNRESET, "connection reset by the target");
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            if (tls_ && !tls_->failure().empty()) {
                return make_error(-errno, "TLS receive: " + tls_->failure());
            }
            return sys_error("recv");
        }
        // About to wait for the peer: what we deferred may be what it waits for.
        if (!deferred_.empty()) {
            if (auto r = flush(); !r) return r.err();
            continue;
        }
        if (busy_poll_us_ > 0 && clock::now() < spin_until) continue;
        auto r = wait_readable(fd_, timeout_ms);
        if (!r) return r.err();
        if (!r.value()) return make_error(-ETIMEDOUT, "timed out waiting for the target");
    }
}

result<void> tcp_socket::read_exact(void* dst, size_t len, int timeout_ms) {
    if (fd_ < 0) return make_error(-ENOTCONN, "not connected");
    auto* out = static_cast<uint8_t*>(dst);
    const int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    while (len > 0) {
        if (head_ < tail_) {
            const size_t n = std::min(len, tail_ - head_);
            std::memcpy(out, buf_.get() + head_, n);
            head_ += n;
            out += n;
            len -= n;
            continue;
        }
        const int left =
            deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
        if (len >= buf_size / 2) {
            // Large payloads go straight to the destination.
            auto n = recv_ready(out, len, left);
            if (!n) return n.err();
            out += n.value();
            len -= n.value();
            continue;
        }
        auto r = fill(left);
        if (!r) return r;
    }
    return {};
}

result<void> tcp_socket::wait_available(size_t n, int timeout_ms) {
    if (fd_ < 0) return make_error(-ENOTCONN, "not connected");
    n = std::min(n, buf_size);
    const int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    while (tail_ - head_ < n) {
        if (head_ > 0 && buf_size - head_ < n) {
            std::memmove(buf_.get(), buf_.get() + head_, tail_ - head_);
            tail_ -= head_;
            head_ = 0;
        }
        const int left =
            deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
        if (auto r = fill(left); !r) return r;
    }
    return {};
}

result<size_t> tcp_socket::read_some(void* dst, size_t len, int timeout_ms) {
    if (fd_ < 0) return make_error(-ENOTCONN, "not connected");
    if (head_ == tail_) {
        auto r = fill(timeout_ms);
        if (!r) {
            if (r.err().code == -ECONNRESET) return size_t{0};
            return r.err();
        }
    }
    const size_t n = std::min(len, tail_ - head_);
    std::memcpy(dst, buf_.get() + head_, n);
    head_ += n;
    return n;
}

bool tcp_socket::wait_closed(int timeout_ms) {
    if (fd_ < 0) return true;
    head_ = tail_ = 0;
    const int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        const int left = static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
        auto r = fill(left);
        if (!r) return r.err().code != -ETIMEDOUT;
        head_ = tail_ = 0;
    }
}

}  // namespace nvmf::host
