// Abort (admin opcode 08h) of I/O commands, with a delay bdev holding them:
// a delayed command is aborted (status 07h, Abort dword 0 bit 0 = 0), a
// completed or unknown one is not (bit 0 = 1); many queued, some aborted;
// a namespace and its delay bdev removed with delayed I/O in flight; the
// bdev_delay_* methods, their errors, bdev_get_bdevs and save_config.
#include <algorithm>
#include <chrono>
#include <thread>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr uint64_t delay_us = 400'000;  // every read and write waits 0.4 s

json delay_create(const std::string& name, const std::string& base, uint64_t us) {
    return {{"method", "bdev_delay_create"},
            {"params",
             {{"base_bdev_name", base},
              {"name", name},
              {"avg_read_latency", us},
              {"p99_read_latency", us},
              {"avg_write_latency", us},
              {"p99_write_latency", us}}}};
}

daemon_config delay_config() {
    daemon_config c;
    c.bdevs.push_back({"Malloc0", 32768, 512});
    c.bdevs.push_back({"Malloc1", 32768, 512});
    c.extra_bdevs.push_back(delay_create("Delay0", "Malloc0", delay_us));
    subsystem_cfg s;
    s.nqn = default_nqn;
    s.namespaces.push_back({"Delay0", 1});
    c.subsystems.push_back(s);
    return c;
}

int64_t ms_since(steady_clock::time_point t) {
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - t).count();
}

class abort_test : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(tgt_.start(delay_config())) << tgt_.log_tail();
        auto c = host::controller::create(tgt_.ctrlr_opts());
        ASSERT_TRUE(c) << c.err().message << "\n" << tgt_.log_tail();
        ctrlr_ = std::move(*c);
    }
    void TearDown() override {
        ctrlr_.reset();
        EXPECT_TRUE(tgt_.stop());
    }
    // Abort of (sqid, cid): dword 0 of its completion.
    uint32_t abort(uint16_t sqid, uint16_t cid) {
        auto c = ctrlr_->admin().execute(host::cmd::abort(sqid, cid));
        EXPECT_TRUE(c) << c.err().message;
        if (!c) return ~0u;
        EXPECT_TRUE(c->ok()) << st(*c);
        return c->cqe.cdw0;
    }
    // The commands just sent reach the target (on its I/O queue's socket)
    // before the Abort that follows them on the admin queue's.
    static void settle() { std::this_thread::sleep_for(milliseconds(30)); }
    static bool aborted_by_request(const host::completion& c) {
        return c.sct() == spec::sct::generic && c.sc() == spec::sc::aborted_by_request;
    }

    daemon tgt_;
    std::unique_ptr<host::controller> ctrlr_;
};

TEST_F(abort_test, DelayedReadIsAborted) {
    auto& q = ctrlr_->io(0);
    std::vector<uint8_t> buf(4096);
    const auto t0 = steady_clock::now();
    auto cid = q.submit(host::cmd::read(1, 0, 8), {}, buf);
    ASSERT_TRUE(cid) << cid.err().message;
    settle();
    EXPECT_EQ(abort(1, *cid) & 1u, 0u) << "the delayed read was not aborted";
    auto c = q.wait(*cid);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(aborted_by_request(*c)) << st(*c);
    EXPECT_FALSE(c->dnr());
    EXPECT_LT(ms_since(t0), 300) << "the abort waited for the delay";
    // The queue goes on working.
    auto r = ctrlr_->read(1, 0, 8, buf);
    ASSERT_TRUE(r && r->ok());
}

TEST_F(abort_test, AbortedWriteIsNotWritten) {
    auto& q = ctrlr_->io(0);
    const auto data = random_bytes(4096, 7);
    // In-capsule data: the command reaches the delay bdev at once.
    auto cid = q.submit(host::cmd::write(1, 64, 8), data);
    ASSERT_TRUE(cid) << cid.err().message;
    settle();
    EXPECT_EQ(abort(1, *cid) & 1u, 0u);
    auto c = q.wait(*cid);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(aborted_by_request(*c)) << st(*c);
    // The delay is spent before the base bdev: an aborted write changed nothing.
    std::vector<uint8_t> back(4096, 0xee);
    auto r = ctrlr_->read(1, 64, 8, back);
    ASSERT_TRUE(r && r->ok());
    EXPECT_EQ(back, std::vector<uint8_t>(4096, 0));
}

TEST_F(abort_test, WriteWaitingForItsDataIsNotAborted) {
    auto& q = ctrlr_->io(0);
    const auto data = random_bytes(4096, 8);
    // The R2T goes unanswered until the host library polls this queue: the
    // command waits for its H2CData, which the host sends whatever happens.
    auto cid = q.submit(host::cmd::write(1, 128, 8), data, {}, host::submit_flag::force_r2t);
    ASSERT_TRUE(cid) << cid.err().message;
    settle();
    EXPECT_EQ(abort(1, *cid) & 1u, 1u) << "aborted while its data was under way";
    auto c = q.wait(*cid);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok()) << st(*c);
    std::vector<uint8_t> back(4096);
    auto r = ctrlr_->read(1, 128, 8, back);
    ASSERT_TRUE(r && r->ok());
    EXPECT_EQ(back, data);
}

