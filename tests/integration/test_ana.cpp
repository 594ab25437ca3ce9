// Asymmetric Namespace Access through the daemon: one subsystem with
// ana_reporting on two listeners (two ports), a namespace per ANA group, a
// controller per path. Per-listener states from
// nvmf_subsystem_listener_set_ana_state show in each path's ANA log, raise ANA
// change events on that path only, and fail I/O on a path that is not
// optimized or non-optimized with the path status a host fails over on.
#include <cstring>
#include <map>

#include "daemon_fixture.hpp"
#include "host/ana_log.hpp"
#include "nvme/spec/log.hpp"
#include "nvmf/ana.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr const char* ana_nqn = "nqn.2016-06.io.spdk:ana";

class ana_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        c.bdevs.push_back({"Malloc1", 2048, 512});
        c.bdevs.push_back({"Malloc2", 2048, 512});
        return c;
    }

    void SetUp() override {
        target_test::SetUp();
        port2_ = std::to_string(pick_port());
        ok("nvmf_create_subsystem", {{"nqn", ana_nqn},
                                     {"allow_any_host", true},
                                     {"ana_reporting", true},
                                     {"max_namespaces", 8}});
        // NSID 1 in group 1 (the default: its NSID), NSIDs 2 and 3 in group 5.
        ok("nvmf_subsystem_add_ns", {{"nqn", ana_nqn}, {"namespace", {{"bdev_name", "Malloc1"}}}});
        ok("nvmf_subsystem_add_ns",
           {{"nqn", ana_nqn}, {"namespace", {{"bdev_name", "Malloc2"}, {"anagrpid", 5}}}});
        ok("bdev_malloc_create", {{"name", "Malloc3"}, {"num_blocks", 2048}, {"block_size", 512}});
        ok("nvmf_subsystem_add_ns",
           {{"nqn", ana_nqn},
            {"namespace", {{"bdev_name", "Malloc3"}, {"nsid", 3}, {"anagrpid", 5}}}});
        ok("nvmf_subsystem_add_listener",
           {{"nqn", ana_nqn}, {"listen_address", listen_address(tgt.port())}});
        ok("nvmf_subsystem_add_listener",
           {{"nqn", ana_nqn}, {"listen_address", listen_address(port2_)}});
    }

    void ok(const char* m, const json& p) {
        const json r = tgt.rpc(m, p);
        ASSERT_TRUE(r.contains("result")) << m << " " << p.dump() << " -> " << r.dump();
    }
    json rpc_error(const char* m, const json& p) {
        const json r = tgt.rpc(m, p);
        EXPECT_TRUE(r.contains("error")) << m << " " << p.dump() << " -> " << r.dump();
        return r.value("error", json::object());
    }
    void set_state(const std::string& port, const char* state, int anagrpid = 0) {
        json p{{"nqn", ana_nqn}, {"listen_address", listen_address(port)}, {"ana_state", state}};
        if (anagrpid) p["anagrpid"] = anagrpid;
        ok("nvmf_subsystem_listener_set_ana_state", p);
    }

    std::unique_ptr<host::controller> path(const std::string& port) {
        auto o = tgt.ctrlr_opts(ana_nqn);
        o.trsvcid = port;
        return connect(o);
    }

    static host::ana_log read_log(host::controller& c, bool rgo = false) {
        auto log = host::get_ana_log(c, rgo);
        EXPECT_TRUE(log) << log.err().message;
        return log ? *log : host::ana_log{};
    }

    // The status of a 1-block read of nsid through c.
    static spec::status read_status(host::controller& c, uint32_t nsid) {
        std::vector<uint8_t> buf(512);
        auto r = c.read(nsid, 0, 1, buf);
        EXPECT_TRUE(r) << r.err().message;
        return r ? r->status() : spec::status{0xfffe};
    }

    static void expect_ana_event(host::controller& c, uint16_t cid, const char* what) {
        auto w = c.admin().wait(cid, 5000);
        ASSERT_TRUE(w) << what << ": no ANA change event: " << w.err().message;
        EXPECT_EQ(w->cqe.cdw0 & 0x7, spec::aer::type_notice) << what;
        EXPECT_EQ((w->cqe.cdw0 >> 8) & 0xff, spec::aer::notice_ana_change) << what;
        EXPECT_EQ((w->cqe.cdw0 >> 16) & 0xff, spec::lid::ana) << what;
    }

    std::string port2_;
};

