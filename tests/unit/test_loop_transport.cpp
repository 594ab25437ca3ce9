// The loop (in-process) transport drives the whole NVMe layer with nothing
// but the transport contract: Connect, Property Get/Set, Identify, the
// discovery log, I/O with data verified, ANA, errors and teardown, on a real
// target with a started reactor and RAM namespaces. No socket is involved.
#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "host/commands.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/identify.hpp"
#include "nvme/spec/log.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/target.hpp"
#include "transport/loop/loop_transport.hpp"

namespace nvmf::test {
namespace {

constexpr const char* nqn = "nqn.2026-11.io.nvmf-target:loop";
constexpr const char* hostnqn =
    "nqn.2014-08.org.nvmexpress:uuid:7f0c8d1e-1111-4222-8333-444455556666";

class loop_test : public ::testing::Test {
protected:
    void SetUp() override {
        reactors_.start();
        tgt_ = std::make_unique<target>(reactors_);
        transport_options o;
        o.trtype = "LOOP";
        o.max_queue_depth = 16;
        o.max_aq_depth = 32;
        // Through the factory, as an embedding program would.
        auto t = create_transport(*tgt_, o);
        ASSERT_TRUE(t) << t.err().message;
        loop_ = dynamic_cast<loop::loop_transport*>(t->get());
        ASSERT_NE(loop_, nullptr);
        ASSERT_TRUE(tgt_->add_transport(std::move(*t)));
        ASSERT_TRUE(tgt_->bdevs.add(bdev::make_malloc("Malloc0", 2048, 512)));
        subsystem_params p;
        p.allow_any_host = true;
        p.ana_reporting = true;
        p.max_namespaces = 4;
        ASSERT_TRUE(tgt_->create_subsystem(nqn, p));
        ASSERT_TRUE(tgt_->find_subsystem(nqn)->add_ns(tgt_->bdevs.find("Malloc0"), {}));
        ASSERT_TRUE(tgt_->add_listener(nqn, addr_));
        ASSERT_TRUE(tgt_->add_listener(spec::discovery_nqn, addr_));
        ASSERT_TRUE(tgt_->start_subsystem(nqn));
    }
    void TearDown() override {
        io_.reset();
        admin_.reset();
        tgt_.reset();
        reactors_.stop();
    }

    // Fabrics Connect on q; returns the CQE.
    spec::cqe connect(loop::loop_queue& q, const char* subnqn, uint16_t qid, uint16_t cntlid,
                      uint16_t sqsize = 16) {
        spec::connect_data cd{};
        std::memset(cd.hostid, 0x5a, sizeof(cd.hostid));
        cd.cntlid = cntlid;
        std::strcpy(cd.subnqn, subnqn);
        std::strcpy(cd.hostnqn, hostnqn);
        std::vector<uint8_t> data(sizeof(cd));
        std::memcpy(data.data(), &cd, sizeof(cd));
        auto r = q.execute(host::cmd::connect(qid, static_cast<uint16_t>(sqsize - 1), 0, 0), data);
        EXPECT_TRUE(r) << r.err().message;
        return r ? *r : spec::cqe{};
    }

    // Admin queue connected and the controller enabled; returns cntlid.
    uint16_t bring_up(const char* subnqn = nqn) {
        auto q = loop_->connect(addr_);
        EXPECT_TRUE(q) << q.err().message;
        admin_ = std::move(*q);
        const spec::cqe c = connect(*admin_, subnqn, 0, spec::cntlid_dynamic, 32);
        EXPECT_TRUE(spec::status_ok(c.status));
        const uint16_t cntlid = static_cast<uint16_t>(c.cdw0);
        // CC: EN, IOSQES 6, IOCQES 4.
        auto en = admin_->execute(
            host::cmd::property_set(spec::prop::cc, 1 | (6u << 16) | (4u << 20), false));
        EXPECT_TRUE(en && spec::status_ok(en->status));
        return cntlid;
    }

    static spec::status st(result<spec::cqe> r) {
        EXPECT_TRUE(r) << r.err().message;
        return r ? static_cast<spec::status>(r->status & 0xfffe) : spec::status{0xfffe};
    }