TEST_F(abort_test, CompletedOrUnknownIsNotAborted) {
    auto& q = ctrlr_->io(0);
    std::vector<uint8_t> buf(512);
    auto cid = q.submit(host::cmd::read(1, 0, 1), {}, buf);
    ASSERT_TRUE(cid);
    auto c = q.wait(*cid);
    ASSERT_TRUE(c && c->ok());
    EXPECT_EQ(abort(1, *cid) & 1u, 1u) << "a completed command reported aborted";
    EXPECT_EQ(abort(1, 77) & 1u, 1u) << "an unknown CID reported aborted";
    EXPECT_EQ(abort(9, 0) & 1u, 1u) << "a queue that does not exist";
    EXPECT_EQ(abort(0, 99) & 1u, 1u) << "an admin command that is not there";
}

TEST_F(abort_test, ManyQueuedSomeAborted) {
    auto& q = ctrlr_->io(0);
    constexpr int n = 64;
    std::vector<std::vector<uint8_t>> bufs(n, std::vector<uint8_t>(512));
    std::vector<uint16_t> cids;
    for (int i = 0; i < n; ++i) {
        auto cid = q.submit(host::cmd::read(1, static_cast<uint64_t>(i), 1), {}, bufs[i]);
        ASSERT_TRUE(cid) << cid.err().message;
        cids.push_back(*cid);
    }
    settle();
    // Every third one, from the middle of the waiting list as well as its ends.
    int asked = 0;
    for (int i = 0; i < n; i += 3) {
        EXPECT_EQ(abort(1, cids[i]) & 1u, 0u) << "read " << i;
        ++asked;
    }
    int aborted = 0, ok = 0;
    for (int i = 0; i < n; ++i) {
        auto c = q.wait(cids[i]);
        ASSERT_TRUE(c) << c.err().message;
        if (i % 3 == 0) {
            EXPECT_TRUE(aborted_by_request(*c)) << i << ": " << st(*c);
            aborted += aborted_by_request(*c);
        } else {
            EXPECT_TRUE(c->ok()) << i << ": " << st(*c);
            ok += c->ok();
        }
    }
    EXPECT_EQ(aborted, asked);
    EXPECT_EQ(ok, n - asked);
    // Aborting again: they are done.
    EXPECT_EQ(abort(1, cids[0]) & 1u, 1u);
}

TEST_F(abort_test, UpdateLatencyTakesEffect) {
    std::vector<uint8_t> buf(512);
    auto t0 = steady_clock::now();
    ASSERT_TRUE(ctrlr_->read(1, 0, 1, buf)->ok());
    EXPECT_GE(ms_since(t0), 390);
    for (const char* type : {"avg_read", "p99_read"}) {
        auto r =
            tgt_.rpc("bdev_delay_update_latency",
                     {{"delay_bdev_name", "Delay0"}, {"latency_type", type}, {"latency_us", 0}});
        ASSERT_EQ(r["result"], true) << r.dump();
    }
    t0 = steady_clock::now();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(ctrlr_->read(1, 0, 1, buf)->ok());
    EXPECT_LT(ms_since(t0), 300) << "reads still delayed";
    // Writes kept theirs.
    t0 = steady_clock::now();
    ASSERT_TRUE(ctrlr_->write(1, 0, 1, buf)->ok());
    EXPECT_GE(ms_since(t0), 390);
    auto b = tgt_.rpc("bdev_get_bdevs", {{"name", "Delay0"}});
    const json& d = b["result"][0]["driver_specific"]["delay"];
    EXPECT_EQ(d["avg_read_latency"], 0);
    EXPECT_EQ(d["p99_read_latency"], 0);
    EXPECT_EQ(d["avg_write_latency"], delay_us);
}

