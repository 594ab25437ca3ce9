// One io_uring per reactor thread for the file bdevs. The ring's eventfd is an
// ordinary fd on the reactor's epoll, so the reactor stays generic: it wakes
// when a completion is posted and the engine reaps the completion queue.
// SQEs prepared during a batch of events are submitted once, at the end of the
// batch (reactor::defer), so many I/Os cost one io_uring_enter.
//
// Off a reactor (tools, unit tests that call a bdev from a plain thread) the
// same engine submits at once and waits for the completions before returning:
// blocking is allowed there and nowhere else.
#pragma once

#include <cstdint>

#include <liburing.h>

#include "bdev/bdev.hpp"
#include "reactor/reactor.hpp"

namespace nvmf::bdev {

// A driver using the engine: io.drv.owner points at it for every I/O it queues.
class uring_client {
public:
    virtual ~uring_client() = default;
    // The SQE queued for io completed with res (a byte count or -errno).
    virtual void on_cqe(io& io, int res) = 0;
    // io waited for a free SQE; one is free now, prepare it again.
    virtual void retry(io& io) = 0;
};

class uring_engine final : public event_handler {
public:
    // The calling thread's engine, created on first use; nullptr (and an error
    // logged once) when the kernel refuses io_uring.
    static uring_engine* local();

    ~uring_engine() override;
    uring_engine(const uring_engine&) = delete;
    uring_engine& operator=(const uring_engine&) = delete;

    // A free SQE, or nullptr when the ring is full: then call wait(io) and
    // prepare the SQE in uring_client::retry.
    io_uring_sqe* get_sqe();
    // The SQE from get_sqe() is filled for io (io.drv.owner is its client).
    void queue(io_uring_sqe* sqe, io& io);
    void wait(io& io);

    unsigned in_flight() const { return in_flight_; }

    void on_events(uint32_t events) override;

private:
    uring_engine() = default;
    bool init();
    void submit();
    void reap();
    void run_waiting();

    io_uring ring_{};
    bool ring_ok_ = false;
    int evfd_ = -1;
    reactor* reactor_ = nullptr;  // nullptr: off a reactor, submit and wait inline
    bool submit_scheduled_ = false;
    unsigned in_flight_ = 0;
    unsigned unsubmitted_ = 0;
    io* wait_head_ = nullptr;
    io* wait_tail_ = nullptr;
};

}  // namespace nvmf::bdev
