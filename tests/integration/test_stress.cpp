// Load and resource limits against the real daemon: thousands of connect /
// disconnect cycles with the daemon's RSS and open file descriptors flat,
// hundreds of connections at once, a starved buffer pool, hosts vanishing in
// the middle of a transfer, and per-controller queue limits. Throughout, a
// host that was connected before the test keeps reading and writing.
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "host/pdu.hpp"

namespace nvmf::test {
namespace {

namespace stcp = spec::tcp;

// Open file descriptors of a process (/proc/PID/fd).
size_t open_fds(pid_t pid) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return 0;
    size_t n = 0;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    return n;
}

// Resident set size of a process in KiB (VmRSS in /proc/PID/status).
size_t rss_kib(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
    }
    return 0;
}

// Waits (up to 20 s) until the daemon's descriptor count drops to at most
// want: closing is asynchronous, so poll for the end state instead of sleeping.
size_t settle_fds(pid_t pid, size_t want) {
    size_t n = open_fds(pid);
    for (int i = 0; i < 400 && n > want; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        n = open_fds(pid);
    }
    return n;
}

// CPU time (user + system, all threads) a process has used, in seconds.
double cpu_seconds(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces) start after ')'.
    std::istringstream in(all.substr(all.rfind(')') + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) utime = std::stoul(field);
        if (i == 15) stime = std::stoul(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The soft RLIMIT_NOFILE raised towards want (children inherit it).
void raise_nofile(rlim_t want) {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur >= want) return;
    rl.rlim_cur = std::min(want, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
}

class stress_test : public target_test {
protected:
    void SetUp() override {
        raise_nofile(4096);
        // Under ASan freed memory sits in a 256 MiB quarantine, which would
        // look like growth: a small one keeps the RSS check meaningful.
        std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
        saved_asan_ = asan;
        ::setenv("ASAN_OPTIONS",
                 (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=8").c_str(), 1);
        rlimit saved{};
        ::getrlimit(RLIMIT_NOFILE, &saved);
        if (daemon_nofile_ != 0) {
            rlimit low = saved;
            low.rlim_cur = daemon_nofile_;
            ::setrlimit(RLIMIT_NOFILE, &low);  // inherited by the daemon at fork
        }
        target_test::SetUp();
        ::setrlimit(RLIMIT_NOFILE, &saved);
        bystander_ = connect(quiet_opts());
        ASSERT_TRUE(bystander_);
    }
    void TearDown() override {
        bystander_.reset();
        target_test::TearDown();
        ::setenv("ASAN_OPTIONS", saved_asan_.c_str(), 1);
    }

    // Controllers without keep-alive: tests on a loaded machine can be slow.
    host::controller_options quiet_opts() const {
        auto o = tgt.ctrlr_opts();
        o.kato_ms = 0;
        return o;
    }

    // The host connected all along still writes and reads its own blocks.
    void expect_bystander_serving() {
        ASSERT_TRUE(tgt.running()) << tgt.log_tail();
        const auto data = random_bytes(65536, ++round_);
        const uint64_t lba = 16384 + (round_ % 16) * 128;
        auto w = bystander_->write(1, lba, 128, data);
        ASSERT_TRUE(w) << "bystander: " << w.err().message;
        ASSERT_TRUE(w->ok()) << st(*w);
        std::vector<uint8_t> back(data.size());
        auto r = bystander_->read(1, lba, 128, back);
        ASSERT_TRUE(r && r->ok()) << "bystander read failed";
        EXPECT_TRUE(back == data) << "bystander data corrupted";
    }

    std::unique_ptr<host::controller> bystander_;
    uint32_t round_ = 0;
    std::string saved_asan_;
    rlim_t daemon_nofile_ = 0;  // the daemon's RLIMIT_NOFILE when not 0
};

// A daemon started with only 64 file descriptors.
class fd_limit_test : public stress_test {
protected:
    fd_limit_test() { daemon_nofile_ = 64; }
};

TEST_F(fd_limit_test, OutOfDescriptorsRefusesWithoutSpinningAndRecovers) {
    // More connections than the daemon has descriptors: the rest wait in the
    // listen backlog. The listener must not spin on accept() failing with
    // EMFILE, must say so once, and must accept again when fds free up.
    std::vector<std::unique_ptr<host::queue>> qs;
    for (int i = 0; i < 100; ++i) {
        auto q = std::make_unique<host::queue>(tgt.queue_opts());
        auto r = q->connect_tcp("127.0.0.1", tgt.port());
        ASSERT_TRUE(r) << r.err().message;
        qs.push_back(std::move(q));
    }
    // Wait until the daemon is at its limit (it logged it), then measure.
    const std::string msg = "out of file descriptors";
    for (int i = 0; i < 200 && tgt.log_tail(1 << 20).find(msg) == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_NE(tgt.log_tail(1 << 20).find(msg), std::string::npos) << tgt.log_tail();
    const double cpu0 = cpu_seconds(tgt.pid());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const double used = cpu_seconds(tgt.pid()) - cpu0;
    // A listener spinning on EMFILE burns a whole core; an idle daemon ~0.
    EXPECT_LT(used, 0.3) << "daemon used " << used << " s of CPU in 1 s while out of fds";
    expect_bystander_serving();  // established connections are unaffected
    qs.clear();
    // Descriptors free up: new hosts are served again.
    auto c = connect(quiet_opts());
    ASSERT_TRUE(c);
    std::vector<uint8_t> b(512);
    auto r = c->read(1, 0, 1, b);
    ASSERT_TRUE(r && r->ok());
    const std::string log = tgt.log_tail(1 << 20);
    size_t lines = 0;
    for (size_t at = log.find(msg); at != std::string::npos; at = log.find(msg, at + 1)) ++lines;
    EXPECT_LE(lines, 3u) << "logged per connection attempt, not once";
}

// One connect/disconnect cycle: an admin queue (a controller is created and
// destroyed), and every tenth time a whole controller with an I/O queue and a read.
bool cycle(const host::controller_options& o, int i) {
    if (i % 10 == 9) {
        auto c = host::controller::create(o);
        if (!c) return false;
        std::vector<uint8_t> b(512);
        auto r = (*c)->read(1, static_cast<uint64_t>(i % 1024), 1, b);
        return r && r->ok();
    }
    host::controller c(o);
    return static_cast<bool>(c.connect_admin());
}

TEST_F(stress_test, TwoThousandConnectDisconnectCyclesKeepRssAndFdsFlat) {
    constexpr int threads = 4, warmup = 100, cycles = 2000;
    const pid_t pid = tgt.pid();
    // Idle: listeners, epoll, RPC socket and the bystander's two connections.
    const size_t base_fds = open_fds(pid);
    ASSERT_GT(base_fds, 0u);
    auto run = [&](int n) {
        std::atomic<int> failures{0}, next{0};
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t) {
            ts.emplace_back([&] {
                for (int i = next++; i < n; i = next++) {
                    if (!cycle(quiet_opts(), i)) ++failures;
                }
            });
        }
        for (auto& t : ts) t.join();
        return failures.load();
    };
    // The warm-up fills the allocator's caches (and ASan's quarantine).
    ASSERT_EQ(run(warmup), 0) << tgt.log_tail();
    // At most: the idle count may have included a port probe not yet closed.
    ASSERT_LE(settle_fds(pid, base_fds), base_fds) << "warm-up connections not closed";
    const size_t base_rss = rss_kib(pid);
    ASSERT_GT(base_rss, 0u);

    ASSERT_EQ(run(cycles), 0) << tgt.log_tail();
    const size_t fds = settle_fds(pid, base_fds);
    const size_t rss = rss_kib(pid);
    EXPECT_LE(fds, base_fds) << "file descriptors leaked over " << cycles << " cycles";
    // A leak of a connection's receive buffer alone (64 KiB) would be 125 MiB.
    EXPECT_LT(rss, base_rss + 12 * 1024)
        << "RSS grew from " << base_rss << " KiB to " << rss << " KiB over " << cycles << " cycles";
    expect_bystander_serving();
}

TEST_F(stress_test, FiveHundredConcurrentConnections) {
    // 100 controllers with an admin and 4 I/O queues each: 500 connections.
    constexpr int threads = 4, controllers = 100, io_queues = 4;
    const pid_t pid = tgt.pid();
    const size_t base_fds = open_fds(pid);
    std::vector<std::unique_ptr<host::controller>> cs(controllers);
    std::atomic<int> next{0}, failures{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&] {
            for (int i = next++; i < controllers; i = next++) {
                auto o = quiet_opts();
                o.num_io_queues = io_queues;
                o.io_queue_size = 8;
                auto c = host::controller::create(o);
                if (!c) {
                    ++failures;
                    continue;
                }
                cs[static_cast<size_t>(i)] = std::move(*c);
            }
        });
    }
    for (auto& t : ts) t.join();
    ASSERT_EQ(failures.load(), 0) << tgt.log_tail();
    EXPECT_GE(open_fds(pid), base_fds + controllers * (1 + io_queues));
    // Every one of the 500 queues answers while all are open.
    std::vector<uint8_t> b(512);
    for (int i = 0; i < controllers; ++i) {
        auto& c = *cs[static_cast<size_t>(i)];
        auto k = c.keep_alive();
        ASSERT_TRUE(k && k->ok()) << "controller " << i;
        for (size_t q = 0; q < io_queues; ++q) {
            auto r = c.read(1, static_cast<uint64_t>(i), 1, b, q);
            ASSERT_TRUE(r && r->ok()) << "controller " << i << " queue " << q;
        }
    }
    expect_bystander_serving();
    cs.clear();
    EXPECT_LE(settle_fds(pid, base_fds), base_fds) << "connections not closed";
    expect_bystander_serving();
}

// A buffer pool of two 128 KiB buffers shared by every connection.
class starved_pool_test : public stress_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        c.transport = {{"trtype", "TCP"},
                       {"num_shared_buffers", 2},
                       {"buf_cache_size", 0},
                       {"max_io_size", 131072},
                       {"io_unit_size", 131072}};
        return c;
    }
};

