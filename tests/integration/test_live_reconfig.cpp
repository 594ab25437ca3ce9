// Reconfiguration under live I/O: nvmf-perf --verify runs against a stable
// subsystem, against one being changed and against one being deleted, while
// nvmf-rpc adds and removes namespaces, listeners and hosts and deletes a
// subsystem. The stable and the changed subsystem see no I/O error and no
// mismatch; the deleted one's host loses its controller (that is what the
// removal must end) but reads nothing wrong; the target keeps serving.
#include <signal.h>

#include <thread>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr const char* stable_nqn = "nqn.2016-06.io.spdk:stable";
constexpr const char* changed_nqn = "nqn.2016-06.io.spdk:changed";
constexpr const char* doomed_nqn = "nqn.2016-06.io.spdk:doomed";
constexpr const char* other_host =
    "nqn.2014-08.org.nvmexpress:uuid:0e0e0e0e-0000-4000-8000-000000000001";

class live_reconfig_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c;
        for (const char* b : {"Stable0", "Changed0", "Doomed0", "Extra0", "Extra1"})
            c.bdevs.push_back({b, 8192, 512});  // 4 MiB each
        subsystem_cfg s;
        s.nqn = stable_nqn;
        s.namespaces = {{"Stable0", 1}};
        c.subsystems.push_back(s);
        s.nqn = changed_nqn;
        s.namespaces = {{"Changed0", 1}};
        c.subsystems.push_back(s);
        s.nqn = doomed_nqn;
        s.namespaces = {{"Doomed0", 1}};
        c.subsystems.push_back(s);
        return c;
    }

    void SetUp() override {
        perf_ = std::string(NVMF_BUILD_DIR) + "/nvmf-perf";
        rpc_tool_ = std::string(NVMF_BUILD_DIR) + "/nvmf-rpc";
        ASSERT_EQ(::access(perf_.c_str(), X_OK), 0) << perf_ << " not built";
        ASSERT_EQ(::access(rpc_tool_.c_str(), X_OK), 0) << rpc_tool_ << " not built";
        target_test::SetUp();
    }

    // nvmf-rpc ARGS against the daemon; expects success.
    void rpc_ok(const std::string& args) {
        int rc = -1;
        const auto out =
            run_command(rpc_tool_ + " -s " + tgt.rpc_path() + " " + args + " 2>&1", &rc);
        EXPECT_EQ(rc, 0) << "nvmf-rpc " << args << ":\n" << out;
    }

    struct perf_run {
        std::thread t;
        std::string out;
        int rc = -1;
        std::string err_file;
        std::string pid_file;
    };
    // nvmf-perf for up to 60 s; stop_perf() ends it earlier (SIGINT: it
    // drains what is in flight and prints its results).
    void start_perf(perf_run& p, const std::string& nqn, const std::string& tag) {
        p.err_file = tgt.dir() + "/perf-" + tag + ".err";
        p.pid_file = tgt.dir() + "/perf-" + tag + ".pid";
        // popen's shell writes its pid and becomes nvmf-perf (exec).
        const std::string cmd =
            "echo $$ > " + p.pid_file + "; exec " + perf_ +
            " -r 'trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:" + tgt.port() +
            " subnqn:" + nqn + "' -q 8 -o 4096 -w randrw -M 50 -t 60 --verify --json 2>" +
            p.err_file;
        p.t = std::thread([&p, cmd] { p.out = run_command(cmd, &p.rc); });
    }
    static void stop_perf(const perf_run& p) {
        std::ifstream f(p.pid_file);
        pid_t pid = 0;
        if (f >> pid && pid > 0) ::kill(pid, SIGINT);
    }
    static std::string err_of(const perf_run& p) {
        std::ifstream f(p.err_file);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }

    // True once a host has an I/O queue on nqn.
    bool has_io_queue(const std::string& nqn) {
        auto r = tgt.rpc("nvmf_subsystem_get_qpairs", {{"nqn", nqn}});
        if (!r.contains("result")) return false;
        for (auto& q : r["result"]) {
            if (q["qid"].get<int>() > 0) return true;
        }
        return false;
    }
    bool wait_io_queue(const std::string& nqn) {
        for (int i = 0; i < 500; ++i) {
            if (has_io_queue(nqn)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    std::string perf_;
    std::string rpc_tool_;
};

TEST_F(live_reconfig_test, ChangesUnderVerifiedIo) {
    const uint16_t p2 = pick_port();
    ASSERT_NE(p2, 0);
    const std::string port2 = std::to_string(p2);
    perf_run stable, changed, doomed;
    start_perf(stable, stable_nqn, "stable");
    start_perf(changed, changed_nqn, "changed");
    start_perf(doomed, doomed_nqn, "doomed");
    const bool up =
        wait_io_queue(stable_nqn) && wait_io_queue(changed_nqn) && wait_io_queue(doomed_nqn);
    if (up) {
        const std::string c = changed_nqn;
        // Namespaces come and go beside the one in use.
        rpc_ok("nvmf_subsystem_add_ns " + c + " Extra0 -n 2");
        rpc_ok("nvmf_subsystem_add_ns " + c + " Extra1");
        rpc_ok("nvmf_subsystem_remove_ns " + c + " 2");
        rpc_ok("nvmf_subsystem_remove_ns " + c + " 3");
        // A listener on another port, and another host.
        rpc_ok("nvmf_subsystem_add_listener " + c + " -t tcp -a 127.0.0.1 -s " + port2);
        rpc_ok("nvmf_subsystem_add_host " + c + " " + other_host);
        rpc_ok("nvmf_subsystem_remove_host " + c + " " + other_host);
        rpc_ok("nvmf_subsystem_remove_listener " + c + " -t tcp -a 127.0.0.1 -s " + port2);
        // The rest straight on the socket: an ASan nvmf-rpc costs ~0.5 s a call
        // on a loaded machine. allow_any_host toggled under I/O; a subsystem
        // created and deleted next to the running ones.
        const std::string tmp = "nqn.2016-06.io.spdk:tmp";
        for (const auto& [m, p] : std::vector<std::pair<std::string, json>>{
                 {"nvmf_subsystem_allow_any_host", {{"nqn", c}, {"allow_any_host", false}}},
                 {"nvmf_subsystem_allow_any_host", {{"nqn", c}, {"allow_any_host", true}}},
                 {"nvmf_create_subsystem", {{"nqn", tmp}, {"allow_any_host", true}}},
                 {"nvmf_subsystem_add_ns",
                  {{"nqn", tmp}, {"namespace", {{"bdev_name", "Extra0"}}}}},
                 {"nvmf_subsystem_add_listener",
                  {{"nqn", tmp}, {"listen_address", listen_address(port2)}}},
                 {"nvmf_delete_subsystem", {{"nqn", tmp}}}}) {
            const auto r = tgt.rpc(m, p);
            EXPECT_TRUE(r.contains("result")) << m << ": " << r.dump();
        }
        // The changes happened while the I/O was running.
        EXPECT_TRUE(has_io_queue(stable_nqn)) << "perf on the stable subsystem ended";
        EXPECT_TRUE(has_io_queue(changed_nqn)) << "perf on the changed subsystem ended";
        // A whole subsystem, with its I/O in flight.
        EXPECT_TRUE(has_io_queue(doomed_nqn)) << "perf on the doomed subsystem ended";
        rpc_ok(std::string("nvmf_delete_subsystem ") + doomed_nqn);
        // A little more I/O after the deletion, then the two survivors stop.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    } else {
        stop_perf(doomed);
    }
    stop_perf(stable);
    stop_perf(changed);
    stable.t.join();
    changed.t.join();
    doomed.t.join();
    ASSERT_TRUE(up) << "nvmf-perf did not connect\n" << err_of(stable) << tgt.log_tail();

    auto result_of = [](const perf_run& p) {
        auto j = json::parse(p.out, nullptr, false);
        return j.is_discarded() ? json() : j;
    };
    const json s = result_of(stable), c = result_of(changed), d = result_of(doomed);
    ASSERT_TRUE(s.is_object()) << stable.out << err_of(stable);
    ASSERT_TRUE(c.is_object()) << changed.out << err_of(changed);
    ASSERT_TRUE(d.is_object()) << doomed.out << err_of(doomed);
    EXPECT_EQ(stable.rc, 0) << err_of(stable);
    EXPECT_EQ(s["total"]["errors"], 0) << err_of(stable);
    EXPECT_EQ(s["total"]["mismatches"], 0) << err_of(stable);
    EXPECT_GT(s["total"]["ios"].get<uint64_t>(), 0u);
    EXPECT_EQ(changed.rc, 0) << err_of(changed);
    EXPECT_EQ(c["total"]["errors"], 0) << err_of(changed);
    EXPECT_EQ(c["total"]["mismatches"], 0) << err_of(changed);
    EXPECT_GT(c["total"]["ios"].get<uint64_t>(), 0u);
    EXPECT_LT(s["seconds"].get<double>(), 50.0) << "SIGINT did not stop nvmf-perf";
    // The deleted subsystem's host saw its controller go (an error is what
    // that removal must end with), never wrong data.
    EXPECT_EQ(doomed.rc, 1) << err_of(doomed);
    EXPECT_GT(d["total"]["errors"].get<uint64_t>(), 0u) << err_of(doomed);
    EXPECT_LT(d["seconds"].get<double>(), 50.0) << "the deletion did not end its host's I/O";
    EXPECT_EQ(d["total"]["mismatches"], 0) << err_of(doomed);
    EXPECT_GT(d["total"]["ios"].get<uint64_t>(), 0u);

    // The target is as the last commands left it and keeps serving.
    auto subs = tgt.rpc("nvmf_get_subsystems");
    ASSERT_TRUE(subs.contains("result"));
    EXPECT_EQ(subs["result"].size(), 3u);  // discovery, stable, changed
    auto cs = tgt.rpc("nvmf_get_subsystems", {{"nqn", changed_nqn}});
    ASSERT_TRUE(cs.contains("result"));
    EXPECT_EQ(cs["result"][0]["namespaces"].size(), 1u);
    EXPECT_EQ(cs["result"][0]["listen_addresses"].size(), 1u);
    EXPECT_EQ(cs["result"][0]["hosts"].size(), 0u);
    EXPECT_EQ(tgt.rpc("bdev_get_bdevs", {{"name", "Doomed0"}})["result"].size(), 1u);
    EXPECT_FALSE(port_accepts(p2));
    auto stats = tgt.rpc("nvmf_get_stats");
    ASSERT_TRUE(stats.contains("result"));
    EXPECT_EQ(sum_poll_groups(stats)["pending_bdev_io"], 0);
    ctrlr = connect(stable_nqn);
    ASSERT_TRUE(ctrlr);
    std::vector<uint8_t> b(512);
    auto r = ctrlr->read(1, 0, 1, b);
    ASSERT_TRUE(r && r->ok());
}

}  // namespace
}  // namespace nvmf::test
