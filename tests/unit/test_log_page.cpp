// Log pages: the pure builders, the (offset, length) window, and Get Log
// Page through the admin table (NUMD/offset decoding, discovery log from the
// target, Changed Namespace List with RAE, invalid log pages).
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "admin_test_fixture.hpp"
#include "bdev/bdev.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/log.hpp"
#include "nvmf/ana.hpp"
#include "nvmf/cmd/log_builder.hpp"
#include "nvmf/ns.hpp"

namespace nvmf::test {
namespace {

spec::discovery_log_entry entry(const char* nqn, const char* port) {
    spec::discovery_log_entry e{};
    e.trtype = spec::trtype::tcp;
    e.adrfam = spec::adrfam::ipv4;
    e.subtype = spec::subtype::nvme;
    std::strcpy(e.subnqn, nqn);
    std::strcpy(e.traddr, "127.0.0.1");
    std::strcpy(e.trsvcid, port);
    return e;
}

TEST(log_builder, ana_log_groups_and_nsids) {
    const std::vector<cmd::ana_group> groups = {
        {1, static_cast<uint8_t>(ana_state::optimized), {1}},
        {4, static_cast<uint8_t>(ana_state::inaccessible), {2, 7}},
    };
    const auto img = cmd::build_ana_log(groups, 9, false);
    ASSERT_EQ(img.size(), 16u + 32 + 4 + 32 + 8);
    spec::ana_log_header h;
    std::memcpy(&h, img.data(), sizeof(h));
    EXPECT_EQ(h.chgcnt, 9u);
    EXPECT_EQ(h.ngrps, 2);
    spec::ana_group_descriptor d;
    std::memcpy(&d, img.data() + 16, sizeof(d));
    EXPECT_EQ(d.anagrpid, 1u);
    EXPECT_EQ(d.nnsids, 1u);
    EXPECT_EQ(d.chgcnt, 9u);
    EXPECT_EQ(d.state, 0x1);
    uint32_t nsid;
    std::memcpy(&nsid, img.data() + 48, 4);
    EXPECT_EQ(nsid, 1u);
    std::memcpy(&d, img.data() + 52, sizeof(d));
    EXPECT_EQ(d.anagrpid, 4u);
    EXPECT_EQ(d.nnsids, 2u);
    EXPECT_EQ(d.state, 0x3);
    std::memcpy(&nsid, img.data() + 84, 4);
    EXPECT_EQ(nsid, 2u);
    std::memcpy(&nsid, img.data() + 88, 4);
    EXPECT_EQ(nsid, 7u);

    // Return Groups Only: descriptors with NNSIDS 0 and no lists.
    const auto rgo = cmd::build_ana_log(groups, 9, true);
    ASSERT_EQ(rgo.size(), 16u + 2 * 32);
    std::memcpy(&d, rgo.data() + 48, sizeof(d));
    EXPECT_EQ(d.anagrpid, 4u);
    EXPECT_EQ(d.nnsids, 0u);
    EXPECT_EQ(d.state, 0x3);

    const auto empty = cmd::build_ana_log({}, 0, false);
    EXPECT_EQ(empty.size(), 16u);
}

TEST(ana, states_strings_and_io_status) {
    ana_states s(4);
    EXPECT_EQ(s.get(1), ana_state::optimized);
    EXPECT_EQ(s.get(0), ana_state::inaccessible);  // no namespace is in group 0 or past the max
    EXPECT_EQ(s.get(5), ana_state::inaccessible);
    EXPECT_TRUE(s.set(2, ana_state::change));
    EXPECT_FALSE(s.set(2, ana_state::change));
    EXPECT_EQ(s.get(2), ana_state::change);
    EXPECT_EQ(s.get(3), ana_state::optimized);
    EXPECT_TRUE(s.set(0, ana_state::non_optimized));  // every group
    for (uint32_t g = 1; g <= 4; ++g) EXPECT_EQ(s.get(g), ana_state::non_optimized);

    for (auto st : {ana_state::optimized, ana_state::non_optimized, ana_state::inaccessible,
                    ana_state::persistent_loss, ana_state::change}) {
        EXPECT_EQ(ana_state_from_string(to_string(st)), st);
    }
    EXPECT_FALSE(ana_state_from_string("Optimized"));
    EXPECT_FALSE(ana_state_from_string(""));

    EXPECT_EQ(ana_io_status(ana_state::optimized), 0);
    EXPECT_EQ(ana_io_status(ana_state::non_optimized), 0);
    EXPECT_EQ(ana_io_status(ana_state::inaccessible), 0x0604);  // SCT 3h, SC 02h
    EXPECT_EQ(ana_io_status(ana_state::persistent_loss), 0x0602);
    EXPECT_EQ(ana_io_status(ana_state::change), 0x0606);
}

TEST(log_builder, error_log_entries_newest_first) {
    const cmd::error_info errs[] = {{5, 1, 0x22, 0x0005, 3}, {4, 0, 0x11, 0x4005, 0}};
    const auto img = cmd::build_error_log(errs, 8);
    ASSERT_EQ(img.size(), 8u * 64u);
    spec::error_log_entry e0, e1, e2;
    std::memcpy(&e0, img.data(), 64);
    std::memcpy(&e1, img.data() + 64, 64);
    std::memcpy(&e2, img.data() + 128, 64);
    EXPECT_EQ(e0.error_count, 5u);
    EXPECT_EQ(e0.sqid, 1);
    EXPECT_EQ(e0.cid, 0x22);
    EXPECT_EQ(e0.status, 0x0004);  // phase bit dropped
    EXPECT_EQ(e0.nsid, 3u);
    EXPECT_EQ(e0.parm_error_location, 0xffff);
    EXPECT_EQ(e1.error_count, 4u);
    EXPECT_EQ(e1.status, 0x4004);
    EXPECT_EQ(e2.error_count, 0u);
    EXPECT_EQ(img[12], 0x04);  // status at byte 12
}

TEST(log_builder, error_entry_lba_and_parameter_location) {
    spec::sqe cmd{};
    cmd.opc = spec::io_opc::write;
    cmd.cid = 0x1234;
    cmd.nsid = 3;
    cmd.cdw10 = 0x89abcdef;
    cmd.cdw11 = 0x01;
    const auto lba_range = spec::make_status(spec::sct::generic, spec::sc::lba_out_of_range, true);
    auto e = cmd::describe_error(2, cmd, lba_range);
    EXPECT_EQ(e.sqid, 2);
    EXPECT_EQ(e.cid, 0x1234);
    EXPECT_EQ(e.nsid, 3u);
    EXPECT_EQ(e.status, lba_range);
    EXPECT_EQ(e.lba, 0x189abcdefull);
    EXPECT_EQ(e.parm_error_location, 40);  // byte 40: CDW10, SLBA
    const auto field = spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);
    e = cmd::describe_error(2, cmd, field);
    EXPECT_EQ(e.lba, 0x189abcdefull);
    EXPECT_EQ(e.parm_error_location, spec::parm_error_location_none);  // which field: not known
    e = cmd::describe_error(
        2, cmd, spec::make_status(spec::sct::generic, spec::sc::invalid_namespace_or_format, true));
    EXPECT_EQ(e.parm_error_location, 4);
    // Flush has no LBA; an admin command's CDW10 is no LBA either.
    cmd.opc = spec::io_opc::flush;
    EXPECT_EQ(cmd::describe_error(2, cmd, field).lba, 0u);
    cmd.opc = spec::admin_opc::get_log_page;
    e = cmd::describe_error(0, cmd, lba_range);
    EXPECT_EQ(e.lba, 0u);
    EXPECT_EQ(e.parm_error_location, spec::parm_error_location_none);
    e = cmd::describe_error(0, cmd,
                            spec::make_status(spec::sct::generic, spec::sc::invalid_opcode, true));
    EXPECT_EQ(e.parm_error_location, 0);

