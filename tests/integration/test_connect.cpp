// Fabrics Connect: admin and I/O queues, and every rejection path with the
// Connect Invalid Parameters pointer (IPO/IATTR) into the SQE or the data.
#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

constexpr const char* allowed_host =
    "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
constexpr const char* restricted_nqn = "nqn.2016-06.io.spdk:restricted";

class connect_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        c.bdevs.push_back({"Malloc1", 2048, 512});
        subsystem_cfg s;
        s.nqn = restricted_nqn;
        s.allow_any_host = false;
        s.hosts = {allowed_host};
        s.namespaces.push_back({"Malloc1", 1});
        c.subsystems.push_back(s);
        return c;
    }

    std::unique_ptr<host::queue> raw_queue() {
        auto q = std::make_unique<host::queue>(tgt.queue_opts());
        auto r = q->open("127.0.0.1", tgt.port());
        EXPECT_TRUE(r) << r.err().message;
        return q;
    }

    const std::array<uint8_t, 16> hostid{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x40, 0x70,
                                         0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0};
    const std::string hostnqn =
        "nqn.2014-08.org.nvmexpress:uuid:10203040-5060-4070-8090-a0b0c0d0e0f0";

    // Checks an SCT 1 / SC 82h completion and its IPO/IATTR.
    static void expect_invalid_param(const host::completion& c, uint16_t ipo, uint8_t iattr) {
        EXPECT_EQ(c.sct(), spec::sct::command_specific) << st(c);
        EXPECT_EQ(c.sc(), spec::sc_cmd::connect_invalid_parameters) << st(c);
        spec::connect_invalid_param p;
        std::memcpy(&p, &c.cqe.cdw0, sizeof(p));
        EXPECT_EQ(p.ipo, ipo) << "IPO";
        EXPECT_EQ(p.iattr, iattr) << "IATTR";
    }
};

TEST_F(connect_test, AdminAndFourIoQueues) {
    auto o = tgt.ctrlr_opts();
    o.num_io_queues = 4;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    EXPECT_GE(ctrlr->cntlid(), spec::cntlid_min);
    EXPECT_LE(ctrlr->cntlid(), spec::cntlid_max);
    EXPECT_EQ(ctrlr->data().cntlid, ctrlr->cntlid());
    EXPECT_EQ(ctrlr->io_queue_count(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        auto c = ctrlr->flush(1, i);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->ok()) << st(*c);
    }
}

TEST_F(connect_test, TwoControllersGetDistinctCntlids) {
    auto a = connect();
    auto b = connect();
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->cntlid(), b->cntlid());
}

TEST_F(connect_test, UnknownSubnqnIsInvalidParameterSubnqn) {
    auto q = raw_queue();
    auto c = host::fabrics_connect(*q, 0, 31, 30000, hostid, spec::cntlid_dynamic, hostnqn,
                                   "nqn.2016-06.io.spdk:does-not-exist");
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_data, subnqn), 1);
}

TEST_F(connect_test, HostNotAllowedIsConnectInvalidHost) {
    auto q = raw_queue();
    auto c = host::fabrics_connect(*q, 0, 31, 30000, hostid, spec::cntlid_dynamic, hostnqn,
                                   restricted_nqn);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sct(), spec::sct::command_specific) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc_cmd::connect_invalid_host) << st(*c);
}

TEST_F(connect_test, AllowedHostConnects) {
    auto o = tgt.ctrlr_opts(restricted_nqn);
    o.hostnqn = allowed_host;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    auto c = ctrlr->flush(1);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok()) << st(*c);
}

// spdk_nvme_perf sends an empty HOSTNQN unless its trid names one; SPDK and
// nvmet let it in where any host is allowed, and so do we.
TEST_F(connect_test, EmptyHostnqnConnectsWhereAnyHostIsAllowed) {
    auto o = tgt.ctrlr_opts();
    o.empty_hostnqn = true;
    o.num_io_queues = 2;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    EXPECT_EQ(ctrlr->hostnqn(), "");
    std::vector<uint8_t> out(512, 0x5a), in(512);
    auto w = ctrlr->write(1, 7, 1, out, 1);
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_TRUE(w->ok()) << st(*w);
    auto r = ctrlr->read(1, 7, 1, in, 0);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_TRUE(r->ok()) << st(*r);
    EXPECT_EQ(in, out);
}

TEST_F(connect_test, EmptyHostnqnConnectsToDiscovery) {
    auto o = tgt.ctrlr_opts(spec::discovery_nqn);
    o.empty_hostnqn = true;
    o.num_io_queues = 0;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
}

TEST_F(connect_test, EmptyHostnqnNeverMatchesAnAllowList) {
    auto q = raw_queue();
    auto c =
        host::fabrics_connect(*q, 0, 31, 30000, hostid, spec::cntlid_dynamic, "", restricted_nqn);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sct(), spec::sct::command_specific) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc_cmd::connect_invalid_host) << st(*c);
}

TEST_F(connect_test, EmptySubnqnIsInvalidParameterSubnqn) {
    auto q = raw_queue();
    auto c = host::fabrics_connect(*q, 0, 31, 30000, hostid, spec::cntlid_dynamic, hostnqn, "");
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_data, subnqn), 1);
}