constexpr uint8_t optimized = static_cast<uint8_t>(ana_state::optimized);
constexpr uint8_t inaccessible = static_cast<uint8_t>(ana_state::inaccessible);

TEST_F(ana_test, IdentifyReportsAna) {
    auto c = path(tgt.port());
    ASSERT_TRUE(c);
    auto id = c->identify_ctrlr();
    ASSERT_TRUE(id) << id.err().message;
    EXPECT_TRUE(id->cmic & spec::cmic::ana_reporting);
    EXPECT_TRUE(id->cmic & spec::cmic::multi_ctrlr);
    EXPECT_TRUE(id->oaes & spec::aer::cfg_ana_change_notice);
    EXPECT_EQ(id->anagrpmax, 8u);
    EXPECT_EQ(id->nanagrpid, 8u);
    EXPECT_EQ(id->mnan, 8u);
    EXPECT_EQ(id->nn, 8u);
    EXPECT_GT(id->anatt, 0);
    EXPECT_EQ(id->anacap & 0x1f, 0x1f) << "all five states are reported";
    auto ns3 = c->identify_ns(3);
    ASSERT_TRUE(ns3);
    EXPECT_EQ(ns3->anagrpid, 5u);
    EXPECT_TRUE(ns3->nmic & spec::nmic_shared);

    // Without ana_reporting: no ANA bit, no group IDs, no ANA log.
    auto plain = connect(default_nqn);
    ASSERT_TRUE(plain);
    auto pid = plain->identify_ctrlr();
    ASSERT_TRUE(pid);
    EXPECT_FALSE(pid->cmic & spec::cmic::ana_reporting);
    EXPECT_FALSE(pid->oaes & spec::aer::cfg_ana_change_notice);
    EXPECT_EQ(plain->identify_ns(1)->anagrpid, 0u);
    std::vector<uint8_t> buf(4096);
    auto r = plain->get_log_page(spec::lid::ana, 0, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->sct(), spec::sct::command_specific);
    EXPECT_EQ(r->sc(), spec::sc_cmd::invalid_log_page);
}

TEST_F(ana_test, LogListsGroupsWithTheirNamespaces) {
    auto c = path(tgt.port());
    ASSERT_TRUE(c);
    host::ana_log log = read_log(*c);
    ASSERT_EQ(log.groups.size(), 2u);
    EXPECT_EQ(log.groups[1].state, optimized);
    EXPECT_EQ(log.groups[1].nsids, (std::vector<uint32_t>{1}));
    EXPECT_EQ(log.groups[5].state, optimized);
    EXPECT_EQ(log.groups[5].nsids, (std::vector<uint32_t>{2, 3}));
    EXPECT_EQ(log.groups[5].chgcnt, log.chgcnt);
    EXPECT_EQ(log.bytes, 16u + 2 * 32u + 3 * 4u);

    // RGO: the descriptors only.
    host::ana_log groups_only = read_log(*c, true);
    ASSERT_EQ(groups_only.groups.size(), 2u);
    EXPECT_TRUE(groups_only.groups[5].nsids.empty());
    EXPECT_EQ(groups_only.bytes, 16u + 2 * 32u);

    // A partial read returns the prefix (a host reads the header first).
    std::vector<uint8_t> head(16);
    auto r = c->get_log_page(spec::lid::ana, 0, head);
    ASSERT_TRUE(r && r->ok());
    spec::ana_log_header h;
    std::memcpy(&h, head.data(), sizeof(h));
    EXPECT_EQ(h.ngrps, 2);
    EXPECT_EQ(h.chgcnt, log.chgcnt);

    // A namespace removed leaves its group; the group goes with its last one.
    ok("nvmf_subsystem_remove_ns", {{"nqn", ana_nqn}, {"nsid", 1}});
    host::ana_log after = read_log(*c);
    EXPECT_EQ(after.groups.count(1), 0u);
    EXPECT_EQ(after.groups[5].nsids, (std::vector<uint32_t>{2, 3}));
    EXPECT_GT(after.chgcnt, log.chgcnt);
}