TEST_F(starved_pool_test, LargeTransfersWaitForBuffersAndAllSucceed) {
    // 4 hosts with 8 large writes each in flight, then 8 large reads, all
    // through 2 buffers: requests queue for a buffer, none fails, data intact.
    constexpr int hosts = 4, depth = 8;
    constexpr uint32_t len = 131072, blocks = len / 512;
    std::atomic<int> failures{0};
    std::vector<std::string> why(hosts);
    std::vector<std::thread> ts;
    for (int h = 0; h < hosts; ++h) {
        ts.emplace_back([&, h] {
            auto fail = [&](const std::string& w) {
                why[static_cast<size_t>(h)] = w;
                ++failures;
            };
            auto o = quiet_opts();
            auto c = host::controller::create(o);
            if (!c) return fail("connect: " + c.err().message);
            auto& q = (*c)->io(0);
            std::vector<std::vector<uint8_t>> out, in(depth, std::vector<uint8_t>(len));
            std::vector<uint16_t> cids;
            const uint64_t base = static_cast<uint64_t>(h) * depth * blocks;
            for (int i = 0; i < depth; ++i) {
                out.push_back(random_bytes(len, static_cast<uint32_t>(h * 100 + i)));
                auto cid =
                    q.submit(host::cmd::write(1, base + static_cast<uint64_t>(i) * blocks, blocks),
                             out.back(), {}, host::submit_flag::force_r2t);
                if (!cid) return fail("submit write: " + cid.err().message);
                cids.push_back(*cid);
            }
            for (auto cid : cids) {
                auto w = q.wait(cid, 30000);
                if (!w) return fail("write: " + w.err().message);
                if (!w->ok()) return fail("write status " + st(*w));
            }
            cids.clear();
            for (int i = 0; i < depth; ++i) {
                auto cid =
                    q.submit(host::cmd::read(1, base + static_cast<uint64_t>(i) * blocks, blocks),
                             {}, in[static_cast<size_t>(i)]);
                if (!cid) return fail("submit read: " + cid.err().message);
                cids.push_back(*cid);
            }
            for (auto cid : cids) {
                auto r = q.wait(cid, 30000);
                if (!r) return fail("read: " + r.err().message);
                if (!r->ok()) return fail("read status " + st(*r));
            }
            for (int i = 0; i < depth; ++i) {
                if (in[static_cast<size_t>(i)] != out[static_cast<size_t>(i)]) {
                    return fail("data mismatch in transfer " + std::to_string(i));
                }
            }
        });
    }
    for (auto& t : ts) t.join();
    for (int h = 0; h < hosts; ++h) EXPECT_EQ(why[static_cast<size_t>(h)], "") << "host " << h;
    EXPECT_EQ(failures.load(), 0) << tgt.log_tail();
    expect_bystander_serving();
}