    // Both land where the spec puts them in the 64-byte entry.
    e.lba = 0x1122334455667788ull;
    e.parm_error_location = 0x0128;
    const auto img = cmd::build_error_log({&e, 1}, 1);
    EXPECT_EQ(img[14], 0x28);
    EXPECT_EQ(img[15], 0x01);
    EXPECT_EQ(img[16], 0x88);
    EXPECT_EQ(img[23], 0x11);
}

TEST(log_builder, health_log_values_and_offsets) {
    cmd::health_input in;
    in.critical_warning = spec::critical_warning::read_only;
    in.controller_busy_minutes = 21;
    in.power_cycles = 3;
    in.power_on_hours = 0x1234;
    in.unsafe_shutdowns = 2;
    in.media_errors = 5;
    in.data_units_read = 0x0102030405060708ull;
    in.data_units_written = 7;
    in.host_read_commands = 11;
    in.host_write_commands = 13;
    in.num_error_log_entries = 2;
    const auto log = cmd::build_health_log(in);
    const auto* raw = reinterpret_cast<const uint8_t*>(&log);
    EXPECT_EQ(raw[0], 8);    // critical warning: read only (bit 3)
    EXPECT_EQ(raw[96], 21);  // controller busy time
    EXPECT_EQ(raw[112], 3);  // power cycles
    EXPECT_EQ(raw[128], 0x34);
    EXPECT_EQ(raw[129], 0x12);
    EXPECT_EQ(raw[144], 2);   // unsafe shutdowns
    EXPECT_EQ(raw[160], 5);   // media and data integrity errors
    EXPECT_EQ(raw[1], 0x41);  // 0x0141 K, little endian at byte 1
    EXPECT_EQ(raw[2], 0x01);
    EXPECT_EQ(raw[3], 100);
    EXPECT_EQ(raw[4], 10);
    EXPECT_EQ(raw[32], 0x08);
    EXPECT_EQ(raw[39], 0x01);
    EXPECT_EQ(raw[40], 0x00);  // upper 64 bits of the 128-bit counter
    EXPECT_EQ(raw[48], 7);
    EXPECT_EQ(raw[64], 11);
    EXPECT_EQ(raw[80], 13);
    EXPECT_EQ(raw[176], 2);
}

TEST(log_builder, firmware_slot_log) {
    const auto log = cmd::build_firmware_slot_log("1.2");
    const auto* raw = reinterpret_cast<const uint8_t*>(&log);
    EXPECT_EQ(raw[0], 1);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(raw + 8), 8), "1.2     ");
    EXPECT_EQ(raw[16], 0);  // slot 2 empty
}

