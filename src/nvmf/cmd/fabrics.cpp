// Fabrics commands (opcode 7Fh): Connect creates or joins a controller,
// Property Get/Set reach its registers, Disconnect closes an I/O queue.
#include "nvme/spec/fabrics.hpp"

#include <cstring>

#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/secure_channel.hpp"
#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "util/log.hpp"

namespace nvmf::cmd {
namespace {

using spec::make_status;
using spec::sct;

spec::status generic(uint8_t sc) { return make_status(sct::generic, sc, true); }
spec::status fabrics_sc(uint8_t sc) { return make_status(sct::command_specific, sc, true); }

// IPO/IATTR in dword 0 point at the offending field (Connect response).
void point_at(request& req, bool in_data, uint16_t offset) {
    spec::connect_invalid_param p{offset, static_cast<uint8_t>(in_data ? 1 : 0), 0};
    std::memcpy(&req.rsp.cdw0, &p, sizeof(p));
}

void invalid_param(request& req, bool in_data, uint16_t offset) {
    point_at(req, in_data, offset);
    complete(req, fabrics_sc(spec::sc_cmd::connect_invalid_parameters));
}

// A NQN field is valid when NUL-terminated within its 256 bytes and no
// longer than an NQN may be. An empty HOSTNQN is accepted, as SPDK and nvmet
// accept it (spdk_nvme_perf sends one unless told a host NQN): it connects
// where any host is allowed and never matches an allow-list entry.
bool nqn_field(const char (&field)[256], std::string* out) {
    const void* nul = std::memchr(field, '\0', sizeof(field));
    if (nul == nullptr) return false;
    *out = std::string(field, static_cast<const char*>(nul) - field);
    return out->size() <= spec::nqn_max_len;
}

// The host identifier as the spec prints it (a UUID), for the logs.
std::string hostid_text(const uint8_t* id) {
    std::string s;
    s.reserve(36);
    static constexpr char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
        s.push_back(digits[id[i] >> 4]);
        s.push_back(digits[id[i] & 0xf]);
    }
    return s;
}

std::string host_text(const std::string& hostnqn) { return "\"" + hostnqn + "\""; }

void connect_admin(request& req, const spec::connect_cmd& cc, const spec::connect_data& cd,
                   const std::shared_ptr<subsystem>& sub, const std::string& hostnqn) {
    qpair& q = *req.qp;
    const controller_limits lim = q.limits();
    if (cd.cntlid != spec::cntlid_dynamic) {
        log::warn("connect from {}: static cntlid {} requested, only dynamic is offered",
                  host_text(hostnqn), cd.cntlid);
        invalid_param(req, true, offsetof(spec::connect_data, cntlid));
        return;
    }
    if (cc.sqsize == 0 || static_cast<uint32_t>(cc.sqsize) + 1 > lim.max_aq_depth) {
        invalid_param(req, false, offsetof(spec::connect_cmd, sqsize));
        return;
    }
    auto id = sub->allocate_cntlid();
    if (!id) {
        complete(req, fabrics_sc(spec::sc_cmd::controller_busy));
        return;
    }
    auto ctrlr = std::make_shared<controller>(sub, *id, hostnqn, cd.hostid, &q, cc.kato, lim);
    sub->add_controller(ctrlr);
    q.ctrlr = ctrlr;
    q.sqsize = static_cast<uint16_t>(cc.sqsize + 1);
    q.sq_flow_control_disabled = (cc.cattr & spec::cattr_disable_sq_flow_control) != 0;
    q.connected = true;
    q.stats = &q.tgt->group_stats(*q.owner);
    ++q.stats->admin_qpairs;
    ++q.stats->current_admin_qpairs;
    ctrlr->start_keep_alive_timer();
    log::info("ctrlr {} of {} created for host {} hostid {} (kato {} ms) from {}", ctrlr->cntlid,
              sub->nqn, host_text(hostnqn), hostid_text(cd.hostid), cc.kato,
              q.peer_trid().to_string());
    req.rsp.cdw0 = ctrlr->cntlid | auth_on_connect(req);
    complete_ok(req);
}

void connect_io(request& req, const spec::connect_cmd& cc, const spec::connect_data& cd,
                const std::shared_ptr<subsystem>& sub, const std::string& hostnqn) {
    qpair& q = *req.qp;
    if (sub->is_discovery()) {
        invalid_param(req, false, offsetof(spec::connect_cmd, qid));
        return;
    }
    auto ctrlr = sub->find_controller(cd.cntlid);
    if (!ctrlr || ctrlr->destroyed()) {
        invalid_param(req, true, offsetof(spec::connect_data, cntlid));
        return;
    }
    if (ctrlr->hostnqn != hostnqn) {
        invalid_param(req, true, offsetof(spec::connect_data, hostnqn));
        return;
    }
    if (std::memcmp(ctrlr->hostid.data(), cd.hostid, sizeof(cd.hostid)) != 0) {
        // No refusal: neither the spec, SPDK nor nvmet refuses an I/O queue
        // whose HOSTID differs from the admin queue's (the HOSTNQN is what
        // ties a queue to its controller); worth a line in the log though.
        log::warn("ctrlr {} of {}: I/O connect for qid {} with hostid {}, the admin queue had {}",
                  ctrlr->cntlid, sub->nqn, cc.qid, hostid_text(cd.hostid),
                  hostid_text(ctrlr->hostid.data()));
    }
    if (!ctrlr->enabled()) {
        complete(req, generic(spec::sc::command_sequence_error));
        return;
    }
    if (cc.qid > ctrlr->limits.max_io_qpairs) {
        if (!ctrlr->warned_queue_limit.exchange(true)) {
            log::warn(
                "ctrlr {} of {}: I/O connect for qid {} refused: max_io_qpairs_per_ctrlr is {}",
                ctrlr->cntlid, sub->nqn, cc.qid, ctrlr->limits.max_io_qpairs);
        }
        invalid_param(req, false, offsetof(spec::connect_cmd, qid));
        return;
    }
    if (cc.sqsize == 0 || static_cast<uint32_t>(cc.sqsize) + 1 > ctrlr->limits.max_queue_depth) {
        invalid_param(req, false, offsetof(spec::connect_cmd, sqsize));
        return;
    }
    q.qid = cc.qid;
    if (!ctrlr->attach_io_qpair(&q)) {
        // NVMe-oF: a Connect for a queue that already exists is a Command
        // Sequence Error (as nvmet answers).
        log::warn("ctrlr {} of {}: I/O connect with duplicate qid {}", ctrlr->cntlid, sub->nqn,
                  cc.qid);
        q.qid = 0;
        complete(req, generic(spec::sc::command_sequence_error));
        return;
    }
    q.ctrlr = ctrlr;
    q.sqsize = static_cast<uint16_t>(cc.sqsize + 1);
    q.sq_flow_control_disabled = (cc.cattr & spec::cattr_disable_sq_flow_control) != 0;
    q.connected = true;
    q.stats = &q.tgt->group_stats(*q.owner);
    ++q.stats->io_qpairs;
    ++q.stats->current_io_qpairs;
    req.rsp.sqid = q.qid;
    req.rsp.cdw0 = ctrlr->cntlid | auth_on_connect(req);
    complete_ok(req);
}

void connect(request& req) {
    qpair& q = *req.qp;
    spec::connect_cmd cc;
    std::memcpy(&cc, &req.cmd, sizeof(cc));
    if (q.connected) {
        complete(req, generic(spec::sc::command_sequence_error));
        return;
    }
    if (cc.recfmt != 0) {
        complete(req, fabrics_sc(spec::sc_cmd::incompatible_format));
        return;
    }
    if (req.length < sizeof(spec::connect_data)) {
        complete(req, generic(spec::sc::data_sgl_length_invalid));
        return;
    }
    spec::connect_data cd;
    req.copy_from_buffer(&cd, sizeof(cd));

    std::string subnqn, hostnqn;
    if (!nqn_field(cd.subnqn, &subnqn) || subnqn.empty()) {
        invalid_param(req, true, offsetof(spec::connect_data, subnqn));
        return;
    }
    if (!nqn_field(cd.hostnqn, &hostnqn)) {
        invalid_param(req, true, offsetof(spec::connect_data, hostnqn));
        return;
    }
    if (auto r = secure_channel_refusal(q, hostnqn, subnqn)) {
        log::warn("connect from {} to {}: refused: {}", hostnqn, subnqn, r->message);
        point_at(req, true, r->offset);
        complete(req, fabrics_sc(r->sc));
        return;
    }
    auto sub = q.tgt->find_subsystem(subnqn);
    if (!sub || (!sub->is_discovery() && !sub->listener_allowed(q.listen_trid()))) {
        log::warn("connect from {} to {} on {}: no such subsystem here", host_text(hostnqn), subnqn,
                  q.listen_trid().to_string());
        invalid_param(req, true, offsetof(spec::connect_data, subnqn));
        return;
    }
    if (sub->state() != subsystem_state::active) {
        // Allowed here but not started (yet, or again after a stop): Controller
        // Busy without DNR, so the host tries again instead of giving up.
        log::warn("connect from {} to {}: the subsystem is {}, not active", host_text(hostnqn),
                  subnqn, to_string(sub->state()));
        complete(req, make_status(sct::command_specific, spec::sc_cmd::controller_busy, false));
        return;
    }
    if (!sub->host_allowed(hostnqn)) {
        log::warn("connect from {} hostid {} to {}: host not allowed", host_text(hostnqn),
                  hostid_text(cd.hostid), subnqn);
        point_at(req, true, offsetof(spec::connect_data, hostnqn));
        complete(req, fabrics_sc(spec::sc_cmd::connect_invalid_host));
        return;
    }
    if (auto r = concat_refusal(q, cc.qid, *sub, hostnqn)) {
        log::warn("connect from {} to {} qid {} on {}: refused: {}", host_text(hostnqn), subnqn,
                  cc.qid, q.listen_trid().to_string(), r->message);
        point_at(req, r->in_data, r->offset);
        complete(req, fabrics_sc(r->sc));
        return;
    }
    if (cc.qid == 0) {
        connect_admin(req, cc, cd, sub, hostnqn);
    } else {
        connect_io(req, cc, cd, sub, hostnqn);
    }
}

void property_get(request& req) {
    qpair& q = *req.qp;
    if (q.qid != 0) {
        complete(req, generic(spec::sc::invalid_opcode));
        return;
    }
    if (!q.connected || !q.ctrlr) {
        complete(req, generic(spec::sc::command_sequence_error));
        return;
    }
    spec::property_get_cmd pg;
    std::memcpy(&pg, &req.cmd, sizeof(pg));
    uint64_t value = 0;
    const spec::status st = q.ctrlr->get_property(pg.ofst, pg.attrib & 0x7, &value);
    req.rsp.cdw0 = static_cast<uint32_t>(value);
    req.rsp.cdw1 = static_cast<uint32_t>(value >> 32);
    complete(req, st);
}

void property_set(request& req) {
    qpair& q = *req.qp;
    if (q.qid != 0) {
        complete(req, generic(spec::sc::invalid_opcode));
        return;
    }
    if (!q.connected || !q.ctrlr) {
        complete(req, generic(spec::sc::command_sequence_error));
        return;
    }
    spec::property_set_cmd ps;
    std::memcpy(&ps, &req.cmd, sizeof(ps));
    complete(req, q.ctrlr->set_property(ps.ofst, ps.attrib & 0x7, ps.value));
}

void disconnect(request& req) {
    qpair& q = *req.qp;
    if (!q.connected) {
        complete(req, generic(spec::sc::command_sequence_error));
        return;
    }
    complete_ok(req);
    // Close after the response has been queued.
    std::weak_ptr<qpair> w = q.weak_from_this();
    q.owner->defer([w] {
        if (auto p = w.lock()) p->disconnect();
    });
}

}  // namespace

void fabrics(request& req) {
    const auto& fc = reinterpret_cast<const spec::fabrics_cmd&>(req.cmd);
    switch (fc.fctype) {
    case spec::fctype::connect:
        connect(req);
        return;
    case spec::fctype::property_get:
        property_get(req);
        return;
    case spec::fctype::property_set:
        property_set(req);
        return;
    case spec::fctype::disconnect:
        disconnect(req);
        return;
    case spec::fctype::auth_send:
        auth_send(req);
        return;
    case spec::fctype::auth_recv:
        auth_recv(req);
        return;
    default:
        complete(req, generic(spec::sc::invalid_opcode));
        return;
    }
}

}  // namespace nvmf::cmd
