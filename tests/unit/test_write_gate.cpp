// The namespace write gate (src/nvmf/write_gate.hpp): writers pass while it
// is open, queue while a fused pair holds it; the holder waits for writers
// in flight; holders go one at a time; writers queued behind a holder go
// before the next one. Requests here have no queue pair, so resumptions run
// inline on the thread that opens the gate.
#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nvmf/request.hpp"
#include "nvmf/write_gate.hpp"

namespace nvmf {
namespace {

std::atomic<int> resumed{0};
void count_resume(request& req) {
    ++req.handler_state;
    ++resumed;
}

TEST(write_gate, writers_pass_an_open_gate) {
    write_gate g;
    request a;
    request b;
    EXPECT_TRUE(g.enter(a, 0, count_resume));
    EXPECT_TRUE(g.enter(b, 1, count_resume));
    EXPECT_EQ(g.writers_in_flight(), 2u);
    g.leave(0);
    g.leave(1);
    EXPECT_EQ(g.writers_in_flight(), 0u);
    EXPECT_EQ(a.handler_state + b.handler_state, 0u);
}

TEST(write_gate, writers_queue_behind_a_holder_and_resume_counted) {
    write_gate g;
    request holder;
    request w;
    ASSERT_TRUE(g.acquire(holder, 0, count_resume));
    EXPECT_FALSE(g.enter(w, 1, count_resume));
    EXPECT_EQ(w.handler_state, 0u);
    EXPECT_EQ(g.writers_in_flight(), 0u);
    g.release();
    EXPECT_EQ(w.handler_state, 1u);
    EXPECT_EQ(g.writers_in_flight(), 1u);  // resumed as entered
    g.leave(1);
    EXPECT_EQ(g.writers_in_flight(), 0u);
}

TEST(write_gate, holder_waits_for_writers_in_flight) {
    write_gate g;
    request w1;
    request w2;
    request holder;
    ASSERT_TRUE(g.enter(w1, 0, count_resume));
    ASSERT_TRUE(g.enter(w2, 5, count_resume));
    EXPECT_FALSE(g.acquire(holder, 1, count_resume));
    g.leave(0);
    EXPECT_EQ(holder.handler_state, 0u);  // one writer still in flight
    g.leave(5);
    EXPECT_EQ(holder.handler_state, 1u);  // the last writer out started it
    g.release();
}

TEST(write_gate, holders_take_turns_and_queued_writers_go_first) {
    write_gate g;
    request h1;
    request h2;
    request w;
    ASSERT_TRUE(g.acquire(h1, 0, count_resume));
    EXPECT_FALSE(g.acquire(h2, 1, count_resume));
    EXPECT_FALSE(g.enter(w, 2, count_resume));
    g.release();
    // The writer queued behind h1 goes; h2 waits for it.
    EXPECT_EQ(w.handler_state, 1u);
    EXPECT_EQ(h2.handler_state, 0u);
    g.leave(2);
    EXPECT_EQ(h2.handler_state, 1u);
    // A writer arriving now waits for h2.
    request w2;
    EXPECT_FALSE(g.enter(w2, 0, count_resume));
    g.release();
    EXPECT_EQ(w2.handler_state, 1u);
    g.leave(0);
    // Open again.
    request w3;
    EXPECT_TRUE(g.enter(w3, 0, count_resume));
    g.leave(0);
}

// Threads as reactors: writers and holders race; no writer is ever counted
// in flight while a holder runs. Requests carry their "reactor" in
// handler_state; a queued one is run (and left or released) by its resume
// function on the thread that opens the gate, and its own thread waits for
// that before it goes on.
struct race {
    write_gate gate;
    std::atomic<int> holders_running{0};
    std::atomic<int> writers_running{0};
    std::atomic<bool> violation{false};
    std::atomic<int> holder_runs{0};
    std::array<std::atomic<bool>, 4> resumed{};
};
race* current = nullptr;

void run_holder() {
    race& r = *current;
    if (r.holders_running.fetch_add(1) != 0 || r.writers_running.load() != 0) r.violation = true;
    r.holders_running.fetch_sub(1);
    ++r.holder_runs;
    r.gate.release();
}

void run_writer(unsigned reactor) {
    race& r = *current;
    r.writers_running.fetch_add(1);
    if (r.holders_running.load() != 0) r.violation = true;
    r.writers_running.fetch_sub(1);
    r.gate.leave(reactor);
}

void resume_writer(request& q) {
    run_writer(q.handler_state);
    current->resumed[q.handler_state] = true;
}

void resume_holder(request& q) {
    run_holder();
    current->resumed[q.handler_state] = true;
}

void wait_resumed(unsigned reactor) {
    while (!current->resumed[reactor].exchange(false)) std::this_thread::yield();
}

TEST(write_gate, no_writer_runs_while_a_holder_does) {
    race r;
    current = &r;
    constexpr int rounds = 20000;
    auto writer = [&](unsigned reactor) {
        request req;
        req.handler_state = reactor;
        for (int i = 0; i < rounds; ++i) {
            if (r.gate.enter(req, reactor, resume_writer)) {
                run_writer(reactor);
            } else {
                wait_resumed(reactor);
            }
        }
    };
    auto holder = [&] {
        request req;
        req.handler_state = 3;
        for (int i = 0; i < rounds / 10; ++i) {
            if (r.gate.acquire(req, 3, resume_holder)) {
                run_holder();
            } else {
                wait_resumed(3);
            }
        }
    };
    std::thread t1(writer, 0);
    std::thread t2(writer, 1);
    std::thread t3(holder);
    t1.join();
    t2.join();
    t3.join();
    EXPECT_FALSE(r.violation);
    EXPECT_EQ(r.holder_runs.load(), rounds / 10);
    EXPECT_EQ(r.gate.writers_in_flight(), 0u);
    current = nullptr;
}

}  // namespace
}  // namespace nvmf
