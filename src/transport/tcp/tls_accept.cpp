#include "transport/tcp/tls_accept.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "keyring/tls_psk.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvmf/target.hpp"
#include "transport/tcp/tcp_qpair.hpp"
#include "transport/tcp/tcp_transport.hpp"
#include "util/log.hpp"

namespace nvmf::tcp {

namespace kr = keyring;

// The target's PSK table: the identity names a host and a subsystem; the
// subsystem must listen here with a secure channel and hold a PSK for that
// host (nvmf_subsystem_add_host --psk). An identity naming the discovery
// subsystem uses the host's PSK of a subsystem on this address (the first by
// NQN): discovery over TLS needs no key of its own. A generated identity
// (NVMe1G, secure channel concatenation) names the PSK DH-HMAC-CHAP
// generated for that host on that subsystem, by its digest.
struct tls_accept_lookup {
    static result<tls_psk_match> find(void* ctx, std::string_view identity) {
        auto* a = static_cast<tls_accept*>(ctx);
        auto id = kr::parse_psk_identity(identity);
        if (!id) return id.err();
        if (id->generated) return find_generated(a, *id, identity);
        target& tgt = a->transport_.tgt();
        std::shared_ptr<const kr::host_psk> key;
        if (id->subnqn == spec::discovery_nqn) {
            for (auto& s : tgt.subsystems()) {
                if (s->is_discovery() || !s->listener_secure(a->listen_) ||
                    !s->host_allowed(id->hostnqn)) {
                    continue;
                }
                if ((key = s->host_psk(id->hostnqn))) break;
            }
            if (!key) {
                return make_error(-ENOKEY,
                                  "no subsystem on this address has a PSK for host " + id->hostnqn);
            }
        } else {
            auto s = tgt.find_subsystem(id->subnqn);
            if (!s || !s->listener_secure(a->listen_)) {
                return make_error(-ENOKEY,
                                  "no subsystem " + id->subnqn + " with a secure listener here");
            }
            if (!s->host_allowed(id->hostnqn)) {
                return make_error(-ENOKEY, "host " + id->hostnqn + " is not allowed on " + s->nqn);
            }
            key = s->host_psk(id->hostnqn);
            if (!key) {
                return make_error(-ENOKEY, "host " + id->hostnqn + " has no PSK on " + s->nqn);
            }
        }
        auto tls = kr::target_tls_psk(*id, identity, *key);
        if (!tls) return tls.err();
        a->info_.tls_hostnqn = id->hostnqn;
        a->info_.tls_subnqn = id->subnqn;
        a->info_.tls_identity = std::string(identity);
        return tls_psk_match{std::move(*tls), id->cipher};
    }

