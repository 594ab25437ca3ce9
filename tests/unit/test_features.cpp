// Get/Set Features through the admin table: round trips, SEL, SV, limits,
// discovery restrictions.
#include <gtest/gtest.h>

#include "admin_test_fixture.hpp"
#include "bdev/bdev.hpp"

namespace nvmf::test {
namespace {

constexpr uint32_t sel(uint32_t s) { return s << 8; }
constexpr uint32_t sv = 1u << 31;

class features : public admin_fixture {
protected:
    std::unique_ptr<command> set(uint8_t fid, uint32_t cdw11, uint32_t extra10 = 0,
                                 uint32_t len = 0) {
        return run(spec::admin_opc::set_features, len, fid | extra10, cdw11);
    }
    std::unique_ptr<command> get(uint8_t fid, uint32_t cdw11 = 0, uint32_t extra10 = 0,
                                 uint32_t len = 0) {
        return run(spec::admin_opc::get_features, len, fid | extra10, cdw11);
    }
};

constexpr spec::status invalid = st(spec::sct::generic, spec::sc::invalid_field);

TEST_F(features, arbitration_and_error_recovery_round_trip) {
    make_controller();
    set(spec::feat::arbitration, 0x01020303);
    EXPECT_EQ(last().status, 0);
    get(spec::feat::arbitration);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cdw0, 0x01020303u);
    get(spec::feat::arbitration, 0, sel(1));  // default
    EXPECT_EQ(last().cdw0, 0u);

    set(spec::feat::error_recovery, 0x10);
    get(spec::feat::error_recovery);
    EXPECT_EQ(last().cdw0, 0x10u);
    set(spec::feat::error_recovery, 1u << 16);  // DULBE not supported
    EXPECT_EQ(last().status, invalid);
}

TEST_F(features, power_management_only_ps0) {
    make_controller();
    set(spec::feat::power_management, 0);
    EXPECT_EQ(last().status, 0);
    set(spec::feat::power_management, 1);
    EXPECT_EQ(last().status, invalid);
    get(spec::feat::power_management);
    EXPECT_EQ(last().cdw0, 0u);
}

TEST_F(features, temperature_thresholds) {
    make_controller();
    get(spec::feat::temperature_threshold);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cdw0, 0x157u);
    set(spec::feat::temperature_threshold, 0x160);               // over, composite
    set(spec::feat::temperature_threshold, 0x110 | (1u << 20));  // under
    EXPECT_EQ(last().status, 0);
    get(spec::feat::temperature_threshold);
    EXPECT_EQ(last().cdw0, 0x160u);
    get(spec::feat::temperature_threshold, 1u << 20);
    EXPECT_EQ(last().cdw0, 0x110u);
    get(spec::feat::temperature_threshold, 0, sel(1));
    EXPECT_EQ(last().cdw0, 0x157u);
    set(spec::feat::temperature_threshold, 0x100 | (2u << 20));  // THSEL reserved
    EXPECT_EQ(last().status, invalid);
    set(spec::feat::temperature_threshold, 0x100 | (3u << 16));  // sensor 3 absent
    EXPECT_EQ(last().status, invalid);
}

TEST_F(features, number_of_queues) {
    controller_limits lim;
    lim.max_io_qpairs = 8;
    make_controller(false, lim);
    set(spec::feat::number_of_queues, (3u << 16) | 5u);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cdw0, (3u << 16) | 5u);
    set(spec::feat::number_of_queues, (63u << 16) | 63u);  // capped at 8 queues
    EXPECT_EQ(last().cdw0, (7u << 16) | 7u);
    get(spec::feat::number_of_queues);
    EXPECT_EQ(last().cdw0, (7u << 16) | 7u);
    set(spec::feat::number_of_queues, 0xffffu);
    EXPECT_EQ(last().status, invalid);
    set(spec::feat::number_of_queues, 0xffffu << 16);
    EXPECT_EQ(last().status, invalid);

    // Once an I/O queue exists the answer is a Command Sequence Error.
    auto ioq = std::make_shared<fake_qpair>();
    ioq->owner = &reactors.at(0);
    ioq->qid = 1;
    ASSERT_TRUE(ctrlr->attach_io_qpair(ioq.get()));
    set(spec::feat::number_of_queues, 0);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::command_sequence_error));
    ctrlr->detach_qpair(ioq.get());
}

