// Namespace masking through the daemon (issue 16 item 2): a namespace added
// with no_auto_visible is active only for the hosts nvmf_ns_add_host names.
// Two hosts, each with its own NQN: the Identify active list, Identify
// Namespace and I/O of each, the Namespace Attribute Changed event to the
// host whose view changed and to no other, the RPC refusals SPDK gives, and
// save_config with the masking, loaded by a fresh daemon.
#include <cstring>

#include "bdev/bdev.hpp"
#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr uint32_t masked_nsid = 2;

std::string hostnqn_of(int n) {
    return "nqn.2014-08.org.nvmexpress:uuid:" + std::to_string(n) +
           "a0a0a0a-1111-4222-8333-444444444444";
}

class ns_masking_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        c.bdevs.push_back({"Malloc1", 4096, 512});
        return c;
    }

    std::unique_ptr<host::controller> host_n(int n) {
        auto o = tgt.ctrlr_opts();
        o.hostnqn = hostnqn_of(n);
        for (size_t i = 0; i < o.hostid.size(); ++i) o.hostid[i] = static_cast<uint8_t>(n * 16 + i);
        return connect(o);
    }

    json add_masked_ns() {
        return tgt.rpc(
            "nvmf_subsystem_add_ns",
            {{"nqn", default_nqn},
             {"namespace",
              {{"bdev_name", "Malloc1"}, {"nsid", masked_nsid}, {"no_auto_visible", true}}}});
    }
    json ns_host(const char* method, int n, uint32_t nsid = masked_nsid) {
        return tgt.rpc(method, {{"nqn", default_nqn}, {"nsid", nsid}, {"host", hostnqn_of(n)}});
    }

    static std::vector<uint32_t> active(host::controller& c) {
        auto l = c.active_ns_list();
        EXPECT_TRUE(l) << (l ? "" : l.err().message);
        return l ? *l : std::vector<uint32_t>{};
    }
    static spec::status read_st(host::controller& c, uint32_t nsid) {
        std::vector<uint8_t> buf(512);
        auto r = c.read(nsid, 0, 1, buf);
        EXPECT_TRUE(r) << (r ? "" : r.err().message);
        return r ? r->status() : 0xffff;
    }
    // Asks for namespace notices and leaves one AER outstanding.
    static uint16_t arm(host::controller& c) {
        auto s =
            c.set_features(spec::feat::async_event_configuration, spec::aer::cfg_ns_attr_notice);
        EXPECT_TRUE(s && s->ok());
        auto cid = c.submit_aer();
        EXPECT_TRUE(cid);
        return cid ? *cid : 0;
    }
    static void expect_ns_event(host::controller& c, uint16_t cid, const char* what) {
        auto w = c.admin().wait(cid, 5000);
        ASSERT_TRUE(w) << what << ": no event: " << w.err().message;
        EXPECT_EQ(w->cqe.cdw0 & 0x7, spec::aer::type_notice) << what;
        EXPECT_EQ((w->cqe.cdw0 >> 8) & 0xff, spec::aer::notice_ns_attr_changed) << what;
        EXPECT_EQ((w->cqe.cdw0 >> 16) & 0xff, spec::lid::changed_ns_list) << what;
    }
    // The Changed Namespace List (read, so the next change reports again).
    static std::vector<uint32_t> changed_list(host::controller& c) {
        std::vector<uint8_t> buf(4096);
        auto r = c.get_log_page(spec::lid::changed_ns_list, 0xffffffffu, buf);
        EXPECT_TRUE(r && r->ok());
        std::vector<uint32_t> out;
        for (size_t i = 0; i + 4 <= buf.size(); i += 4) {
            uint32_t v;
            std::memcpy(&v, buf.data() + i, 4);
            if (v == 0) break;
            out.push_back(v);
        }
        return out;
    }

    const spec::status invalid_ns_ =
        spec::make_status(spec::sct::generic, spec::sc::invalid_namespace_or_format, true);
};

