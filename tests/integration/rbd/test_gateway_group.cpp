// Gateway groups (gateway_group_*, docs/gateway-group.md): two daemons export
// the same two images as one subsystem, each the home of one ANA group. A
// gateway killed with SIGKILL loses its group to the survivor, which serves
// the data written through the dead one; the dead one comes back without
// taking anything; a gateway that stalls (SIGSTOP) with a write in flight is
// fenced, and that late write never lands over what the survivor wrote.
#include <signal.h>

#include <chrono>
#include <future>
#include <thread>

#include "daemon_fixture.hpp"
#include "host/ana_log.hpp"
#include "host/commands.hpp"
#include "rbd/rbd_helpers.hpp"

namespace nvmf::test {
namespace {

using clock = std::chrono::steady_clock;
constexpr uint32_t lease_ms = 2000;
constexpr uint32_t bs = 4096;
constexpr const char* nqn = "nqn.2016-06.io.spdk:gw-group";

struct gateway_cfg {
    std::string group;  // the group's name: unique per test
    std::string id;
    uint32_t home = 1;
    uint16_t min_cntlid = 1;
    uint16_t max_cntlid = 1000;
    uint32_t write_delay_us = 0;  // a delay bdev under namespace 1 when set
};

json gateway_config(const gateway_cfg& g, const std::string& img1, const std::string& img2,
                    const std::string& port) {
    json cluster = register_cluster_entry();
    // Two gateways write one image: no client cache may hold stale data.
    cluster["params"]["config_param"] = {{"rbd_cache", "false"}};
    json bdev = json::array({cluster});
    auto rbd = [&](const char* name, const std::string& img) {
        bdev.push_back({{"method", "bdev_rbd_create"},
                        {"params",
                         {{"name", name},
                          {"cluster_name", "ceph0"},
                          {"pool_name", "rbd"},
                          {"rbd_name", img},
                          {"block_size", bs}}}});
    };
    rbd("Rbd1", img1);
    rbd("Rbd2", img2);
    std::string ns1 = "Rbd1";
    if (g.write_delay_us != 0) {
        bdev.push_back({{"method", "bdev_delay_create"},
                        {"params",
                         {{"base_bdev_name", "Rbd1"},
                          {"name", "Delay1"},
                          {"avg_read_latency", 0},
                          {"p99_read_latency", 0},
                          {"avg_write_latency", g.write_delay_us},
                          {"p99_write_latency", g.write_delay_us}}}});
        ns1 = "Delay1";
    }
    json nvmf = json::array();
    auto call = [&](const char* m, json p) {
        nvmf.push_back({{"method", m}, {"params", std::move(p)}});
    };
    call("nvmf_create_transport", {{"trtype", "TCP"}});
    call("nvmf_create_subsystem", {{"nqn", nqn},
                                   {"allow_any_host", true},
                                   {"serial_number", "GW0001"},
                                   {"ana_reporting", true},
                                   {"min_cntlid", g.min_cntlid},
                                   {"max_cntlid", g.max_cntlid}});
    call("nvmf_subsystem_add_ns",
         {{"nqn", nqn}, {"namespace", {{"bdev_name", ns1}, {"nsid", 1}, {"anagrpid", 1}}}});
    call("nvmf_subsystem_add_ns",
         {{"nqn", nqn}, {"namespace", {{"bdev_name", "Rbd2"}, {"nsid", 2}, {"anagrpid", 2}}}});
    call("nvmf_subsystem_add_listener", {{"nqn", nqn}, {"listen_address", listen_address(port)}});
    call("gateway_group_join", {{"name", g.group},
                                {"cluster_name", "ceph0"},
                                {"pool_name", "rbd"},
                                {"gateway_id", g.id},
                                {"home_ana_group", g.home},
                                {"ana_groups", {1, 2}},
                                {"lease_ms", lease_ms}});
    return {{"subsystems", json::array({{{"subsystem", "bdev"}, {"config", bdev}},
                                        {{"subsystem", "nvmf"}, {"config", nvmf}}})}};
}

// Whether gw holds ANA group g (gateway_group_get_info).
bool holds(const daemon& gw, uint32_t g) {
    auto info = gw.rpc("gateway_group_get_info");
    if (!info.contains("result") || info["result"].is_null()) return false;
    for (const auto& e : info["result"]["ana_groups"]) {
        if (e["anagrpid"] == g) return e["held"].get<bool>();
    }
    return false;
}

// Polls until gw holds g; returns how long it took, or nullopt after limit.
std::optional<std::chrono::milliseconds> wait_holds(const daemon& gw, uint32_t g,
                                                    std::chrono::milliseconds limit) {
    const auto t0 = clock::now();
    while (clock::now() - t0 < limit) {
        if (holds(gw, g)) {
            return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
}

uint8_t ana_state_of(host::controller& c, uint32_t g) {
    auto log = host::get_ana_log(c);
    if (!log) return 0;
    auto it = log->groups.find(g);
    return it == log->groups.end() ? 0 : it->second.state;
}

class gateway_group_test : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(ceph_dir().empty()) << "NVMF_TEST_CEPH_DIR is not set: run through ctest";
        ASSERT_TRUE(img1_.ok()) << img1_.output();
        ASSERT_TRUE(img2_.ok()) << img2_.output();
    }
    ::testing::AssertionResult start(daemon& d, const gateway_cfg& g) {
        return d.start_with([&](const std::string& port) {
            return gateway_config(g, img1_.name(), img2_.name(), port);
        });
    }
    // The lease objects live on in the pool: one group name per test run.
    std::string group_name() const {
        return std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
               std::to_string(::getpid());
    }
    std::unique_ptr<host::controller> connect(const daemon& d) {
        auto c = host::controller::create(d.ctrlr_opts(nqn));
        if (!c) {
            ADD_FAILURE() << c.err().message;
            return nullptr;
        }
        return std::move(*c);
    }

    // Without exclusive-lock: the group's lease decides who writes, and
    // librbd's own lock would only bounce between the gateways.
    static std::string unique(const char* what) {
        return std::string(what) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
               std::to_string(::getpid());
    }
    image img1_{unique("gw1"), 64ull << 20, "layering"};
    image img2_{unique("gw2"), 64ull << 20, "layering"};
};

TEST_F(gateway_group_test, killed_gateway_fails_over_and_rejoins_without_stealing) {
    const std::string group = group_name();
    const gateway_cfg a{group, "gw-a", 1, 1, 1000};
    const gateway_cfg b{group, "gw-b", 2, 1001, 2000};
    daemon gwa;
    daemon gwb;
    ASSERT_TRUE(start(gwa, a));
    ASSERT_TRUE(start(gwb, b));
    const auto limit = std::chrono::milliseconds(4 * lease_ms + 5000);
    ASSERT_TRUE(wait_holds(gwa, 1, limit)) << gwa.rpc("gateway_group_get_info").dump();
    ASSERT_TRUE(wait_holds(gwb, 2, limit)) << gwb.rpc("gateway_group_get_info").dump();
    // Each keeps to its own: B leaves group 1 to its live home gateway.
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * lease_ms));
    EXPECT_FALSE(holds(gwb, 1));
    EXPECT_FALSE(holds(gwa, 2));