TEST_F(starved_pool_test, HostsVanishingMidR2TGiveTheirBuffersBack) {
    // Each round a host takes a buffer with a write, sends half its data and
    // disconnects. If the buffer were kept, two rounds would empty the pool
    // and the bystander's large writes would wait for ever. (One host per
    // round: with two reactors each has one buffer, and a second host on the
    // same reactor would rightly wait for its R2T.)
    for (int round = 0; round < 3; ++round) {
        std::vector<std::unique_ptr<host::controller>> cs;
        for (int h = 0; h < 1; ++h) {
            auto c = connect(quiet_opts());
            ASSERT_TRUE(c);
            auto& q = c->io(0);
            spec::sqe cmd = host::cmd::write(1, 0, 256);
            cmd.cid = 7;
            cmd.flags = 0x40;
            cmd.sgl1.length = 131072;
            cmd.sgl1.type = spec::sgl_type_byte(spec::sgl_type::transport_data_block,
                                                spec::sgl_subtype::transport);
            std::vector<uint8_t> b(host::max_tx_header);
            b.resize(host::build_capsule_cmd(b.data(), cmd, 0, q.params()));
            ASSERT_TRUE(q.send_raw(b.data(), b.size()));
            auto p = q.recv_raw_pdu(10000);
            ASSERT_TRUE(p) << p.err().message;
            ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::r2t));
            stcp::r2t r;
            std::memcpy(&r, p->bytes.data(), sizeof(r));
            std::vector<uint8_t> h2c(host::max_tx_header);
            h2c.resize(host::build_h2c_data(h2c.data(), 7, r.ttag, 0, 65536, false, q.params()));
            h2c.resize(h2c.size() + 32768, 0xee);  // half of the first PDU's data
            ASSERT_TRUE(q.send_raw(h2c.data(), h2c.size()));
            cs.push_back(std::move(c));
        }
        cs.clear();  // vanishes mid-transfer
        expect_bystander_serving();
    }
}

