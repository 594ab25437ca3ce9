// What hosts see of control-plane changes: Discovery Log Change events and
// the generation counter when listeners, subsystems and hosts change; the
// allow-list in the discovery log and at Connect; Namespace Attribute
// Changed events with the Changed Namespace List when namespaces come and go.
#include <set>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr const char* me = "nqn.2014-08.org.nvmexpress:uuid:5e5e5e5e-0000-4000-8000-000000000001";
constexpr const char* private_nqn = "nqn.2016-06.io.spdk:private";

class rpc_events_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        c.bdevs.push_back({"Malloc1", 2048, 512});
        subsystem_cfg s;
        s.nqn = private_nqn;
        s.allow_any_host = false;
        s.listen = false;
        c.subsystems.push_back(s);
        return c;
    }

    host::controller_options as_me(const std::string& subnqn) const {
        auto o = tgt.ctrlr_opts(subnqn);
        o.hostnqn = me;
        return o;
    }

    std::set<std::string> visible(host::controller& disc) {
        std::set<std::string> s;
        auto log = host::get_discovery_log(disc);
        EXPECT_TRUE(log) << log.err().message;
        if (!log) return s;
        for (const auto& e : log->entries) {
            if (e.subtype == spec::subtype::nvme) s.insert(host::field_string(e.subnqn, 256));
        }
        return s;
    }

    // Arms one AER for the discovery log; the caller triggers a change, then
    // expect_discovery_event() checks it arrived and re-reads the log (RAE=0
    // re-arms the event).
    uint16_t arm(host::controller& disc) {
        auto cid = disc.submit_aer();
        EXPECT_TRUE(cid) << cid.err().message;
        return cid ? *cid : 0;
    }
    void expect_discovery_event(host::controller& disc, uint16_t cid, uint64_t* genctr,
                                const char* what) {
        auto w = disc.admin().wait(cid, 5000);
        ASSERT_TRUE(w) << what << ": no Discovery Log Change event: " << w.err().message;
        EXPECT_EQ(w->cqe.cdw0 & 0x7, spec::aer::type_notice) << what;
        EXPECT_EQ((w->cqe.cdw0 >> 8) & 0xff, spec::aer::notice_discovery_log_changed) << what;
        EXPECT_EQ((w->cqe.cdw0 >> 16) & 0xff, spec::lid::discovery) << what;
        auto log = host::get_discovery_log(disc);
        ASSERT_TRUE(log) << log.err().message;
        EXPECT_GT(log->genctr, *genctr) << what;
        *genctr = log->genctr;
    }
    static bool ok(const json& r) { return r.contains("result"); }
};

TEST_F(rpc_events_test, DiscoveryLogChangeEventsAndAllowList) {
    auto disc = connect(as_me(spec::discovery_nqn));
    ASSERT_TRUE(disc);
    auto s = disc->set_features(spec::feat::async_event_configuration,
                                spec::aer::cfg_discovery_log_change_notice);
    ASSERT_TRUE(s && s->ok());
    auto log = host::get_discovery_log(*disc);
    ASSERT_TRUE(log);
    uint64_t gen = log->genctr;
    // The private subsystem has no listener yet and we are not on its list.
    EXPECT_EQ(visible(*disc), (std::set<std::string>{default_nqn}));

    uint16_t cid = arm(*disc);
    ASSERT_TRUE(
        ok(tgt.rpc("nvmf_subsystem_add_listener",
                   {{"nqn", private_nqn}, {"listen_address", listen_address(tgt.port())}})));
    expect_discovery_event(*disc, cid, &gen, "add_listener");
    // Listening, but not for us: hidden from our discovery log and refused at Connect.
    EXPECT_EQ(visible(*disc), (std::set<std::string>{default_nqn}));
    EXPECT_FALSE(host::controller::create(as_me(private_nqn)));

    cid = arm(*disc);
    ASSERT_TRUE(ok(tgt.rpc("nvmf_subsystem_add_host", {{"nqn", private_nqn}, {"host", me}})));
    expect_discovery_event(*disc, cid, &gen, "add_host");
    EXPECT_EQ(visible(*disc), (std::set<std::string>{default_nqn, private_nqn}));
    auto c = host::controller::create(as_me(private_nqn));
    ASSERT_TRUE(c) << c.err().message;

    cid = arm(*disc);
    ASSERT_TRUE(ok(tgt.rpc("nvmf_subsystem_remove_host", {{"nqn", private_nqn}, {"host", me}})));
    expect_discovery_event(*disc, cid, &gen, "remove_host");
    EXPECT_EQ(visible(*disc), (std::set<std::string>{default_nqn}));
    EXPECT_TRUE((*c)->admin().wait_closed(5000)) << "controller of a removed host survived";

    cid = arm(*disc);
    ASSERT_TRUE(ok(tgt.rpc("nvmf_subsystem_allow_any_host",
                           {{"nqn", private_nqn}, {"allow_any_host", true}})));
    expect_discovery_event(*disc, cid, &gen, "allow_any_host");
    EXPECT_EQ(visible(*disc), (std::set<std::string>{default_nqn, private_nqn}));

    cid = arm(*disc);
    ASSERT_TRUE(ok(tgt.rpc("nvmf_create_subsystem",
                           {{"nqn", "nqn.2016-06.io.spdk:new"}, {"allow_any_host", true}})));
    ASSERT_TRUE(ok(tgt.rpc(
        "nvmf_subsystem_add_listener",
        {{"nqn", "nqn.2016-06.io.spdk:new"}, {"listen_address", listen_address(tgt.port())}})));
    expect_discovery_event(*disc, cid, &gen, "create_subsystem");
    EXPECT_EQ(visible(*disc),
              (std::set<std::string>{default_nqn, private_nqn, "nqn.2016-06.io.spdk:new"}));

    cid = arm(*disc);
    ASSERT_TRUE(ok(tgt.rpc("nvmf_delete_subsystem", {{"nqn", "nqn.2016-06.io.spdk:new"}})));
    expect_discovery_event(*disc, cid, &gen, "delete_subsystem");
    EXPECT_EQ(visible(*disc), (std::set<std::string>{default_nqn, private_nqn}));

    cid = arm(*disc);
    ASSERT_TRUE(
        ok(tgt.rpc("nvmf_subsystem_remove_listener",
                   {{"nqn", private_nqn}, {"listen_address", listen_address(tgt.port())}})));
    expect_discovery_event(*disc, cid, &gen, "remove_listener");
    EXPECT_EQ(visible(*disc), (std::set<std::string>{default_nqn}));
    c->reset();
}

