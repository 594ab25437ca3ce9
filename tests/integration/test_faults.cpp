// The peers' fault scenarios (SPDK test/nvmf target/shutdown.sh,
// host_management.sh, wait_for_buf.sh, queue_depth.sh, delete_subsystem.sh,
// ns_hotplug_stress.sh; blktests nvme/051, 060, 061) against the real
// daemon, with nvmf-perf as the host: a separate process that can be
// SIGKILLed or SIGSTOPped in the middle of its I/O, as an initiator dies or
// goes silent. After each fault the target must be back where it started:
// no connection, queue, controller, pending bdev I/O or data buffer left
// (nvmf_get_stats, nvmf_subsystem_get_controllers), and a new host works.
// The Linux host's side of these (kill -9 of the target, I/O timeouts, queue
// size 1024, link down) is tests/interop/run-faults.
#include <signal.h>
#include <sys/wait.h>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr const char* faults_nqn = "nqn.2016-06.io.spdk:faults";
constexpr const char* host_a =
    "nqn.2014-08.org.nvmexpress:uuid:fa000000-0000-4000-8000-00000000000a";
constexpr const char* host_b =
    "nqn.2014-08.org.nvmexpress:uuid:fa000000-0000-4000-8000-00000000000b";

// A host process: nvmf-perf with its stdout (--json results) and stderr in
// files of the daemon's directory.
struct perf_process {
    pid_t pid = -1;
    std::string out_file;
    std::string err_file;
    int status = -1;  // waitpid status once reaped

    perf_process() = default;
    perf_process(const perf_process&) = delete;
    perf_process& operator=(const perf_process&) = delete;
    ~perf_process() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }

    // Reaps it, waiting up to timeout; false when it still runs.
    bool wait(std::chrono::milliseconds timeout) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (pid > 0) {
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                return true;
            }
            if (std::chrono::steady_clock::now() >= until) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return true;
    }
    void kill9() {
        if (pid <= 0) return;
        ::kill(pid, SIGKILL);
        (void)wait(std::chrono::seconds(10));
    }
    bool exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

    static std::string slurp(const std::string& path) {
        std::ifstream f(path);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    std::string output() const { return slurp(out_file) + slurp(err_file); }
    // The --json results ({"total": {"errors", "mismatches", ...}}), or null.
    json results() const {
        const auto s = slurp(out_file);
        const auto at = s.find('{');
        if (at == std::string::npos || !json::accept(s.substr(at))) return nullptr;
        json r = json::parse(s.substr(at));
        // Callers read these keys: anything else is "no results", not an abort.
        const auto t = r.find("total");
        if (t == r.end() || !t->is_object()) return nullptr;
        for (const char* k : {"errors", "mismatches", "iops"}) {
            if (!t->contains(k)) return nullptr;
        }
        return r;
    }
};

class faults_test : public target_test {
protected:
    virtual json transport() { return {{"trtype", "TCP"}}; }

    daemon_config config() override {
        daemon_config c;
        c.bdevs.push_back({"Malloc0", 65536, 512});  // 32 MiB
        c.bdevs.push_back({"Malloc1", 65536, 512});
        for (int i = 0; i < 4; ++i) c.bdevs.push_back({"Spare" + std::to_string(i), 2048, 512});
        c.transport = transport();
        subsystem_cfg s;
        s.nqn = default_nqn;
        s.namespaces = {{"Malloc0", 1}};
        c.subsystems.push_back(s);
        s.nqn = faults_nqn;
        s.allow_any_host = false;
        s.hosts = {host_a, host_b};
        s.serial_number = "SPDK002";
        s.namespaces = {{"Malloc1", 1}};
        c.subsystems.push_back(s);
        return c;
    }

    void SetUp() override {
        perf_bin_ = std::string(NVMF_BUILD_DIR) + "/nvmf-perf";
        ASSERT_EQ(::access(perf_bin_.c_str(), X_OK), 0) << perf_bin_ << " not built";
        target_test::SetUp();
    }