TEST_F(ana_test, StatesArePerListenerWithEventsAndIoStatus) {
    auto a = path(tgt.port());
    auto b = path(port2_);
    ASSERT_TRUE(a && b);
    for (auto* c : {a.get(), b.get()}) {
        auto s = c->set_features(spec::feat::async_event_configuration,
                                 spec::aer::cfg_ana_change_notice | spec::aer::cfg_ns_attr_notice);
        ASSERT_TRUE(s && s->ok());
    }
    auto acid = a->submit_aer();
    auto bcid = b->submit_aer();
    ASSERT_TRUE(acid && bcid);
    const uint64_t before = read_log(*a).chgcnt;

    // Group 5 inaccessible on path A only.
    set_state(tgt.port(), "inaccessible", 5);
    expect_ana_event(*a, *acid, "group 5 inaccessible on A");
    host::ana_log la = read_log(*a);
    EXPECT_EQ(la.groups[5].state, inaccessible);
    EXPECT_EQ(la.groups[1].state, optimized);
    EXPECT_GT(la.chgcnt, before);
    EXPECT_EQ(read_log(*b).groups[5].state, optimized);
    // I/O to group 5 fails on A with ANA Inaccessible (no DNR: retry elsewhere) ...
    const spec::status st = read_status(*a, 2);
    EXPECT_EQ(spec::status_sct(st), spec::sct::path);
    EXPECT_EQ(spec::status_sc(st), spec::sc_path::ana_inaccessible);
    EXPECT_FALSE(spec::status_dnr(st));
    // ... while group 1 on A and everything on B still work.
    EXPECT_EQ(read_status(*a, 1), 0);
    EXPECT_EQ(read_status(*b, 2), 0);
    EXPECT_EQ(read_status(*b, 3), 0);
    // Admin commands on the inaccessible path still answer.
    EXPECT_TRUE(a->identify_ns(2));
    // B got no event: poll for it briefly, it must not be there.
    EXPECT_FALSE(b->admin().wait(*bcid, 300)) << "B saw an event for A's change";

    // Persistent loss and change have their own statuses; setting the same state is no change.
    acid = a->submit_aer();
    ASSERT_TRUE(acid);
    set_state(tgt.port(), "persistent_loss", 5);
    expect_ana_event(*a, *acid, "persistent loss");
    EXPECT_EQ(spec::status_sc(read_status(*a, 3)), spec::sc_path::ana_persistent_loss);
    read_log(*a);  // RAE=0: the next change may report again
    acid = a->submit_aer();
    ASSERT_TRUE(acid);
    set_state(tgt.port(), "change", 5);
    expect_ana_event(*a, *acid, "change");
    EXPECT_EQ(spec::status_sc(read_status(*a, 3)), spec::sc_path::ana_transition);
    read_log(*a);

    // Non-optimized serves I/O; every group at once when no anagrpid is given.
    acid = a->submit_aer();
    ASSERT_TRUE(acid);
    set_state(tgt.port(), "non_optimized");
    expect_ana_event(*a, *acid, "all groups non-optimized");
    la = read_log(*a);
    EXPECT_EQ(la.groups[1].state, static_cast<uint8_t>(ana_state::non_optimized));
    EXPECT_EQ(la.groups[5].state, static_cast<uint8_t>(ana_state::non_optimized));
    EXPECT_EQ(read_status(*a, 2), 0);

    // The listeners' states as the RPC reports them.
    const json l = tgt.rpc("nvmf_subsystem_get_listeners", {{"nqn", ana_nqn}});
    ASSERT_TRUE(l.contains("result")) << l.dump();
    std::map<std::string, json> by_port;
    for (const auto& e : l["result"]) by_port[e["address"]["trsvcid"]] = e["ana_states"];
    // As SPDK: every group from 1 to ANAGRPMAX (8 here), so that
    // ana_states[g - 1] is group g.
    auto every_group = [](const char* state) {
        json a = json::array();
        for (int g = 1; g <= 8; ++g) a.push_back({{"ana_group", g}, {"ana_state", state}});
        return a;
    };
    EXPECT_EQ(by_port[tgt.port()], every_group("non_optimized"));
    EXPECT_EQ(by_port[port2_], every_group("optimized"));

    // B is still waiting on its first AER: the change on B's listener reaches it.
    set_state(port2_, "inaccessible", 1);
    expect_ana_event(*b, *bcid, "group 1 inaccessible on B");
    EXPECT_EQ(spec::status_sc(read_status(*b, 1)), spec::sc_path::ana_inaccessible);
}

