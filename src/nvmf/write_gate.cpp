#include "nvmf/write_gate.hpp"

#include "nvmf/qpair.hpp"
#include "nvmf/request.hpp"
#include "reactor/reactor.hpp"

namespace nvmf {

bool write_gate::drained() const {
    for (const slot& s : slots_) {
        if (s.inflight.load(std::memory_order_seq_cst) != 0) return false;
    }
    return true;
}

uint64_t write_gate::writers_in_flight() const {
    uint64_t n = 0;
    for (const slot& s : slots_) n += s.inflight.load(std::memory_order_relaxed);
    return n;
}

void write_gate::post_resume(const waiter& w) {
    reactor* r = w.req->qp != nullptr ? w.req->qp->owner : nullptr;
    if (r == nullptr) {
        // No reactor (unit tests drive requests by hand): run it here.
        w.resume(*w.req);
        return;
    }
    const waiter copy = w;
    r->post([copy] { copy.resume(*copy.req); });
}

bool write_gate::enter_slow(request& req, unsigned reactor, resume_fn resume) {
    slot& s = slots_[reactor % slot_count];
    std::unique_lock lk(mtx_);
    // Undone under the mutex: closed_ only changes under it, so the drain
    // check below sees this writer gone.
    s.inflight.fetch_sub(1, std::memory_order_seq_cst);
    if (!closed_.load(std::memory_order_seq_cst)) {
        s.inflight.fetch_add(1, std::memory_order_seq_cst);
        return true;
    }
    writer_waiters_.push_back({&req, reactor, resume});
    if (draining_ && drained()) {
        draining_ = false;
        const waiter h = holder_;
        lk.unlock();
        post_resume(h);
    }
    return false;
}

void write_gate::leave_slow() {
    std::unique_lock lk(mtx_);
    if (!draining_ || !drained()) return;
    draining_ = false;
    const waiter h = holder_;
    lk.unlock();
    post_resume(h);
}

bool write_gate::acquire(request& req, unsigned reactor, resume_fn resume) {
    std::lock_guard lk(mtx_);
    const waiter w{&req, reactor, resume};
    if (closed_.load(std::memory_order_seq_cst)) {
        exclusive_waiters_.push_back(w);
        return false;
    }
    closed_.store(true, std::memory_order_seq_cst);
    holder_ = w;
    if (drained()) return true;
    draining_ = true;
    return false;
}

void write_gate::release() {
    std::unique_lock lk(mtx_);
    // Writers that queued behind the holder go first, counted before the
    // next exclusive user (if any) checks the drain: a steady stream of fused
    // pairs cannot starve plain writes.
    std::deque<waiter> writers;
    writers.swap(writer_waiters_);
    for (const waiter& w : writers) {
        slots_[w.reactor % slot_count].inflight.fetch_add(1, std::memory_order_seq_cst);
    }
    bool start_holder = false;
    if (exclusive_waiters_.empty()) {
        closed_.store(false, std::memory_order_seq_cst);
    } else {
        holder_ = exclusive_waiters_.front();
        exclusive_waiters_.pop_front();
        start_holder = drained();
        draining_ = !start_holder;
    }
    const waiter h = holder_;
    lk.unlock();
    for (const waiter& w : writers) post_resume(w);
    if (start_holder) post_resume(h);
}

}  // namespace nvmf