    auto ca = connect(gwa);
    auto cb = connect(gwb);
    ASSERT_TRUE(ca && cb);
    EXPECT_GE(ca->cntlid(), 1);
    EXPECT_LE(ca->cntlid(), 1000);
    EXPECT_GE(cb->cntlid(), 1001);
    EXPECT_LE(cb->cntlid(), 2000);
    EXPECT_EQ(ana_state_of(*ca, 1), 1);  // optimized
    EXPECT_EQ(ana_state_of(*ca, 2), 3);  // inaccessible
    EXPECT_EQ(ana_state_of(*cb, 1), 3);
    EXPECT_EQ(ana_state_of(*cb, 2), 1);
    // Same namespace identity through both gateways.
    auto ida = ca->identify_ns(1);
    auto idb = cb->identify_ns(1);
    ASSERT_TRUE(ida && idb);
    EXPECT_EQ(0, std::memcmp(ida->nguid, idb->nguid, sizeof(ida->nguid)));

    // Group 1's I/O goes through A only; B answers with the path status.
    const auto data = random_bytes(16 * bs, 7);
    auto w = ca->write(1, 128, 16, data);
    ASSERT_TRUE(w && w->ok()) << (w ? st(*w) : w.err().message);
    std::vector<uint8_t> back(16 * bs);
    auto refused = cb->read(1, 128, 16, back);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->sct(), spec::sct::path) << st(*refused);
    EXPECT_EQ(refused->sc(), spec::sc_path::ana_inaccessible) << st(*refused);

    // A dies: B fences it, takes group 1 and serves what A wrote.
    ca.reset();
    gwa.kill9();
    const auto took = wait_holds(gwb, 1, std::chrono::milliseconds(3 * lease_ms + 5000));
    ASSERT_TRUE(took) << gwb.rpc("gateway_group_get_info").dump();
    std::printf("[ time to optimized after SIGKILL: %lld ms (lease %u ms) ]\n",
                static_cast<long long>(took->count()), lease_ms);
    EXPECT_EQ(ana_state_of(*cb, 1), 1);
    auto r = cb->read(1, 128, 16, back);
    ASSERT_TRUE(r && r->ok()) << (r ? st(*r) : r.err().message);
    EXPECT_TRUE(back == data);
    EXPECT_TRUE(holds(gwb, 2)) << gwb.log_tail();

    // A comes back and finds both groups held: it stays a standby path.
    ASSERT_TRUE(start(gwa, a));
    std::this_thread::sleep_for(std::chrono::milliseconds(3 * lease_ms));
    EXPECT_FALSE(holds(gwa, 1)) << gwa.rpc("gateway_group_get_info").dump();
    EXPECT_FALSE(holds(gwa, 2));
    EXPECT_TRUE(holds(gwb, 1));
    EXPECT_TRUE(holds(gwb, 2));
    auto info = gwa.rpc("gateway_group_get_info")["result"];
    EXPECT_EQ(info["ana_groups"][0]["holder"], "gw-b") << info.dump();
    ca = connect(gwa);
    ASSERT_TRUE(ca);
    EXPECT_EQ(ana_state_of(*ca, 1), 3);
    EXPECT_EQ(ana_state_of(*ca, 2), 3);

    // And B's death now hands both groups to A.
    cb.reset();
    gwb.kill9();
    ASSERT_TRUE(wait_holds(gwa, 1, limit)) << gwa.rpc("gateway_group_get_info").dump();
    ASSERT_TRUE(wait_holds(gwa, 2, limit)) << gwa.rpc("gateway_group_get_info").dump();
    r = ca->read(1, 128, 16, back);
    ASSERT_TRUE(r && r->ok()) << (r ? st(*r) : r.err().message) << gwa.log_tail();
    EXPECT_TRUE(back == data);
    EXPECT_TRUE(gwa.stop());
}

