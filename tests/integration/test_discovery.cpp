// Discovery: the log page lists exactly the (subsystem, listener) pairs this
// host may see; GENCTR is stable and changes when the configuration does.
#include <set>
#include <tuple>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

constexpr const char* nqn2 = "nqn.2016-06.io.spdk:cnode2";
constexpr const char* nqn_hidden_host = "nqn.2016-06.io.spdk:hidden";
constexpr const char* nqn_no_listener = "nqn.2016-06.io.spdk:unlistened";

class discovery_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        subsystem_cfg s2;
        s2.nqn = nqn2;
        s2.serial_number = "SPDK002";
        c.subsystems.push_back(s2);
        // Listening, but only for another host: must not be shown to us.
        subsystem_cfg s3;
        s3.nqn = nqn_hidden_host;
        s3.allow_any_host = false;
        s3.hosts = {"nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000abcd"};
        c.subsystems.push_back(s3);
        subsystem_cfg s4;
        s4.nqn = nqn_no_listener;
        s4.listen = false;
        c.subsystems.push_back(s4);
        return c;
    }

    std::set<std::string> nvm_nqns(const host::discovery_log& log) {
        std::set<std::string> s;
        for (const auto& e : log.entries) {
            if (e.subtype == spec::subtype::nvme) s.insert(host::field_string(e.subnqn, 256));
        }
        return s;
    }
};

TEST_F(discovery_test, LogEntriesMatchConfiguredListeners) {
    ctrlr = connect(spec::discovery_nqn);
    ASSERT_TRUE(ctrlr);
    auto log = host::get_discovery_log(*ctrlr);
    ASSERT_TRUE(log) << log.err().message;
    EXPECT_EQ(log->recfmt, 0);
    size_t nvm = 0;
    for (const auto& e : log->entries) {
        const std::string nqn = host::field_string(e.subnqn, 256);
        SCOPED_TRACE(nqn);
        EXPECT_EQ(e.trtype, spec::trtype::tcp);
        EXPECT_EQ(e.adrfam, spec::adrfam::ipv4);
        EXPECT_EQ(host::field_string(e.traddr, 256), "127.0.0.1");
        EXPECT_EQ(host::field_string(e.trsvcid, 32), tgt.port());
        EXPECT_NE(e.treq & 0x3, spec::treq::secure_channel_required);
        EXPECT_EQ(e.tsas[0], spec::tcp_sectype::none);
        if (e.subtype == spec::subtype::nvme) {
            ++nvm;
            EXPECT_EQ(e.cntlid, spec::cntlid_dynamic);
            EXPECT_GT(e.asqsz, 0);
        } else {
            // Only the current discovery subsystem may be listed besides NVM subsystems.
            EXPECT_EQ(e.subtype, spec::subtype::discovery_current);
            EXPECT_EQ(nqn, spec::discovery_nqn);
        }
    }
    EXPECT_EQ(nvm, 2u);
    EXPECT_EQ(nvm_nqns(*log), (std::set<std::string>{default_nqn, nqn2}));
}

TEST_F(discovery_test, IdentifyDiscoveryController) {
    ctrlr = connect(spec::discovery_nqn);
    ASSERT_TRUE(ctrlr);
    const auto& id = ctrlr->data();
    EXPECT_EQ(id.cntrltype, spec::cntrltype::discovery);
    EXPECT_EQ(host::field_string(id.subnqn, 256), spec::discovery_nqn);
    EXPECT_EQ(id.cntlid, ctrlr->cntlid());
    EXPECT_EQ(id.nn, 0u);
}

