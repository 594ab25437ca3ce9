// Hands librbd's completions back to the reactor that submitted the I/O.
//
// librbd calls its completion callbacks on its own threads. Each reactor
// thread has one completion list: the callback pushes the io onto it with one
// atomic exchange (no lock, no allocation) and, when the list was empty, wakes
// the reactor through an eventfd on its epoll; the reactor takes the whole list
// at once and runs the bdev's callbacks in submission order.
#pragma once

#include <atomic>
#include <cstdint>

#include "bdev/bdev.hpp"
#include "reactor/reactor.hpp"

namespace nvmf::bdev {

// The driver of an io pushed here: io.drv.owner points at it.
class rbd_client {
public:
    virtual ~rbd_client() = default;
    // On the submitting reactor: librbd finished io with result (>= 0 or -errno).
    virtual void on_rbd_done(io& io, int result) = 0;
};

class rbd_completions final : public event_handler {
public:
    // The calling reactor thread's list, made on first use; nullptr off a
    // reactor or when no eventfd could be made (then the caller waits).
    static rbd_completions* local();

    // From any thread: io finished with result (kept in io.drv.done until
    // the reactor hands it to the io's rbd_client).
    void push(io& done, int result);

    void on_events(uint32_t events) override;

    // I/Os handed to librbd and not yet pushed back. Reactor thread.
    uint64_t in_flight = 0;

    // Made by local() only; its thread's exit frees it (rbd_completions.cpp).
    ~rbd_completions() override = default;

private:
    rbd_completions() = default;
    friend struct rbd_completions_holder;
    void drain();

    int evfd_ = -1;
    std::atomic<io*> head_{nullptr};
};

}  // namespace nvmf::bdev