    reactor_group reactors_{std::vector<int>{}};
    std::unique_ptr<target> tgt_;
    loop::loop_transport* loop_ = nullptr;
    transport_id addr_{"LOOP", "", "loop0", ""};
    std::unique_ptr<loop::loop_queue> admin_, io_;
};

TEST_F(loop_test, ConnectEnableIdentifyAndVerifiedIo) {
    const uint16_t cntlid = bring_up();
    auto csts = admin_->execute(host::cmd::property_get(spec::prop::csts, false));
    ASSERT_TRUE(csts && spec::status_ok(csts->status));
    EXPECT_EQ(csts->cdw0 & 1u, 1u) << "CSTS.RDY follows CC.EN";

    std::vector<uint8_t> idbuf(4096);
    ASSERT_EQ(st(admin_->execute(host::cmd::identify(spec::cns::ctrlr), idbuf)), 0);
    spec::identify_ctrlr id;
    std::memcpy(&id, idbuf.data(), sizeof(id));
    EXPECT_EQ(id.cntlid, cntlid);
    EXPECT_STREQ(id.subnqn, nqn);
    EXPECT_TRUE(id.cmic & spec::cmic::ana_reporting);

    auto q = loop_->connect(addr_);
    ASSERT_TRUE(q);
    io_ = std::move(*q);
    ASSERT_EQ(spec::status_ok(connect(*io_, nqn, 1, cntlid).status), true);

    std::mt19937 rng(7);
    std::vector<uint8_t> out(8 * 512), in(8 * 512);
    for (auto& b : out) b = static_cast<uint8_t>(rng());
    ASSERT_EQ(st(io_->execute(host::cmd::write(1, 100, 8), out)), 0);
    ASSERT_EQ(st(io_->execute(host::cmd::read(1, 100, 8), in)), 0);
    EXPECT_EQ(in, out);

    // The core's checks answer as on any transport.
    spec::status s = st(io_->execute(host::cmd::read(1, 2047, 2), in));
    EXPECT_EQ(spec::status_sc(s), spec::sc::lba_out_of_range);
    s = st(io_->execute(host::cmd::read(9, 0, 1), std::span<uint8_t>(in).first(512)));
    EXPECT_EQ(spec::status_sc(s), spec::sc::invalid_namespace_or_format);
    s = st(io_->execute(host::cmd::read(1, 0, 2), std::span<uint8_t>(in).first(512)));
    EXPECT_EQ(spec::status_sc(s), spec::sc::data_sgl_length_invalid);
    // A Flush carries no data: a buffer with it is refused by the transport.
    s = st(io_->execute(host::cmd::flush(1), std::span<uint8_t>(in).first(512)));
    EXPECT_EQ(spec::status_sc(s), spec::sc::invalid_field);

    // ANA through the target API: the path goes inaccessible for this controller.
    ASSERT_TRUE(tgt_->set_ana_state(nqn, addr_, 0, ana_state::inaccessible));
    s = st(io_->execute(host::cmd::read(1, 100, 8), in));
    EXPECT_EQ(spec::status_sct(s), spec::sct::path);
    EXPECT_EQ(spec::status_sc(s), spec::sc_path::ana_inaccessible);
}

TEST_F(loop_test, DiscoveryLogListsLoopAddress) {
    bring_up(spec::discovery_nqn);
    std::vector<uint8_t> log(4096);
    ASSERT_EQ(st(admin_->execute(host::cmd::get_log_page(spec::lid::discovery, 0, 4096), log)), 0);
    spec::discovery_log_header h;
    std::memcpy(&h, log.data(), sizeof(h));
    ASSERT_EQ(h.numrec, 2u);  // the subsystem and discovery itself
    spec::discovery_log_entry e;
    std::memcpy(&e, log.data() + sizeof(h), sizeof(e));
    EXPECT_EQ(e.trtype, spec::trtype::intra_host);
    EXPECT_EQ(e.adrfam, spec::adrfam::intra_host);
    EXPECT_STREQ(e.traddr, "loop0");
    EXPECT_STREQ(e.subnqn, nqn);
}

TEST_F(loop_test, RefusalsAndTeardown) {
    // Nothing listens on another name.
    auto none = loop_->connect(transport_id{"LOOP", "", "loop9", ""});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.err().code, -ECONNREFUSED);

