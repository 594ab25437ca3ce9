// NVM command set I/O commands: parse (namespace, LBA range, transfer
// length), then submit one bdev I/O whose callback ends the command.
#include <array>
#include <cerrno>

#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/stats.hpp"
#include "nvmf/subsystem.hpp"
#include "reactor/reactor.hpp"

namespace nvmf::cmd {
namespace {

using spec::make_status;
using spec::sct;

spec::status generic(uint8_t sc) { return make_status(sct::generic, sc, true); }

}  // namespace

spec::status bdev_status(int result, bdev::io_type type) {
    switch (result) {
    case 0:
        return 0;
    case -ERANGE:
        return generic(spec::sc::lba_out_of_range);
    case bdev::err_miscompare:
        return make_status(sct::media_error, spec::sc_media::compare_failure, true);
    case -ENOSPC:
        return generic(spec::sc::capacity_exceeded);
    case -EIO:
        return make_status(sct::media_error,
                           type == bdev::io_type::read ? spec::sc_media::unrecovered_read_error
                                                       : spec::sc_media::write_fault,
                           false);
    case -ENOTSUP:
        return generic(spec::sc::invalid_opcode);
    case -EROFS:
        return generic(spec::sc::namespace_is_write_protected);
    case -ESHUTDOWN:
        // A backend that has been fenced (Ceph's EBLOCKLISTED: a gateway
        // group took this gateway's ANA group over): the path is gone, not
        // the data, so the host retries on another path.
        return make_status(sct::path, spec::sc_path::ana_inaccessible, false);
    case -ECANCELED:
        // Cancelled by an Abort before it reached the media: nothing was
        // done, so the host may retry (no DNR).
        return make_status(sct::generic, spec::sc::aborted_by_request, false);
    default:
        return make_status(sct::generic, spec::sc::internal_device_error, false);
    }
}

namespace {

// pending_bdev_io counts bdev I/O between submit and callback; both run on
// the queue's reactor, which owns the counters.
// Writes pass the namespace's write gate (write_gate.hpp): at once unless a
// fused Compare and Write holds it, then they queue and resume here.
bool modifies(bdev::io_type t) {
    return t == bdev::io_type::write || t == bdev::io_type::write_zeroes ||
           t == bdev::io_type::unmap;
}

void gate_resume(request& req) { req.target_ns->dev->submit(req.bio); }

void submit_bio(request& req, bdev::block_device& dev) {
    if (req.qp->stats) ++req.qp->stats->pending_bdev_io;
    if (modifies(req.bio.type) &&
        !req.target_ns->gate.enter(req, reactor_index(req), gate_resume)) {
        return;
    }
    dev.submit(req.bio);
}

void bio_finished(request& req) {
    if (req.qp->stats) --req.qp->stats->pending_bdev_io;
    if (modifies(req.bio.type)) req.target_ns->gate.leave(reactor_index(req));
}

}  // namespace

// The SMART / Health log's counters (the namespace's slot of this reactor):
// completed Reads and Compares, Writes, and the failures of the backend
// itself (not those the command caused: range, read-only, miscompare, full).
void count_for_health_log(const request& req, bdev::io_type type, uint64_t blocks, int result) {
    io_counters& c = req.target_ns->counters;
    const unsigned r = req.qp->owner ? req.qp->owner->index() : 0;
    if (result == 0) {
        const uint64_t bytes = blocks * req.target_ns->dev->block_size();
        if (type == bdev::io_type::read || type == bdev::io_type::compare) {
            c.add_read(r, bytes);
        } else if (type == bdev::io_type::write) {
            c.add_write(r, bytes);
        }
        return;
    }
    switch (result) {
    case -ERANGE:
    case bdev::err_miscompare:
    case -ENOSPC:
    case -ENOTSUP:
    case -EROFS:
    case -ESHUTDOWN:  // fenced: not a media failure
    case -ECANCELED:
        return;
    default:
        c.add_backend_error(r);
    }
}

namespace {

void bio_done(bdev::io& bio, int result) {
    auto& req = *static_cast<request*>(bio.ctx);
    bio_finished(req);
    count_for_health_log(req, bio.type, bio.num_blocks, result);
    if (bio.lent != nullptr && result == 0) {
        req.iov[0] = {const_cast<uint8_t*>(bio.lent), req.length};
        req.iovcnt = 1;
        req.lent_dev = req.target_ns->dev;
    }
    complete(req, bdev_status(result, bio.type));
}

// Checks [slba, slba + nlb) against the namespace; overflow-safe.
bool in_range(const ns& n, uint64_t slba, uint64_t nlb) {
    const uint64_t size = n.dev->num_blocks();
    return slba <= size && nlb <= size - slba;
}

}  // namespace

lba_range lba_range_of(const spec::sqe& cmd) {
    return {cmd.cdw10 | (static_cast<uint64_t>(cmd.cdw11) << 32),
            static_cast<uint64_t>(cmd.cdw12 & 0xffff) + 1};
}

spec::status check_rw(const request& req, const ns& n, const lba_range& r) {
    if (!in_range(n, r.slba, r.nlb)) return generic(spec::sc::lba_out_of_range);
    if (r.nlb * n.dev->block_size() != req.length) {
        return generic(spec::sc::data_sgl_length_invalid);
    }
    return 0;
}

unsigned reactor_index(const request& req) {
    return req.qp->owner != nullptr ? req.qp->owner->index() : 0;
}

namespace {

void submit(request& req, const std::shared_ptr<ns>& n, bdev::io_type type, uint64_t slba,
            uint64_t nlb) {
    if (!n->dev->supports(type)) {
        complete(req, generic(spec::sc::invalid_opcode));
        return;
    }
    if (req.target_ns != n) req.target_ns = n;  // io() set it: no second refcount round trip
    req.bio = {};
    req.bio.type = type;
    req.bio.offset_blocks = slba;
    req.bio.num_blocks = nlb;
    req.bio.iov = req.iov;
    req.bio.iovcnt = req.iovcnt;
    // FUA, or any write while the host has turned the volatile write cache off.
    req.bio.fua = (req.cmd.cdw12 & (1u << 30)) != 0 ||
                  !req.qp->ctrlr->write_cache_enabled.load(std::memory_order_relaxed);
    req.bio.may_lend = type == bdev::io_type::read && req.accepts_lent_data;
    req.bio.cb = bio_done;
    req.bio.ctx = &req;
    submit_bio(req, *n->dev);
}

// Read, Write, Compare: SLBA in cdw10/11, NLB (0's based) in cdw12 15:0.
void rw(request& req, const std::shared_ptr<ns>& n, bdev::io_type type) {
    const lba_range r = lba_range_of(req.cmd);
    if (const spec::status st = check_rw(req, *n, r); st != 0) {
        complete(req, st);
        return;
    }
    submit(req, n, type, r.slba, r.nlb);
}

void read(request& req, const std::shared_ptr<ns>& n) { rw(req, n, bdev::io_type::read); }
void write(request& req, const std::shared_ptr<ns>& n) { rw(req, n, bdev::io_type::write); }

// A bdev without a Compare of its own (files, rbd, null) compares in
// fused.cpp: it reads the blocks and compares them in memory.
void compare(request& req, const std::shared_ptr<ns>& n) {
    if (n->dev->supports(bdev::io_type::compare)) {
        rw(req, n, bdev::io_type::compare);
        return;
    }
    const lba_range r = lba_range_of(req.cmd);
    if (const spec::status st = check_rw(req, *n, r); st != 0) {
        complete(req, st);
        return;
    }
    compare_by_read(req, n);
}

void flush(request& req, const std::shared_ptr<ns>& n) {
    submit(req, n, bdev::io_type::flush, 0, 0);
}

void write_zeroes(request& req, const std::shared_ptr<ns>& n) {
    const uint64_t slba = req.cmd.cdw10 | (static_cast<uint64_t>(req.cmd.cdw11) << 32);
    const uint64_t nlb = static_cast<uint64_t>(req.cmd.cdw12 & 0xffff) + 1;
    if (!in_range(*n, slba, nlb)) {
        complete(req, generic(spec::sc::lba_out_of_range));
        return;
    }
    submit(req, n, bdev::io_type::write_zeroes, slba, nlb);
}

// Dataset Management: NR (0's based) ranges of 16 bytes in the data buffer;
// only the Deallocate attribute acts, the others are hints.
struct dsm_range {
    uint32_t cattr;
    uint32_t nlb;
    uint64_t slba;
};
static_assert(sizeof(dsm_range) == 16);

void dsm_next(request& req);

void dsm_done(bdev::io& bio, int result) {
    auto& req = *static_cast<request*>(bio.ctx);
    bio_finished(req);
    if (result != 0) {
        complete(req, bdev_status(result, bio.type));
        return;
    }
    ++req.handler_state;
    dsm_next(req);
}

void dsm_next(request& req) {
    const uint32_t nr = (req.cmd.cdw10 & 0xff) + 1;
    const auto& n = req.target_ns;
    // Ranges run one after another; a RAM bdev completes inline, so this loops
    // rather than recursing when it can.
    while (req.handler_state < nr) {
        dsm_range r;
        req.copy_from_buffer_at(req.handler_state * sizeof(r), &r, sizeof(r));
        if (r.nlb == 0) {
            ++req.handler_state;
            continue;
        }
        req.bio = {};
        req.bio.type = bdev::io_type::unmap;
        req.bio.offset_blocks = r.slba;
        req.bio.num_blocks = r.nlb;
        req.bio.cb = dsm_done;
        req.bio.ctx = &req;
        submit_bio(req, *n->dev);
        return;
    }
    complete_ok(req);
}

void dataset_management(request& req, const std::shared_ptr<ns>& n) {
    const uint32_t nr = (req.cmd.cdw10 & 0xff) + 1;
    if (req.length < nr * sizeof(dsm_range)) {
        complete(req, generic(spec::sc::data_sgl_length_invalid));
        return;
    }
    const bool deallocate = (req.cmd.cdw11 & (1u << 2)) != 0;
    if (!deallocate || !n->dev->supports(bdev::io_type::unmap)) {
        complete_ok(req);
        return;
    }
    // Check every range before touching any, so a bad range changes nothing.
    for (uint32_t i = 0; i < nr; ++i) {
        dsm_range r;
        req.copy_from_buffer_at(i * sizeof(r), &r, sizeof(r));
        if (!in_range(*n, r.slba, r.nlb)) {
            complete(req, generic(spec::sc::lba_out_of_range));
            return;
        }
    }
    if (req.target_ns != n) req.target_ns = n;
    req.handler_state = 0;
    dsm_next(req);
}

using io_handler = void (*)(request&, const std::shared_ptr<ns>&);

struct io_cmd {
    const char* name;
    io_handler execute;
};

// The I/O opcode table: one hop from opcode to handler.
constexpr auto make_io_table() {
    std::array<io_cmd, 256> t{};
    t[spec::io_opc::flush] = {"flush", flush};
    t[spec::io_opc::write] = {"write", write};
    t[spec::io_opc::read] = {"read", read};
    t[spec::io_opc::compare] = {"compare", compare};
    t[spec::io_opc::write_zeroes] = {"write zeroes", write_zeroes};
    t[spec::io_opc::dataset_management] = {"dataset management", dataset_management};
    t[spec::io_opc::reservation_register] = {"reservation register", resv_register};
    t[spec::io_opc::reservation_report] = {"reservation report", resv_report};
    t[spec::io_opc::reservation_acquire] = {"reservation acquire", resv_acquire};
    t[spec::io_opc::reservation_release] = {"reservation release", resv_release};
    return t;
}
constexpr auto io_table = make_io_table();

}  // namespace

spec::status io_checks(request& req, const std::shared_ptr<ns>** out) {
    qpair& q = *req.qp;
    controller& c = *q.ctrlr;
    const io_cmd& entry = io_table[req.cmd.opc];
    if (entry.execute == nullptr || c.is_discovery()) return generic(spec::sc::invalid_opcode);
    const ns_table& table = c.subsys->ns_for(q);
    const std::shared_ptr<ns>& n = table.find(req.cmd.nsid);
    if (!n) return generic(spec::sc::invalid_namespace_or_format);
    // From here the command is the namespace's: its metrics count it
    // whatever its end, and an I/O in flight keeps the namespace alive.
    req.target_ns = n;
    // Every NVM command reaches the namespace's data, so a path that is not
    // optimized or non-optimized refuses them all, as Linux nvmet does; the
    // host retries on another path (the status has no DNR).
    if (c.ana_reporting) {
        if (const spec::status st = ana_io_status(c.ana_state_of(n->anagrpid)); st != 0) {
            return st;
        }
    }
    // The reservation type table: one pointer test when the namespace has no
    // reservation, a few 16-byte compares when it has one.
    if (const resv_state* rs = table.resv_of(n->nsid);
        rs != nullptr && rs->type != spec::rtype::none) {
        if (const spec::status st = resv_access(*rs, c.hostid, req.cmd.opc); st != 0) return st;
    }
    *out = &n;
    return 0;
}

void io(request& req) {
    // A fused command, or the command after a held first one (fused.cpp).
    if (spec::sqe_fuse(req.cmd) != spec::fuse::none || req.qp->fused_first != nullptr)
        [[unlikely]] {
        if (!fused(req)) return;
    }
    const std::shared_ptr<ns>* n = nullptr;
    if (const spec::status st = io_checks(req, &n); st != 0) {
        complete(req, st);
        return;
    }
    io_table[req.cmd.opc].execute(req, *n);
}

}  // namespace nvmf::cmd