    static result<tls_psk_match> find_generated(tls_accept* a, const kr::psk_identity& id,
                                                std::string_view identity) {
        if (id.version != 1) {
            // No digest: nothing tells one generated PSK from another (Linux
            // makes NVMe1G identities only).
            return make_error(-ENOKEY, "generated PSK identities are NVMe1G (with a digest)");
        }
        auto s = a->transport_.tgt().find_subsystem(id.subnqn);
        if (!s || s->is_discovery() || !s->listener_secure(a->listen_)) {
            return make_error(-ENOKEY,
                              "no subsystem " + id.subnqn + " with a secure listener here");
        }
        if (!s->host_allowed(id.hostnqn)) {
            return make_error(-ENOKEY, "host " + id.hostnqn + " is not allowed on " + s->nqn);
        }
        auto psk = s->generated().find(id.hostnqn, std::string(identity));
        if (!psk) {
            return make_error(-ENOKEY, "no generated PSK of host " + id.hostnqn + " on " + s->nqn +
                                           " has this identity (expired, replaced or never made)");
        }
        a->info_.tls_hostnqn = id.hostnqn;
        a->info_.tls_subnqn = id.subnqn;
        a->info_.tls_identity = std::string(identity);
        a->info_.tls_generated = true;
        return tls_psk_match{std::move(psk->tls_psk), psk->cipher};
    }
};

tls_accept::tls_accept(tcp_transport& t, poll_group& g, int fd, transport_id listen,
                       transport_id peer, listener_security sec)
    : transport_(t), group_(g), fd_(fd), listen_(std::move(listen)), peer_(std::move(peer)),
      sec_(sec) {}

tls_accept::~tls_accept() {
    if (fd_ >= 0) ::close(fd_);
}

void tls_accept::start() {
    auto ch = tls_channel::accept(transport_.tls_server(), fd_, tls_accept_lookup::find, this);
    if (!ch) {
        fail(ch.err().message);
        return;
    }
    channel_ = std::move(*ch);
    group_.owner.add_fd(fd_, EPOLLIN | EPOLLRDHUP, this);
    const auto ms = transport_.tgt().tls_opts.handshake_timeout_ms.load(std::memory_order_relaxed);
    timer_ = group_.owner.add_timer(std::chrono::milliseconds(ms), [this, ms] {
        timer_ = 0;
        ++group_.tls_timeouts;
        fail("no TLS handshake within " + std::to_string(ms) + " ms");
    });
}

void tls_accept::abort(const char* why) {
    if (over_) return;
    log::debug("tcp {}: TLS handshake abandoned: {}", peer_.to_string(), why);
    done();
}

void tls_accept::on_events(uint32_t events) {
    if (over_) return;
    if (first_read_ && (events & EPOLLIN)) {
        first_read_ = false;
        // An ICReq (PDU type 0, HLEN 128) instead of a ClientHello (record
        // type 22): plain NVMe/TCP on a TLS listener. Say so; OpenSSL's
        // error would only say "wrong version number".
        uint8_t head[3];
        const ssize_t n = ::recv(fd_, head, sizeof(head), MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) {
            // Closed before saying anything: a port probe, not a failed handshake.
            abort("closed before a ClientHello");
            return;
        }
        if (n == sizeof(head) && head[0] == 0 && head[2] == 128) {
            if (sec_ == listener_security::concat) {
                go_plain();
                return;
            }
            ++group_.tls_failures;
            fail("plain NVMe/TCP (an ICReq) on a secure channel listener: refused");
            return;
        }
    }
    advance();
}

void tls_accept::advance() {
    switch (channel_->handshake()) {
    case tls_channel::step::done:
        succeed();
        return;
    case tls_channel::step::want_read:
        group_.owner.mod_fd(fd_, EPOLLIN | EPOLLRDHUP, this);
        return;
    case tls_channel::step::want_write:
        group_.owner.mod_fd(fd_, EPOLLOUT, this);
        return;
    case tls_channel::step::failed:
        ++group_.tls_failures;
        fail(channel_->failure());
        return;
    }
}

void tls_accept::fail(const std::string& why) {
    if (over_) return;
    log::warn("tcp {} on {}: TLS handshake failed: {}", peer_.to_string(), listen_.to_string(),
              why);
    done();
}

void tls_accept::succeed() {
    const bool ktls = transport_.tgt().tls_opts.enable_ktls.load(std::memory_order_relaxed);
    channel_->finish(ktls);
    ++group_.tls_handshakes;
    if (channel_->kernel_tx() && channel_->kernel_rx()) ++group_.tls_kernel;
    log::debug("tcp {}: TLS 1.3 with {} as '{}', record layer {}{}", peer_.to_string(),
               kr::cipher_name(channel_->cipher()), channel_->identity(),
               channel_->kernel_rx() ? "kTLS" : "OpenSSL",
               channel_->kernel_note().empty() ? "" : " (" + channel_->kernel_note() + ")");
    group_.owner.del_fd(fd_);
    if (timer_) group_.owner.cancel_timer(timer_);
    timer_ = 0;
    const int fd = fd_;
    fd_ = -1;  // the queue pair owns it now
    transport_.start_connection(group_, fd, listen_, peer_, std::move(channel_), std::move(info_));
    over_ = true;
    tls_accept* self = this;
    poll_group* g = &group_;
    group_.owner.defer([g, self] { g->handshakes.erase(self); });
}

// An ICReq on a secure_concat listener: a plain connection, for an admin
// queue that generates its TLS PSK (the Connect and DH-HMAC-CHAP rules that
// follow are in nvmf/secure_channel.cpp and nvmf/cmd/auth.cpp).
void tls_accept::go_plain() {
    log::debug("tcp {}: plain TCP on secure_concat listener {}: concatenation only",
               peer_.to_string(), listen_.to_string());
    group_.owner.del_fd(fd_);
    if (timer_) group_.owner.cancel_timer(timer_);
    timer_ = 0;
    channel_.reset();
    const int fd = fd_;
    fd_ = -1;
    channel_info info;
    info.concat_only = true;
    transport_.start_connection(group_, fd, listen_, peer_, nullptr, std::move(info));
    over_ = true;
    tls_accept* self = this;
    poll_group* g = &group_;
    group_.owner.defer([g, self] { g->handshakes.erase(self); });
}

void tls_accept::done() {
    over_ = true;
    if (timer_) group_.owner.cancel_timer(timer_);
    timer_ = 0;
    if (fd_ >= 0) {
        group_.owner.del_fd(fd_);
        channel_.reset();
        ::close(fd_);
        fd_ = -1;
    }
    ++group_.closed;
    tls_accept* self = this;
    poll_group* g = &group_;
    // Not now: this may run inside our own on_events.
    group_.owner.defer([g, self] { g->handshakes.erase(self); });
}

}  // namespace nvmf::tcp