TEST_F(ns_masking_test, VisibleOnlyToHostsAddedWithEventsToThoseOnly) {
    auto a = host_n(1);
    auto b = host_n(2);
    ASSERT_TRUE(a && b);
    uint16_t acid = arm(*a), bcid = arm(*b);

    // Added hidden: nobody's view changes, nobody is told.
    auto r = add_masked_ns();
    ASSERT_EQ(r["result"], masked_nsid) << r.dump();
    EXPECT_FALSE(a->admin().wait(acid, 300)) << "A was told of a namespace it cannot see";
    EXPECT_EQ(active(*a), std::vector<uint32_t>{1});
    EXPECT_EQ(active(*b), std::vector<uint32_t>{1});
    auto id = b->identify_ns(masked_nsid);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->nsze, 0u);  // inactive: all zeroes
    EXPECT_EQ(read_st(*a, masked_nsid), invalid_ns_);

    // Host A added: A is told and sees it; B is not and does not.
    r = ns_host("nvmf_ns_add_host", 1);
    ASSERT_EQ(r["result"], true) << r.dump();
    expect_ns_event(*a, acid, "A added");
    EXPECT_EQ(changed_list(*a), std::vector<uint32_t>{masked_nsid});
    EXPECT_EQ(active(*a), (std::vector<uint32_t>{1, masked_nsid}));
    id = a->identify_ns(masked_nsid);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->nsze, 4096u);
    EXPECT_EQ(read_st(*a, masked_nsid), 0);
    EXPECT_FALSE(b->admin().wait(bcid, 300)) << "B saw an event for A's change";
    EXPECT_EQ(active(*b), std::vector<uint32_t>{1});
    EXPECT_EQ(read_st(*b, masked_nsid), invalid_ns_);
    EXPECT_EQ(read_st(*b, 1), 0);

    // A host that connects later gets the same view.
    auto a2 = host_n(1);
    ASSERT_TRUE(a2);
    EXPECT_EQ(active(*a2), (std::vector<uint32_t>{1, masked_nsid}));

    // Added again: no change, no event. Removed: A is told, and loses it.
    acid = arm(*a);
    ASSERT_EQ(ns_host("nvmf_ns_add_host", 1)["result"], true);
    EXPECT_FALSE(a->admin().wait(acid, 300)) << "an event for no change";
    ASSERT_EQ(ns_host("nvmf_ns_remove_host", 1)["result"], true);
    expect_ns_event(*a, acid, "A removed");
    EXPECT_EQ(changed_list(*a), std::vector<uint32_t>{masked_nsid});
    EXPECT_EQ(active(*a), std::vector<uint32_t>{1});
    EXPECT_EQ(read_st(*a, masked_nsid), invalid_ns_);
    EXPECT_FALSE(b->admin().wait(bcid, 300)) << "B saw an event for A's change";

    // B added, then the namespace removed: only B's view changes both times.
    acid = arm(*a);
    ASSERT_EQ(ns_host("nvmf_ns_add_host", 2)["result"], true);
    expect_ns_event(*b, bcid, "B added");
    EXPECT_EQ(changed_list(*b), std::vector<uint32_t>{masked_nsid});
    EXPECT_EQ(read_st(*b, masked_nsid), 0);
    bcid = arm(*b);
    r = tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", masked_nsid}});
    ASSERT_EQ(r["result"], true) << r.dump();
    expect_ns_event(*b, bcid, "namespace removed");
    EXPECT_FALSE(a->admin().wait(acid, 300)) << "A was told of a namespace it never saw";
    EXPECT_EQ(active(*b), std::vector<uint32_t>{1});
}

