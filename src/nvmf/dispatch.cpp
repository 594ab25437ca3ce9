// Routes a received command to its handler after the checks every command
// shares: the queue must be connected, fused operations only on I/O queues,
// and a controller must be enabled for anything but fabrics commands.
#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/subsystem.hpp"
#include "nvmf/target.hpp"

namespace nvmf {

void execute(request& req) {
    qpair& q = *req.qp;
    ++q.commands;
    // Busy from here to its completion (complete() ends it), for the SMART log.
    if (q.qid != 0 && req.cmd.opc != spec::admin_opc::fabrics) {
        q.io_started();
        req.started_ns = now_ns();
    }
    req.rsp = {};
    req.rsp.sqid = q.qid;
    req.rsp.sqhd = q.advance_sqhd();

    if (q.auth_pending && !cmd::is_auth_command(req.cmd)) {
        // Not authenticated (yet, or any more): nothing but Authentication
        // Send/Receive. Without DNR: the host may authenticate and retry.
        complete(req, spec::make_status(spec::sct::command_specific, spec::sc_cmd::auth_required,
                                        false));
        return;
    }
    if (q.channel.concat_only && q.ctrlr && !q.ctrlr->subsys->is_discovery() &&
        !cmd::is_auth_command(req.cmd)) {
        // A plain connection of a secure_concat listener carries Connect and
        // the authentication that generates the TLS PSK, nothing else (NVMe
        // Base 2.1; the Linux host was fixed to send nothing more on it).
        complete(req,
                 spec::make_status(spec::sct::generic, spec::sc::command_sequence_error, true));
        return;
    }
    if (req.cmd.opc == spec::admin_opc::fabrics) {
        cmd::fabrics(req);
        return;
    }
    if (!q.connected || !q.ctrlr) {
        complete(req,
                 spec::make_status(spec::sct::generic, spec::sc::command_sequence_error, true));
        return;
    }
    if (q.qid == 0 && spec::sqe_fuse(req.cmd) != spec::fuse::none) {
        // No admin command may be fused (I/O queues: cmd/fused.cpp).
        complete(req, spec::make_status(spec::sct::generic, spec::sc::invalid_field, true));
        return;
    }
    if (!q.ctrlr->enabled() && q.ctrlr->destroyed()) {
        // Torn down (host removed, subsystem deleted, keep-alive expired):
        // destroy() cleared CC.EN at once, the queues close on their reactors
        // a moment later. A status now, with DNR, would fail the command for
        // good (the Linux host does not retry it); dropped with its queue
        // like every other outstanding command, it is retried after the host
        // reconnects. Deferred: this may run inside the transport's receive
        // loop or a buffer hand-over, where the queue must not close.
        q.owner->defer([qp = q.shared_from_this(), &req] {
            qp->disconnect();
            complete(req, spec::make_status(spec::sct::generic, spec::sc::aborted_sq_deletion));
        });
        return;
    }
    if (!q.ctrlr->enabled()) {
        // As the Linux target: nothing but fabrics commands before CC.EN=1 and CSTS.RDY=1.
        complete(req,
                 spec::make_status(spec::sct::generic, spec::sc::command_sequence_error, true));
        return;
    }
    if (q.qid == 0) {
        // Any admin command is proof of life; the Keep Alive command is the rest.
        q.ctrlr->keep_alive();
        cmd::admin(req);
        return;
    }
    cmd::io(req);
}

}  // namespace nvmf
