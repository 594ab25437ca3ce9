#include "bdev/rbd_completions.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "util/log.hpp"

namespace nvmf::bdev {

namespace {

// Lists whose reactor thread ended while librbd still owed them completions
// (only when the process exits with I/O in flight): kept reachable and alive,
// since librbd's threads may still push onto them.
std::mutex orphans_mtx;
std::vector<rbd_completions*>& orphans() {
    static auto* v = new std::vector<rbd_completions*>();
    return *v;
}

}  // namespace

struct rbd_completions_holder {
    rbd_completions* list = nullptr;
    bool failed = false;
    ~rbd_completions_holder() {
        if (list == nullptr) return;
        if (list->in_flight == 0) {
            if (list->evfd_ >= 0) close(list->evfd_);
            delete list;
            return;
        }
        std::lock_guard lk(orphans_mtx);
        orphans().push_back(list);
    }
};

namespace {
thread_local rbd_completions_holder tls_holder;
}  // namespace

rbd_completions* rbd_completions::local() {
    if (tls_holder.list != nullptr) return tls_holder.list;
    reactor* r = reactor::current();
    if (r == nullptr || tls_holder.failed) return nullptr;
    const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        log::error("rbd completion eventfd: {}", std::strerror(errno));
        tls_holder.failed = true;
        return nullptr;
    }
    auto* list = new rbd_completions();
    list->evfd_ = fd;
    r->add_fd(fd, EPOLLIN, list);
    tls_holder.list = list;
    return list;
}

void rbd_completions::push(io& done, int result) {
    done.drv.done = static_cast<uint64_t>(static_cast<int64_t>(result));
    io* old = head_.load(std::memory_order_relaxed);
    do {
        done.drv.next = old;
    } while (!head_.compare_exchange_weak(old, &done, std::memory_order_release,
                                          std::memory_order_relaxed));
    // Only the push onto an empty list wakes the reactor: the others find
    // it awake, or about to drain what they added.
    if (old == nullptr) {
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = write(evfd_, &one, sizeof(one));
    }
}

void rbd_completions::on_events(uint32_t) {
    uint64_t v;
    while (read(evfd_, &v, sizeof(v)) > 0) {
    }
    drain();
}

void rbd_completions::drain() {
    io* list = head_.exchange(nullptr, std::memory_order_acquire);
    // The list is newest first; complete in the order librbd finished.
    io* ordered = nullptr;
    while (list != nullptr) {
        io* next = list->drv.next;
        list->drv.next = ordered;
        ordered = list;
        list = next;
    }
    while (ordered != nullptr) {
        io* done = ordered;
        ordered = done->drv.next;
        done->drv.next = nullptr;
        --in_flight;
        const auto result = static_cast<int>(static_cast<int64_t>(done->drv.done));
        static_cast<rbd_client*>(done->drv.owner)->on_rbd_done(*done, result);
    }
}

}  // namespace nvmf::bdev
