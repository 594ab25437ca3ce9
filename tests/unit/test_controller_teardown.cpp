// A controller being torn down (host removed from the allow list, subsystem
// deleted, keep-alive expired): destroy() clears CC.EN at once and closes
// its queues on their reactors a moment later. A command read in between
// must not be answered with a Do Not Retry status (the Linux host fails such
// a command for good, fio saw EIO in tests/interop/run-faults); it goes with
// its queue, as every command outstanding at the teardown, and the host
// retries it once it has reconnected.
#include "admin_test_fixture.hpp"

namespace nvmf::test {
namespace {

class teardown : public admin_fixture {
protected:
    // Runs what was posted or deferred to the reactor.
    void settle() {
        for (int i = 0; i < 4; ++i) reactors.at(0).poll_once(0);
    }
};

TEST_F(teardown, command_after_destroy_goes_with_its_queue) {
    make_controller();
    const uint32_t cc =
        spec::cc::en | (6u << spec::cc::iosqes_shift) | (4u << spec::cc::iocqes_shift);
    ASSERT_EQ(ctrlr->set_property(spec::prop::cc, 0, cc), 0);
    ASSERT_TRUE(ctrlr->enabled());
    auto io = std::make_shared<fake_qpair>();
    io->owner = &reactors.at(0);
    io->tgt = &tgt;
    io->qid = 1;
    io->sqsize = 32;
    io->ctrlr = ctrlr;
    io->connected = true;
    ASSERT_TRUE(ctrlr->attach_io_qpair(io.get()));

    ctrlr->destroy("test");
    EXPECT_FALSE(io->disconnected);  // closed on its reactor, not from here
    command c(io.get(), spec::io_opc::read, 512, 9);
    c.req.cmd.nsid = 1;
    execute(c.req);
    EXPECT_TRUE(io->completions.empty())
        << "answered at once, status 0x" << std::hex << io->completions.front().status;
    settle();
    EXPECT_TRUE(io->disconnected);
    // Completed after its queue closed (a transport drops it), without DNR.
    ASSERT_EQ(io->completions.size(), 1u);
    EXPECT_FALSE(spec::status_dnr(io->completions[0].status));
    io->ctrlr.reset();
}

// A host that sends I/O to a controller it disabled itself (CC.EN=0) still
// gets Command Sequence Error with DNR, as from the Linux target.
TEST_F(teardown, command_to_disabled_controller_is_refused_with_dnr) {
    make_controller();
    auto io = std::make_shared<fake_qpair>();
    io->owner = &reactors.at(0);
    io->tgt = &tgt;
    io->qid = 1;
    io->sqsize = 32;
    io->ctrlr = ctrlr;
    io->connected = true;
    command c(io.get(), spec::io_opc::read, 512, 9);
    c.req.cmd.nsid = 1;
    execute(c.req);
    ASSERT_EQ(io->completions.size(), 1u);
    EXPECT_EQ(io->completions[0].status,
              spec::make_status(spec::sct::generic, spec::sc::command_sequence_error, true));
    EXPECT_FALSE(io->disconnected);
    io->ctrlr.reset();
}

}  // namespace
}  // namespace nvmf::test