// A stalls (SIGSTOP) with a write to LBA 0 held in its delay bdev; B takes
// group 1 over, fencing A, and writes LBA 0. When A runs again its old write
// reaches the cluster and is refused: LBA 0 keeps B's data, the host gets a
// path error for A's write, and A knows it was fenced.
TEST_F(gateway_group_test, fenced_gateway_late_write_never_lands) {
    const std::string group = group_name();
    gateway_cfg a{group, "gw-a", 1, 1, 1000};
    a.write_delay_us = 1500000;
    const gateway_cfg b{group, "gw-b", 2, 1001, 2000};
    daemon gwa;
    daemon gwb;
    ASSERT_TRUE(start(gwa, a));
    ASSERT_TRUE(start(gwb, b));
    const auto limit = std::chrono::milliseconds(4 * lease_ms + 5000);
    ASSERT_TRUE(wait_holds(gwa, 1, limit));
    ASSERT_TRUE(wait_holds(gwb, 2, limit));
    auto ca = connect(gwa);
    auto cb = connect(gwb);
    ASSERT_TRUE(ca && cb);

    const auto old_data = random_bytes(bs, 1);
    const auto new_data = random_bytes(bs, 2);
    auto late = std::async(std::launch::async, [&] { return ca->write(1, 0, 1, old_data); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // A holds it in the delay
    ASSERT_EQ(::kill(gwa.pid(), SIGSTOP), 0);
    const auto took = wait_holds(gwb, 1, std::chrono::milliseconds(3 * lease_ms + 5000));
    if (!took) ::kill(gwa.pid(), SIGCONT);
    ASSERT_TRUE(took) << gwb.rpc("gateway_group_get_info").dump();
    auto w = cb->write(1, 0, 1, new_data);
    ASSERT_TRUE(w && w->ok()) << (w ? st(*w) : w.err().message);
    ASSERT_EQ(::kill(gwa.pid(), SIGCONT), 0);

    auto lw = late.get();
    ASSERT_TRUE(lw) << lw.err().message;
    EXPECT_FALSE(lw->ok()) << "the fenced gateway's write succeeded";
    EXPECT_EQ(lw->sct(), spec::sct::path) << st(*lw);
    std::vector<uint8_t> back(bs);
    // Give a late write every chance to land before looking.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto r = cb->read(1, 0, 1, back);
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE(back == new_data) << "the fenced gateway's late write landed";
    // A learns it was fenced and serves nothing.
    bool fenced = false;
    for (int i = 0; i < 100 && !fenced; ++i) {
        fenced = gwa.rpc("gateway_group_get_info")["result"]["fenced"] == true;
        if (!fenced) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_TRUE(fenced) << gwa.rpc("gateway_group_get_info").dump();
    EXPECT_FALSE(holds(gwa, 1));
    EXPECT_EQ(ana_state_of(*ca, 1), 3);
}

TEST_F(gateway_group_test, join_errors_and_save_config) {
    daemon d;
    const std::string group = group_name();
    ASSERT_TRUE(start(d, {group, "gw-a", 1, 1, 1000}));
    auto code = [](const json& r) {
        return r.contains("error") ? r["error"]["code"].get<int>() : 0;
    };
    json p{{"name", "g2"},      {"cluster_name", "ceph0"}, {"pool_name", "rbd"},
           {"gateway_id", "x"}, {"home_ana_group", 1},     {"ana_groups", {1}}};
    EXPECT_EQ(code(d.rpc("gateway_group_join", p)), -17) << "already in a group";
    auto saved = d.rpc("save_config");
    ASSERT_TRUE(saved.contains("result"));
    bool found = false;
    for (const auto& s : saved["result"]["subsystems"]) {
        if (s["subsystem"] != "nvmf") continue;
        for (const auto& e : s["config"]) {
            if (e["method"] == "gateway_group_join") {
                found = true;
                EXPECT_EQ(e["params"]["gateway_id"], "gw-a");
                EXPECT_EQ(e["params"]["ana_groups"], json({1, 2}));
            }
            // The groups' states follow the leases, not the saved file.
            EXPECT_NE(e["method"], "nvmf_subsystem_listener_set_ana_state") << e.dump();
        }
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(code(d.rpc("gateway_group_leave")), 0);
    EXPECT_EQ(code(d.rpc("gateway_group_leave")), -2);
    EXPECT_TRUE(d.rpc("gateway_group_get_info")["result"].is_null());
    for (auto [key, value] : {std::pair<const char*, json>{"home_ana_group", 3},
                              {"ana_groups", json::array()},
                              {"ana_groups", {1, 1}},
                              {"ana_groups", {0}},
                              {"lease_ms", 10},
                              {"cluster_name", "nope"},
                              {"pool_name", "no-such-pool"},
                              {"gateway_id", ""}}) {
        json q = p;
        q[key] = value;
        const int c = code(d.rpc("gateway_group_join", q));
        EXPECT_TRUE(c == -22 || c == -32602 || c == -2) << key << "=" << value.dump() << ": " << c;
    }
    EXPECT_EQ(code(d.rpc("gateway_group_join", p)), 0) << "joins again after the refusals";
    EXPECT_TRUE(d.stop());
}

}  // namespace
}  // namespace nvmf::test