TEST(log_builder, commands_effects_log) {
    const cmd::command_effect admin[] = {{0x06, 0}, {0x18, 0}};
    const cmd::command_effect io[] = {{0x01, spec::cmd_effect::lbcc}, {0x02, 0}};
    const auto log = cmd::build_commands_effects_log(admin, io);
    EXPECT_EQ(log.acs[0x06], 1u);
    EXPECT_EQ(log.acs[0x18], 1u);
    EXPECT_EQ(log.acs[0x09], 0u);
    EXPECT_EQ(log.iocs[0x01], 3u);
    EXPECT_EQ(log.iocs[0x02], 1u);
    uint32_t at_io_write;
    std::memcpy(&at_io_write, reinterpret_cast<const uint8_t*>(&log) + 1024 + 4, 4);
    EXPECT_EQ(at_io_write, 3u);
}

TEST(log_builder, data_units_round_up) {
    EXPECT_EQ(cmd::data_units_from_bytes(0), 0u);
    EXPECT_EQ(cmd::data_units_from_bytes(1), 1u);
    EXPECT_EQ(cmd::data_units_from_bytes(512000), 1u);
    EXPECT_EQ(cmd::data_units_from_bytes(512001), 2u);
}

TEST(log_builder, changed_ns_list) {
    const uint32_t ids[] = {3, 9};
    const auto log = cmd::build_changed_ns_list_log(ids);
    EXPECT_EQ(log.nsid[0], 3u);
    EXPECT_EQ(log.nsid[1], 9u);
    EXPECT_EQ(log.nsid[2], 0u);
}

TEST(log_builder, discovery_log_image) {
    const spec::discovery_log_entry e[] = {entry("nqn.2016-06.io.a:x", "4420"),
                                           entry("nqn.2016-06.io.b:y", "4421")};
    const auto img = cmd::build_discovery_log(e, 42);
    ASSERT_EQ(img.size(), 3u * 1024u);
    spec::discovery_log_header h;
    std::memcpy(&h, img.data(), sizeof(h));
    EXPECT_EQ(h.genctr, 42u);
    EXPECT_EQ(h.numrec, 2u);
    EXPECT_EQ(h.recfmt, 0);
    EXPECT_STREQ(reinterpret_cast<const char*>(img.data() + 1024 + 256), "nqn.2016-06.io.a:x");
    EXPECT_STREQ(reinterpret_cast<const char*>(img.data() + 2048 + 32), "4421");

    const auto empty = cmd::build_discovery_log({}, 1);
    EXPECT_EQ(empty.size(), 1024u);
}