// At most two I/O queues per controller.
class queue_limit_test : public stress_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        c.transport = {{"trtype", "TCP"}, {"max_io_qpairs_per_ctrlr", 2}};
        return c;
    }
};

TEST_F(queue_limit_test, QueuesBeyondTheLimitRefusedAndLoggedOnce) {
    auto o = quiet_opts();
    o.num_io_queues = 2;
    auto c = connect(o);
    ASSERT_TRUE(c);
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto q = c->open_queue(32, 8192);
        ASSERT_TRUE(q) << q.err().message;
        auto r = c->connect_io(**q, 3, 31);
        ASSERT_TRUE(r) << r.err().message;
        EXPECT_EQ(r->sct(), spec::sct::command_specific) << st(*r);
        EXPECT_EQ(r->sc(), spec::sc_cmd::connect_invalid_parameters) << st(*r);
        spec::connect_invalid_param p;
        std::memcpy(&p, &r->cqe.cdw0, sizeof(p));
        EXPECT_EQ(p.ipo, offsetof(spec::connect_cmd, qid));
        EXPECT_EQ(p.iattr, 0);
    }
    // The two queues it has keep working.
    std::vector<uint8_t> b(512);
    for (size_t q = 0; q < 2; ++q) {
        auto r = c->read(1, 0, 1, b, q);
        ASSERT_TRUE(r && r->ok());
    }
    const std::string log = tgt.log_tail(1 << 20);
    size_t lines = 0;
    for (size_t at = log.find("max_io_qpairs_per_ctrlr is 2"); at != std::string::npos;
         at = log.find("max_io_qpairs_per_ctrlr is 2", at + 1)) {
        ++lines;
    }
    EXPECT_EQ(lines, 1u) << "the queue limit must be logged once per controller\n" << log;
    expect_bystander_serving();
}

}  // namespace
}  // namespace nvmf::test