TEST_F(discovery_test, LogReadInPiecesAtOffsets) {
    ctrlr = connect(spec::discovery_nqn);
    ASSERT_TRUE(ctrlr);
    auto whole = host::get_discovery_log(*ctrlr);
    ASSERT_TRUE(whole) << whole.err().message;
    ASSERT_FALSE(whole->entries.empty());
    // Each entry alone, at its own offset, equals the entry in the whole read.
    for (size_t i = 0; i < whole->entries.size(); ++i) {
        spec::discovery_log_entry e{};
        auto c = ctrlr->get_log_page(spec::lid::discovery, 0, as_bytes(&e, sizeof(e)),
                                     1024 + i * sizeof(e));
        ASSERT_TRUE(c) << c.err().message;
        ASSERT_TRUE(c->ok()) << st(*c);
        EXPECT_EQ(std::memcmp(&e, &whole->entries[i], sizeof(e)), 0) << "entry " << i;
    }
    // A 16-byte read of the header: GENCTR and NUMREC.
    uint64_t head[2] = {};
    auto c = ctrlr->get_log_page(spec::lid::discovery, 0, as_bytes(head, sizeof(head)));
    ASSERT_TRUE(c) << c.err().message;
    ASSERT_TRUE(c->ok()) << st(*c);
    EXPECT_EQ(head[0], whole->genctr);
    EXPECT_EQ(head[1], whole->entries.size());
}

TEST_F(discovery_test, GenctrStableThenChangesWithListener) {
    ctrlr = connect(spec::discovery_nqn);
    ASSERT_TRUE(ctrlr);
    auto a = host::get_discovery_log(*ctrlr);
    auto b = host::get_discovery_log(*ctrlr);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->genctr, b->genctr);

    const auto r =
        tgt.rpc("nvmf_subsystem_add_listener",
                {{"nqn", nqn_no_listener}, {"listen_address", listen_address(tgt.port())}});
    ASSERT_FALSE(r.contains("transport_error")) << r.dump();
    ASSERT_TRUE(r.contains("result")) << r.dump();
    auto c = host::get_discovery_log(*ctrlr);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_GT(c->genctr, a->genctr);
    EXPECT_EQ(nvm_nqns(*c), (std::set<std::string>{default_nqn, nqn2, nqn_no_listener}));
}

TEST_F(discovery_test, IoSubsystemIdentifyThroughDiscoveredEntry) {
    ctrlr = connect(spec::discovery_nqn);
    ASSERT_TRUE(ctrlr);
    auto log = host::get_discovery_log(*ctrlr);
    ASSERT_TRUE(log);
    for (const auto& e : log->entries) {
        if (e.subtype != spec::subtype::nvme) continue;
        auto o = tgt.ctrlr_opts(host::field_string(e.subnqn, 256));
        o.trsvcid = host::field_string(e.trsvcid, 32);
        o.num_io_queues = 0;
        auto c = host::controller::create(o);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_EQ(host::field_string((*c)->data().subnqn, 256), o.subnqn);
        EXPECT_EQ((*c)->data().cntrltype, spec::cntrltype::io);
    }
}

class discovery_listener_only_test : public target_test {
protected:
    daemon_config config() override {
        // The NVM subsystem has no listener: the port is there only for discovery.
        daemon_config c = daemon_config::simple();
        c.subsystems[0].listen = false;
        return c;
    }
};

TEST_F(discovery_listener_only_test, EmptyNvmListAndNoIoConnect) {
    ctrlr = connect(spec::discovery_nqn);
    ASSERT_TRUE(ctrlr);
    auto log = host::get_discovery_log(*ctrlr);
    ASSERT_TRUE(log) << log.err().message;
    for (const auto& e : log->entries) EXPECT_NE(e.subtype, spec::subtype::nvme);
    // The subsystem is not allowed on this address.
    auto o = tgt.ctrlr_opts();
    auto c = host::controller::create(o);
    ASSERT_FALSE(c);
    ASSERT_GT(c.err().code, 0) << c.err().message;
    const auto s = static_cast<spec::status>(c.err().code);
    EXPECT_EQ(spec::status_sct(s), spec::sct::command_specific) << c.err().message;
    EXPECT_EQ(spec::status_sc(s), spec::sc_cmd::connect_invalid_parameters) << c.err().message;
}

}  // namespace
}  // namespace nvmf::test