TEST(log_builder, window_reads) {
    std::vector<uint8_t> img(100);
    for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i + 1);
    std::vector<uint8_t> out(16, 0xee);
    EXPECT_EQ(cmd::read_log_window(img, 0, out), 16u);
    EXPECT_EQ(out[0], 1);
    EXPECT_EQ(out[15], 16);
    // Straddling the end: the tail is zero filled.
    EXPECT_EQ(cmd::read_log_window(img, 92, out), 8u);
    EXPECT_EQ(out[0], 93);
    EXPECT_EQ(out[7], 100);
    EXPECT_EQ(out[8], 0);
    EXPECT_EQ(out[15], 0);
    // At the end: all zeroes.
    out.assign(16, 0xee);
    EXPECT_EQ(cmd::read_log_window(img, 100, out), 0u);
    EXPECT_EQ(out[0], 0);
    EXPECT_EQ(cmd::read_log_window(img, 4, std::span<uint8_t>{}), 0u);

    EXPECT_TRUE(cmd::log_offset_valid(100, 0));
    EXPECT_TRUE(cmd::log_offset_valid(100, 100));
    EXPECT_FALSE(cmd::log_offset_valid(100, 104));
    EXPECT_FALSE(cmd::log_offset_valid(100, 2));
}

// --- handler -------------------------------------------------------------

uint32_t glp_cdw10(uint8_t lid, uint32_t bytes, bool rae = false) {
    const uint32_t numd = bytes / 4 - 1;
    return lid | (rae ? spec::glp::rae : 0u) | ((numd & 0xffff) << 16);
}

class log_page_handler : public admin_fixture {
protected:
    std::unique_ptr<command> glp(uint8_t lid, uint32_t bytes, uint64_t offset = 0, bool rae = false,
                                 uint32_t buf_len = 0) {
        const uint32_t numd = bytes / 4 - 1;
        return run(spec::admin_opc::get_log_page, buf_len ? buf_len : bytes,
                   glp_cdw10(lid, bytes, rae), numd >> 16, 0, static_cast<uint32_t>(offset),
                   static_cast<uint32_t>(offset >> 32));
    }
};

// The SMART log's counters of one namespace, or of all when nsid is FFFFFFFFh.
class health_log_handler : public log_page_handler {
protected:
    std::shared_ptr<ns> add_ns(uint32_t nsid, std::shared_ptr<bdev::block_device> dev) {
        ns_params p;
        p.nsid = nsid;
        EXPECT_TRUE(subsys->add_ns(std::move(dev), p));
        return subsys->ns_snapshot()->find(nsid);
    }
    std::unique_ptr<command> smart(uint32_t nsid) {
        return run(spec::admin_opc::get_log_page, 512, glp_cdw10(spec::lid::smart_health, 512), 0,
                   nsid);
    }
};

uint64_t u128_low(const uint8_t (&v)[16]) {
    uint64_t x = 0;
    for (int i = 7; i >= 0; --i) x = x << 8 | v[i];
    for (int i = 8; i < 16; ++i) EXPECT_EQ(v[i], 0) << "upper 64 bits";
    return x;
}

TEST_F(health_log_handler, counters_per_namespace_and_summed_for_the_controller) {
    auto n1 = add_ns(1, bdev::make_malloc("m1", 1024, 512));
    auto n3 = add_ns(3, bdev::make_malloc("m3", 1024, 4096));
    make_controller();
    // Reads on two reactors' slots of ns 1: 300 units and one byte more.
    n1->counters.add_read(0, 512000ull * 150);
    n1->counters.add_read(5, 512000ull * 150 + 1);
    n1->counters.add_write(1, 4096);
    for (int i = 0; i < 99; ++i) n3->counters.add_write(2, 512);
    n3->counters.add_read(70, 512);  // past slot_count: shares a slot, still counted

    auto c = smart(spec::nsid_all);
    ASSERT_EQ(last().status, 0);
    auto log = c->as<spec::smart_health_log>();
    // 153,600,513 bytes in all: the sum is rounded up once (301), not each
    // namespace's (301 + 1).
    EXPECT_EQ(u128_low(log.data_units_read), 301u);
    EXPECT_EQ(u128_low(log.data_units_written), 1u);  // 4096 + 99 x 512 bytes
    EXPECT_EQ(u128_low(log.host_read_commands), 3u);
    EXPECT_EQ(u128_low(log.host_write_commands), 100u);
    EXPECT_EQ(log.critical_warning, 0);
    EXPECT_EQ(log.composite_temperature[0], 0x41);
    EXPECT_EQ(log.available_spare, 100);
    EXPECT_EQ(log.available_spare_threshold, 10);
    // NSID 0 is the controller as well (as before LPA bit 0).
    c = smart(0);
    ASSERT_EQ(last().status, 0);
    EXPECT_EQ(u128_low(c->as<spec::smart_health_log>().host_write_commands), 100u);

    c = smart(1);
    ASSERT_EQ(last().status, 0);
    log = c->as<spec::smart_health_log>();
    EXPECT_EQ(u128_low(log.data_units_read), 301u);
    EXPECT_EQ(u128_low(log.host_read_commands), 2u);
    EXPECT_EQ(u128_low(log.host_write_commands), 1u);
    c = smart(3);
    ASSERT_EQ(last().status, 0);
    EXPECT_EQ(u128_low(c->as<spec::smart_health_log>().host_write_commands), 99u);

    // An NSID that is not active.
    smart(2);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_namespace_or_format));
    smart(9);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_namespace_or_format));
}