TEST_F(features, volatile_write_cache_needs_a_cache) {
    make_controller();
    set(spec::feat::volatile_write_cache, 1);
    EXPECT_EQ(last().status, invalid);  // malloc bdevs have no volatile cache
    get(spec::feat::volatile_write_cache);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cdw0, 0u);
    get(spec::feat::volatile_write_cache, 0, sel(3));
    EXPECT_EQ(last().cdw0, 0u);  // not changeable
}

TEST_F(features, async_event_configuration_and_kato) {
    make_controller();
    set(spec::feat::async_event_configuration,
        spec::aer::cfg_ns_attr_notice | spec::aer::cfg_discovery_log_change_notice);
    EXPECT_EQ(last().status, 0);
    get(spec::feat::async_event_configuration);
    EXPECT_EQ(last().cdw0, spec::aer::cfg_ns_attr_notice);  // discovery bit not for NVM ctrlrs

    set(spec::feat::keep_alive_timer, 5000);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(ctrlr->kato_ms, 5000u);
    get(spec::feat::keep_alive_timer);
    EXPECT_EQ(last().cdw0, 5000u);
    set(spec::feat::keep_alive_timer, 1234);  // rounded up to KAS (100 ms)
    EXPECT_EQ(ctrlr->kato_ms, 1300u);
    set(spec::feat::keep_alive_timer, 0);
    EXPECT_EQ(ctrlr->kato_ms, 0u);
}

TEST_F(features, host_identifier) {
    make_controller();
    auto c = get(spec::feat::host_identifier, 1, 0, 16);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(0, std::memcmp(c->buf.data(), test_hostid, 16));
    get(spec::feat::host_identifier, 0, 0, 16);  // EXHID=0: 64-bit ids do not exist on fabrics
    EXPECT_EQ(last().status, invalid);
    set(spec::feat::host_identifier, 1, 0, 16);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::command_sequence_error));
    get(spec::feat::host_identifier, 1, sel(3), 16);
    EXPECT_EQ(last().cdw0, 0u);
}

TEST_F(features, select_and_save) {
    make_controller();
    set(spec::feat::arbitration, 7);
    get(spec::feat::arbitration, 0, sel(2));  // saved = default
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cdw0, 0u);
    get(spec::feat::arbitration, 0, sel(3));
    EXPECT_EQ(last().cdw0, 1u << 2);  // changeable, not saveable, not per namespace
    get(spec::feat::arbitration, 0, sel(4));
    EXPECT_EQ(last().status, invalid);
    set(spec::feat::arbitration, 1, sv);
    EXPECT_EQ(last().status,
              st(spec::sct::command_specific, spec::sc_cmd::feature_id_not_saveable));
    get(spec::feat::arbitration);
    EXPECT_EQ(last().cdw0, 7u);
}

TEST_F(features, unknown_features) {
    make_controller();
    get(spec::feat::lba_range_type);
    EXPECT_EQ(last().status, invalid);
    set(spec::feat::interrupt_coalescing, 0);
    EXPECT_EQ(last().status, invalid);
    get(0xff);
    EXPECT_EQ(last().status, invalid);
}

TEST_F(features, discovery_controller_has_kato_and_aec_only) {
    make_controller(true);
    set(spec::feat::keep_alive_timer, 2000);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(ctrlr->kato_ms, 2000u);
    set(spec::feat::async_event_configuration,
        spec::aer::cfg_discovery_log_change_notice | spec::aer::cfg_ns_attr_notice);
    EXPECT_EQ(last().status, 0);
    get(spec::feat::async_event_configuration);
    EXPECT_EQ(last().cdw0, spec::aer::cfg_discovery_log_change_notice);
    set(spec::feat::number_of_queues, 0);
    EXPECT_EQ(last().status, invalid);
    get(spec::feat::arbitration);
    EXPECT_EQ(last().status, invalid);
}

}  // namespace
}  // namespace nvmf::test
