#include "nvmf/request.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "nvmf/cmd/log_builder.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/io_metrics.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/stats.hpp"
#include "reactor/reactor.hpp"
#include "util/log.hpp"

namespace nvmf {

size_t request::copy_from_buffer_at(size_t offset, void* dst, size_t len) const {
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    for (int i = 0; i < iovcnt && done < len; ++i) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        const size_t n = std::min(len - done, iov[i].iov_len - offset);
        std::memcpy(out + done, static_cast<const uint8_t*>(iov[i].iov_base) + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}

bool cancel_bdev_io(request& req) {
    // req.bio is the last bdev I/O of the command; the bdev checks it holds it.
    return req.target_ns && req.target_ns->dev->cancel(req.bio);
}

size_t request::copy_to_buffer(const void* src, size_t len) {
    const auto* in = static_cast<const uint8_t*>(src);
    size_t done = 0;
    for (int i = 0; i < iovcnt && done < len; ++i) {
        const size_t n = std::min(len - done, iov[i].iov_len);
        std::memcpy(iov[i].iov_base, in + done, n);
        done += n;
    }
    return done;
}

void request::zero_buffer() {
    for (int i = 0; i < iovcnt; ++i) std::memset(iov[i].iov_base, 0, iov[i].iov_len);
}

namespace {
// The error information log lives on the controller's admin reactor; errors
// seen on other reactors are posted there (error path only).
void record_error(const request& req, spec::status st) {
    // What a host's tool saw fail is the first question when it misbehaves;
    // this is the error path only, so the line costs nothing on success.
    log::debug("qid {} cid {} opc {:#04x} nsid {} cdw10 {:#010x} failed: sct {} sc {:#04x}{}",
               req.qp->qid, req.cmd.cid, req.cmd.opc, req.cmd.nsid, req.cmd.cdw10,
               static_cast<int>(spec::status_sct(st)), spec::status_sc(st),
               spec::status_dnr(st) ? " dnr" : "");
    const auto& c = req.qp->ctrlr;
    if (!c || c->destroyed()) return;
    const cmd::error_info d = cmd::describe_error(req.qp->qid, req.cmd, st);
    const controller::error_entry e{
        0, d.sqid, d.cid, d.status, d.nsid, d.lba, d.parm_error_location};
    if (req.qp->owner == c->admin_reactor) {
        c->record_error(e);
        return;
    }
    std::weak_ptr<controller> w = c;
    c->admin_reactor->post([w, e] {
        if (auto ctrl = w.lock()) ctrl->record_error(e);
    });
}
}  // namespace

uint64_t now_ns() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

namespace {

// The metrics endpoint's counters of an I/O queue command: its namespace's
// and its host's (in this subsystem), in this reactor's slots.
void count_for_metrics(const request& req, spec::status st) {
    const qpair& q = *req.qp;
    ns* n = req.target_ns.get();
    io_metrics* host = q.ctrlr ? q.ctrlr->host_metrics.get() : nullptr;
    if (n == nullptr && host == nullptr) return;
    const io_kind kind = req.cmd.opc == spec::io_opc::read    ? io_kind::read
                         : req.cmd.opc == spec::io_opc::write ? io_kind::write
                                                              : io_kind::other;
    const unsigned r = q.owner ? q.owner->index() : 0;
    const uint64_t now = now_ns();
    const uint64_t latency = now > req.started_ns ? now - req.started_ns : 0;
    if (n != nullptr) n->metrics.add(r, kind, st, req.length, latency);
    if (host != nullptr) host->add(r, kind, st, req.length, latency);
}

}  // namespace

void complete(request& req, spec::status st) {
    if (!spec::status_ok(st)) record_error(req, st);
    req.rsp.status = st;
    req.rsp.cid = req.cmd.cid;
    // NVMe commands on I/O queues; the fabrics Connect that opened the queue is not one.
    const bool io_command = req.qp->qid != 0 && req.cmd.opc != spec::admin_opc::fabrics;
    if (io_command) count_for_metrics(req, st);
    req.target_ns.reset();
    if (io_command) {
        if (req.qp->stats) ++req.qp->stats->completed_nvme_io;
        req.qp->io_finished();
    }
    req.qp->on_complete(req);
}

}  // namespace nvmf
