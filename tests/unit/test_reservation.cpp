// Reservations as pure rules: the type table for reads and writes, Register /
// Acquire / Release / Preempt and their notices, the Report image, and the
// PTPL file format (SPDK's JSON), including corrupt and truncated files.
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "nvme/spec/reservation.hpp"
#include "nvmf/reservation.hpp"

namespace nvmf::test {
namespace {

using spec::rtype;

host_id host(uint8_t n) {
    host_id h{};
    h.fill(n);
    return h;
}

const host_id host_a = host(0xa1), host_b = host(0xb2), host_c = host(0xc3);

uint32_t reg_cdw10(uint8_t rrega, bool iekey = false, uint8_t cptpl = 0) {
    return rrega | (iekey ? spec::resv::iekey : 0) | (uint32_t{cptpl} << 30);
}
uint32_t acq_cdw10(uint8_t racqa, rtype t, bool iekey = false) {
    return racqa | (iekey ? spec::resv::iekey : 0) | (static_cast<uint32_t>(t) << 8);
}

spec::status do_register(resv_state& s, const host_id& h, uint64_t key) {
    return resv_register(s, h, reg_cdw10(spec::resv::rrega_register), {0, key}, false).status;
}
resv_outcome do_acquire(resv_state& s, const host_id& h, uint64_t crkey, rtype t,
                        uint8_t racqa = spec::resv::racqa_acquire, uint64_t prkey = 0) {
    return resv_acquire(s, h, acq_cdw10(racqa, t), {crkey, prkey});
}

const spec::status conflict = resv_conflict();
const spec::status invalid_field =
    spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);

constexpr uint8_t rd = spec::io_opc::read, wr = spec::io_opc::write;

// NVM Command Set's table: for each type, whether a non-registrant and a
// registrant (not the holder) may read and write. The holder may do both.
struct row {
    rtype t;
    bool nonreg_read, nonreg_write, reg_read, reg_write;
};
constexpr row type_table[] = {
    {rtype::write_exclusive, true, false, true, false},
    {rtype::exclusive_access, false, false, false, false},
    {rtype::write_exclusive_reg_only, true, false, true, true},
    {rtype::exclusive_access_reg_only, false, false, true, true},
    {rtype::write_exclusive_all_regs, true, false, true, true},
    {rtype::exclusive_access_all_regs, false, false, true, true},
};

TEST(Reservation, TypeTable) {
    for (const row& r : type_table) {
        SCOPED_TRACE(static_cast<int>(r.t));
        resv_state s;
        ASSERT_EQ(do_register(s, host_a, 1), 0);
        ASSERT_EQ(do_register(s, host_b, 2), 0);
        ASSERT_EQ(do_acquire(s, host_a, 1, r.t).status, 0);
        // Holder: everything.
        for (uint8_t opc : {rd, wr, spec::io_opc::write_zeroes, spec::io_opc::flush}) {
            EXPECT_EQ(resv_access(s, host_a, opc), 0);
        }
        auto expect = [&](const host_id& h, uint8_t opc, bool allowed) {
            EXPECT_EQ(resv_access(s, h, opc), allowed ? 0 : conflict) << int(opc);
        };
        expect(host_c, rd, r.nonreg_read);
        expect(host_c, spec::io_opc::compare, r.nonreg_read);
        expect(host_c, wr, r.nonreg_write);
        expect(host_c, spec::io_opc::write_zeroes, r.nonreg_write);
        expect(host_c, spec::io_opc::dataset_management, r.nonreg_write);
        expect(host_c, spec::io_opc::flush, r.nonreg_write);
        expect(host_b, rd, r.reg_read);
        expect(host_b, wr, r.reg_write);
        // Reservation commands are not in either group.
        expect(host_c, spec::io_opc::reservation_report, true);
    }
    resv_state none;
    EXPECT_EQ(resv_access(none, host_c, wr), 0);
}

TEST(Reservation, RegisterUnregisterReplace) {
    resv_state s;
    EXPECT_EQ(do_register(s, host_a, 0), invalid_field);  // zero key
    EXPECT_EQ(do_register(s, host_a, 5), 0);
    EXPECT_EQ(s.generation, 1u);
    EXPECT_EQ(do_register(s, host_a, 5), 0);         // same key again
    EXPECT_EQ(do_register(s, host_a, 6), conflict);  // another key
    // Replace with the wrong key, then with IEKEY.
    EXPECT_EQ(resv_register(s, host_a, reg_cdw10(2), {9, 7}, false).status, conflict);
    EXPECT_EQ(resv_register(s, host_a, reg_cdw10(2, true), {9, 7}, false).status, 0);
    EXPECT_EQ(s.find(host_a)->rkey, 7u);
    // Replace by a host not registered: only with IEKEY, which registers it.
    EXPECT_EQ(resv_register(s, host_b, reg_cdw10(2), {0, 8}, false).status, conflict);
    EXPECT_EQ(resv_register(s, host_b, reg_cdw10(2, true), {0, 8}, false).status, 0);
    EXPECT_TRUE(s.registered(host_b));
    // Unregister: key checked unless IEKEY.
    EXPECT_EQ(resv_register(s, host_a, reg_cdw10(1), {1, 0}, false).status, conflict);
    EXPECT_EQ(resv_register(s, host_a, reg_cdw10(1), {7, 0}, false).status, 0);
    EXPECT_FALSE(s.registered(host_a));
    EXPECT_EQ(resv_register(s, host_a, reg_cdw10(1, true), {0, 0}, false).status, conflict);
    EXPECT_EQ(resv_register(s, host_b, reg_cdw10(3), {0, 1}, false).status, invalid_field);
    // CPTPL: reserved value, set without a file, set and clear with one.
    EXPECT_EQ(resv_register(s, host_b, reg_cdw10(0, false, 1), {0, 8}, true).status, invalid_field);
    EXPECT_EQ(resv_register(s, host_b, reg_cdw10(0, false, 3), {0, 8}, false).status,
              invalid_field);
    EXPECT_EQ(resv_register(s, host_b, reg_cdw10(0, false, 3), {0, 8}, true).status, 0);
    EXPECT_TRUE(s.ptpl);
    EXPECT_EQ(resv_register(s, host_b, reg_cdw10(0, false, 2), {0, 8}, true).status, 0);
    EXPECT_FALSE(s.ptpl);
}

TEST(Reservation, RegistrantLimit) {
    resv_state s;
    for (size_t i = 0; i < resv_max_registrants; ++i) {
        ASSERT_EQ(do_register(s, host(static_cast<uint8_t>(i + 1)), 1), 0);
    }
    EXPECT_NE(do_register(s, host(0xee), 1), 0);
    EXPECT_EQ(s.regs.size(), resv_max_registrants);
}

TEST(Reservation, AcquireRelease) {
    resv_state s;
    // Not registered, or the wrong key: conflict.
    EXPECT_EQ(do_acquire(s, host_a, 1, rtype::write_exclusive).status, conflict);
    ASSERT_EQ(do_register(s, host_a, 1), 0);
    ASSERT_EQ(do_register(s, host_b, 2), 0);
    EXPECT_EQ(do_acquire(s, host_a, 9, rtype::write_exclusive).status, conflict);
    // Bad type, IEKEY, bad action.
    EXPECT_EQ(resv_acquire(s, host_a, acq_cdw10(0, rtype::none), {1, 0}).status, invalid_field);
    EXPECT_EQ(resv_acquire(s, host_a, 0x700 | 0, {1, 0}).status, invalid_field);
    EXPECT_EQ(resv_acquire(s, host_a, acq_cdw10(0, rtype::write_exclusive, true), {1, 0}).status,
              invalid_field);
    EXPECT_EQ(resv_acquire(s, host_a, acq_cdw10(3, rtype::write_exclusive), {1, 0}).status,
              invalid_field);
    const uint32_t gen = s.generation;
    EXPECT_EQ(do_acquire(s, host_a, 1, rtype::write_exclusive).status, 0);
    EXPECT_EQ(s.generation, gen);  // Acquire does not move PRGEN
    EXPECT_EQ(do_acquire(s, host_a, 1, rtype::write_exclusive).status, 0);  // again: no-op
    EXPECT_EQ(do_acquire(s, host_a, 1, rtype::exclusive_access).status, conflict);
    EXPECT_EQ(do_acquire(s, host_b, 2, rtype::write_exclusive).status, conflict);
    // Release: wrong key conflicts, another host's release does nothing,
    // the wrong type is Invalid Field.
    EXPECT_EQ(resv_release(s, host_a, acq_cdw10(0, rtype::write_exclusive), {3}).status, conflict);
    EXPECT_EQ(resv_release(s, host_b, acq_cdw10(0, rtype::write_exclusive), {2}).status, 0);
    EXPECT_EQ(s.type, rtype::write_exclusive);
    EXPECT_EQ(resv_release(s, host_a, acq_cdw10(0, rtype::exclusive_access), {1}).status,
              invalid_field);
    auto o = resv_release(s, host_a, acq_cdw10(0, rtype::write_exclusive), {1});
    EXPECT_EQ(o.status, 0);
    EXPECT_EQ(s.type, rtype::none);
    EXPECT_TRUE(o.notices.empty());  // types 1 and 2 notify nobody
}

TEST(Reservation, ReleaseOfRegistrantsOnlyNotifiesOthers) {
    resv_state s;
    ASSERT_EQ(do_register(s, host_a, 1), 0);
    ASSERT_EQ(do_register(s, host_b, 2), 0);
    ASSERT_EQ(do_acquire(s, host_a, 1, rtype::write_exclusive_reg_only).status, 0);
    auto o = resv_release(s, host_a, acq_cdw10(0, rtype::write_exclusive_reg_only), {1});
    ASSERT_EQ(o.status, 0);
    ASSERT_EQ(o.notices.size(), 1u);
    EXPECT_EQ(o.notices[0].hostid, host_b);
    EXPECT_EQ(o.notices[0].type, spec::resv_notice::reservation_released);
    // Unregistering the holder releases it too.
    ASSERT_EQ(do_acquire(s, host_a, 1, rtype::exclusive_access_reg_only).status, 0);
    o = resv_register(s, host_a, reg_cdw10(1), {1, 0}, false);
    ASSERT_EQ(o.status, 0);
    EXPECT_EQ(s.type, rtype::none);
    ASSERT_EQ(o.notices.size(), 1u);
    EXPECT_EQ(o.notices[0].type, spec::resv_notice::reservation_released);
}

TEST(Reservation, AllRegistrantsHoldTogether) {
    resv_state s;
    ASSERT_EQ(do_register(s, host_a, 1), 0);
    ASSERT_EQ(do_register(s, host_b, 2), 0);
    ASSERT_EQ(do_acquire(s, host_a, 1, rtype::exclusive_access_all_regs).status, 0);
    EXPECT_TRUE(s.holds(host_b));
    EXPECT_EQ(do_acquire(s, host_b, 2, rtype::exclusive_access_all_regs).status, 0);
    // The acquirer leaving does not end it; the last registrant does.
    ASSERT_EQ(resv_register(s, host_a, reg_cdw10(1), {1, 0}, false).status, 0);
    EXPECT_EQ(s.type, rtype::exclusive_access_all_regs);
    EXPECT_EQ(s.holder, host_b);
    ASSERT_EQ(resv_register(s, host_b, reg_cdw10(1), {2, 0}, false).status, 0);
    EXPECT_EQ(s.type, rtype::none);
}

TEST(Reservation, PreemptHolder) {
    resv_state s;
    ASSERT_EQ(do_register(s, host_a, 1), 0);
    ASSERT_EQ(do_register(s, host_b, 2), 0);
    ASSERT_EQ(do_register(s, host_c, 2), 0);
    ASSERT_EQ(do_acquire(s, host_b, 2, rtype::write_exclusive).status, 0);
    const uint32_t gen = s.generation;
    auto o = do_acquire(s, host_a, 1, rtype::exclusive_access, spec::resv::racqa_preempt_abort, 2);
    ASSERT_EQ(o.status, 0);
    EXPECT_EQ(s.generation, gen + 1);
    EXPECT_EQ(s.type, rtype::exclusive_access);
    EXPECT_EQ(s.holder, host_a);
    EXPECT_FALSE(s.registered(host_b));
    EXPECT_FALSE(s.registered(host_c));  // same key: preempted too
    EXPECT_EQ(o.preempted.size(), 2u);
    ASSERT_GE(o.notices.size(), 2u);
    EXPECT_EQ(o.notices[0].type, spec::resv_notice::registration_preempted);
}

TEST(Reservation, PreemptCases) {
    // No reservation: PRKEY unregisters, an unknown PRKEY conflicts.
    resv_state s;
    ASSERT_EQ(do_register(s, host_a, 1), 0);
    ASSERT_EQ(do_register(s, host_b, 2), 0);
    EXPECT_EQ(do_acquire(s, host_a, 1, rtype::write_exclusive, 1, 9).status, conflict);
    EXPECT_EQ(do_acquire(s, host_a, 1, rtype::write_exclusive, 1, 2).status, 0);
    EXPECT_FALSE(s.registered(host_b));
    EXPECT_EQ(s.type, rtype::none);
    // Holder preempting itself changes the type.
    ASSERT_EQ(do_register(s, host_b, 2), 0);
    ASSERT_EQ(do_acquire(s, host_a, 1, rtype::write_exclusive_reg_only).status, 0);
    auto o = do_acquire(s, host_a, 1, rtype::exclusive_access_reg_only, 1, 0);
    ASSERT_EQ(o.status, 0);
    EXPECT_EQ(s.type, rtype::exclusive_access_reg_only);
    ASSERT_EQ(o.notices.size(), 1u);  // B: reservation released (type changed)
    EXPECT_EQ(o.notices[0].type, spec::resv_notice::reservation_released);
    // A non-holder with PRKEY 0 on types 1-4: Invalid Field.
    EXPECT_EQ(do_acquire(s, host_b, 2, rtype::write_exclusive, 1, 0).status, invalid_field);
    // A non-holder with a key that is not the holder's: unregisters those.
    ASSERT_EQ(do_register(s, host_c, 3), 0);
    EXPECT_EQ(do_acquire(s, host_b, 2, rtype::write_exclusive, 1, 3).status, 0);
    EXPECT_FALSE(s.registered(host_c));
    EXPECT_EQ(s.holder, host_a);
    // All registrants, PRKEY 0: everyone else goes, a new reservation.
    resv_state t;
    ASSERT_EQ(do_register(t, host_a, 1), 0);
    ASSERT_EQ(do_register(t, host_b, 2), 0);
    ASSERT_EQ(do_register(t, host_c, 3), 0);
    ASSERT_EQ(do_acquire(t, host_a, 1, rtype::write_exclusive_all_regs).status, 0);
    o = do_acquire(t, host_b, 2, rtype::exclusive_access, 2, 0);
    ASSERT_EQ(o.status, 0);
    EXPECT_EQ(t.type, rtype::exclusive_access);
    EXPECT_EQ(t.holder, host_b);
    EXPECT_EQ(t.regs.size(), 1u);
    EXPECT_EQ(o.preempted.size(), 2u);
}

TEST(Reservation, ClearNotifiesOthersOfPreemption) {
    resv_state s;
    ASSERT_EQ(do_register(s, host_a, 1), 0);
    ASSERT_EQ(do_register(s, host_b, 2), 0);
    ASSERT_EQ(do_acquire(s, host_a, 1, rtype::write_exclusive).status, 0);
    EXPECT_EQ(resv_release(s, host_b, 1, {9}).status, conflict);
    auto o = resv_release(s, host_b, 1, {2});
    ASSERT_EQ(o.status, 0);
    EXPECT_TRUE(s.regs.empty());
    EXPECT_EQ(s.type, rtype::none);
    ASSERT_EQ(o.notices.size(), 1u);
    EXPECT_EQ(o.notices[0].hostid, host_a);
    EXPECT_EQ(o.notices[0].type, spec::resv_notice::reservation_preempted);
}

TEST(Reservation, ReportImage) {
    resv_state s;
    ASSERT_EQ(do_register(s, host_a, 0x1111), 0);
    ASSERT_EQ(do_register(s, host_b, 0x2222), 0);
    ASSERT_EQ(do_acquire(s, host_b, 0x2222, rtype::exclusive_access_reg_only).status, 0);
    s.ptpl = true;
    const auto ext = build_resv_report(s, true);
    ASSERT_EQ(ext.size(), 64u + 2 * 64u);
    spec::resv_status_header h{};
    std::memcpy(&h, ext.data(), sizeof(h));
    EXPECT_EQ(h.gen, 2u);
    EXPECT_EQ(h.rtype, 4);
    EXPECT_EQ(static_cast<int>(h.regctl), 2);
    EXPECT_EQ(h.ptpls, 1);
    spec::registered_ctrlr_ext e{};
    std::memcpy(&e, ext.data() + 64 + 64, sizeof(e));
    EXPECT_EQ(e.cntlid, 0xffff);
    EXPECT_EQ(e.rcsts, 1);
    EXPECT_EQ(e.rkey, 0x2222u);
    EXPECT_EQ(0, std::memcmp(e.hostid, host_b.data(), 16));
    std::memcpy(&e, ext.data() + 64, sizeof(e));
    EXPECT_EQ(e.rcsts, 0);
    const auto small = build_resv_report(s, false);
    ASSERT_EQ(small.size(), 24u + 2 * 24u);
    spec::registered_ctrlr r{};
    std::memcpy(&r, small.data() + 24 + 24, sizeof(r));
    EXPECT_EQ(r.rkey, 0x2222u);
    EXPECT_EQ(r.rcsts, 1);
}

const bdev::uuid_t bdev_id = {1, 2, 3, 4, 5, 6, 0x47, 8, 0x89, 10, 11, 12, 13, 14, 15, 16};

TEST(Reservation, PtplRoundTrip) {
    resv_state s;
    ASSERT_EQ(do_register(s, host_a, 0x1111), 0);
    ASSERT_EQ(do_register(s, host_b, 0xffffffffffffffffull), 0);
    ASSERT_EQ(do_acquire(s, host_b, 0xffffffffffffffffull, rtype::write_exclusive).status, 0);
    s.ptpl = true;
    const std::string text = resv_to_ptpl_json(s, bdev_id);
    EXPECT_NE(text.find("\"holder_uuid\""), std::string::npos);
    auto back = resv_from_ptpl_json(text, bdev_id);
    ASSERT_TRUE(back) << back.err().message;
    EXPECT_EQ(back->regs, s.regs);
    EXPECT_EQ(back->type, s.type);
    EXPECT_EQ(back->holder, s.holder);
    EXPECT_TRUE(back->ptpl);
}

TEST(Reservation, PtplSpdkFile) {
    // As SPDK's nvmf_ns_reservation_store_json writes it (types 5/6 have the
    // first registrant as holder).
    const std::string spdk = R"({
  "ptpl": true,
  "rtype": 6,
  "crkey": 10,
  "bdev_uuid": "01020304-0506-4708-890a-0b0c0d0e0f10",
  "holder_uuid": "a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1",
  "registrants": [
    {"rkey": 10, "host_uuid": "a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1"},
    {"rkey": 20, "host_uuid": "b2b2b2b2-b2b2-b2b2-b2b2-b2b2b2b2b2b2"}
  ]
})";
    auto s = resv_from_ptpl_json(spdk, bdev_id);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(s->type, rtype::exclusive_access_all_regs);
    EXPECT_TRUE(s->holds(host_b));
    EXPECT_EQ(s->regs.size(), 2u);
    // "ptpl": false or an empty file (SPDK's cleared file): no state.
    auto off = resv_from_ptpl_json(
        R"({"ptpl":false,"bdev_uuid":"01020304-0506-4708-890a-0b0c0d0e0f10","registrants":[]})",
        bdev_id);
    ASSERT_TRUE(off);
    EXPECT_TRUE(off->regs.empty());
    EXPECT_TRUE(resv_from_ptpl_json("", bdev_id));
}

