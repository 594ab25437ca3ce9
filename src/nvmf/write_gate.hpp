// A namespace's write gate: what makes a fused Compare and Write (and a
// Compare the bdev cannot do itself) atomic against every other write to the
// namespace, from any queue on any reactor, without a lock on the write path.
//
// Writers (Write, Write Zeroes, Deallocate) count themselves in flight in
// their reactor's own cache line and then check one read-mostly flag: one
// uncontended atomic add and one load while no fused command runs. An
// exclusive user (a fused pair) closes the gate under the slow-path mutex,
// waits for the writers already in flight to drain (the last one out starts
// it), runs alone, and opens the gate again, releasing the writers that
// queued behind it. The add-then-load on one side and store-then-load on the
// other are sequentially consistent (Dekker): a writer either sees the gate
// closed or is counted by the exclusive user's drain check.
// See docs/compare-and-write.md.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>

namespace nvmf {

struct request;

class write_gate {
public:
    // Reactors past this many share slots (still exact, no longer private).
    static constexpr unsigned slot_count = 64;
    // What a queued request runs when the gate lets it through (on its own
    // reactor, posted there by whoever opened the gate).
    using resume_fn = void (*)(request& req);

    // Data path, the request's reactor: true when the write may go now (it is
    // counted until leave()); false when it was queued and `resume` will be
    // called for it, counted, on its reactor once the gate opens.
    bool enter(request& req, unsigned reactor, resume_fn resume) {
        slot& s = slots_[reactor % slot_count];
        s.inflight.fetch_add(1, std::memory_order_seq_cst);
        if (!closed_.load(std::memory_order_seq_cst)) return true;
        return enter_slow(req, reactor, resume);
    }
    // The write entered with enter() has completed.
    void leave(unsigned reactor) {
        slots_[reactor % slot_count].inflight.fetch_sub(1, std::memory_order_seq_cst);
        if (closed_.load(std::memory_order_seq_cst)) leave_slow();
    }

    // Exclusive use (a fused pair), the request's reactor: true when the
    // caller holds the gate now; false when `resume` will be called on the
    // request's reactor once it does. Exclusive users go one at a time, in
    // arrival order. release() ends the use.
    bool acquire(request& req, unsigned reactor, resume_fn resume);
    void release();

    // For tests: writers in flight (any thread).
    uint64_t writers_in_flight() const;

private:
    struct alignas(64) slot {
        std::atomic<uint32_t> inflight{0};
    };
    struct waiter {
        request* req;
        unsigned reactor;
        resume_fn resume;
    };

    bool enter_slow(request& req, unsigned reactor, resume_fn resume);
    void leave_slow();
    bool drained() const;
    static void post_resume(const waiter& w);

    std::array<slot, slot_count> slots_{};
    alignas(64) std::atomic<bool> closed_{false};
    // Slow path only: everything below.
    std::mutex mtx_;
    bool draining_ = false;  // the holder waits for writers to drain
    waiter holder_{};        // valid while closed_
    std::deque<waiter> exclusive_waiters_;
    std::deque<waiter> writer_waiters_;
};

}  // namespace nvmf
