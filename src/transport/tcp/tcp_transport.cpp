#include "transport/tcp/tcp_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "nvmf/target.hpp"
#include "transport/tcp/tcp_qpair.hpp"
#include "transport/tcp/tls.hpp"
#include "transport/tcp/tls_accept.hpp"
#include "util/log.hpp"

namespace nvmf::tcp {

poll_group::poll_group(reactor& r, size_t buf_size, size_t max_bufs)
    : owner(r), pool(buf_size, max_bufs) {}

poll_group::~poll_group() = default;

void poll_group::put_buffer(void* buf) {
    while (!buffer_waiters.empty()) {
        tcp_request* r = buffer_waiters.front();
        buffer_waiters.pop_front();
        auto* q = static_cast<tcp_qpair*>(r->req.qp);
        // Resume after the current batch: the releasing code may be mid-flush.
        std::weak_ptr<qpair> w = q->weak_from_this();
        owner.defer([this, w, r, buf] {
            if (auto qp = w.lock()) {
                static_cast<tcp_qpair*>(qp.get())->resume_with_buffer(*r, buf);
            } else {
                put_buffer(buf);
            }
        });
        return;
    }
    pool.put(buf);
}

void poll_group::forget_waiters_of(const tcp_qpair* q) {
    buffer_waiters.erase(std::remove_if(buffer_waiters.begin(), buffer_waiters.end(),
                                        [q](tcp_request* r) { return r->req.qp == q; }),
                         buffer_waiters.end());
}

namespace {
// How long a listener out of file descriptors stops accepting.
constexpr auto fd_limit_backoff = std::chrono::milliseconds(100);
}  // namespace

struct tcp_transport::listener final : event_handler {
    tcp_transport* t = nullptr;
    reactor* r = nullptr;
    int fd = -1;
    transport_id trid;
    listener_security sec = listener_security::plain;
    bool warned_fd_limit = false;
    reactor::timer_id backoff_timer = 0;  // set while paused for lack of descriptors

    void on_events(uint32_t) override {
        for (;;) {
            const int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                if (errno == EMFILE || errno == ENFILE) pause();
                return;
            }
            warned_fd_limit = false;
            t->place_connection(c, trid, sec);
        }
    }

    // Out of descriptors: the pending connection stays in the backlog and the
    // socket stays readable, so a level-triggered epoll would call us back at
    // once, for ever (a reactor spinning at 100%). Stop watching the socket
    // for a while instead; connections are accepted again when fds free up.
    void pause() {
        if (!warned_fd_limit) {
            warned_fd_limit = true;  // logged once, not per connection attempt
            log::error("tcp listener {}: out of file descriptors, refusing connections",
                       trid.to_string());
        }
        r->del_fd(fd);
        backoff_timer = r->add_timer(fd_limit_backoff, [this] {
            backoff_timer = 0;
            r->add_fd(fd, EPOLLIN, this);
        });
    }

    // On r's thread: no callback of this listener runs after it.
    void close_on_reactor() {
        if (backoff_timer) r->cancel_timer(backoff_timer);
        backoff_timer = 0;
        r->del_fd(fd);
        ::close(fd);
    }
};

tcp_transport::tcp_transport(target& tgt, transport_options opts)
    : transport(tgt, std::move(opts)) {
    const size_t n = tgt.reactors.size();
    // num_shared_buffers is shared by all reactors, as in SPDK; each gets its share.
    const size_t per_group = std::max<size_t>(opts_.num_shared_buffers / n, 1);
    for (size_t i = 0; i < n; ++i) {
        groups_.push_back(
            std::make_unique<poll_group>(tgt.reactors.at(i), opts_.max_io_size, per_group));
    }
    // Made now, before any thread can see the transport: reactors read it
    // when they accept on a secure channel listener.
    if (auto ctx = tls_context::server()) {
        tls_server_ = std::move(*ctx);
    } else {
        log::error("TCP transport: no TLS: {}", ctx.err().message);
    }
}

tcp_transport::~tcp_transport() { shutdown(); }

namespace {

transport_id peer_of(int fd) {
    transport_id p;
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return p;
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
        p.adrfam = "IPv6";
        p.trsvcid = std::to_string(ntohs(a->sin6_port));
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
        p.trsvcid = std::to_string(ntohs(a->sin_port));
    }
    p.traddr = buf;
    return p;
}

result<int> open_listen_socket(const transport_id& trid) {
    const bool v6 = trid.adrfam == "IPv6";
    sockaddr_storage ss{};
    socklen_t len;
    const uint16_t port = static_cast<uint16_t>(std::stoi(trid.trsvcid));
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (inet_pton(AF_INET6, trid.traddr.c_str(), &a->sin6_addr) != 1) {
            return make_error(-EINVAL, "bad IPv6 address " + trid.traddr);
        }
        len = sizeof(*a);
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (inet_pton(AF_INET, trid.traddr.c_str(), &a->sin_addr) != 1) {
            return make_error(-EINVAL, "bad IPv4 address " + trid.traddr);
        }
        len = sizeof(*a);
    }
    const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error(-errno, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 512) != 0) {
        const int e = errno;
        ::close(fd);
        return make_error(
            -e, "cannot listen on " + trid.traddr + ":" + trid.trsvcid + ": " + std::strerror(e));
    }
    return fd;
}

}  // namespace

result<void> tcp_transport::listen(const transport_id& trid) {
    return listen(trid, listener_security::plain);
}

