#include "reactor/reactor.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <stdexcept>
#include <string>

#include "util/log.hpp"

namespace nvmf {

namespace {
thread_local reactor* tls_current = nullptr;
}

reactor::reactor(unsigned index, int cpu) : index_(index), cpu_(cpu) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || evfd_ < 0) {
        throw std::runtime_error(std::string("reactor: ") + std::strerror(errno));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // nullptr marks the message eventfd
    epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
}

reactor::~reactor() {
    stop();
    join();
    if (epfd_ >= 0) close(epfd_);
    if (evfd_ >= 0) close(evfd_);
}

reactor* reactor::current() { return tls_current; }

void reactor::add_fd(int fd, uint32_t events, event_handler* h) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = h;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        log::error("reactor {}: epoll add fd {}: {}", index_, fd, std::strerror(errno));
    }
}

void reactor::mod_fd(int fd, uint32_t events, event_handler* h) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = h;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void reactor::del_fd(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

void reactor::post(std::function<void()> fn) {
    {
        std::lock_guard lk(msg_mtx_);
        messages_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    ssize_t r = write(evfd_, &one, sizeof(one));
    (void)r;
}

void reactor::run_sync(const std::function<void()>& fn) {
    if (on_this_thread() || !running()) {
        fn();
        return;
    }
    std::promise<void> done;
    auto fut = done.get_future();
    post([&] {
        fn();
        done.set_value();
    });
    fut.wait();
}

void reactor::defer(std::function<void()> fn) { deferred_.push_back(std::move(fn)); }

reactor::timer_id reactor::add_timer(std::chrono::nanoseconds delay, std::function<void()> fn) {
    const auto when = clock::now() + delay;
    const timer_id id = next_timer_++;
    timers_.emplace(std::make_pair(when, id), std::move(fn));
    timer_index_.emplace(id, when);
    return id;
}

void reactor::cancel_timer(timer_id id) {
    auto it = timer_index_.find(id);
    if (it == timer_index_.end()) return;
    timers_.erase(std::make_pair(it->second, id));
    timer_index_.erase(it);
}

void reactor::drain_messages() {
    uint64_t v;
    while (read(evfd_, &v, sizeof(v)) > 0) {
    }
    std::vector<std::function<void()>> batch;
    {
        std::lock_guard lk(msg_mtx_);
        batch.swap(messages_);
    }
    for (auto& fn : batch) fn();
}

void reactor::run_timers() {
    const auto now = clock::now();
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
        auto node = timers_.extract(timers_.begin());
        timer_index_.erase(node.key().second);
        node.mapped()();
    }
}

int reactor::next_timeout_ms() {
    if (!deferred_.empty()) return 0;
    if (timers_.empty()) return -1;
    const auto now = clock::now();
    const auto when = timers_.begin()->first.first;
    if (when <= now) return 0;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - now).count();
    return static_cast<int>(std::min<int64_t>(ms + 1, 1000));
}

void reactor::run() {
    tls_current = this;
    if (cpu_ >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu_, &set);
        if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
            log::warn("reactor {}: could not pin to cpu {}", index_, cpu_);
        }
    }
    std::string name = "reactor_" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.c_str());

    running_.store(true, std::memory_order_release);
    // Waking a thread that sleeps in epoll_wait costs a context switch (several
    // microseconds in a VM, the largest kernel cost of a 4K run at queue depth
    // 32), so after work the loop polls without sleeping for busy_poll_. Then it
    // sleeps: an idle target uses no CPU, unlike a busy-polling one.
    auto last_work = clock::now();
    auto t0 = last_work;
    while (!stop_.load(std::memory_order_relaxed)) {
        const bool spin = busy_poll_.count() > 0 && t0 - last_work < busy_poll_;
        const bool worked = poll_once(spin ? 0 : next_timeout_ms());
        // One clock read per iteration serves the busy-poll window and the
        // busy/idle split the metrics endpoint reports.
        const auto t1 = clock::now();
        const auto ns = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
        std::atomic<uint64_t>& sum = worked ? busy_ns_ : idle_ns_;
        sum.store(sum.load(std::memory_order_relaxed) + ns, std::memory_order_relaxed);
        if (worked) last_work = t1;
        t0 = t1;
    }
    // Messages posted during shutdown still run so that waiters are released.
    running_.store(false, std::memory_order_release);
    drain_messages();
    for (auto& fn : deferred_) fn();
    deferred_.clear();
    tls_current = nullptr;
}

