// Shutdown notification (CC.SHN, NVMe base spec "Memory-based Controller
// Shutdown"): the host waits for CSTS.SHST to read "complete" before it cuts
// the power, so data in a volatile write cache must be on stable media by
// then. File bdevs advertise one (VWC: the page cache and the disk's own), so
// a shutdown flushes every namespace's bdev that has one, normal and abrupt
// shutdown alike, and reports "occurring" until the flushes complete. The
// flushes run on the admin reactor's bdev engine: the reactor goes on polling
// (a host may read CSTS meanwhile), nothing waits.
#include <memory>
#include <vector>

#include "bdev/bdev.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/subsystem.hpp"
#include "util/log.hpp"

namespace nvmf {
namespace {

// One shutdown's flushes; it keeps itself alive until the last completes.
struct shutdown_flush {
    std::shared_ptr<shutdown_flush> self;
    std::weak_ptr<controller> ctrlr;
    uint64_t generation = 0;
    // The namespaces' bdevs stay alive while their flush runs, whatever
    // happens to the namespaces meanwhile.
    std::vector<std::shared_ptr<bdev::block_device>> devs;
    std::vector<bdev::io> ios;  // sized before the first submit: never moves
    size_t pending = 0;
    int failed = 0;
};

void shutdown_flush_done(bdev::io& io, int result) {
    auto* op = static_cast<shutdown_flush*>(io.ctx);
    if (result < 0) ++op->failed;
    if (--op->pending != 0) return;
    if (auto c = op->ctrlr.lock()) c->end_shutdown(op->generation, op->failed);
    op->self.reset();  // op is gone after this line
}

}  // namespace

void controller::begin_shutdown(uint32_t shn) {
    enabled_.store(false, std::memory_order_release);  // no new I/O from now on
    const uint64_t generation = ++shutdown_gen_;
    csts = (csts & ~spec::csts::shst_mask) | (spec::csts::shst_occurring << spec::csts::shst_shift);
    auto op = std::make_shared<shutdown_flush>();
    op->ctrlr = weak_from_this();
    op->generation = generation;
    if (auto table = subsys->ns_snapshot(); table) {
        for (const auto& n : table->slots) {
            if (n && n->dev->volatile_write_cache() && n->dev->supports(bdev::io_type::flush)) {
                op->devs.push_back(n->dev);
            }
        }
    }
    if (op->devs.empty()) {
        end_shutdown(generation, 0);
        return;
    }
    log::info("ctrlr {} of {}: {} shutdown notification, flushing {} namespace(s)", cntlid,
              subsys->nqn, shn == spec::cc::shn_abrupt ? "abrupt" : "normal", op->devs.size());
    op->ios.resize(op->devs.size());
    // One more than the flushes: a flush that completes inside submit must
    // not finish the shutdown before the others are submitted.
    op->pending = op->devs.size() + 1;
    op->self = op;
    for (size_t i = 0; i < op->devs.size(); ++i) {
        bdev::io& io = op->ios[i];
        io.type = bdev::io_type::flush;
        io.cb = shutdown_flush_done;
        io.ctx = op.get();
        op->devs[i]->submit(io);
    }
    bdev::io guard{};
    guard.ctx = op.get();
    shutdown_flush_done(guard, 0);
}

void controller::end_shutdown(uint64_t generation, int failed) {
    if (generation != shutdown_gen_) return;  // reset (or shut down again) meanwhile
    if (failed != 0) {
        // SHST has no way to say "failed": report it done, and say so here.
        log::error("ctrlr {} of {}: {} flush(es) failed during the shutdown notification", cntlid,
                   subsys->nqn, failed);
    }
    csts = (csts & ~spec::csts::shst_mask) | (spec::csts::shst_complete << spec::csts::shst_shift);
}

}  // namespace nvmf
