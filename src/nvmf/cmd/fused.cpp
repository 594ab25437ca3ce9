// Fused Compare and Write (NVMe Base 2.x, Fused Operations), and Compare on
// bdevs that have none. A first command (FUSE 01b, Compare) is held on its
// queue until the next command of that queue arrives; that must be the
// second (FUSE 10b, Write) on the same namespace and LBA range, else the
// first completes with Command Aborted due to Missing Fused Command. The
// pair then takes the namespace's write gate exclusively (write_gate.hpp),
// reads the range, compares it in memory and, when it matches, writes: no
// other write of the namespace, from any queue, runs in between. A
// miscompare completes the Compare with Compare Failure and the Write with
// Command Aborted due to Failed Fused Command. docs/compare-and-write.md.
#include <algorithm>
#include <cstring>

#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/stats.hpp"

namespace nvmf::cmd {
namespace {

using spec::make_status;
using spec::sct;

spec::status generic(uint8_t sc) { return make_status(sct::generic, sc, true); }
// Neither abort status has DNR: the host may send the pair again.
spec::status missing_fused() {
    return make_status(sct::generic, spec::sc::aborted_missing_fused, false);
}
spec::status failed_fused() {
    return make_status(sct::generic, spec::sc::aborted_failed_fused, false);
}

// Whether the command's data equals buf (length bytes).
bool data_equals(const request& req, const uint8_t* buf) {
    size_t off = 0;
    for (int i = 0; i < req.iovcnt && off < req.length; ++i) {
        const size_t n = std::min<size_t>(req.iov[i].iov_len, req.length - off);
        if (std::memcmp(req.iov[i].iov_base, buf + off, n) != 0) return false;
        off += n;
    }
    return off == req.length;
}

void count_submit(request& req) {
    if (req.qp->stats) ++req.qp->stats->pending_bdev_io;
}
void count_done(request& req) {
    if (req.qp->stats) --req.qp->stats->pending_bdev_io;
}

// `driver` is the request whose bio runs the exclusive operation: the Write
// of a fused pair (its fused_first is the Compare), or a lone Compare.
request& compare_of(request& driver) {
    return driver.fused_first != nullptr ? *driver.fused_first : driver;
}

// Ends the exclusive operation: the gate opens (or passes to the next
// holder), then the Compare and the Write (if any) complete.
void finish(request& driver, spec::status compare_st, spec::status write_st) {
    const std::shared_ptr<ns> n = driver.target_ns;  // alive until both completed
    n->gate.release();
    request* first = driver.fused_first;
    driver.fused_first = nullptr;
    if (first != nullptr) {
        complete(*first, compare_st);
        complete(driver, write_st);
    } else {
        complete(driver, compare_st);
    }
}

void write_done(bdev::io& bio, int result) {
    auto& driver = *static_cast<request*>(bio.ctx);
    count_done(driver);
    count_for_health_log(driver, bdev::io_type::write, bio.num_blocks, result);
    finish(driver, 0, bdev_status(result, bdev::io_type::write));
}

void read_done(bdev::io& bio, int result) {
    auto& driver = *static_cast<request*>(bio.ctx);
    count_done(driver);
    const bool fused_pair = driver.fused_first != nullptr;
    if (result != 0) {
        count_for_health_log(driver, bdev::io_type::read, bio.num_blocks, result);
        finish(driver, bdev_status(result, bdev::io_type::read), failed_fused());
        return;
    }
    ns& n = *driver.target_ns;
    const bool equal = data_equals(compare_of(driver), n.bounce.data());
    count_for_health_log(driver, bdev::io_type::compare, bio.num_blocks,
                         equal ? 0 : bdev::err_miscompare);
    if (!equal) {
        finish(driver, bdev_status(bdev::err_miscompare, bdev::io_type::compare), failed_fused());
        return;
    }
    if (!fused_pair) {
        finish(driver, 0, 0);
        return;
    }
    // The compare matched: the Write, still holding the gate.
    const uint64_t slba = bio.offset_blocks;
    const uint64_t nlb = bio.num_blocks;
    driver.bio = {};
    driver.bio.type = bdev::io_type::write;
    driver.bio.offset_blocks = slba;
    driver.bio.num_blocks = nlb;
    driver.bio.iov = driver.iov;
    driver.bio.iovcnt = driver.iovcnt;
    driver.bio.fua = (driver.cmd.cdw12 & (1u << 30)) != 0 ||
                     !driver.qp->ctrlr->write_cache_enabled.load(std::memory_order_relaxed);
    driver.bio.cb = write_done;
    driver.bio.ctx = &driver;
    count_submit(driver);
    n.dev->submit(driver.bio);
}

// Holding the gate: read the range into the namespace's bounce buffer.
void start_exclusive(request& driver) {
    ns& n = *driver.target_ns;
    const request& cmp = compare_of(driver);
    const lba_range r = lba_range_of(cmp.cmd);
    // Only the gate's holder uses the buffer; it grows to the largest
    // compare seen (at most MDTS), so the steady state allocates nothing.
    if (n.bounce.size() < cmp.length) n.bounce.resize(cmp.length);
    n.bounce_iov = {n.bounce.data(), cmp.length};
    driver.bio = {};
    driver.bio.type = bdev::io_type::read;
    driver.bio.offset_blocks = r.slba;
    driver.bio.num_blocks = r.nlb;
    driver.bio.iov = &n.bounce_iov;
    driver.bio.iovcnt = 1;
    driver.bio.cb = read_done;
    driver.bio.ctx = &driver;
    count_submit(driver);
    n.dev->submit(driver.bio);
}

void run_exclusive(request& driver, const std::shared_ptr<ns>& n) {
    driver.target_ns = n;
    if (n->gate.acquire(driver, reactor_index(driver), start_exclusive)) start_exclusive(driver);
}

// The second command arrived with its first held: check the pair, run it.
void pair(request& first, request& second) {
    const std::shared_ptr<ns>* n = nullptr;
    spec::status st = io_checks(second, &n);
    if (st == 0 && second.cmd.opc != spec::io_opc::write) st = generic(spec::sc::invalid_opcode);
    if (st != 0) {
        complete(first, failed_fused());
        complete(second, st);
        return;
    }
    // Both halves name the same namespace and LBA range (NVMe Base: the LBA
    // range shall be the same); anything else is an invalid pair.
    const lba_range rc = lba_range_of(first.cmd);
    const lba_range rw = lba_range_of(second.cmd);
    if (first.cmd.nsid != second.cmd.nsid || rc.slba != rw.slba || rc.nlb != rw.nlb) {
        complete(first, generic(spec::sc::invalid_field));
        complete(second, generic(spec::sc::invalid_field));
        return;
    }
    if (const spec::status sc = check_rw(first, **n, rc); sc != 0) {
        complete(first, sc);
        complete(second, failed_fused());
        return;
    }
    if (const spec::status sw = check_rw(second, **n, rw); sw != 0) {
        complete(first, failed_fused());
        complete(second, sw);
        return;
    }
    if (!(*n)->dev->supports(bdev::io_type::write)) {
        complete(first, failed_fused());
        complete(second, generic(spec::sc::invalid_opcode));
        return;
    }
    first.target_ns = *n;
    second.fused_first = &first;
    run_exclusive(second, *n);
}

}  // namespace

bool fused(request& req) {
    qpair& q = *req.qp;
    request* held = q.fused_first;
    q.fused_first = nullptr;
    const uint8_t fuse = spec::sqe_fuse(req.cmd);
    if (fuse == spec::fuse::none) {
        // The first of a pair not followed by its second.
        complete(*held, missing_fused());
        return true;
    }
    if (fuse == spec::fuse::first) {
        if (held != nullptr) complete(*held, missing_fused());
        const std::shared_ptr<ns>* n = nullptr;
        spec::status st = io_checks(req, &n);
        if (st == 0 && req.cmd.opc != spec::io_opc::compare) st = generic(spec::sc::invalid_opcode);
        if (st != 0) {
            complete(req, st);
            return false;
        }
        // Held (executing) until the next command of this queue arrives.
        req.target_ns = *n;
        q.fused_first = &req;
        return false;
    }
    if (fuse == spec::fuse::second) {
        if (held == nullptr) {
            complete(req, missing_fused());
            return false;
        }
        pair(*held, req);
        return false;
    }
    // FUSE 11b is reserved.
    if (held != nullptr) complete(*held, missing_fused());
    complete(req, generic(spec::sc::invalid_field));
    return false;
}

void fused_on_close(qpair& q) {
    request* held = q.fused_first;
    q.fused_first = nullptr;
    if (held != nullptr) complete(*held, missing_fused());
}

void compare_by_read(request& req, const std::shared_ptr<ns>& n) {
    req.fused_first = nullptr;
    run_exclusive(req, n);
}

}  // namespace nvmf::cmd
