// The delay bdev (src/bdev/delay.cpp) on a reactor thread: I/O waits its
// latency before reaching the base, cancel() takes it back before that and
// not after, other I/O types and I/O off a reactor pass straight through;
// option checks, the UUID derived as SPDK derives it, and the claim on the
// base in the registry.
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bdev/bdev.hpp"
#include "bdev/delay.hpp"
#include "reactor/reactor.hpp"

namespace nvmf::bdev {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct pending {
    io bio{};
    std::atomic<int> result{1};  // 1: not completed yet
    std::atomic<int> calls{0};
    std::vector<uint8_t> buf = std::vector<uint8_t>(512);
    iovec iov{};

    void prepare(io_type t, uint64_t lba) {
        iov = {buf.data(), buf.size()};
        bio = {};
        bio.type = t;
        bio.offset_blocks = lba;
        bio.num_blocks = 1;
        bio.iov = &iov;
        bio.iovcnt = 1;
        bio.ctx = this;
        bio.cb = [](io& b, int r) {
            auto* p = static_cast<pending*>(b.ctx);
            p->result.store(r);
            p->calls.fetch_add(1);
        };
    }
    bool wait_done(milliseconds limit) const {
        const auto end = steady_clock::now() + limit;
        while (calls.load() == 0 && steady_clock::now() < end) {
            std::this_thread::sleep_for(milliseconds(1));
        }
        return calls.load() != 0;
    }
};

delay_options opts(std::shared_ptr<block_device> base, uint64_t read_us, uint64_t write_us) {
    delay_options o;
    o.name = "Delay0";
    o.base = std::move(base);
    o.latency[delay_kind::avg_read] = o.latency[delay_kind::p99_read] = read_us;
    o.latency[delay_kind::avg_write] = o.latency[delay_kind::p99_write] = write_us;
    return o;
}

class delay_bdev_test : public ::testing::Test {
protected:
    void SetUp() override {
        r_.start_thread();
        // run_sync runs inline until the loop runs: wait for it, so that
        // the bdev really is called on the reactor.
        const auto end = steady_clock::now() + std::chrono::seconds(10);
        while (!r_.running() && steady_clock::now() < end) std::this_thread::yield();
        ASSERT_TRUE(r_.running());
        bool on_reactor = false;
        r_.run_sync([&] { on_reactor = reactor::current() == &r_; });
        ASSERT_TRUE(on_reactor);
    }
    void TearDown() override {
        r_.stop();
        r_.join();
    }
    reactor r_{0};
};

TEST_F(delay_bdev_test, read_waits_its_latency) {
    auto base = make_malloc("Malloc0", 64, 512);
    auto d = make_delay(opts(base, 100'000, 0));
    ASSERT_TRUE(d) << d.err().message;
    pending p;
    p.prepare(io_type::read, 0);
    const auto t0 = steady_clock::now();
    r_.run_sync([&] { (*d)->submit(p.bio); });
    EXPECT_FALSE(p.wait_done(milliseconds(50))) << "completed before its latency";
    ASSERT_TRUE(p.wait_done(milliseconds(2000)));
    EXPECT_GE(steady_clock::now() - t0, milliseconds(100));
    EXPECT_EQ(p.result.load(), 0);
    EXPECT_EQ(p.calls.load(), 1);
}

TEST_F(delay_bdev_test, cancel_before_the_deadline_only) {
    auto base = make_malloc("Malloc0", 64, 512);
    auto d = make_delay(opts(base, 0, 200'000));
    ASSERT_TRUE(d);
    // A write cancelled while it waits never reaches the base.
    pending w;
    w.prepare(io_type::write, 3);
    std::memset(w.buf.data(), 0xab, w.buf.size());
    bool cancelled = false;
    r_.run_sync([&] {
        (*d)->submit(w.bio);
        cancelled = (*d)->cancel(w.bio);
    });
    EXPECT_TRUE(cancelled);
    ASSERT_EQ(w.calls.load(), 1);
    EXPECT_EQ(w.result.load(), -ECANCELED);
    pending rd;
    rd.prepare(io_type::read, 3);
    r_.run_sync([&] { (*d)->submit(rd.bio); });  // reads have no latency here
    ASSERT_TRUE(rd.wait_done(milliseconds(1000)));
    EXPECT_EQ(rd.buf, std::vector<uint8_t>(512, 0));
    // Once it has reached the base, too late (and still exactly one callback).
    pending late;
    late.prepare(io_type::write, 4);
    r_.run_sync([&] { (*d)->submit(late.bio); });
    ASSERT_TRUE(late.wait_done(milliseconds(2000)));
    r_.run_sync([&] { cancelled = (*d)->cancel(late.bio); });
    EXPECT_FALSE(cancelled);
    EXPECT_EQ(late.calls.load(), 1);
    EXPECT_EQ(late.result.load(), 0);
}

TEST_F(delay_bdev_test, cancel_from_the_middle_keeps_the_rest) {
    auto base = make_malloc("Malloc0", 64, 512);
    auto d = make_delay(opts(base, 100'000, 0));
    ASSERT_TRUE(d);
    constexpr int n = 9;
    std::vector<pending> ps(n);
    std::vector<bool> cancelled(n);
    r_.run_sync([&] {
        for (int i = 0; i < n; ++i) {
            ps[i].prepare(io_type::read, static_cast<uint64_t>(i));
            (*d)->submit(ps[i].bio);
        }
        for (int i : {4, 0, 8}) cancelled[i] = (*d)->cancel(ps[i].bio);
    });
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(ps[i].wait_done(milliseconds(2000))) << i;
        const bool c = i == 0 || i == 4 || i == 8;
        EXPECT_EQ(cancelled[i], c) << i;
        EXPECT_EQ(ps[i].result.load(), c ? -ECANCELED : 0) << i;
        EXPECT_EQ(ps[i].calls.load(), 1) << i;
    }
}

TEST_F(delay_bdev_test, other_types_and_off_reactor_pass_through) {
    auto base = make_malloc("Malloc0", 64, 512);
    auto d = make_delay(opts(base, 10'000'000, 10'000'000));
    ASSERT_TRUE(d);
    pending f;
    f.prepare(io_type::flush, 0);
    r_.run_sync([&] { (*d)->submit(f.bio); });
    EXPECT_EQ(f.calls.load(), 1);  // inline, as the RAM base does it
    pending off;
    off.prepare(io_type::read, 0);
    (*d)->submit(off.bio);  // this thread runs no reactor: no timer to wait on
    EXPECT_EQ(off.calls.load(), 1);
    bool cancelled = true;
    r_.run_sync([&] { cancelled = (*d)->cancel(off.bio); });
    EXPECT_FALSE(cancelled);
}

TEST_F(delay_bdev_test, lowered_latency_applies_to_new_io) {
    auto base = make_malloc("Malloc0", 64, 512);
    auto d = make_delay(opts(base, 300'000, 0));
    ASSERT_TRUE(d);
    (*d)->set_latency(delay_kind::avg_read, 1000);
    (*d)->set_latency(delay_kind::p99_read, 1000);
    EXPECT_EQ((*d)->latencies()[delay_kind::avg_read], 1000u);
    pending p;
    p.prepare(io_type::read, 0);
    r_.run_sync([&] { (*d)->submit(p.bio); });
    ASSERT_TRUE(p.wait_done(milliseconds(200)));
}

TEST(delay_bdev, options_are_checked) {
    auto base = make_malloc("Malloc0", 64, 512);
    auto o = opts(base, 10, 10);
    o.latency[delay_kind::p99_read] = 5;
    auto d = make_delay(o);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.err().code, -EINVAL);
    o = opts(base, 10, 10);
    o.latency[delay_kind::p99_write] = max_delay_us + 1;
    EXPECT_FALSE(make_delay(o));
    EXPECT_FALSE(make_delay(opts(nullptr, 1, 1)));
    EXPECT_EQ(delay_kind_from_name("p99_write"), delay_kind::p99_write);
    EXPECT_FALSE(delay_kind_from_name("avg"));
}

TEST(delay_bdev, uuid_derived_like_spdk) {
    auto base = make_malloc("Malloc0", 64, 512);
    uuid_t u{};
    ASSERT_TRUE(uuid_from_string("12345678-9abc-4def-8123-456789abcdef", &u));
    base->set_uuid(u);
    auto d = make_delay(opts(base, 1, 1));
    ASSERT_TRUE(d);
    // SHA-1 over SPDK's delay namespace UUID (4009b574-...) then the base's 16
    // bytes, version 5 (Python: hashlib.sha1(ns.bytes + base.bytes), bits set
    // as uuid.uuid5 does; uuid5 itself only takes a str name).
    EXPECT_EQ(uuid_to_string((*d)->uuid()), "e91faacd-569f-5279-b8ed-07c7cfe146e2");
    auto o = opts(base, 1, 1);
    ASSERT_TRUE(uuid_from_string("aaaabbbb-cccc-4ddd-8eee-ffff00001111", &u));
    o.uuid = u;
    auto e = make_delay(o);
    ASSERT_TRUE(e);
    EXPECT_EQ(uuid_to_string((*e)->uuid()), "aaaabbbb-cccc-4ddd-8eee-ffff00001111");
}

TEST(delay_bdev, claims_its_base_in_the_registry) {
    registry reg;
    auto base = make_malloc("Malloc0", 64, 512);
    ASSERT_TRUE(reg.add(base));
    auto d = make_delay(opts(base, 1, 1));
    ASSERT_TRUE(d);
    ASSERT_TRUE(reg.add(*d));
    EXPECT_EQ(reg.claimer(*base), "Delay0");
    auto r = reg.remove("Malloc0");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, -EBUSY);
    auto o = opts(base, 1, 1);
    o.name = "Delay1";
    auto d2 = make_delay(o);
    ASSERT_TRUE(d2);
    auto r2 = reg.add(*d2);
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.err().code, -EPERM);
    EXPECT_FALSE(reg.find("Delay1"));
    ASSERT_TRUE(reg.remove("Delay0"));
    EXPECT_EQ(reg.claimer(*base), "");
    EXPECT_TRUE(reg.remove("Malloc0"));
    // A base that is not in the registry cannot be claimed.
    auto d3 = make_delay(opts(make_malloc("Gone", 8, 512), 1, 1));
    ASSERT_TRUE(d3);
    EXPECT_EQ(reg.add(*d3).err().code, -ENODEV);
}

}  // namespace
}  // namespace nvmf::bdev
