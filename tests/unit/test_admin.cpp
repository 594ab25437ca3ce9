// The admin opcode table and its own handlers: invalid opcodes, discovery
// restrictions, Keep Alive, Asynchronous Event Requests (limit, pending
// events, masks, re-arming by Get Log Page) and Abort.
#include <gtest/gtest.h>

#include "admin_test_fixture.hpp"

namespace nvmf::test {
namespace {

class admin_table : public admin_fixture {
protected:
    std::unique_ptr<command> aer() { return run(spec::admin_opc::async_event_request, 0); }
    void enable_ns_notices() {
        run(spec::admin_opc::set_features, 0, spec::feat::async_event_configuration,
            spec::aer::cfg_ns_attr_notice);
        ASSERT_EQ(last().status, 0);
    }
};

TEST_F(admin_table, unsupported_opcodes_are_invalid) {
    make_controller();
    const auto invalid_opc = st(spec::sct::generic, spec::sc::invalid_opcode);
    for (uint8_t opc :
         {spec::admin_opc::create_io_sq, spec::admin_opc::delete_io_cq, spec::admin_opc::format_nvm,
          spec::admin_opc::namespace_management, uint8_t{0xc0}, uint8_t{0xff}}) {
        run(opc, 0);
        EXPECT_EQ(last().status, invalid_opc) << "opcode " << int(opc);
    }
}

TEST_F(admin_table, discovery_rejects_abort) {
    make_controller(true);
    run(spec::admin_opc::abort, 0);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_opcode));
    run(spec::admin_opc::keep_alive, 0);
    EXPECT_EQ(last().status, 0);
    EXPECT_TRUE(cmd::admin_opcode_supported(spec::admin_opc::get_log_page, true));
    EXPECT_FALSE(cmd::admin_opcode_supported(spec::admin_opc::abort, true));
    EXPECT_TRUE(cmd::admin_opcode_supported(spec::admin_opc::abort, false));
}

TEST_F(admin_table, keep_alive_refreshes_timestamp) {
    make_controller();
    ctrlr->last_keep_alive = reactor::clock::time_point{};
    run(spec::admin_opc::keep_alive, 0);
    EXPECT_EQ(last().status, 0);
    EXPECT_GT(ctrlr->last_keep_alive.time_since_epoch().count(), 0);
}

TEST_F(admin_table, fused_admin_command_is_invalid_field) {
    make_controller();
    command c(qp.get(), spec::admin_opc::keep_alive, 0, 99);
    c.req.cmd.flags = 1;
    cmd::admin(c.req);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
}

TEST_F(admin_table, aers_are_held_up_to_the_limit) {
    make_controller();
    std::vector<std::unique_ptr<command>> held;
    held.reserve(aer_limit);
    for (int i = 0; i < aer_limit; ++i) held.push_back(aer());
    EXPECT_TRUE(qp->completions.empty());
    auto extra = aer();
    ASSERT_EQ(qp->completions.size(), 1u);
    EXPECT_EQ(last().cid, extra->req.cmd.cid);
    EXPECT_EQ(last().status,
              st(spec::sct::command_specific, spec::sc_cmd::async_event_request_limit_exceeded));
}

TEST_F(admin_table, event_completes_oldest_aer_and_is_masked_until_log_read) {
    make_controller();
    enable_ns_notices();
    qp->completions.clear();
    auto a1 = aer();
    auto a2 = aer();
    ctrlr->note_ns_changed(3);
    ASSERT_EQ(qp->completions.size(), 1u);
    EXPECT_EQ(last().cid, a1->req.cmd.cid);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cdw0,
              spec::aer::make_cdw0(spec::aer::type_notice, spec::aer::notice_ns_attr_changed,
                                   spec::lid::changed_ns_list));
    // Masked until the Changed Namespace List is read.
    ctrlr->note_ns_changed(4);
    EXPECT_EQ(qp->completions.size(), 1u);
    // RAE=1 leaves it masked.
    run(spec::admin_opc::get_log_page, 4096,
        spec::lid::changed_ns_list | spec::glp::rae | (1023u << 16));
    ctrlr->note_ns_changed(5);
    EXPECT_EQ(qp->completions.size(), 2u);  // only the log page read completed
    run(spec::admin_opc::get_log_page, 4096, spec::lid::changed_ns_list | (1023u << 16));
    EXPECT_EQ(qp->completions.size(), 3u);
    ctrlr->note_ns_changed(6);
    ASSERT_EQ(qp->completions.size(), 4u);
    EXPECT_EQ(last().cid, a2->req.cmd.cid);
}

TEST_F(admin_table, event_without_aer_is_delivered_by_the_next_aer) {
    make_controller();
    enable_ns_notices();
    qp->completions.clear();
    ctrlr->note_ns_changed(1);
    EXPECT_TRUE(qp->completions.empty());
    auto a = aer();
    ASSERT_EQ(qp->completions.size(), 1u);
    EXPECT_EQ(last().cid, a->req.cmd.cid);
    EXPECT_EQ(last().cdw0 & 0xff, spec::aer::type_notice);
    EXPECT_EQ((last().cdw0 >> 16) & 0xff, spec::lid::changed_ns_list);
}

TEST_F(admin_table, disabled_events_are_not_reported) {
    make_controller();
    auto a = aer();
    ctrlr->note_ns_changed(1);  // Asynchronous Event Configuration is 0
    ctrlr->raise_event(spec::aer::type_notice, spec::aer::notice_discovery_log_changed,
                       spec::lid::discovery);
    EXPECT_TRUE(qp->completions.empty());
    // The list still records the change.
    EXPECT_EQ(ctrlr->peek_changed_ns_list(), std::vector<uint32_t>{1});
}

TEST_F(admin_table, discovery_change_event) {
    make_controller(true);
    run(spec::admin_opc::set_features, 0, spec::feat::async_event_configuration,
        spec::aer::cfg_discovery_log_change_notice);
    qp->completions.clear();
    auto a = aer();
    ctrlr->raise_event(spec::aer::type_notice, spec::aer::notice_discovery_log_changed,
                       spec::lid::discovery);
    ASSERT_EQ(qp->completions.size(), 1u);
    EXPECT_EQ(last().cdw0, 0x70f002u);
}

TEST_F(admin_table, abort_aer_by_cid) {
    make_controller();
    auto a = aer();
    const uint16_t cid = a->req.cmd.cid;
    // Abort of something else: not aborted, cdw0 bit 0 = 1.
    run(spec::admin_opc::abort, 0, (uint32_t{500} << 16) | 0);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cdw0, 1u);
    run(spec::admin_opc::abort, 0, (uint32_t{cid} << 16) | 1);  // wrong SQ
    EXPECT_EQ(last().cdw0, 1u);
    const size_t before = qp->completions.size();
    auto ab = run(spec::admin_opc::abort, 0, (uint32_t{cid} << 16) | 0);
    ASSERT_EQ(qp->completions.size(), before + 2);
    const auto& aborted = qp->completions[before];
    EXPECT_EQ(aborted.cid, cid);
    EXPECT_EQ(spec::status_sct(aborted.status), spec::sct::generic);
    EXPECT_EQ(spec::status_sc(aborted.status), spec::sc::aborted_by_request);
    EXPECT_EQ(last().cid, ab->req.cmd.cid);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cdw0, 0u);
}

}  // namespace
}  // namespace nvmf::test