TEST_F(rpc_events_test, NamespaceAddAndRemoveRaiseChangedNamespaceEvents) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto s =
        ctrlr->set_features(spec::feat::async_event_configuration, spec::aer::cfg_ns_attr_notice);
    ASSERT_TRUE(s && s->ok());
    auto changed_list = [&] {
        std::vector<uint8_t> buf(4096);
        auto l = ctrlr->get_log_page(spec::lid::changed_ns_list, 0, buf);
        EXPECT_TRUE(l && l->ok());
        std::vector<uint32_t> out;
        for (size_t i = 0; i < 1024; ++i) {
            uint32_t v;
            std::memcpy(&v, buf.data() + i * 4, 4);
            if (v == 0) break;
            out.push_back(v);
        }
        return out;
    };
    auto expect_event = [&](uint16_t cid) {
        auto w = ctrlr->admin().wait(cid, 5000);
        ASSERT_TRUE(w) << w.err().message;
        EXPECT_EQ((w->cqe.cdw0 >> 8) & 0xff, spec::aer::notice_ns_attr_changed);
        EXPECT_EQ((w->cqe.cdw0 >> 16) & 0xff, spec::lid::changed_ns_list);
    };

    auto cid = ctrlr->submit_aer();
    ASSERT_TRUE(cid);
    auto r =
        tgt.rpc("nvmf_subsystem_add_ns",
                {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "Malloc1"}, {"nsid", 9}}}});
    ASSERT_TRUE(ok(r)) << r.dump();
    expect_event(*cid);
    EXPECT_EQ(changed_list(), std::vector<uint32_t>{9});
    auto list = ctrlr->active_ns_list();
    ASSERT_TRUE(list);
    EXPECT_EQ(*list, (std::vector<uint32_t>{1, 9}));
    // The new namespace takes I/O at once on the existing queue.
    std::vector<uint8_t> w(512, 0xa5), back(512);
    auto wr = ctrlr->write(9, 7, 1, w);
    ASSERT_TRUE(wr && wr->ok());
    auto rd = ctrlr->read(9, 7, 1, back);
    ASSERT_TRUE(rd && rd->ok());
    EXPECT_EQ(back, w);

    cid = ctrlr->submit_aer();
    ASSERT_TRUE(cid);
    ASSERT_TRUE(ok(tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", 9}})));
    expect_event(*cid);
    EXPECT_EQ(changed_list(), std::vector<uint32_t>{9});
    list = ctrlr->active_ns_list();
    ASSERT_TRUE(list);
    EXPECT_EQ(*list, std::vector<uint32_t>{1});
    // I/O to the removed namespace now fails cleanly; the other one is untouched.
    rd = ctrlr->read(9, 7, 1, back);
    ASSERT_TRUE(rd);
    EXPECT_FALSE(rd->ok());
    rd = ctrlr->read(1, 0, 1, back);
    ASSERT_TRUE(rd && rd->ok());
}

}  // namespace
}  // namespace nvmf::test
