// Authentication Send/Receive (fabrics 05h/06h): DH-HMAC-CHAP on one queue.
// The protocol is auth::target_session (pure); this file binds one to each
// queue that must authenticate, carries the messages, keeps the queue closed
// to everything else until it is authenticated (dispatch.cpp), times the
// transaction out and closes the queue when authentication fails.
//
// As the Linux target and SPDK: a queue whose host has a DH-HMAC-CHAP key
// gets ATR in its Connect response and must authenticate before any other
// command (Authentication Required, 191h); a host may re-authenticate an
// authenticated queue at any time (AUTH_Negotiate again) while its I/O goes
// on; a transaction that fails ends with AUTH_Failure1 (or the host's
// AUTH_Failure2) and the queue is closed.
//
// Secure channel concatenation (NVMe Base 2.1): an admin queue's transaction
// with SC_C NEWTLSPSK (plain TCP) or REPLACETLSPSK (TLS) generates a TLS PSK
// kept in the subsystem's generated_psks for the host's TLS queues. A queue
// opened with such a PSK needs no DH-HMAC-CHAP of its own (no ATR, as the
// Linux target: the PSK is the proof). A plain connection of a secure_concat
// listener is asked for it with ATR and ASCR, may do nothing else, and is
// closed a while after it succeeded (the host reconnects over TLS).
#include "nvme/spec/auth.hpp"

#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "auth/generated_psk.hpp"
#include "auth/messages.hpp"
#include "auth/target_session.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/subsystem.hpp"
#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "util/log.hpp"

