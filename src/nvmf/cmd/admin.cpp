// The admin opcode table for NVM and discovery controllers, and the small
// admin commands that need no file of their own (Keep Alive, Asynchronous
// Event Request, Abort).
#include <array>

#include "nvme/spec/nvme.hpp"
#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "reactor/reactor.hpp"
#include "util/log.hpp"

namespace nvmf::cmd {

namespace {

using handler_fn = void (*)(request&);

// Which controller types accept an opcode.
constexpr uint8_t on_nvm = 1u << 0;
constexpr uint8_t on_discovery = 1u << 1;

struct admin_entry {
    const char* name = nullptr;
    handler_fn fn = nullptr;
    uint8_t allow = 0;
};

void keep_alive(request& req) {
    req.qp->ctrlr->keep_alive();
    complete_ok(req);
}

void async_event_request(request& req) {
    // Held until an event occurs; queue_aer completes it itself when one is pending.
    if (const spec::status st = req.qp->ctrlr->queue_aer(req); st != 0) complete(req, st);
}

// Abort (NVMe Base 2.0, 5.1): dword 0 bit 0 is 0 when the command was
// aborted, 1 when not. On the admin queue only held AERs wait long enough to
// be aborted. An I/O command is looked for on its queue's reactor (the
// controller's reactor is not the I/O queue's): the question goes there by
// message and the answer comes back the same way, so the data path takes no
// lock. Past the point of no return, or unknown, it is "not aborted".
void abort_cmd(request& req) {
    const auto sqid = static_cast<uint16_t>(req.cmd.cdw10 & 0xffff);
    const auto cid = static_cast<uint16_t>(req.cmd.cdw10 >> 16);
    controller& c = *req.qp->ctrlr;
    req.rsp.cdw0 = 1;
    if (sqid == 0) {
        if (c.abort_aer(cid)) req.rsp.cdw0 = 0;
        complete_ok(req);
        return;
    }
    std::shared_ptr<qpair> q = c.io_qpair(sqid);
    if (!q || q->owner == nullptr || c.admin_reactor == nullptr) {
        complete_ok(req);
        return;
    }
    // The Abort request stays valid until it completes: a transport releases
    // an executing request only through complete(), even when its
    // connection closes meanwhile.
    reactor* admin = c.admin_reactor;
    request* areq = &req;
    q->owner->post([q, admin, areq, cid] {
        const bool aborted = q->abort_request(cid);
        admin->post([areq, aborted] {
            areq->rsp.cdw0 = aborted ? 0 : 1;
            complete_ok(*areq);
        });
    });
}

constexpr std::array<admin_entry, 256> make_table() {
    std::array<admin_entry, 256> t{};
    t[spec::admin_opc::get_log_page] = {"GET LOG PAGE", get_log_page, on_nvm | on_discovery};
    t[spec::admin_opc::identify] = {"IDENTIFY", identify, on_nvm | on_discovery};
    t[spec::admin_opc::abort] = {"ABORT", abort_cmd, on_nvm};
    t[spec::admin_opc::set_features] = {"SET FEATURES", set_features, on_nvm | on_discovery};
    t[spec::admin_opc::get_features] = {"GET FEATURES", get_features, on_nvm | on_discovery};
    t[spec::admin_opc::async_event_request] = {"ASYNC EVENT REQUEST", async_event_request,
                                               on_nvm | on_discovery};
    t[spec::admin_opc::keep_alive] = {"KEEP ALIVE", keep_alive, on_nvm | on_discovery};
    return t;
}

constexpr std::array<admin_entry, 256> table = make_table();

}  // namespace

bool admin_opcode_supported(uint8_t opc, bool discovery) {
    const admin_entry& e = table[opc];
    return e.fn && (e.allow & (discovery ? on_discovery : on_nvm));
}

void admin(request& req) {
    controller* c = req.qp->ctrlr.get();
    if (!c) {
        complete(req,
                 spec::make_status(spec::sct::generic, spec::sc::command_sequence_error, true));
        return;
    }
    const uint8_t opc = req.cmd.opc;
    if (!admin_opcode_supported(opc, c->is_discovery())) {
        log::debug("ctrlr {}: admin opcode 0x{:02x} not supported", c->cntlid, opc);
        complete(req, spec::make_status(spec::sct::generic, spec::sc::invalid_opcode, true));
        return;
    }
    if (spec::sqe_fuse(req.cmd) != 0) {
        // No admin command may be fused.
        complete(req, spec::make_status(spec::sct::generic, spec::sc::invalid_field, true));
        return;
    }
    log::trace("ctrlr {}: {} cid {}", c->cntlid, table[opc].name, req.cmd.cid);
    table[opc].fn(req);
}

}  // namespace nvmf::cmd