TEST_F(ns_masking_test, RpcRefusalsAsSpdk) {
    ASSERT_EQ(add_masked_ns()["result"], masked_nsid);
    auto code = [](const json& r) {
        return r.contains("error") ? r["error"]["code"].get<int>() : 0;
    };
    auto msg = [](const json& r) {
        return r.contains("error") ? r["error"]["message"].get<std::string>() : r.dump();
    };
    // Namespace 1 is visible to every host: no per-host control (SPDK: -EPERM).
    auto r = ns_host("nvmf_ns_add_host", 1, 1);
    EXPECT_EQ(code(r), -32602) << r.dump();
    EXPECT_NE(msg(r).find("visible to every host"), std::string::npos) << r.dump();
    r = ns_host("nvmf_ns_remove_host", 1, 1);
    EXPECT_EQ(code(r), -32602) << r.dump();
    for (uint32_t nsid : {0u, 3u, 33u}) {
        r = ns_host("nvmf_ns_add_host", 1, nsid);
        EXPECT_EQ(code(r), -32602) << nsid << ": " << r.dump();
    }
    r = tgt.rpc("nvmf_ns_add_host",
                {{"nqn", "nqn.2016-06.io.spdk:none"}, {"nsid", 2}, {"host", hostnqn_of(1)}});
    EXPECT_EQ(code(r), -32602) << r.dump();
    EXPECT_NE(msg(r).find("nqn.2016-06.io.spdk:none"), std::string::npos) << r.dump();
    r = tgt.rpc("nvmf_ns_add_host", {{"nqn", default_nqn}, {"nsid", 2}, {"host", "bad"}});
    EXPECT_EQ(code(r), -32602) << r.dump();
    r = tgt.rpc("nvmf_ns_add_host", {{"nqn", default_nqn}, {"nsid", 2}});
    EXPECT_EQ(code(r), -32602) << r.dump();
    r = tgt.rpc("nvmf_ns_add_host",
                {{"nqn", default_nqn}, {"nsid", 2}, {"host", hostnqn_of(1)}, {"bogus", 1}});
    EXPECT_EQ(code(r), -32602) << r.dump();
    r = tgt.rpc(
        "nvmf_subsystem_add_ns",
        {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "Malloc0"}, {"no_auto_visible", 1}}}});
    EXPECT_NE(code(r), 0) << r.dump();
    // Removing a host never added, with tgt_name as rpc.py -t sends it: fine.
    r = tgt.rpc(
        "nvmf_ns_remove_host",
        {{"nqn", default_nqn}, {"nsid", 2}, {"host", hostnqn_of(3)}, {"tgt_name", "nvmf_tgt"}});
    EXPECT_EQ(r["result"], true) << r.dump();
}

TEST_F(ns_masking_test, SaveConfigKeepsMasking) {
    ASSERT_EQ(add_masked_ns()["result"], masked_nsid);
    ASSERT_EQ(ns_host("nvmf_ns_add_host", 1)["result"], true);
    auto saved = tgt.rpc("save_config");
    ASSERT_TRUE(saved.contains("result")) << saved.dump();
    const json cfg = saved["result"];
    // As SPDK writes it: no_auto_visible in the namespace, then nvmf_ns_add_host.
    bool hidden = false, added = false;
    for (const auto& sub : cfg["subsystems"]) {
        if (sub["subsystem"] != "nvmf") continue;
        for (const auto& e : sub["config"]) {
            if (e["method"] == "nvmf_subsystem_add_ns") {
                const auto& ns = e["params"]["namespace"];
                EXPECT_EQ(ns["no_auto_visible"], ns["nsid"] == masked_nsid) << e.dump();
                hidden = hidden || ns["no_auto_visible"] == true;
            }
            if (e["method"] == "nvmf_ns_add_host") {
                EXPECT_FALSE(added) << "one host was added, one entry: " << e.dump();
                EXPECT_TRUE(hidden) << "nvmf_ns_add_host before its namespace";
                EXPECT_EQ(
                    e["params"],
                    (json{{"nqn", default_nqn}, {"nsid", masked_nsid}, {"host", hostnqn_of(1)}}));
                added = true;
            }
        }
    }
    EXPECT_TRUE(hidden && added) << cfg.dump(2);

    const std::string port = tgt.port();
    ASSERT_TRUE(tgt.stop());
    ASSERT_TRUE(tgt.start_json(cfg, port)) << cfg.dump(2);
    auto again = tgt.rpc("save_config");
    EXPECT_EQ(again["result"], cfg);
    auto a = host_n(1);
    auto b = host_n(2);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(active(*a), (std::vector<uint32_t>{1, masked_nsid}));
    EXPECT_EQ(active(*b), std::vector<uint32_t>{1});
}

}  // namespace
}  // namespace nvmf::test