TEST(Reservation, PtplCorruptFilesAreErrors) {
    resv_state s;
    ASSERT_EQ(do_register(s, host_a, 1), 0);
    ASSERT_EQ(do_acquire(s, host_a, 1, rtype::exclusive_access).status, 0);
    s.ptpl = true;
    const std::string good = resv_to_ptpl_json(s, bdev_id);
    // Every truncation of a good file is refused, never half loaded.
    for (size_t n = 1; n + 2 < good.size(); ++n) {
        auto r = resv_from_ptpl_json(good.substr(0, n), bdev_id);
        EXPECT_FALSE(r) << "accepted a file cut at " << n;
    }
    const bdev::uuid_t other{};
    EXPECT_FALSE(resv_from_ptpl_json(good, other));
    auto bad = [&](const std::string& text, const char* why) {
        auto r = resv_from_ptpl_json(text, bdev_id);
        EXPECT_FALSE(r) << why;
        if (!r) EXPECT_FALSE(r.err().message.empty());
    };
    const std::string head = R"({"ptpl":true,"bdev_uuid":"01020304-0506-4708-890a-0b0c0d0e0f10",)";
    const std::string ra = R"({"rkey":1,"host_uuid":"a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1"})";
    bad("[1,2]", "array");
    bad(head + R"("registrants":[]})" + "x", "trailing garbage");
    bad(head + R"("rtype":7,"registrants":[]})", "type 7");
    bad(head + R"("rtype":1,"registrants":[]})", "reservation without registrants");
    bad(head + R"("rtype":1,"crkey":1,"registrants":[)" + ra + "]}", "no holder_uuid");
    bad(head +
            R"("rtype":1,"crkey":2,"holder_uuid":"a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1","registrants":[)" +
            ra + "]}",
        "crkey not the holder's");
    bad(head + R"("registrants":[)" + ra + "," + ra + "]}", "duplicate host");
    bad(head + R"("registrants":[{"rkey":-1,"host_uuid":"a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1"}]})",
        "negative key");
    bad(head + R"("registrants":[{"rkey":1,"host_uuid":"nope"}]})", "bad uuid");
    bad(head + R"("registrants":[], "extra": 1})", "unknown key");
    std::string many = head + R"("registrants":[)";
    for (int i = 0; i < 17; ++i) {
        char u[64];
        std::snprintf(u, sizeof(u), "%08x-0000-4000-8000-000000000000", i + 1);
        many += std::string(i ? "," : "") + R"({"rkey":1,"host_uuid":")" + u + "\"}";
    }
    bad(many + "]}", "17 registrants");
}

}  // namespace
}  // namespace nvmf::test