    // Commands before Connect: Command Sequence Error.
    auto q = loop_->connect(addr_);
    ASSERT_TRUE(q);
    admin_ = std::move(*q);
    std::vector<uint8_t> idbuf(4096);
    EXPECT_EQ(spec::status_sc(st(admin_->execute(host::cmd::identify(spec::cns::ctrlr), idbuf))),
              spec::sc::command_sequence_error);
    // An I/O Connect for a controller that does not exist.
    auto q2 = loop_->connect(addr_);
    ASSERT_TRUE(q2);
    io_ = std::move(*q2);
    EXPECT_EQ(spec::status_sc(static_cast<spec::status>(connect(*io_, nqn, 1, 77).status & 0xfffe)),
              spec::sc_cmd::connect_invalid_parameters);
    io_.reset();
    admin_.reset();

    // The admin queue closed by the host ends the controller; its I/O queue
    // is disconnected by the target and refuses new commands.
    const uint16_t cntlid = bring_up();
    auto q3 = loop_->connect(addr_);
    ASSERT_TRUE(q3);
    io_ = std::move(*q3);
    ASSERT_TRUE(spec::status_ok(connect(*io_, nqn, 1, cntlid).status));
    auto sub = tgt_->find_subsystem(nqn);
    ASSERT_EQ(sub->controllers().size(), 1u);
    admin_->close();
    for (int i = 0; i < 200 && (io_->connected() || !sub->controllers().empty()); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(sub->controllers().empty());
    EXPECT_FALSE(io_->connected());
    std::vector<uint8_t> buf(512);
    auto r = io_->execute(host::cmd::read(1, 0, 1), buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, -ENOTCONN);
}

TEST_F(loop_test, ConnectToASubsystemNotStartedIsRetryable) {
    const char* later = "nqn.2026-11.io.nvmf-target:later";
    subsystem_params p;
    p.allow_any_host = true;
    ASSERT_TRUE(tgt_->create_subsystem(later, p));
    ASSERT_TRUE(tgt_->add_listener(later, addr_));
    auto q = loop_->connect(addr_);
    ASSERT_TRUE(q);
    admin_ = std::move(*q);
    // Allowed on this address but not active: Controller Busy, and no DNR.
    const spec::cqe busy = connect(*admin_, later, 0, spec::cntlid_dynamic, 32);
    const auto st = static_cast<spec::status>(busy.status & 0xfffe);
    EXPECT_EQ(spec::status_sct(st), spec::sct::command_specific);
    EXPECT_EQ(spec::status_sc(st), spec::sc_cmd::controller_busy);
    EXPECT_FALSE(spec::status_dnr(st));
    // Once started, the same queue connects.
    ASSERT_TRUE(tgt_->start_subsystem(later));
    EXPECT_TRUE(spec::status_ok(connect(*admin_, later, 0, spec::cntlid_dynamic, 32).status));
    // An NQN nobody serves stays a final answer (Invalid Parameters, DNR).
    auto q2 = loop_->connect(addr_);
    ASSERT_TRUE(q2);
    io_ = std::move(*q2);
    const auto none = static_cast<spec::status>(
        connect(*io_, "nqn.2026-11.io.nvmf-target:nobody", 0, spec::cntlid_dynamic, 32).status &
        0xfffe);
    EXPECT_EQ(spec::status_sc(none), spec::sc_cmd::connect_invalid_parameters);
    EXPECT_TRUE(spec::status_dnr(none));
}

TEST_F(loop_test, QueueDepthIsEnforcedAtSubmit) {
    const uint16_t cntlid = bring_up();
    auto q = loop_->connect(addr_);
    ASSERT_TRUE(q);
    io_ = std::move(*q);
    ASSERT_TRUE(spec::status_ok(connect(*io_, nqn, 1, cntlid, 4).status));
    // Park the (only) reactor so nothing completes while we submit.
    std::promise<void> release;
    std::shared_future<void> parked = release.get_future().share();
    reactors_.at(0).post([parked] { parked.wait(); });
    std::atomic<int> completed{0};
    auto done = [](void* ctx, const spec::cqe&) {
        static_cast<std::atomic<int>*>(ctx)->fetch_add(1);
    };
    // An SQ of 4 entries holds four commands; the fifth is refused at submit.
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(io_->submit(host::cmd::flush(1), {}, done, &completed));
    auto fifth = io_->submit(host::cmd::flush(1), {}, done, &completed);
    ASSERT_FALSE(fifth);
    EXPECT_EQ(fifth.err().code, -EBUSY);
    release.set_value();
    for (int i = 0; i < 400 && completed.load() < 4; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(completed.load(), 4);
    // With room again, the next one goes.
    EXPECT_EQ(st(io_->execute(host::cmd::flush(1))), 0);
}

}  // namespace
}  // namespace nvmf::test