TEST_F(ana_test, ListenerRemovalEndsItsPathOnly) {
    auto a = path(tgt.port());
    auto b = path(port2_);
    ASSERT_TRUE(a && b);
    ok("nvmf_subsystem_remove_listener",
       {{"nqn", ana_nqn}, {"listen_address", listen_address(port2_)}});
    EXPECT_TRUE(b->admin().wait_closed(5000)) << "the removed listener's controller survived";
    EXPECT_EQ(read_status(*a, 1), 0);
    // Added back, it starts optimized again (or in the state asked for).
    ok("nvmf_subsystem_add_listener", {{"nqn", ana_nqn},
                                       {"listen_address", listen_address(port2_)},
                                       {"ana_state", "inaccessible"}});
    auto b2 = path(port2_);
    ASSERT_TRUE(b2);
    EXPECT_EQ(read_log(*b2).groups[1].state, inaccessible);
}

TEST_F(ana_test, SetAnaStateErrors) {
    auto addr = listen_address(tgt.port());
    auto code = [](const json& e) { return e.value("code", 0); };
    json e =
        rpc_error("nvmf_subsystem_listener_set_ana_state",
                  {{"nqn", default_nqn}, {"listen_address", addr}, {"ana_state", "optimized"}});
    EXPECT_EQ(code(e), -32602);
    EXPECT_NE(e.value("message", "").find("ANA reporting is not enabled"), std::string::npos)
        << e.dump();
    e = rpc_error("nvmf_subsystem_listener_set_ana_state",
                  {{"nqn", ana_nqn}, {"listen_address", addr}, {"ana_state", "sideways"}});
    EXPECT_NE(e.value("message", "").find("'ana_state' must be"), std::string::npos) << e.dump();
    e = rpc_error("nvmf_subsystem_listener_set_ana_state",
                  {{"nqn", ana_nqn}, {"listen_address", addr}});
    EXPECT_NE(e.value("message", "").find("ana_state"), std::string::npos) << e.dump();
    e = rpc_error(
        "nvmf_subsystem_listener_set_ana_state",
        {{"nqn", ana_nqn}, {"listen_address", addr}, {"ana_state", "optimized"}, {"anagrpid", 9}});
    EXPECT_NE(e.value("message", "").find("above ANAGRPMAX"), std::string::npos) << e.dump();
    e = rpc_error("nvmf_subsystem_listener_set_ana_state",
                  {{"nqn", ana_nqn},
                   {"listen_address", listen_address(std::to_string(pick_port()))},
                   {"ana_state", "optimized"}});
    EXPECT_NE(e.value("message", "").find("does not exist"), std::string::npos) << e.dump();
    e = rpc_error("nvmf_subsystem_listener_set_ana_state", {{"nqn", "nqn.2016-06.io.spdk:none"},
                                                            {"listen_address", addr},
                                                            {"ana_state", "optimized"}});
    EXPECT_NE(e.value("message", "").find("Unable to find subsystem"), std::string::npos)
        << e.dump();
    // A namespace's group must be within ANAGRPMAX, and a listener of a
    // subsystem without ANA reporting cannot start in another state.
    ok("bdev_malloc_create", {{"name", "Malloc9"}, {"num_blocks", 64}, {"block_size", 512}});
    e = rpc_error("nvmf_subsystem_add_ns",
                  {{"nqn", ana_nqn}, {"namespace", {{"bdev_name", "Malloc9"}, {"anagrpid", 9}}}});
    EXPECT_NE(e.value("message", "").find("above ANAGRPMAX"), std::string::npos) << e.dump();
    e = rpc_error("nvmf_subsystem_add_listener",
                  {{"nqn", default_nqn},
                   {"listen_address", listen_address(std::to_string(pick_port()))},
                   {"ana_state", "inaccessible"}});
    EXPECT_NE(e.value("message", "").find("ANA reporting is not enabled"), std::string::npos)
        << e.dump();
}

TEST_F(ana_test, SaveConfigKeepsStates) {
    set_state(port2_, "inaccessible", 5);
    const json saved = tgt.rpc("save_config");
    ASSERT_TRUE(saved.contains("result"));
    int found = 0;
    for (const auto& sub : saved["result"]["subsystems"]) {
        if (sub["subsystem"] != "nvmf") continue;
        for (const auto& e : sub["config"]) {
            if (e["method"] != "nvmf_subsystem_listener_set_ana_state") continue;
            ++found;
            EXPECT_EQ(e["params"]["anagrpid"], 5);
            EXPECT_EQ(e["params"]["ana_state"], "inaccessible");
            EXPECT_EQ(e["params"]["listen_address"]["trsvcid"], port2_);
        }
    }
    EXPECT_EQ(found, 1);
}

}  // namespace
}  // namespace nvmf::test