result<void> tcp_transport::listen(const transport_id& trid, listener_security sec) {
    std::lock_guard lk(mtx_);
    if (shut_down_) return make_error(-ESHUTDOWN, "transport is shut down");
    for (auto& l : listeners_) {
        if (l->trid != trid) continue;
        if (l->sec == sec) return {};
        return make_error(-EINVAL, "already listening on " + trid.to_string() + " as " +
                                       to_string(l->sec) + ", not " + to_string(sec));
    }
    if (takes_tls(sec) && !tls_server_) {
        return make_error(-ENOTSUP, std::string(to_string(sec)) +
                                        ": no TLS server context (OpenSSL set-up failed)");
    }
    auto fd = open_listen_socket(trid);
    if (!fd) return fd.err();
    auto l = std::make_unique<listener>();
    l->t = this;
    l->r = &tgt_.reactors.at(0);
    l->fd = *fd;
    l->trid = trid;
    l->sec = sec;
    // epoll_ctl is thread-safe and the listener is complete: register directly.
    l->r->add_fd(l->fd, EPOLLIN, l.get());
    log::info("TCP listening on {}:{}{}", trid.traddr, trid.trsvcid,
              sec == listener_security::tls ? " (secure channel: TLS 1.3 required)"
              : sec == listener_security::concat
                  ? " (secure concat: TLS 1.3, or plain TCP to generate a TLS PSK)"
                  : "");
    listeners_.push_back(std::move(l));
    return {};
}

result<void> tcp_transport::stop_listen(const transport_id& trid) {
    std::unique_ptr<listener> l;
    {
        std::lock_guard lk(mtx_);
        auto it = std::find_if(listeners_.begin(), listeners_.end(),
                               [&](const auto& x) { return x->trid == trid; });
        if (it == listeners_.end())
            return make_error(-ENOENT, "not listening on " + trid.to_string());
        l = std::move(*it);
        listeners_.erase(it);
    }
    // The listener's reactor may be handling it right now: remove it there.
    reactor* r = l->r;
    r->run_sync([&] {
        l->close_on_reactor();
        l.reset();
    });
    log::info("TCP stopped listening on {}:{}", trid.traddr, trid.trsvcid);
    return {};
}

std::vector<transport_id> tcp_transport::listening() const {
    std::lock_guard lk(mtx_);
    std::vector<transport_id> out;
    for (auto& l : listeners_) out.push_back(l->trid);
    return out;
}

void tcp_transport::place_connection(int fd, const transport_id& listen_trid,
                                     listener_security sec) {
    reactor& r = tgt_.reactors.next();
    poll_group* g = groups_[r.index()].get();
    transport_id peer = peer_of(fd);
    r.post([this, g, fd, listen_trid, peer, sec] {
        if (shut_down_) {
            ::close(fd);
            return;
        }
        ++g->accepted;
        if (takes_tls(sec)) {
            // TLS first: the queue pair comes once the handshake succeeds
            // (or, on a secure_concat listener, once an ICReq shows up).
            auto a = std::make_unique<tls_accept>(*this, *g, fd, listen_trid, peer, sec);
            tls_accept* p = a.get();
            g->handshakes.emplace(p, std::move(a));
            p->start();
            return;
        }
        start_connection(*g, fd, listen_trid, peer, nullptr, {});
    });
}

void tcp_transport::start_connection(poll_group& g, int fd, const transport_id& listen_trid,
                                     const transport_id& peer, std::unique_ptr<tls_channel> channel,
                                     channel_info info) {
    auto q = std::make_shared<tcp_qpair>(*this, g, fd, listen_trid, peer, std::move(channel));
    q->channel = std::move(info);
    g.conns.emplace(q.get(), q);
    q->start();
}

void tcp_transport::shutdown() {
    std::vector<std::unique_ptr<listener>> ls;
    {
        std::lock_guard lk(mtx_);
        if (shut_down_) return;
        shut_down_ = true;
        ls.swap(listeners_);
    }
    for (auto& l : ls) {
        reactor* r = l->r;
        r->run_sync([&] { l->close_on_reactor(); });
    }
    for (auto& g : groups_) {
        g->owner.run_sync([&] {
            std::vector<tls_accept*> pending;
            for (auto& [p, _] : g->handshakes) pending.push_back(p);
            for (auto* p : pending) p->abort("transport shut down");
            std::vector<std::shared_ptr<tcp_qpair>> all;
            for (auto& [_, q] : g->conns) all.push_back(q);
            for (auto& q : all) q->disconnect();
        });
    }
}

nlohmann::json tcp_transport::stats() const {
    nlohmann::json groups = nlohmann::json::array();
    for (auto& g : groups_) {
        nlohmann::json j;
        g->owner.run_sync([&] {
            j = {{"reactor", g->owner.index()},
                 {"current_connections", g->conns.size()},
                 {"accepted", g->accepted},
                 {"closed", g->closed},
                 {"tls_handshakes_in_progress", g->handshakes.size()},
                 {"tls_handshakes", g->tls_handshakes},
                 {"tls_kernel", g->tls_kernel},
                 {"tls_failures", g->tls_failures},
                 {"tls_timeouts", g->tls_timeouts},
                 {"buffers_allocated", g->pool.allocated()},
                 {"buffers_in_use", g->pool.in_use()},
                 {"buffer_waiters", g->buffer_waiters.size()}};
        });
        groups.push_back(j);
    }
    return {{"trtype", "TCP"}, {"poll_groups", groups}};
}

}  // namespace nvmf::tcp
