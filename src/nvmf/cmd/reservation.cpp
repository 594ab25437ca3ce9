// Reservation Register / Acquire / Release / Report on a namespace. The rules
// are nvmf/reservation.cpp's; here a command takes the namespace's
// reservation mutex (these commands only: Read and Write check a published
// snapshot without it), applies the rule to a copy of the state, makes the
// copy durable first when PTPL is on (so a failed write changes nothing),
// then publishes it to every I/O queue and sends the notices to the
// controllers of the hosts concerned, on their admin reactors.
#include <algorithm>
#include <cstring>

#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/ptpl_file.hpp"
#include "nvmf/subsystem.hpp"
#include "util/log.hpp"

namespace nvmf::cmd {

namespace {

spec::status short_data() {
    return spec::make_status(spec::sct::generic, spec::sc::data_sgl_length_invalid, true);
}

// Each notice goes to every controller of its host (a host may have several).
void send_notices(subsystem& sub, uint32_t nsid, const std::vector<resv_notice>& notices) {
    if (notices.empty()) return;
    for (const auto& c : sub.controllers()) {
        for (const auto& n : notices) {
            if (c->hostid != n.hostid) continue;
            std::weak_ptr<controller> w = c;
            const uint8_t type = n.type;
            c->admin_reactor->post([w, type, nsid] {
                if (auto c = w.lock(); c && !c->destroyed()) c->add_resv_notice(type, nsid);
            });
        }
    }
}

// Makes `next` the namespace's state: durable first (when PTPL is or was
// on), then visible. Caller holds r.mtx.
spec::status commit(controller& c, const std::shared_ptr<ns>& n, resv_state next) {
    ns_reservation& r = *n->resv;
    if (!r.ptpl_file.empty() && (next.ptpl || r.state.ptpl)) {
        if (auto w = store_ptpl_file(r.ptpl_file, next, n->dev->uuid()); !w) {
            log::error("{} nsid {}: reservation change not made: {}", c.subsys->nqn, n->nsid,
                       w.err().message);
            return spec::make_status(spec::sct::generic, spec::sc::internal_device_error, false);
        }
    }
    r.state = std::move(next);
    c.subsys->publish_resv(n, std::make_shared<const resv_state>(r.state));
    return 0;
}

template <typename Data, typename F>
void run(request& req, const std::shared_ptr<ns>& n, F apply) {
    Data d{};
    if (req.length < sizeof(d)) {
        complete(req, short_data());
        return;
    }
    req.copy_from_buffer(&d, sizeof(d));
    controller& c = *req.qp->ctrlr;
    ns_reservation& r = *n->resv;
    spec::status st = 0;
    {
        std::lock_guard lk(r.mtx);
        resv_state next = r.state;
        resv_outcome o = apply(next, c.hostid, d, !r.ptpl_file.empty());
        st = o.status;
        if (st == 0 && o.changed) st = commit(c, n, std::move(next));
        if (st == 0) send_notices(*c.subsys, n->nsid, o.notices);
        if (st == 0 && !o.preempted.empty()) {
            log::info("{} nsid {}: host {} preempted {} registration(s){}", c.subsys->nqn, n->nsid,
                      host_id_to_string(c.hostid), o.preempted.size(),
                      (req.cmd.cdw10 & spec::resv::action_mask) == spec::resv::racqa_preempt_abort
                          ? " (and abort)"
                          : "");
        }
    }
    complete(req, st);
}

}  // namespace

void resv_register(request& req, const std::shared_ptr<ns>& n) {
    const uint32_t cdw10 = req.cmd.cdw10;
    run<spec::resv_register_data>(
        req, n, [cdw10](resv_state& s, const host_id& me, const auto& d, bool capable) {
            return nvmf::resv_register(s, me, cdw10, d, capable);
        });
}

void resv_acquire(request& req, const std::shared_ptr<ns>& n) {
    const uint32_t cdw10 = req.cmd.cdw10;
    run<spec::resv_acquire_data>(req, n,
                                 [cdw10](resv_state& s, const host_id& me, const auto& d, bool) {
                                     return nvmf::resv_acquire(s, me, cdw10, d);
                                 });
}

void resv_release(request& req, const std::shared_ptr<ns>& n) {
    const uint32_t cdw10 = req.cmd.cdw10;
    run<spec::resv_release_data>(req, n,
                                 [cdw10](resv_state& s, const host_id& me, const auto& d, bool) {
                                     return nvmf::resv_release(s, me, cdw10, d);
                                 });
}

void resv_report(request& req, const std::shared_ptr<ns>& n) {
    // A fabrics host identifier is 128 bits: the 64-bit structure cannot
    // name it (Base spec: Host Identifier Inconsistent Format).
    if (!(req.cmd.cdw11 & spec::resv::report_eds)) {
        complete(req, spec::make_status(spec::sct::generic, spec::sc::host_id_inconsistent_format,
                                        true));
        return;
    }
    const uint64_t numd = static_cast<uint64_t>(req.cmd.cdw10) + 1;
    if (numd * 4 > req.length) {
        complete(req, short_data());
        return;
    }
    std::vector<uint8_t> image;
    {
        std::lock_guard lk(n->resv->mtx);
        image = build_resv_report(n->resv->state, true);
    }
    // A short buffer gets the beginning (REGCTL tells the host how many there are).
    const size_t len = static_cast<size_t>(numd * 4);
    if (image.size() < len) image.resize(len, 0);
    req.zero_buffer();
    req.copy_to_buffer(image.data(), len);
    complete_ok(req);
}

spec::status resv_set_ptpl(controller& c, const std::shared_ptr<ns>& n, bool ptpl) {
    ns_reservation& r = *n->resv;
    std::lock_guard lk(r.mtx);
    if (r.state.ptpl == ptpl) return 0;
    resv_state next = r.state;
    next.ptpl = ptpl;
    return commit(c, n, std::move(next));
}

}  // namespace nvmf::cmd