// A bdev whose writes fail with `write_result` and whose reads succeed
// (zeroes); optionally opened read-only.
class test_bdev : public bdev::block_device {
public:
    test_bdev(std::string name, bool ro, int write_result)
        : block_device(std::move(name), 512, 1024), ro_(ro), write_result_(write_result) {}
    const char* product_name() const override { return "test bdev"; }
    bool supports(bdev::io_type) const override { return true; }
    bool read_only() const override { return ro_; }
    void submit(bdev::io& io) override {
        finish(io, io.type == bdev::io_type::write ? write_result_ : 0);
    }

private:
    bool ro_;
    int write_result_;
};

TEST_F(health_log_handler, read_only_bdev_sets_the_read_only_warning) {
    add_ns(1, bdev::make_malloc("m1", 1024, 512));
    add_ns(2, std::make_shared<test_bdev>("ro", true, -EROFS));
    make_controller();
    auto c = smart(1);
    ASSERT_EQ(last().status, 0);
    EXPECT_EQ(c->as<spec::smart_health_log>().critical_warning, 0);
    c = smart(2);
    ASSERT_EQ(last().status, 0);
    EXPECT_EQ(c->as<spec::smart_health_log>().critical_warning, spec::critical_warning::read_only);
    c = smart(spec::nsid_all);
    EXPECT_EQ(c->as<spec::smart_health_log>().critical_warning, spec::critical_warning::read_only);
}

TEST_F(health_log_handler, power_on_hours_and_busy_time_start_at_zero) {
    add_ns(1, bdev::make_malloc("m1", 1024, 512));
    make_controller();
    const auto log = smart(spec::nsid_all)->as<spec::smart_health_log>();
    ASSERT_EQ(last().status, 0);
    EXPECT_EQ(u128_low(log.power_on_hours), 0u);  // the target was made a moment ago
    EXPECT_EQ(u128_low(log.controller_busy_time), 0u);
    EXPECT_EQ(u128_low(log.media_errors), 0u);
    EXPECT_EQ(u128_low(log.num_error_log_entries), 0u);
}

// I/O through the NVM command handlers on an I/O queue: what completes is
// counted for its namespace, a failure of the backend is a media error (and a
// critical warning), and every error completion is an error log entry.
class health_io_handler : public health_log_handler {
protected:
    void make_io_queue() {
        ioq_ = std::make_shared<fake_qpair>();
        ioq_->owner = &reactors.at(0);
        ioq_->tgt = &tgt;
        ioq_->qid = 1;
        ioq_->ctrlr = ctrlr;
        ioq_->connected = true;
    }
    // Read or Write of nlb blocks at slba of nsid, through execute().
    uint16_t rw(uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb, uint16_t cid) {
        command c(ioq_.get(), opc, nlb * 512, cid);
        c.req.cmd.nsid = nsid;
        c.req.cmd.cdw10 = static_cast<uint32_t>(slba);
        c.req.cmd.cdw11 = static_cast<uint32_t>(slba >> 32);
        c.req.cmd.cdw12 = nlb - 1;
        ioq_->io_started();  // as execute() does
        cmd::io(c.req);
        EXPECT_EQ(ioq_->completions.back().cid, cid);
        return ioq_->completions.back().status;
    }
    void TearDown() override {
        if (ioq_) ioq_->ctrlr.reset();
        health_log_handler::TearDown();
    }
    std::shared_ptr<fake_qpair> ioq_;
};