TEST_F(abort_test, RemoveNamespaceAndDelayBdevWithIoInFlight) {
    auto& q = ctrlr_->io(0);
    constexpr int n = 16;
    std::vector<std::vector<uint8_t>> bufs(n, std::vector<uint8_t>(512));
    std::vector<uint16_t> cids;
    for (int i = 0; i < n; ++i) {
        auto cid = q.submit(host::cmd::read(1, 0, 1), {}, bufs[i]);
        ASSERT_TRUE(cid);
        cids.push_back(*cid);
    }
    // In use by the namespace: not deleted.
    auto busy = tgt_.rpc("bdev_delay_delete", {{"name", "Delay0"}});
    EXPECT_EQ(busy["error"]["code"], -16) << busy.dump();
    auto rm = tgt_.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", 1}});
    ASSERT_EQ(rm["result"], true) << rm.dump();
    auto del = tgt_.rpc("bdev_delay_delete", {{"name", "Delay0"}});
    ASSERT_EQ(del["result"], true) << del.dump();
    // The base is free again: another delay bdev may claim it, a namespace use it.
    auto again = tgt_.rpc("bdev_get_bdevs", {{"name", "Malloc0"}});
    EXPECT_EQ(again["result"][0]["claimed"], false) << again.dump();
    // Every command still completes once (they hold the bdev until then).
    for (int i = 0; i < n; ++i) {
        auto c = q.wait(cids[i]);
        ASSERT_TRUE(c) << c.err().message;
    }
    EXPECT_EQ(tgt_.rpc("bdev_get_bdevs", {{"name", "Delay0"}})["error"]["code"], -19);
    ASSERT_TRUE(tgt_.running()) << tgt_.log_tail();
}

TEST_F(abort_test, DisconnectWithDelayedIo) {
    auto& q = ctrlr_->io(0);
    std::vector<std::vector<uint8_t>> bufs(8, std::vector<uint8_t>(512));
    for (auto& b : bufs) ASSERT_TRUE(q.submit(host::cmd::read(1, 0, 1), {}, b));
    ASSERT_TRUE(q.flush());
    ctrlr_.reset();  // the connection goes with its delayed reads
    std::this_thread::sleep_for(milliseconds(500));
    ASSERT_TRUE(tgt_.running()) << tgt_.log_tail();
    auto c = host::controller::create(tgt_.ctrlr_opts());
    ASSERT_TRUE(c) << c.err().message;
    ctrlr_ = std::move(*c);
    std::vector<uint8_t> buf(512);
    ASSERT_TRUE(ctrlr_->read(1, 0, 1, buf)->ok());
}

TEST_F(abort_test, RpcErrors) {
    auto code = [&](const json& r) { return r.contains("error") ? r["error"]["code"] : json(); };
    auto create = [&](const std::string& name, const std::string& base, uint64_t avg,
                      uint64_t p99) {
        json p = delay_create(name, base, avg)["params"];
        p["p99_read_latency"] = p99;
        return tgt_.rpc("bdev_delay_create", p);
    };
    EXPECT_EQ(code(create("D1", "NoSuch", 10, 10)), -19);
    EXPECT_EQ(code(create("D1", "Malloc1", 10, 5)), -22) << "p99 below the average";
    EXPECT_EQ(code(create("Delay0", "Malloc1", 10, 10)), -17);
    EXPECT_EQ(code(create("D1", "Malloc0", 10, 10)), -1) << "base claimed by Delay0";
    json p = delay_create("D1", "Malloc1", 10)["params"];
    p.erase("p99_write_latency");
    EXPECT_EQ(code(tgt_.rpc("bdev_delay_create", p)), -32602);
    p["p99_write_latency"] = -1;
    EXPECT_EQ(code(tgt_.rpc("bdev_delay_create", p)), -32602);
    p["p99_write_latency"] = 10;
    p["uuid"] = "not-a-uuid";
    EXPECT_EQ(code(tgt_.rpc("bdev_delay_create", p)), -32602);
    p.erase("uuid");
    p["bogus"] = 1;
    EXPECT_EQ(code(tgt_.rpc("bdev_delay_create", p)), -32602);
    // A namespace on a claimed base, deleting the base under its delay bdev.
    auto ns = tgt_.rpc("nvmf_subsystem_add_ns",
                       {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "Malloc0"}}}});
    EXPECT_EQ(code(ns), -32602) << ns.dump();
    EXPECT_EQ(code(tgt_.rpc("bdev_malloc_delete", {{"name", "Malloc0"}})), -16);
    // Delete: unknown, not a delay bdev.
    EXPECT_EQ(code(tgt_.rpc("bdev_delay_delete", {{"name", "NoSuch"}})), -19);
    EXPECT_EQ(code(tgt_.rpc("bdev_delay_delete", {{"name", "Malloc1"}})), -19);
    // Update: unknown bdev, not a delay bdev, bad type, missing value.
    auto upd = [&](const json& q) { return code(tgt_.rpc("bdev_delay_update_latency", q)); };
    EXPECT_EQ(upd({{"delay_bdev_name", "NoSuch"}, {"latency_type", "avg_read"}, {"latency_us", 1}}),
              -32602);
    EXPECT_EQ(
        upd({{"delay_bdev_name", "Malloc1"}, {"latency_type", "avg_read"}, {"latency_us", 1}}),
        -32602);
    EXPECT_EQ(upd({{"delay_bdev_name", "Delay0"}, {"latency_type", "avg"}, {"latency_us", 1}}),
              -32602);
    EXPECT_EQ(upd({{"delay_bdev_name", "Delay0"}, {"latency_type", "avg_read"}}), -32602);
    // A good one, then the claim shows in bdev_get_bdevs.
    auto ok = create("D1", "Malloc1", 10, 20);
    EXPECT_EQ(ok["result"], "D1") << ok.dump();
    auto b = tgt_.rpc("bdev_get_bdevs", {{"name", "Malloc1"}});
    EXPECT_EQ(b["result"][0]["claimed"], true);
    auto d = tgt_.rpc("bdev_get_bdevs", {{"name", "D1"}});
    EXPECT_EQ(d["result"][0]["product_name"], "delay");
    EXPECT_EQ(d["result"][0]["driver_specific"]["delay"]["base_bdev_name"], "Malloc1");
    EXPECT_EQ(d["result"][0]["driver_specific"]["delay"]["p99_read_latency"], 20);
    EXPECT_EQ(tgt_.rpc("bdev_delay_delete", {{"name", "D1"}})["result"], true);
    EXPECT_EQ(tgt_.rpc("bdev_get_bdevs", {{"name", "Malloc1"}})["result"][0]["claimed"], false);
}