bool reactor::poll_once(int timeout_ms) {
    constexpr int max_events = 128;
    epoll_event events[max_events];
    bool worked = !deferred_.empty();
    if (worked) timeout_ms = 0;
    const int n = epoll_wait(epfd_, events, max_events, timeout_ms);
    ++iterations_;
    for (int i = 0; i < n; ++i) {
        auto* h = static_cast<event_handler*>(events[i].data.ptr);
        if (h == nullptr) {
            drain_messages();
        } else {
            h->on_events(events[i].events);
        }
    }
    run_timers();
    // Deferred work may defer more; run until quiet, bounded per batch.
    for (int round = 0; round < 8 && !deferred_.empty(); ++round) {
        deferred_batch_.swap(deferred_);
        for (auto& fn : deferred_batch_) fn();
        deferred_batch_.clear();
    }
    return worked || n > 0;
}

void reactor::start_thread() {
    thread_ = std::thread([this] { run(); });
}

void reactor::stop() {
    stop_.store(true);
    uint64_t one = 1;
    ssize_t r = write(evfd_, &one, sizeof(one));
    (void)r;
}

void reactor::join() {
    if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) thread_.join();
}

reactor_group::reactor_group(const std::vector<int>& cpus) {
    if (cpus.empty()) {
        reactors_.push_back(std::make_unique<reactor>(0, -1));
    } else {
        for (size_t i = 0; i < cpus.size(); ++i) {
            reactors_.push_back(std::make_unique<reactor>(static_cast<unsigned>(i), cpus[i]));
        }
    }
}

reactor_group::~reactor_group() { stop(); }

reactor& reactor_group::next() {
    return *reactors_[next_.fetch_add(1, std::memory_order_relaxed) % reactors_.size()];
}

void reactor_group::start() {
    if (started_) return;
    started_ = true;
    // spdlog makes its registry on first use. Make it here, before any reactor
    // thread exists, so that threads see it through their creation rather than
    // through a static-init guard in libspdlog that ThreadSanitizer cannot see.
    (void)spdlog::default_logger_raw();
    for (auto& r : reactors_) r->start_thread();
    // Callers may post right after start(); make sure every loop is live.
    for (auto& r : reactors_) {
        while (!r->running()) std::this_thread::yield();
    }
}

void reactor_group::stop() {
    for (auto& r : reactors_) r->stop();
    for (auto& r : reactors_) r->join();
}

std::vector<int> parse_cpumask(const std::string& mask, std::string* error) {
    std::vector<int> cpus;
    auto fail = [&](const std::string& why) {
        if (error) *error = "invalid cpumask '" + mask + "': " + why;
        return std::vector<int>{};
    };
    if (mask.empty()) return fail("empty");
    if (mask.front() == '[') {
        if (mask.back() != ']') return fail("missing ']'");
        std::string body = mask.substr(1, mask.size() - 2);
        size_t pos = 0;
        while (pos <= body.size()) {
            size_t comma = body.find(',', pos);
            std::string item =
                body.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            size_t dash = item.find('-');
            try {
                int lo = std::stoi(item.substr(0, dash));
                int hi = dash == std::string::npos ? lo : std::stoi(item.substr(dash + 1));
                if (lo < 0 || hi < lo || hi > 1023) return fail("bad range '" + item + "'");
                for (int c = lo; c <= hi; ++c) cpus.push_back(c);
            } catch (...) {
                return fail("bad item '" + item + "'");
            }
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
    } else {
        uint64_t bits = 0;
        try {
            size_t used = 0;
            bits = std::stoull(mask, &used, 16);
            if (used != mask.size()) return fail("not a hex mask");
        } catch (...) {
            return fail("not a hex mask");
        }
        for (int c = 0; c < 64; ++c) {
            if (bits & (1ull << c)) cpus.push_back(c);
        }
        if (cpus.empty()) return fail("no core selected");
    }
    const long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    for (int c : cpus) {
        if (c >= ncpu) return fail("core " + std::to_string(c) + " does not exist");
    }
    return cpus;
}

}  // namespace nvmf