namespace nvmf {

// One queue's authentication state; owner reactor only.
struct queue_auth {
    std::optional<auth::target_session> session;
    reactor::timer_id timer = 0;
    std::chrono::milliseconds timeout{120000};
    bool authenticated = false;  // a transaction completed on this queue
    bool closing = false;
};

namespace cmd {
namespace {

using spec::make_status;
using spec::sct;
using state = auth::target_session::state;

// Without a keep-alive timeout a transaction may take two minutes, as SPDK's
// and Linux's targets allow; the admin queue's KATO shortens it.
constexpr std::chrono::milliseconds default_timeout{120000};
// AUTH_Failure1 is delivered, then the queue closes after this delay so that
// the host reads the failure rather than a reset connection (SPDK: 100 ms).
constexpr std::chrono::milliseconds failure_close_delay{100};

spec::status invalid_field() { return make_status(sct::generic, spec::sc::invalid_field, true); }

// summary: bit 31 set, then state (8 bits), digest, DH group.
void publish(qpair& q) {
    const auto& s = q.auth->session;
    if (!s) return;
    const uint32_t v = (1u << 31) | static_cast<uint32_t>(s->current()) << 16 |
                       static_cast<uint32_t>(s->hash()) << 8 | s->dhgroup();
    q.auth_summary.store(v, std::memory_order_relaxed);
}

std::string who(const qpair& q) {
    return "ctrlr " + std::to_string(q.ctrlr->cntlid) + " of " + q.ctrlr->subsys->nqn + " qid " +
           std::to_string(q.qid) + " (host " + q.ctrlr->hostnqn + ")";
}

void close_later(qpair& q, std::chrono::milliseconds delay) {
    if (q.auth->closing) return;
    q.auth->closing = true;
    std::weak_ptr<qpair> w = q.weak_from_this();
    q.owner->add_timer(delay, [w] {
        if (auto p = w.lock()) p->disconnect();
    });
}

void cancel_timer(qpair& q) {
    if (q.auth->timer != 0) {
        q.owner->cancel_timer(q.auth->timer);
        q.auth->timer = 0;
    }
}

void on_timeout(qpair& q) {
    q.auth->timer = 0;
    if (!q.auth->session || q.auth->session->completed() || q.auth->closing) return;
    if (q.auth->authenticated && !q.auth_pending) {
        // A re-authentication that stalled: the queue stays as it was (SPDK).
        log::warn("{}: re-authentication timed out in state {}; the queue stays authenticated",
                  who(q), auth::target_session::state_name(q.auth->session->current()));
        q.auth->session.reset();
        return;
    }
    log::warn("{}: DH-HMAC-CHAP timed out in state {}; closing the queue", who(q),
              auth::target_session::state_name(q.auth->session->current()));
    close_later(q, std::chrono::milliseconds(0));
}

void arm_timer(qpair& q) {
    cancel_timer(q);
    std::weak_ptr<qpair> w = q.weak_from_this();
    q.auth->timer = q.owner->add_timer(q.auth->timeout, [w] {
        if (auto p = w.lock(); p && p->auth) on_timeout(*p);
    });
}

queue_auth& auth_of(qpair& q) {
    if (!q.auth) q.auth = std::make_shared<queue_auth>();
    return *q.auth;
}

// A new transaction: the host's keys and the allowed sets as they are now,
// so that keys rotated with nvmf_subsystem_set_keys apply from here on.
void start_session(qpair& q) {
    auto& a = *q.auth;
    const host_keys keys = q.ctrlr->subsys->keys_of(q.ctrlr->hostnqn);
    auth::target_params p;
    p.hostnqn = q.ctrlr->hostnqn;
    p.subnqn = q.ctrlr->subsys->nqn;
    p.digests = q.tgt->dhchap_digests.load(std::memory_order_relaxed);
    p.dhgroups = q.tgt->dhchap_dhgroups.load(std::memory_order_relaxed);
    p.host_key = keys.dhchap_key;
    p.ctrl_key = keys.dhchap_ctrlr_key;
    p.concat.admin_queue = q.qid == 0;
    p.concat.tls = q.channel.tls();
    p.concat.tls_usable = q.ctrlr->subsys->takes_tls();
    p.concat.required = q.channel.concat_only;
    a.session.emplace(std::move(p));
    arm_timer(q);
}

// A completed transaction with SC_C: the PSK the host will open its TLS
// queues with, kept by its identity. REPLACETLSPSK on a channel opened with
// a generated PSK replaces that one.
void keep_generated_psk(qpair& q, auth::target_session& s) {
    auto psk = s.take_generated_psk();
    if (psk.empty()) return;
    auto creds =
        auth::generated_credentials(s.hash(), psk.span(), q.ctrlr->hostnqn, q.ctrlr->subsys->nqn);
    if (!creds) {
        log::error("{}: no TLS credentials from the generated PSK: {}", who(q),
                   creds.err().message);
        return;
    }
    const bool replace = s.sc_c() == spec::auth_scc::replace_tls_psk && q.channel.tls_generated;
    log::info("{}: secure channel concatenation: {} TLS PSK for identity '{}' ({})", who(q),
              replace ? "replaced the" : "generated a", creds->identity,
              keyring::cipher_name(creds->cipher));
    q.ctrlr->subsys->generated().add(q.ctrlr->hostnqn, std::move(*creds),
                                     replace ? q.channel.tls_identity : std::string());
}

// After a message: authenticated, failed, or still going.
void settle(qpair& q) {
    auto& a = *q.auth;
    auto& s = *a.session;
    publish(q);
    if (s.completed()) {
        cancel_timer(q);
        if (q.auth_pending || !a.authenticated) {
            log::info("{}: authenticated with DH-HMAC-CHAP ({}, {}{})", who(q),
                      auth::hash_name(s.hash()), auth::dhgroup_name(s.dhgroup()),
                      s.bidirectional() ? ", controller authenticated too" : "");
        } else {
            log::info("{}: re-authenticated ({}, {})", who(q), auth::hash_name(s.hash()),
                      auth::dhgroup_name(s.dhgroup()));
        }
        a.authenticated = true;
        q.auth_pending = false;
        keep_generated_psk(q, s);
        if (q.channel.concat_only) {
            // Its work is done: the host goes on over TLS. A host that lingers
            // is closed after the transaction timeout.
            close_later(q, a.timeout);
        }
        return;
    }
    if (s.failed()) {
        cancel_timer(q);
        log::warn("{}: DH-HMAC-CHAP failed ({}): {}; closing the queue", who(q),
                  auth::rce_name(s.failure_reason()), s.last_error());
        // Nothing else runs on it from now on, even if it was authenticated.
        q.auth_pending = true;
        close_later(q, failure_close_delay);
    }
}

// SECP/SPSP0/SPSP1 and the length field of both commands.
bool valid_command(const request& req, uint8_t secp, uint8_t spsp0, uint8_t spsp1, uint32_t len) {
    return secp == spec::auth_secp_nvme && spsp0 == spec::auth_spsp0 && spsp1 == spec::auth_spsp1 &&
           len != 0 && len == req.length && len <= auth::max_message_len;
}

}  // namespace

bool is_auth_command(const spec::sqe& c) {
    if (c.opc != spec::admin_opc::fabrics) return false;
    const uint8_t fctype = reinterpret_cast<const spec::fabrics_cmd&>(c).fctype;
    return fctype == spec::fctype::auth_send || fctype == spec::fctype::auth_recv;
}

uint32_t auth_on_connect(request& connect) {
    qpair& q = *connect.qp;
    if (!q.ctrlr || !q.ctrlr->subsys->keys_of(q.ctrlr->hostnqn).dhchap_key) return 0;
    // A PSK from concatenation already proves DH-HMAC-CHAP (the host may still
    // re-authenticate, REPLACETLSPSK on the admin queue).
    if (q.channel.tls_generated) return 0;
    auto& a = auth_of(q);
    spec::connect_cmd cc;
    std::memcpy(&cc, &connect.cmd, sizeof(cc));
    // KATO is meaningful on the admin queue's Connect only.
    a.timeout = q.qid == 0 && cc.kato != 0 ? std::chrono::milliseconds(cc.kato) : default_timeout;
    q.auth_pending = true;
    start_session(q);
    publish(q);
    // ASCR: this connection is for secure channel concatenation (the Linux
    // host then goes on only with --concat; SPDK's refuses).
    return spec::authreq::atr | (q.channel.concat_only ? spec::authreq::ascr : 0);
}

void auth_on_close(qpair& q) {
    if (q.auth) cancel_timer(q);
}

namespace {

// The checks AUTH_Send and AUTH_Receive share, in their order: a connected
// queue, the fields, a queue not being closed. Completes req and returns null
// when one fails; else the queue's state, with a session to use (a host
// (re-)authenticates at any time: a transaction that completed, or none yet,
// makes way for a new one).
queue_auth* accept_auth_command(request& req, uint8_t secp, uint8_t spsp0, uint8_t spsp1,
                                uint32_t len) {
    qpair& q = *req.qp;
    const auto sequence_error = make_status(sct::generic, spec::sc::command_sequence_error, true);
    if (!q.connected || !q.ctrlr) {
        complete(req, sequence_error);
        return nullptr;
    }
    if (!valid_command(req, secp, spsp0, spsp1, len)) {
        complete(req, invalid_field());
        return nullptr;
    }
    auto& a = auth_of(q);
    if (a.closing) {
        complete(req, sequence_error);
        return nullptr;
    }
    if (!a.session || a.session->completed()) start_session(q);
    return &a;
}

}  // namespace

void auth_send(request& req) {
    qpair& q = *req.qp;
    spec::auth_send_cmd c;
    std::memcpy(&c, &req.cmd, sizeof(c));
    queue_auth* a = accept_auth_command(req, c.secp, c.spsp0, c.spsp1, c.tl);
    if (!a) return;
    std::vector<uint8_t> msg(c.tl);
    req.copy_from_buffer(msg.data(), msg.size());
    a->session->on_send(msg);
    settle(q);
    complete_ok(req);
}

void auth_recv(request& req) {
    qpair& q = *req.qp;
    spec::auth_recv_cmd c;
    std::memcpy(&c, &req.cmd, sizeof(c));
    queue_auth* a = accept_auth_command(req, c.secp, c.spsp0, c.spsp1, c.al);
    if (!a) return;
    auto out = a->session->on_recv(c.al);
    if (out.empty()) {
        // Not even AUTH_Failure1 fits in the allocation.
        settle(q);
        complete(req, invalid_field());
        return;
    }
    req.zero_buffer();
    req.copy_to_buffer(out.data(), out.size());
    settle(q);
    complete_ok(req);
}

auth_info auth_info_of(const qpair& q) {
    const uint32_t v = q.auth_summary.load(std::memory_order_relaxed);
    if ((v & (1u << 31)) == 0) return {};
    auth_info i;
    i.state = auth::target_session::state_name(static_cast<state>((v >> 16) & 0xff));
    i.digest = auth::hash_name(static_cast<uint8_t>(v >> 8));
    i.dhgroup = auth::dhgroup_name(static_cast<uint8_t>(v));
    return i;
}

}  // namespace cmd
}  // namespace nvmf
