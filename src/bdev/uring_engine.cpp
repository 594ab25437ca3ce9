#include "bdev/uring_engine.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "util/log.hpp"

namespace nvmf::bdev {

namespace {

// SQ entries; the CQ is twice that and, with IORING_FEAT_NODROP, completions
// beyond it wait in the kernel instead of being lost.
constexpr unsigned ring_entries = 512;

thread_local std::unique_ptr<uring_engine> tls_engine;
thread_local bool tls_failed = false;

}  // namespace

uring_engine* uring_engine::local() {
    if (tls_engine) return tls_engine.get();
    if (tls_failed) return nullptr;
    std::unique_ptr<uring_engine> e(new uring_engine());
    if (!e->init()) {
        tls_failed = true;
        return nullptr;
    }
    tls_engine = std::move(e);
    return tls_engine.get();
}

bool uring_engine::init() {
    const int rc = io_uring_queue_init(ring_entries, &ring_, 0);
    if (rc < 0) {
        log::error("io_uring_queue_init: {}", std::strerror(-rc));
        return false;
    }
    ring_ok_ = true;
    reactor_ = reactor::current();
    if (reactor_ == nullptr) return true;
    evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (evfd_ < 0) {
        log::error("io_uring eventfd: {}", std::strerror(errno));
        return false;
    }
    if (const int r = io_uring_register_eventfd(&ring_, evfd_); r < 0) {
        log::error("io_uring_register_eventfd: {}", std::strerror(-r));
        return false;
    }
    reactor_->add_fd(evfd_, EPOLLIN, this);
    return true;
}

uring_engine::~uring_engine() {
    // Closing the eventfd removes it from the reactor's epoll set. I/O still in
    // flight (only at process exit) is cancelled by the kernel; nobody waits.
    if (evfd_ >= 0) close(evfd_);
    if (ring_ok_) io_uring_queue_exit(&ring_);
}

io_uring_sqe* uring_engine::get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr && unsubmitted_ > 0) {
        submit();
        sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
}

void uring_engine::queue(io_uring_sqe* sqe, io& io) {
    io_uring_sqe_set_data(sqe, &io);
    ++in_flight_;
    ++unsubmitted_;
    if (reactor_ != nullptr) {
        if (!submit_scheduled_) {
            submit_scheduled_ = true;
            reactor_->defer([this] {
                submit_scheduled_ = false;
                submit();
                reap();  // buffered I/O that hit the page cache is done already
            });
        }
        return;
    }
    // Off a reactor: run everything to completion now. A completion callback
    // that queues more I/O lands here again while the outer loop runs.
    static thread_local bool draining = false;
    if (draining) return;
    draining = true;
    while (in_flight_ > 0 || wait_head_ != nullptr) {
        submit();
        io_uring_cqe* cqe = nullptr;
        const int rc = io_uring_wait_cqe(&ring_, &cqe);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN) {
            log::error("io_uring_wait_cqe: {}", std::strerror(-rc));
            break;
        }
        reap();
    }
    draining = false;
}

void uring_engine::wait(io& io) {
    io.drv.next = nullptr;
    if (wait_tail_ != nullptr) {
        wait_tail_->drv.next = &io;
    } else {
        wait_head_ = &io;
    }
    wait_tail_ = &io;
    // Completions free SQEs; make sure some are coming.
    if (unsubmitted_ > 0) submit();
}

void uring_engine::submit() {
    if (unsubmitted_ == 0) return;
    const int rc = io_uring_submit(&ring_);
    if (rc >= 0) {
        unsubmitted_ -= std::min<unsigned>(unsubmitted_, static_cast<unsigned>(rc));
        return;
    }
    if (rc == -EBUSY || rc == -EAGAIN || rc == -EINTR) {
        // The completion queue is backed up: reap first, submit again later.
        if (reactor_ != nullptr && !submit_scheduled_) {
            submit_scheduled_ = true;
            reactor_->defer([this] {
                submit_scheduled_ = false;
                reap();
                submit();
            });
        }
        return;
    }
    log::error("io_uring_submit: {}", std::strerror(-rc));
}

void uring_engine::reap() {
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0 && cqe != nullptr) {
        auto* done = static_cast<io*>(io_uring_cqe_get_data(cqe));
        const int res = cqe->res;
        io_uring_cqe_seen(&ring_, cqe);
        --in_flight_;
        static_cast<uring_client*>(done->drv.owner)->on_cqe(*done, res);
    }
    run_waiting();
}

void uring_engine::run_waiting() {
    while (wait_head_ != nullptr && io_uring_sq_space_left(&ring_) > 0) {
        io* next = wait_head_;
        wait_head_ = next->drv.next;
        if (wait_head_ == nullptr) wait_tail_ = nullptr;
        next->drv.next = nullptr;
        static_cast<uring_client*>(next->drv.owner)->retry(*next);
    }
}

void uring_engine::on_events(uint32_t) {
    uint64_t v;
    while (read(evfd_, &v, sizeof(v)) > 0) {
    }
    reap();
}

}  // namespace nvmf::bdev