TEST_F(health_io_handler, completed_io_errors_and_media_errors) {
    add_ns(1, bdev::make_malloc("m1", 1024, 512));
    add_ns(2, std::make_shared<test_bdev>("bad", false, -EIO));
    make_controller();
    make_io_queue();

    EXPECT_EQ(rw(spec::io_opc::write, 1, 0, 8, 40), 0);
    EXPECT_EQ(rw(spec::io_opc::read, 1, 0, 8, 41), 0);
    EXPECT_EQ(rw(spec::io_opc::read, 1, 0, 2, 42), 0);
    // Refused before the bdev: an error log entry, not a completed command.
    EXPECT_EQ(rw(spec::io_opc::read, 1, 1023, 2, 43),
              st(spec::sct::generic, spec::sc::lba_out_of_range));
    EXPECT_EQ(rw(spec::io_opc::read, 7, 0, 1, 44),
              st(spec::sct::generic, spec::sc::invalid_namespace_or_format));
    // The backend fails the write: a media error.
    EXPECT_EQ(rw(spec::io_opc::write, 2, 5, 1, 45) & 0xfe00,
              spec::make_status(spec::sct::media_error, 0, false) & 0xfe00);

    auto log = smart(1)->as<spec::smart_health_log>();
    EXPECT_EQ(u128_low(log.host_write_commands), 1u);
    EXPECT_EQ(u128_low(log.host_read_commands), 2u);
    EXPECT_EQ(u128_low(log.data_units_read), 1u);  // 5120 bytes, rounded up
    EXPECT_EQ(log.critical_warning, 0);
    EXPECT_EQ(u128_low(log.media_errors), 0u);
    log = smart(2)->as<spec::smart_health_log>();
    EXPECT_EQ(u128_low(log.host_write_commands), 0u);
    EXPECT_EQ(u128_low(log.media_errors), 1u);
    EXPECT_EQ(log.critical_warning, spec::critical_warning::reliability_degraded);
    log = smart(spec::nsid_all)->as<spec::smart_health_log>();
    EXPECT_EQ(u128_low(log.media_errors), 1u);
    EXPECT_EQ(u128_low(log.num_error_log_entries), 3u);

    auto c = glp(spec::lid::error, 3 * 64);
    ASSERT_EQ(last().status, 0);
    spec::error_log_entry e[3];
    std::memcpy(e, c->buf.data(), sizeof(e));
    EXPECT_EQ(e[0].error_count, 3u);  // newest first: the failed write
    EXPECT_EQ(e[0].sqid, 1);
    EXPECT_EQ(e[0].cid, 45);
    EXPECT_EQ(e[0].nsid, 2u);
    EXPECT_EQ(e[0].lba, 5u);
    EXPECT_EQ(spec::status_sct(e[0].status), spec::sct::media_error);
    EXPECT_EQ(e[0].parm_error_location, spec::parm_error_location_none);
    EXPECT_EQ(e[1].cid, 44);
    EXPECT_EQ(e[1].nsid, 7u);
    EXPECT_EQ(e[1].parm_error_location, 4);  // NSID
    EXPECT_EQ(e[2].cid, 43);
    EXPECT_EQ(e[2].lba, 1023u);
    EXPECT_EQ(e[2].parm_error_location, 40);  // SLBA
    EXPECT_EQ(e[2].status, st(spec::sct::generic, spec::sc::lba_out_of_range) & 0xfffe);
}

TEST_F(health_io_handler, busy_time_counts_while_commands_are_outstanding) {
    make_controller();
    make_io_queue();
    ASSERT_TRUE(ctrlr->attach_io_qpair(ioq_.get()));
    EXPECT_EQ(ctrlr->busy_ns(), 0u);
    ioq_->io_started();
    ioq_->io_started();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ioq_->io_finished();
    EXPECT_EQ(ioq_->busy_ns.load(), 0u);  // one still outstanding: the stretch goes on
    ioq_->io_finished();
    const uint64_t busy = ioq_->busy_ns.load();
    EXPECT_GE(busy, 20'000'000u);
    EXPECT_EQ(ctrlr->busy_ns(), busy);
    ioq_->io_finished();  // an unmatched completion changes nothing
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(ioq_->busy_ns.load(), busy);
    // A queue that goes keeps its busy time in the controller's.
    ctrlr->detach_qpair(ioq_.get());
    EXPECT_EQ(ctrlr->busy_ns(), busy);
}