TEST_F(connect_test, AdminSqsizeZeroRejected) {
    auto q = raw_queue();
    auto c =
        host::fabrics_connect(*q, 0, 0, 30000, hostid, spec::cntlid_dynamic, hostnqn, default_nqn);
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_cmd, sqsize), 0);
}

TEST_F(connect_test, AdminSqsizeOverMaxRejected) {
    auto q = raw_queue();
    auto c = host::fabrics_connect(*q, 0, 0xfffe, 30000, hostid, spec::cntlid_dynamic, hostnqn,
                                   default_nqn);
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_cmd, sqsize), 0);
}

TEST_F(connect_test, AdminWithStaticCntlidRejected) {
    // Dynamic controller model: the admin Connect must ask for 0xFFFF.
    auto q = raw_queue();
    auto c = host::fabrics_connect(*q, 0, 31, 30000, hostid, 0x0001, hostnqn, default_nqn);
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_data, cntlid), 1);
}

TEST_F(connect_test, IoQueueUnknownCntlidRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto q = raw_queue();
    const uint16_t bogus = static_cast<uint16_t>(ctrlr->cntlid() + 0x100);
    auto c = host::fabrics_connect(*q, 1, 31, 0, ctrlr->options().hostid, bogus, ctrlr->hostnqn(),
                                   default_nqn);
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_data, cntlid), 1);
}

TEST_F(connect_test, IoQueueOtherHostnqnRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto q = raw_queue();
    auto c = host::fabrics_connect(*q, 1, 31, 0, ctrlr->options().hostid, ctrlr->cntlid(), hostnqn,
                                   default_nqn);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sct(), spec::sct::command_specific) << st(*c);
    EXPECT_TRUE(c->sc() == spec::sc_cmd::connect_invalid_parameters ||
                c->sc() == spec::sc_cmd::connect_invalid_host)
        << st(*c);
}

TEST_F(connect_test, IoQueueQidTooLargeRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto q = raw_queue();
    auto c = ctrlr->connect_io(*q, 1000, 31);
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_cmd, qid), 0);
}

// NVMe-oF: a Connect for a queue that already exists is a Command Sequence
// Error.
TEST_F(connect_test, IoQueueDuplicateQidIsSequenceError) {
    ctrlr = connect();  // I/O queue 1 is connected
    ASSERT_TRUE(ctrlr);
    auto q = raw_queue();
    auto c = ctrlr->connect_io(*q, 1, 31);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sct(), spec::sct::generic) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc::command_sequence_error) << st(*c);
    EXPECT_TRUE(c->dnr()) << st(*c);
}

// Neither the spec nor SPDK/nvmet refuse an I/O queue whose HOSTID differs
// from the admin queue's; the HOSTNQN ties it to the controller.
TEST_F(connect_test, IoQueueOtherHostidAccepted) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto q = raw_queue();
    auto c =
        host::fabrics_connect(*q, 2, 31, 0, hostid, ctrlr->cntlid(), ctrlr->hostnqn(), default_nqn);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok()) << st(*c);
}

TEST_F(connect_test, IoQueueSqsizeZeroRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto q = raw_queue();
    auto c = ctrlr->connect_io(*q, 2, 0);
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_cmd, sqsize), 0);
}

TEST_F(connect_test, IoQueueSqsizeOverMqesRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    const uint16_t mqes = static_cast<uint16_t>(ctrlr->cap() & 0xffff);
    ASSERT_LT(mqes, 0xffff);
    auto q = raw_queue();
    auto c = ctrlr->connect_io(*q, 2, static_cast<uint16_t>(mqes + 1));
    ASSERT_TRUE(c) << c.err().message;
    expect_invalid_param(*c, offsetof(spec::connect_cmd, sqsize), 0);
}

TEST_F(connect_test, IoQueueBeforeEnableRejected) {
    host::controller c(tgt.ctrlr_opts());
    ASSERT_TRUE(c.connect_admin());
    auto q = raw_queue();
    auto r = c.connect_io(*q, 1, 31);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_FALSE(r->ok()) << "I/O queue Connect accepted while CC.EN=0";
}

TEST_F(connect_test, CommandBeforeConnectIsSequenceError) {
    auto q = raw_queue();
    spec::identify_ctrlr id{};
    auto c = q->execute(host::cmd::identify(spec::cns::ctrlr), {}, as_bytes(&id, sizeof(id)));
    if (!c) {
        // Closing the connection is also acceptable; it must not be served.
        SUCCEED() << c.err().message;
        return;
    }
    EXPECT_EQ(c->sct(), spec::sct::generic) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc::command_sequence_error) << st(*c);
}

TEST_F(connect_test, SecondConnectOnSameQueueRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto c = host::fabrics_connect(ctrlr->admin(), 0, 31, 30000, ctrlr->options().hostid,
                                   spec::cntlid_dynamic, ctrlr->hostnqn(), default_nqn);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_FALSE(c->ok());
}

}  // namespace
}  // namespace nvmf::test
