// One event loop per core. A reactor owns the file descriptors, timers and
// objects placed on it; other threads reach it only through post().
// The loop is epoll based: socket readiness drives non-blocking readv/sendmsg
// batches. Timers and deferred calls run on the same thread, so nothing a
// reactor owns needs a lock.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace nvmf {

class event_handler {
public:
    virtual ~event_handler() = default;
    virtual void on_events(uint32_t epoll_events) = 0;
};

class reactor {
public:
    using timer_id = uint64_t;
    using clock = std::chrono::steady_clock;

    explicit reactor(unsigned index, int cpu = -1);
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    unsigned index() const { return index_; }
    int cpu() const { return cpu_; }

    // Runs the loop on the calling thread until stop().
    void run();
    // One iteration (wait at most timeout_ms for events); for tests and fuzzers
    // that drive a reactor without its thread. Returns whether anything ran
    // (an event, a timer or deferred work).
    bool poll_once(int timeout_ms);
    // How long run() keeps polling without sleeping after the last work (0:
    // sleep in epoll_wait whenever idle). Set before start_thread().
    void set_busy_poll(std::chrono::microseconds d) { busy_poll_ = d; }
    std::chrono::microseconds busy_poll() const { return busy_poll_; }
    void start_thread();
    void stop();  // thread-safe
    void join();
    bool on_this_thread() const { return current() == this; }
    // True while run() is looping (post() work will be picked up).
    bool running() const { return running_.load(std::memory_order_acquire); }
    static reactor* current();

    // File descriptor interest; reactor thread only.
    void add_fd(int fd, uint32_t events, event_handler* h);
    void mod_fd(int fd, uint32_t events, event_handler* h);
    void del_fd(int fd);

    // Runs fn on this reactor's thread. Thread-safe; control path only.
    void post(std::function<void()> fn);
    // Runs fn on this reactor's thread and waits for it (never call from a
    // reactor thread on itself: that would run inline).
    void run_sync(const std::function<void()>& fn);

    // Runs fn after the current batch of events; reactor thread only. Used to
    // batch socket writes: many completions, one sendmsg.
    void defer(std::function<void()> fn);

    timer_id add_timer(std::chrono::nanoseconds delay, std::function<void()> fn);
    void cancel_timer(timer_id id);

    uint64_t iterations() const { return iterations_; }
    // Time run() spent in loop iterations that did work, and in ones that
    // found none (sleeping in epoll_wait or polling in vain). Any thread.
    uint64_t busy_ns() const { return busy_ns_.load(std::memory_order_relaxed); }
    uint64_t idle_ns() const { return idle_ns_.load(std::memory_order_relaxed); }

private:
    void drain_messages();
    void run_timers();
    int next_timeout_ms();

    unsigned index_;
    int cpu_;
    int epfd_ = -1;
    int evfd_ = -1;
    std::atomic<bool> stop_{false};
    std::atomic<bool> running_{false};
    std::thread thread_;

    std::mutex msg_mtx_;
    std::vector<std::function<void()>> messages_;

    std::vector<std::function<void()>> deferred_;

    struct timer {
        clock::time_point when;
        std::function<void()> fn;
    };
    timer_id next_timer_ = 1;
    std::map<std::pair<clock::time_point, timer_id>, std::function<void()>> timers_;
    std::unordered_map<timer_id, clock::time_point> timer_index_;
    uint64_t iterations_ = 0;
    // Written by the reactor thread only (load + store, no read-modify-write).
    std::atomic<uint64_t> busy_ns_{0}, idle_ns_{0};
    std::chrono::microseconds busy_poll_{0};
    std::vector<std::function<void()>> deferred_batch_;
};

// The set of reactors of a process, one per core of the cpumask.
class reactor_group {
public:
    // cpus: the cores to pin to; empty means one unpinned reactor.
    explicit reactor_group(const std::vector<int>& cpus);
    ~reactor_group();
    size_t size() const { return reactors_.size(); }
    reactor& at(size_t i) { return *reactors_[i]; }
    // Round-robin placement of new connections.
    reactor& next();
    void start();
    void stop();

private:
    std::vector<std::unique_ptr<reactor>> reactors_;
    std::atomic<size_t> next_{0};
    bool started_ = false;
};

// Parses a cpumask such as "0x3", "3", "[0,2-3]" into core numbers.
std::vector<int> parse_cpumask(const std::string& mask, std::string* error);

}  // namespace nvmf