TEST_F(log_page_handler, numdu_and_offset_window) {
    make_controller();
    // 8 bytes of the firmware slot log starting at offset 8: FRS1.
    auto c = glp(spec::lid::firmware_slot, 8, 8);
    ASSERT_EQ(last().status, 0);
    std::string fr = NVMF_VERSION;
    fr.resize(8, ' ');
    EXPECT_EQ(std::string(reinterpret_cast<char*>(c->buf.data()), 8), fr);
    // NUMDU: 0x10000 + 1 dwords requested, more than the log; the rest is zeroes.
    auto big = run(spec::admin_opc::get_log_page, 4096, spec::lid::firmware_slot | (0u << 16), 1);
    ASSERT_EQ(last().status, 0);
    EXPECT_EQ(big->buf[0], 1);  // AFI
    EXPECT_EQ(big->buf[600], 0);
    // Unaligned offset and offset past the end are Invalid Field.
    glp(spec::lid::firmware_slot, 8, 6);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
    glp(spec::lid::firmware_slot, 8, 516);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
    // Offset above 4 GiB (cdw13) too.
    glp(spec::lid::firmware_slot, 8, 1ull << 32);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
}

TEST_F(log_page_handler, short_buffer_gets_prefix) {
    make_controller();
    // NUMD asks for 512 bytes, the buffer holds 4.
    auto c = glp(spec::lid::smart_health, 512, 0, false, 4);
    ASSERT_EQ(last().status, 0);
    EXPECT_EQ(c->buf[1], 0x41);
    EXPECT_EQ(c->buf[3], 100);
}

TEST_F(log_page_handler, unknown_and_misplaced_log_pages) {
    make_controller();
    const auto invalid_log = st(spec::sct::command_specific, spec::sc_cmd::invalid_log_page);
    glp(0x7f, 512);
    EXPECT_EQ(last().status, invalid_log);
    glp(spec::lid::discovery, 1024);  // not on an NVM controller
    EXPECT_EQ(last().status, invalid_log);
}

TEST_F(log_page_handler, error_log_lists_recorded_errors) {
    make_controller();
    ctrlr->record_error(1, 10, spec::make_status(spec::sct::generic, spec::sc::lba_out_of_range),
                        1);
    ctrlr->record_error(2, 11, spec::make_status(spec::sct::generic, spec::sc::invalid_field), 0);
    auto c = glp(spec::lid::error, 128);
    ASSERT_EQ(last().status, 0);
    spec::error_log_entry e[2];
    std::memcpy(e, c->buf.data(), sizeof(e));
    EXPECT_EQ(e[0].error_count, 2u);
    EXPECT_EQ(e[0].sqid, 2);
    EXPECT_EQ(e[0].cid, 11);
    EXPECT_EQ(e[1].error_count, 1u);
    EXPECT_EQ(e[1].status, spec::make_status(spec::sct::generic, spec::sc::lba_out_of_range));
    // Only error_log_entries are kept.
    for (int i = 0; i < 20; ++i) ctrlr->record_error(0, static_cast<uint16_t>(i), 2, 0);
    EXPECT_EQ(ctrlr->error_log().size(), error_log_entries);
    EXPECT_EQ(ctrlr->error_log().front().error_count, 22u);
}

TEST_F(log_page_handler, effects_log_marks_implemented_commands) {
    make_controller();
    auto c = glp(spec::lid::commands_supported_effects, 4096);
    ASSERT_EQ(last().status, 0);
    const auto log = c->as<spec::commands_effects_log>();
    EXPECT_EQ(log.acs[spec::admin_opc::identify], spec::cmd_effect::csupp);
    EXPECT_EQ(log.acs[spec::admin_opc::keep_alive], spec::cmd_effect::csupp);
    EXPECT_EQ(log.acs[spec::admin_opc::abort], spec::cmd_effect::csupp);
    EXPECT_EQ(log.acs[spec::admin_opc::create_io_sq], 0u);
    EXPECT_EQ(log.iocs[spec::io_opc::write], spec::cmd_effect::csupp | spec::cmd_effect::lbcc);
    EXPECT_EQ(log.iocs[spec::io_opc::read], spec::cmd_effect::csupp);
    EXPECT_EQ(log.iocs[spec::io_opc::reservation_register], spec::cmd_effect::csupp);
    EXPECT_EQ(log.iocs[spec::io_opc::reservation_release], spec::cmd_effect::csupp);
    EXPECT_EQ(log.iocs[spec::io_opc::write_uncorrectable], 0u);
}