// With one data buffer per reactor, a read waiting for a buffer (the first
// one holds it in the delay bdev) is aborted at once: status 07h, no data.
TEST(abort_buffer_wait, ReadWaitingForABufferIsAborted) {
    daemon tgt;
    daemon_config cfg = delay_config();
    cfg.transport = {{"trtype", "TCP"}, {"num_shared_buffers", 1}, {"buf_cache_size", 0}};
    ASSERT_TRUE(tgt.start(cfg)) << tgt.log_tail();
    auto c = host::controller::create(tgt.ctrlr_opts());
    ASSERT_TRUE(c) << c.err().message;
    auto& ctrlr = **c;
    auto& q = ctrlr.io(0);
    constexpr uint32_t len = 64 * 1024;  // beyond in-capsule size: a pool buffer
    std::vector<std::vector<uint8_t>> bufs(3, std::vector<uint8_t>(len));
    std::vector<uint16_t> cids;
    for (auto& b : bufs) {
        auto cid = q.submit(host::cmd::read(1, 0, len / 512), {}, b);
        ASSERT_TRUE(cid) << cid.err().message;
        cids.push_back(*cid);
    }
    ASSERT_TRUE(q.flush());
    std::this_thread::sleep_for(milliseconds(50));  // all three at the target
    const auto t0 = steady_clock::now();
    auto a = ctrlr.admin().execute(host::cmd::abort(1, cids[2]));
    ASSERT_TRUE(a && a->ok());
    EXPECT_EQ(a->cqe.cdw0 & 1u, 0u);
    auto r = q.wait(cids[2]);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_TRUE(r->sct() == spec::sct::generic && r->sc() == spec::sc::aborted_by_request)
        << st(*r);
    EXPECT_EQ(r->data_len, 0u);
    EXPECT_LT(ms_since(t0), 300);
    for (int i = 0; i < 2; ++i) {
        auto ok = q.wait(cids[i]);
        ASSERT_TRUE(ok) << ok.err().message;
        EXPECT_TRUE(ok->ok()) << st(*ok);
    }
    (*c).reset();
    EXPECT_TRUE(tgt.stop());
}

// The saved config creates the base before the delay bdev whatever the
// names' order, and loads back identical.
TEST(abort_config, SaveConfigRoundTrip) {
    daemon d;
    daemon_config c = delay_config();
    c.extra_bdevs.push_back(delay_create("AAA", "Malloc1", 1000));
    ASSERT_TRUE(d.start(c)) << d.log_tail();
    auto first = d.rpc("save_config");
    ASSERT_TRUE(first.contains("result")) << first.dump();
    const json saved = first["result"];
    std::vector<std::string> order;
    for (const auto& s : saved["subsystems"]) {
        if (s["subsystem"] != "bdev") continue;
        for (const auto& e : s["config"]) {
            if (e.contains("params") && e["params"].contains("name")) {
                order.push_back(e["params"]["name"]);
            }
        }
    }
    auto pos = [&](const std::string& n) { return std::find(order.begin(), order.end(), n); };
    ASSERT_NE(pos("AAA"), order.end());
    EXPECT_LT(pos("Malloc1"), pos("AAA"));
    EXPECT_LT(pos("Malloc0"), pos("Delay0"));
    const std::string port = d.port();
    ASSERT_TRUE(d.stop());
    ASSERT_TRUE(d.start_json(saved, port)) << saved.dump(2);
    auto second = d.rpc("save_config");
    EXPECT_EQ(second["result"], saved);
    ASSERT_TRUE(d.stop());
}

}  // namespace
}  // namespace nvmf::test