    // Starts nvmf-perf against nqn as hostnqn with the extra arguments.
    void start_perf(perf_process& p, const std::string& nqn, const std::string& hostnqn,
                    const std::vector<std::string>& args) {
        static int seq = 0;
        const std::string tag = std::to_string(++seq);
        p.out_file = tgt.dir() + "/perf-" + tag + ".out";
        p.err_file = tgt.dir() + "/perf-" + tag + ".err";
        std::vector<std::string> argv = {perf_bin_, "-r",
                                         "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:" +
                                             tgt.port() + " subnqn:" + nqn + " hostnqn:" + hostnqn,
                                         "--json"};
        argv.insert(argv.end(), args.begin(), args.end());
        p.pid = ::fork();
        ASSERT_GE(p.pid, 0);
        if (p.pid == 0) {
            const int out = ::open(p.out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int err = ::open(p.err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(out, 1);
            ::dup2(err, 2);
            std::vector<char*> a;
            a.reserve(argv.size() + 1);
            for (auto& s : argv) a.push_back(s.data());
            a.push_back(nullptr);
            ::execv(a[0], a.data());
            ::_exit(127);
        }
    }

    // Counters of everything a host holds on the target, summed over the
    // reactors: connections, queues, pending bdev I/O, data buffers in use
    // and requests waiting for one.
    json held() {
        const auto stats = tgt.rpc("nvmf_get_stats");
        // An answer that is no stats shows in the caller's assertion as it is.
        if (!stats.contains("result")) return {{"nvmf_get_stats", stats}};
        json t = sum_poll_groups(stats);
        uint64_t in_use = 0, waiters = 0;
        for (const auto& g : stats["result"]["poll_groups"]) {
            for (const auto& tr : g["transports"]) {
                in_use += tr.value("buffers_in_use", uint64_t{0});
                waiters += tr.value("buffer_waiters", uint64_t{0});
            }
        }
        return {{"current_connections", t["current_connections"]},
                {"current_admin_qpairs", t["current_admin_qpairs"]},
                {"current_io_qpairs", t["current_io_qpairs"]},
                {"pending_bdev_io", t["pending_bdev_io"]},
                {"buffers_in_use", in_use},
                {"buffer_waiters", waiters}};
    }
    // 0 when the RPC fails (a dead or busy daemon): the callers wait for more.
    uint64_t completed_io() {
        const auto stats = tgt.rpc("nvmf_get_stats");
        if (!stats.contains("result")) return 0;
        return sum_poll_groups(stats).value("completed_nvme_io", uint64_t{0});
    }

    json controllers(const std::string& nqn) {
        auto r = tgt.rpc("nvmf_subsystem_get_controllers", {{"nqn", nqn}});
        return r.contains("result") ? r["result"] : json::array();
    }

    // Waits (up to 20 s) until no host holds anything and no subsystem has a
    // controller; the assertion shows what is left.
    ::testing::AssertionResult all_released() {
        const json zero = {{"current_connections", 0}, {"current_admin_qpairs", 0},
                           {"current_io_qpairs", 0},   {"pending_bdev_io", 0},
                           {"buffers_in_use", 0},      {"buffer_waiters", 0}};
        json now;
        json ctrls;
        for (int i = 0; i < 1000; ++i) {
            now = held();
            ctrls = controllers(default_nqn);
            for (const auto& c : controllers(faults_nqn)) ctrls.push_back(c);
            if (now == zero && ctrls.empty()) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return ::testing::AssertionFailure()
               << "still held after 20 s: " << now.dump() << ", controllers " << ctrls.dump();
    }

    // Waits (up to 10 s) until hostnqn has a controller on nqn with want I/O queues.
    bool wait_io_queues(const std::string& nqn, const std::string& hostnqn, int want) {
        for (int i = 0; i < 500; ++i) {
            for (const auto& c : controllers(nqn)) {
                if (c["hostnqn"] == hostnqn && c["num_io_qpairs"].get<int>() >= want) return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    // Waits until the target completed at least n more I/O commands.
    bool wait_io_progress(uint64_t n) {
        const uint64_t from = completed_io();
        for (int i = 0; i < 500; ++i) {
            if (completed_io() >= from + n) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // A short verified run as a fresh host: the target serves after the fault.
    void expect_new_host_served(const std::string& nqn = default_nqn,
                                const std::string& hostnqn = host_a) {
        perf_process p;
        start_perf(p, nqn, hostnqn,
                   {"-q", "16", "-o", "4096", "-w", "randrw", "-M", "50", "-t", "2", "-P", "2",
                    "--verify"});
        ASSERT_TRUE(p.wait(std::chrono::seconds(30))) << "perf did not end";
        EXPECT_TRUE(p.exited_ok()) << p.output() << tgt.log_tail();
        const json r = p.results();
        ASSERT_FALSE(r.is_null()) << p.output();
        EXPECT_EQ(r["total"]["errors"], 0) << p.output();
        EXPECT_EQ(r["total"]["mismatches"], 0) << p.output();
        EXPECT_GT(r["total"]["iops"].get<double>(), 0.0);
    }

    std::string perf_bin_;
};

// SPDK shutdown.sh tc2, host_management.sh: the host process dies with
// hundreds of commands in flight on several queues (reads, and writes
// waiting for their data). Everything it held is released.
TEST_F(faults_test, HostKilledMidIoReleasesEverything) {
    perf_process a, b;
    const std::vector<std::string> load = {"-q", "128", "-o", "16384", "-w", "randrw",  "-M",
                                           "50", "-t",  "60", "-P",    "4",  "--verify"};
    start_perf(a, default_nqn, host_a, load);
    start_perf(b, faults_nqn, host_b, load);
    ASSERT_TRUE(wait_io_queues(default_nqn, host_a, 4)) << a.output();
    ASSERT_TRUE(wait_io_queues(faults_nqn, host_b, 4)) << b.output();
    ASSERT_TRUE(wait_io_progress(2000));
    EXPECT_EQ(held()["current_connections"], 10);
    a.kill9();
    b.kill9();
    EXPECT_TRUE(all_released());
    ASSERT_TRUE(tgt.running()) << tgt.log_tail();
    expect_new_host_served();
    expect_new_host_served(faults_nqn, host_b);
    EXPECT_TRUE(all_released());
}

// SPDK shutdown.sh tc1: the host killed early, again and again: the first
// times during its queues' connects, before any I/O, later with its first
// commands in flight.
TEST_F(faults_test, HostKilledRepeatedlyEarlyInItsRun) {
    for (int i = 0; i < 10; ++i) {
        perf_process p;
        start_perf(p, default_nqn, host_a,
                   {"-q", "64", "-o", "65536", "-w", "write", "-t", "30", "-P", "4"});
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + 30 * i));
        p.kill9();
    }
    EXPECT_TRUE(all_released());
    expect_new_host_served();
}

// SPDK shutdown.sh tc3/tc4 from the host's side: the target killed with
// large I/O in flight. The host ends with an error instead of hanging, and a
// target started again from the same config serves it. (The Linux host's
// reconnect across this is tests/interop/run-restart.)
TEST_F(faults_test, TargetKilledMidIoHostEndsAndReconnects) {
    perf_process a;
    start_perf(a, default_nqn, host_a,
               {"-q", "128", "-o", "131072", "-w", "randrw", "-M", "50", "-t", "60", "-P", "2"});
    ASSERT_TRUE(wait_io_queues(default_nqn, host_a, 2)) << a.output();
    ASSERT_TRUE(wait_io_progress(200));
    tgt.kill9();
    ASSERT_TRUE(a.wait(std::chrono::seconds(20))) << "the host hangs on a dead target";
    EXPECT_FALSE(a.exited_ok()) << a.output();
    ASSERT_TRUE(tgt.start(config()));
    expect_new_host_served();
    EXPECT_TRUE(all_released());
}

// The host's controller loses its allow-list entry
// (nvmf_subsystem_remove_host) with I/O in flight. Its controller is torn
// down, its I/O ends in errors but never wrong data, the other host of the
// subsystem goes on undisturbed, and the removed host cannot come back.
TEST_F(faults_test, HostRemovedWithIoInFlight) {
    perf_process a, b;
    // One queue: nvmf-perf reports the first error of its first queue.
    start_perf(a, faults_nqn, host_a,
               {"-q", "64", "-o", "8192", "-w", "randrw", "-M", "50", "-t", "60", "--verify"});
    // The other host only reads: verify needs a namespace to itself.
    start_perf(b, faults_nqn, host_b,
               {"-q", "32", "-o", "4096", "-w", "randread", "-t", "6", "-P", "2"});
    ASSERT_TRUE(wait_io_queues(faults_nqn, host_a, 1)) << a.output();
    ASSERT_TRUE(wait_io_queues(faults_nqn, host_b, 2)) << b.output();
    ASSERT_TRUE(wait_io_progress(1000));
    auto r = tgt.rpc("nvmf_subsystem_remove_host", {{"nqn", faults_nqn}, {"host", host_a}});
    ASSERT_TRUE(r.contains("result")) << r.dump();

    ASSERT_TRUE(a.wait(std::chrono::seconds(20))) << "the removed host's I/O never ended";
    EXPECT_FALSE(a.exited_ok()) << "the removed host saw no error:\n" << a.output();
    // Its commands end with the connection (a host retries them once it may
    // reconnect), never with a Do Not Retry status: the Linux host fails
    // those for good (found by tests/interop/run-faults: fio's EIO).
    EXPECT_EQ(a.output().find("DNR"), std::string::npos) << a.output();
    const json ra = a.results();
    if (!ra.is_null()) {
        EXPECT_EQ(ra["total"]["mismatches"], 0) << a.output();
    }
    const json left = controllers(faults_nqn);
    ASSERT_EQ(left.size(), 1u) << left.dump();
    EXPECT_EQ(left[0]["hostnqn"], host_b);

    ASSERT_TRUE(b.wait(std::chrono::seconds(30)));
    EXPECT_TRUE(b.exited_ok()) << b.output();
    const json rb = b.results();
    ASSERT_FALSE(rb.is_null()) << b.output();
    EXPECT_EQ(rb["total"]["errors"], 0) << b.output();
    EXPECT_EQ(rb["total"]["mismatches"], 0) << b.output();
    EXPECT_TRUE(all_released());

    perf_process again;
    start_perf(again, faults_nqn, host_a, {"-q", "1", "-t", "1"});
    ASSERT_TRUE(again.wait(std::chrono::seconds(20)));
    EXPECT_FALSE(again.exited_ok()) << "a removed host connected:\n" << again.output();
    expect_new_host_served(faults_nqn, host_b);
}

// SPDK delete_subsystem.sh: the subsystem deleted under a deep queue of
// large I/O. The host loses its controller; the bdev is free afterwards.
TEST_F(faults_test, SubsystemDeletedWithIoInFlight) {
    perf_process a;
    start_perf(a, faults_nqn, host_a,
               {"-q", "128", "-o", "65536", "-w", "randrw", "-M", "30", "-t", "60", "--verify"});
    ASSERT_TRUE(wait_io_queues(faults_nqn, host_a, 1)) << a.output();
    ASSERT_TRUE(wait_io_progress(500));
    auto r = tgt.rpc("nvmf_delete_subsystem", {{"nqn", faults_nqn}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    ASSERT_TRUE(a.wait(std::chrono::seconds(20))) << "the host's I/O never ended";
    EXPECT_FALSE(a.exited_ok()) << a.output();
    EXPECT_EQ(a.output().find("DNR"), std::string::npos) << a.output();
    const json ra = a.results();
    if (!ra.is_null()) {
        EXPECT_EQ(ra["total"]["mismatches"], 0) << a.output();
    }
    EXPECT_TRUE(all_released());
    // Nothing claims the bdev any more.
    r = tgt.rpc("bdev_malloc_delete", {{"name", "Malloc1"}});
    EXPECT_TRUE(r.contains("result")) << r.dump();
    expect_new_host_served();
}

// SPDK ns_hotplug_stress.sh, blktests nvme/051: namespaces added and removed in a tight loop
// while a host runs verified I/O on another namespace from four queues.
TEST_F(faults_test, NamespaceHotplugStressUnderIo) {
    perf_process a;
    start_perf(
        a, default_nqn, host_a,
        {"-q", "32", "-o", "4096", "-w", "randrw", "-M", "50", "-t", "60", "-P", "4", "--verify"});
    ASSERT_TRUE(wait_io_queues(default_nqn, host_a, 4)) << a.output();
    for (int round = 0; round < 40; ++round) {
        for (int i = 0; i < 4; ++i) {
            auto r = tgt.rpc(
                "nvmf_subsystem_add_ns",
                {{"nqn", default_nqn},
                 {"namespace", {{"bdev_name", "Spare" + std::to_string(i)}, {"nsid", 2 + i}}}});
            ASSERT_TRUE(r.contains("result")) << r.dump();
        }
        for (int i = 0; i < 4; ++i) {
            auto r = tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", 2 + i}});
            ASSERT_TRUE(r.contains("result")) << r.dump();
        }
    }
    ::kill(a.pid, SIGINT);
    ASSERT_TRUE(a.wait(std::chrono::seconds(20)));
    EXPECT_TRUE(a.exited_ok()) << a.output();
    const json ra = a.results();
    ASSERT_FALSE(ra.is_null()) << a.output();
    EXPECT_EQ(ra["total"]["errors"], 0) << a.output();
    EXPECT_EQ(ra["total"]["mismatches"], 0) << a.output();
    EXPECT_GT(ra["total"]["iops"].get<double>(), 0.0);
    EXPECT_TRUE(all_released());
}

// Keep-alive expiry (blktests nvme/060 and 061 connect with kato 1): a host
// goes silent (SIGSTOP: its sockets stay open, nothing more is sent, replies pile up unread) with
// I/O in flight. After its keep-alive timeout the controller is torn down; the same host identity
// connects again at once.
TEST_F(faults_test, SilentHostExpiresAfterKeepAliveTimeout) {
    perf_process a;
    start_perf(a, default_nqn, host_a,
               {"-q", "64", "-o", "65536", "-w", "randrw", "-M", "50", "-t", "60", "-P", "2", "-k",
                "2000", "--verify"});
    ASSERT_TRUE(wait_io_queues(default_nqn, host_a, 2)) << a.output();
    ASSERT_TRUE(wait_io_progress(500));
    ASSERT_EQ(::kill(a.pid, SIGSTOP), 0);
    const auto stopped = std::chrono::steady_clock::now();
    // Keep Alive went out every 500 ms: the controller lives at least 1.5 s more.
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_EQ(controllers(default_nqn).size(), 1u);
    EXPECT_TRUE(all_released());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
    EXPECT_TRUE(tgt.log_has("keep-alive timeout (2000 ms)")) << tgt.log_tail();
    EXPECT_GE(secs, 1.4);
    a.kill9();
    expect_new_host_served();
}

// SPDK wait_for_buf.sh: a tiny data buffer pool, large writes at a deep
// queue depth so requests wait for buffers, then the host is killed: every
// buffer comes back and no request is left waiting for one.
class starved_faults_test : public faults_test {
protected:
    json transport() override {
        return {{"trtype", "TCP"},       {"num_shared_buffers", 4},
                {"buf_cache_size", 0},   {"in_capsule_data_size", 4096},
                {"max_io_size", 131072}, {"io_unit_size", 131072}};
    }
};

TEST_F(starved_faults_test, HostKilledWhileWaitingForBuffersReturnsThemAll) {
    perf_process a, b;
    const std::vector<std::string> load = {"-q",    "64", "-o", "131072", "-w",
                                           "write", "-t", "60", "-P",     "2"};
    start_perf(a, default_nqn, host_a, load);
    start_perf(b, faults_nqn, host_b, load);
    ASSERT_TRUE(wait_io_queues(default_nqn, host_a, 2)) << a.output();
    ASSERT_TRUE(wait_io_queues(faults_nqn, host_b, 2)) << b.output();
    // The pool is exhausted and requests queue for it.
    bool starved = false;
    for (int i = 0; i < 500 && !starved; ++i) {
        starved = held()["buffer_waiters"].get<uint64_t>() > 0;
        if (!starved) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(starved) << held().dump();
    a.kill9();
    // The survivor gets the buffers the dead host held or waited for.
    ASSERT_TRUE(wait_io_progress(200)) << held().dump();
    b.kill9();
    EXPECT_TRUE(all_released());
    expect_new_host_served();
}

// SPDK queue_depth.sh (bdevperf -q 1024): queues of 1024 entries, 1023
// commands outstanding on each, data verified.
class deep_queue_faults_test : public faults_test {
protected:
    json transport() override { return {{"trtype", "TCP"}, {"max_queue_depth", 1024}}; }
};

TEST_F(deep_queue_faults_test, QueueDepth1024Verified) {
    perf_process a;
    start_perf(
        a, default_nqn, host_a,
        {"-q", "1023", "-o", "4096", "-w", "randrw", "-M", "50", "-t", "4", "-P", "2", "--verify"});
    ASSERT_TRUE(a.wait(std::chrono::seconds(60)));
    EXPECT_TRUE(a.exited_ok()) << a.output();
    EXPECT_EQ(a.output().find("capped"), std::string::npos) << a.output();
    const json r = a.results();
    ASSERT_FALSE(r.is_null()) << a.output();
    EXPECT_EQ(r.value("/command/depth"_json_pointer, 0), 1023) << r.dump();
    EXPECT_EQ(r["total"]["errors"], 0) << a.output();
    EXPECT_EQ(r["total"]["mismatches"], 0) << a.output();
    EXPECT_GT(r["total"]["iops"].get<double>(), 0.0);
    EXPECT_TRUE(all_released());
}

// Many hosts while subsystems come and go (issue 17): sixteen host
// identities, each with a subsystem and namespace of its own (nvmf-perf
// --verify owns its namespace), keep verified I/O going on two queues each
// while other subsystems are created, given a namespace and a listener,
// connected to and deleted, over and over.
TEST_F(faults_test, ManyHostsWhileSubsystemsComeAndGo) {
    constexpr int hosts = 16;
    std::vector<std::unique_ptr<perf_process>> ps;
    for (int i = 0; i < hosts; ++i) {
        const std::string n = std::to_string(i);
        const std::string nqn = "nqn.2016-06.io.spdk:many" + n;
        char h[96];
        std::snprintf(h, sizeof(h), "nqn.2014-08.org.nvmexpress:uuid:fb000000-0000-4000-8000-%012d",
                      i);
        for (const auto& [method, params] : std::vector<std::pair<std::string, json>>{
                 {"bdev_malloc_create",
                  {{"name", "Many" + n}, {"num_blocks", 2048}, {"block_size", 512}}},
                 {"nvmf_create_subsystem", {{"nqn", nqn}}},
                 {"nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", h}}},
                 {"nvmf_subsystem_add_ns",
                  {{"nqn", nqn}, {"namespace", {{"bdev_name", "Many" + n}}}}},
                 {"nvmf_subsystem_add_listener",
                  {{"nqn", nqn}, {"listen_address", listen_address(tgt.port())}}}}) {
            auto r = tgt.rpc(method, params);
            ASSERT_TRUE(r.contains("result")) << method << ": " << r.dump();
        }
        ps.push_back(std::make_unique<perf_process>());
        start_perf(*ps.back(), nqn, h,
                   {"-q", "8", "-o", "4096", "-w", "randrw", "-M", "50", "-t", "60", "-P", "2",
                    "--verify", "--busy-poll-us", "0"});
    }
    for (int i = 0; i < 500; ++i) {
        if (held()["current_io_qpairs"].get<int>() == 2 * hosts) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(held()["current_io_qpairs"].get<int>(), 2 * hosts) << held().dump();
    for (int round = 0; round < 12; ++round) {
        const std::string nqn = "nqn.2016-06.io.spdk:transient" + std::to_string(round);
        auto r = tgt.rpc("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}});
        ASSERT_TRUE(r.contains("result")) << r.dump();
        r = tgt.rpc(
            "nvmf_subsystem_add_ns",
            {{"nqn", nqn}, {"namespace", {{"bdev_name", "Spare" + std::to_string(round % 4)}}}});
        ASSERT_TRUE(r.contains("result")) << r.dump();
        r = tgt.rpc("nvmf_subsystem_add_listener",
                    {{"nqn", nqn}, {"listen_address", listen_address(tgt.port())}});
        ASSERT_TRUE(r.contains("result")) << r.dump();
        // A host on it, deleted under that host's I/O every other round.
        perf_process t;
        start_perf(t, nqn, host_a, {"-q", "16", "-o", "4096", "-w", "randrw", "-t", "30"});
        ASSERT_TRUE(wait_io_queues(nqn, host_a, 1)) << t.output();
        if (round % 2) ::kill(t.pid, SIGINT);
        r = tgt.rpc("nvmf_delete_subsystem", {{"nqn", nqn}});
        ASSERT_TRUE(r.contains("result")) << r.dump();
        ASSERT_TRUE(t.wait(std::chrono::seconds(20))) << "host of a deleted subsystem hangs";
    }
    for (auto& p : ps) ::kill(p->pid, SIGINT);
    for (auto& p : ps) {
        ASSERT_TRUE(p->wait(std::chrono::seconds(30)));
        EXPECT_TRUE(p->exited_ok()) << p->output();
        const json res = p->results();
        ASSERT_FALSE(res.is_null()) << p->output();
        EXPECT_EQ(res["total"]["errors"], 0) << p->output();
        EXPECT_EQ(res["total"]["mismatches"], 0) << p->output();
    }
    EXPECT_TRUE(all_released());
}

}  // namespace
}  // namespace nvmf::test