TEST_F(log_page_handler, changed_ns_list_clears_unless_rae) {
    make_controller();
    ctrlr->note_ns_changed(4);
    ctrlr->note_ns_changed(2);
    ctrlr->note_ns_changed(4);
    auto c = glp(spec::lid::changed_ns_list, 4096, 0, true);
    ASSERT_EQ(last().status, 0);
    auto log = c->as<spec::changed_ns_list_log>();
    EXPECT_EQ(log.nsid[0], 2u);
    EXPECT_EQ(log.nsid[1], 4u);
    EXPECT_EQ(log.nsid[2], 0u);
    c = glp(spec::lid::changed_ns_list, 4096);
    log = c->as<spec::changed_ns_list_log>();
    EXPECT_EQ(log.nsid[0], 2u);
    c = glp(spec::lid::changed_ns_list, 4096);
    log = c->as<spec::changed_ns_list_log>();
    EXPECT_EQ(log.nsid[0], 0u);

    // Overflow: more than 1024 distinct NSIDs become a single FFFFFFFFh.
    for (uint32_t i = 1; i <= 1100; ++i) ctrlr->note_ns_changed(i);
    c = glp(spec::lid::changed_ns_list, 4096);
    log = c->as<spec::changed_ns_list_log>();
    EXPECT_EQ(log.nsid[0], 0xffffffffu);
    EXPECT_EQ(log.nsid[1], 0u);
}

class discovery_log_handler : public log_page_handler {
protected:
    void SetUp() override {
        log_page_handler::SetUp();
        subsys->set_allow_any_host(true);
        ASSERT_TRUE(subsys->add_listener({"TCP", "IPv4", "127.0.0.1", "4420"}).ok());
        subsys->set_state(subsystem_state::active);
        make_controller(true);
    }
};

TEST_F(discovery_log_handler, full_read) {
    auto c = glp(spec::lid::discovery, 3 * 1024);
    ASSERT_EQ(last().status, 0);
    spec::discovery_log_header h;
    std::memcpy(&h, c->buf.data(), sizeof(h));
    EXPECT_EQ(h.genctr, tgt.discovery_genctr());
    EXPECT_EQ(h.numrec, 2u);  // the subsystem and the discovery controller itself
    spec::discovery_log_entry e[2];
    std::memcpy(e, c->buf.data() + 1024, sizeof(e));
    EXPECT_STREQ(e[0].subnqn, test_nqn);
    EXPECT_EQ(e[0].subtype, spec::subtype::nvme);
    EXPECT_STREQ(e[0].traddr, "127.0.0.1");
    EXPECT_STREQ(e[0].trsvcid, "4420");
    EXPECT_EQ(e[0].trtype, spec::trtype::tcp);
    EXPECT_STREQ(e[1].subnqn, spec::discovery_nqn);
    EXPECT_EQ(e[1].subtype, spec::subtype::discovery_current);
}

TEST_F(discovery_log_handler, partial_header_and_entry_reads) {
    tgt.discovery_changed();
    tgt.discovery_changed();
    // 16 bytes: genctr and numrec only.
    auto c = glp(spec::lid::discovery, 16);
    ASSERT_EQ(last().status, 0);
    uint64_t genctr, numrec;
    std::memcpy(&genctr, c->buf.data(), 8);
    std::memcpy(&numrec, c->buf.data() + 8, 8);
    EXPECT_EQ(genctr, 2u);
    EXPECT_EQ(numrec, 2u);
    // numrec alone at offset 8.
    c = glp(spec::lid::discovery, 8, 8);
    std::memcpy(&numrec, c->buf.data(), 8);
    EXPECT_EQ(numrec, 2u);
    // The second entry's subnqn alone.
    c = glp(spec::lid::discovery, 256, 2048 + 256);
    ASSERT_EQ(last().status, 0);
    EXPECT_STREQ(reinterpret_cast<char*>(c->buf.data()), spec::discovery_nqn);
    // Past the end of the log.
    glp(spec::lid::discovery, 16, 4096);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
}

TEST_F(discovery_log_handler, only_discovery_and_error_logs) {
    glp(spec::lid::error, 64);
    EXPECT_EQ(last().status, 0);
    glp(spec::lid::smart_health, 512);
    EXPECT_EQ(last().status, st(spec::sct::command_specific, spec::sc_cmd::invalid_log_page));
    glp(spec::lid::changed_ns_list, 4096);
    EXPECT_EQ(last().status, st(spec::sct::command_specific, spec::sc_cmd::invalid_log_page));
}

}  // namespace
}  // namespace nvmf::test
