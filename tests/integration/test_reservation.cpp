// Reservations through the daemon (issue 16): Register / Acquire / Release /
// Report from two hosts with their own host identifiers and a third that
// never registers, every reservation type's rule for reads and writes, the
// statuses of bad commands, notifications (log page 80h and its event) and
// their mask, preempt and abort, a reconnecting host keeping its reservation,
// and the PTPL file: restored after SIGKILL and restart, refused when corrupt,
// kept by save_config.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "bdev/bdev.hpp"
#include "daemon_fixture.hpp"
#include "nvme/spec/reservation.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;
using spec::rtype;

constexpr uint32_t nsid = 1;
constexpr uint8_t rrega_register = 0, rrega_unregister = 1;
constexpr uint8_t racqa_acquire = 0, racqa_preempt = 1, racqa_preempt_abort = 2;
constexpr uint8_t rrela_release = 0, rrela_clear = 1;

std::array<uint8_t, 16> hostid_of(uint8_t n) {
    std::array<uint8_t, 16> h{};
    for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(n * 16 + i);
    h[6] = 0x40 | (h[6] & 0x0f);  // a version 4 UUID, as nvme-cli makes them
    h[8] = 0x80 | (h[8] & 0x3f);
    return h;
}

std::string hostnqn_of(uint8_t n) {
    return "nqn.2014-08.org.nvmexpress:uuid:" + bdev::uuid_to_string(hostid_of(n));
}

// A directory that outlives daemon restarts (the daemon's own is recreated).
struct temp_dir {
    temp_dir() {
        char tmpl[] = "/tmp/nvmf-it-resv-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
    std::string path;
};

// The simple config, with namespace 1 persisting reservations in ptpl (when
// set). The RAM disk gets a fixed UUID: a PTPL file names its bdev's UUID and
// is refused for another (a RAM disk's is random at every start otherwise).
json config_with_ptpl(const std::string& port, const std::string& ptpl) {
    json cfg = to_json(daemon_config::simple(), port);
    for (auto& sub : cfg["subsystems"]) {
        for (auto& e : sub["config"]) {
            if (e["method"] == "bdev_malloc_create") {
                e["params"]["uuid"] = "5e5e5e5e-1111-4222-8333-444444444444";
            }
            if (e["method"] == "nvmf_subsystem_add_ns" && !ptpl.empty()) {
                e["params"]["namespace"]["ptpl_file"] = ptpl;
            }
        }
    }
    return cfg;
}

class reservation_test : public target_test {
protected:
    std::unique_ptr<host::controller> host_n(uint8_t n) {
        auto o = tgt.ctrlr_opts();
        o.hostid = hostid_of(n);
        o.hostnqn = hostnqn_of(n);
        return connect(o);
    }

    static spec::status st(const result<host::completion>& c) {
        EXPECT_TRUE(c) << (c ? "" : c.err().message);
        return c ? c.value().status() : 0xffff;
    }
    static spec::status read_st(host::controller& c) {
        std::vector<uint8_t> buf(512);
        return st(c.read(nsid, 0, 1, buf));
    }
    static spec::status write_st(host::controller& c) {
        std::vector<uint8_t> buf(512, 0x5a);
        return st(c.write(nsid, 0, 1, buf));
    }

    struct report {
        spec::resv_status_header h{};
        std::vector<spec::registered_ctrlr_ext> regs;
    };
    static report get_report(host::controller& c) {
        std::vector<uint8_t> buf(4096);
        auto r = c.resv_report(nsid, buf);
        report out;
        EXPECT_TRUE(r && r->ok()) << (r ? host::status_string(r->status()) : r.err().message);
        std::memcpy(&out.h, buf.data(), sizeof(out.h));
        for (size_t i = 0; i < out.h.regctl && 64 + (i + 1) * 64 <= buf.size(); ++i) {
            spec::registered_ctrlr_ext e{};
            std::memcpy(&e, buf.data() + 64 + i * 64, sizeof(e));
            out.regs.push_back(e);
        }
        return out;
    }
    static const spec::registered_ctrlr_ext* entry_of(const report& r, uint8_t n) {
        const auto h = hostid_of(n);
        for (const auto& e : r.regs) {
            if (std::memcmp(e.hostid, h.data(), 16) == 0) return &e;
        }
        return nullptr;
    }

    const spec::status conflict_ =
        spec::make_status(spec::sct::generic, spec::sc::reservation_conflict, true);
    const spec::status invalid_field_ =
        spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);
};

TEST_F(reservation_test, IdentifyReportsReservations) {
    auto a = host_n(1);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->data().oncs & spec::oncs::reservations);
    auto ns = a->identify_ns(nsid);
    ASSERT_TRUE(ns);
    // Every type and IEKEY as from 1.3; no PTPL without a file.
    EXPECT_EQ(ns->rescap, spec::rescap::all_types | spec::rescap::iek_13);
    // The host identifier feature is Connect's 128-bit HOSTID.
    std::array<uint8_t, 16> hid{};
    auto g = a->admin_cmd(host::cmd::get_features(spec::feat::host_identifier, 0, 0, 1), {}, hid);
    ASSERT_TRUE(g && g->ok());
    EXPECT_EQ(hid, hostid_of(1));
    auto g64 = a->get_features(spec::feat::host_identifier, 0, 0);
    ASSERT_TRUE(g64);
    EXPECT_EQ(g64->status(), invalid_field_);  // no 64-bit identifier on fabrics
    // Reservation Persistence: off, and cannot be set without a PTPL file.
    auto p = a->get_features(spec::feat::reservation_persistence, nsid);
    ASSERT_TRUE(p && p->ok());
    EXPECT_EQ(p->cqe.cdw0, 0u);
    auto sp = a->set_features(spec::feat::reservation_persistence, 1, nsid);
    ASSERT_TRUE(sp);
    EXPECT_EQ(sp->status(), invalid_field_);
    // Notification mask: per namespace; unknown bits and namespaces refused.
    auto m = a->set_features(spec::feat::reservation_notification_mask, 0x6, nsid);
    ASSERT_TRUE(m && m->ok());
    auto gm = a->get_features(spec::feat::reservation_notification_mask, nsid);
    ASSERT_TRUE(gm && gm->ok());
    EXPECT_EQ(gm->cqe.cdw0, 0x6u);
    auto bad = a->set_features(spec::feat::reservation_notification_mask, 0x10, nsid);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status(), invalid_field_);
    auto badns = a->get_features(spec::feat::reservation_notification_mask, 7);
    ASSERT_TRUE(badns);
    EXPECT_EQ(spec::status_sc(badns->status()), spec::sc::invalid_namespace_or_format);
}

TEST_F(reservation_test, EveryTypeForTwoHostsAndAStranger) {
    auto a = host_n(1), b = host_n(2), c = host_n(3);
    ASSERT_TRUE(a && b && c);
    ASSERT_EQ(st(a->resv_register(nsid, rrega_register, 0, 0xaaaa)), 0);
    ASSERT_EQ(st(b->resv_register(nsid, rrega_register, 0, 0xbbbb)), 0);
    struct row {
        rtype t;
        bool reg_read, reg_write, other_read;
    };
    // b is a registrant, c is not; a holds the reservation.
    const row rows[] = {
        {rtype::write_exclusive, true, false, true},
        {rtype::exclusive_access, false, false, false},
        {rtype::write_exclusive_reg_only, true, true, true},
        {rtype::exclusive_access_reg_only, true, true, false},
        {rtype::write_exclusive_all_regs, true, true, true},
        {rtype::exclusive_access_all_regs, true, true, false},
    };
    for (const row& r : rows) {
        const auto t = static_cast<uint8_t>(r.t);
        SCOPED_TRACE(int(t));
        ASSERT_EQ(st(a->resv_acquire(nsid, racqa_acquire, t, 0xaaaa)), 0);
        EXPECT_EQ(read_st(*a), 0);
        EXPECT_EQ(write_st(*a), 0);
        EXPECT_EQ(read_st(*b), r.reg_read ? 0 : conflict_);
        EXPECT_EQ(write_st(*b), r.reg_write ? 0 : conflict_);
        EXPECT_EQ(read_st(*c), r.other_read ? 0 : conflict_);
        EXPECT_EQ(write_st(*c), conflict_);
        EXPECT_EQ(st(c->flush(nsid)), conflict_);
        EXPECT_EQ(st(c->write_zeroes(nsid, 0, 1)), conflict_);
        const report rep = get_report(*c);  // anyone may read the report
        EXPECT_EQ(rep.h.rtype, t);
        ASSERT_EQ(static_cast<int>(rep.h.regctl), 2);
        ASSERT_TRUE(entry_of(rep, 1) && entry_of(rep, 2));
        EXPECT_EQ(entry_of(rep, 1)->rcsts, 1);
        EXPECT_EQ(entry_of(rep, 1)->rkey, 0xaaaau);
        EXPECT_EQ(entry_of(rep, 2)->rcsts, spec::rtype_all_regs(r.t) ? 1 : 0);
        // Another host cannot acquire; the holder releases with its type.
        EXPECT_EQ(st(b->resv_acquire(nsid, racqa_acquire, t, 0xbbbb)),
                  spec::rtype_all_regs(r.t) ? 0 : conflict_);
        ASSERT_EQ(st(a->resv_release(nsid, rrela_release, t, 0xaaaa)), 0);
        EXPECT_EQ(get_report(*c).h.rtype, 0);
        EXPECT_EQ(write_st(*c), 0);
    }
}

TEST_F(reservation_test, BadCommandsGetPreciseStatuses) {
    auto a = host_n(1), c = host_n(3);
    ASSERT_TRUE(a && c);
    ASSERT_EQ(st(a->resv_register(nsid, rrega_register, 0, 1)), 0);
    EXPECT_EQ(st(a->resv_register(nsid, rrega_register, 0, 2)), conflict_);
    EXPECT_EQ(st(a->resv_register(nsid, rrega_unregister, 7, 0)), conflict_);
    EXPECT_EQ(st(c->resv_acquire(nsid, racqa_acquire, 1, 1)), conflict_);  // not registered
    EXPECT_EQ(st(a->resv_acquire(nsid, racqa_acquire, 1, 9)), conflict_);  // wrong key
    EXPECT_EQ(st(a->resv_acquire(nsid, racqa_acquire, 7, 1)), invalid_field_);
    EXPECT_EQ(st(a->resv_acquire(nsid, racqa_acquire, 1, 1, 0, true)), invalid_field_);  // IEKEY
    ASSERT_EQ(st(a->resv_acquire(nsid, racqa_acquire, 1, 1)), 0);
    EXPECT_EQ(st(a->resv_release(nsid, rrela_release, 2, 1)), invalid_field_);  // other type
    // The 64-bit report cannot carry fabrics host identifiers.
    std::vector<uint8_t> buf(4096);
    EXPECT_EQ(st(a->resv_report(nsid, buf, false)),
              spec::make_status(spec::sct::generic, spec::sc::host_id_inconsistent_format, true));
    // A short report gets the header, REGCTL still counts every registrant.
    std::vector<uint8_t> small(24);
    ASSERT_EQ(st(a->resv_report(nsid, small)), 0);
    spec::resv_status_header h{};
    std::memcpy(&h, small.data(), sizeof(h));
    EXPECT_EQ(static_cast<int>(h.regctl), 1);
    // Data shorter than the command's structure.
    auto shortreg =
        a->io().execute(host::cmd::resv_register(nsid, 0, false, 0), std::vector<uint8_t>(8, 1));
    ASSERT_TRUE(shortreg);
    EXPECT_EQ(spec::status_sc(shortreg->status()), spec::sc::data_sgl_length_invalid);
    // An unknown namespace.
    auto nons = a->io().execute(host::cmd::resv_report(9, 64, true), {}, buf);
    ASSERT_TRUE(nons);
    EXPECT_EQ(spec::status_sc(nons->status()), spec::sc::invalid_namespace_or_format);
}

TEST_F(reservation_test, PreemptAndAbortNotifiesAndEndsAccess) {
    auto a = host_n(1), b = host_n(2);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(st(a->resv_register(nsid, rrega_register, 0, 0xa)), 0);
    ASSERT_EQ(st(b->resv_register(nsid, rrega_register, 0, 0xb)), 0);
    ASSERT_EQ(st(b->resv_acquire(nsid, racqa_acquire, 2, 0xb)), 0);  // exclusive access
    EXPECT_EQ(write_st(*a), conflict_);
    auto aer = b->submit_aer();
    ASSERT_TRUE(aer);
    const uint32_t gen = get_report(*a).h.gen;
    ASSERT_EQ(st(a->resv_acquire(nsid, racqa_preempt_abort, 2, 0xa, 0xb)), 0);
    // b hears of it: event for log page 80h, the page says registration preempted.
    auto ev = b->admin().wait(*aer, 5000);
    ASSERT_TRUE(ev) << ev.err().message;
    EXPECT_EQ(ev->cqe.cdw0 & 0x7, spec::aer::type_io);
    EXPECT_EQ((ev->cqe.cdw0 >> 8) & 0xff, spec::aer::io_reservation_log_available);
    EXPECT_EQ((ev->cqe.cdw0 >> 16) & 0xff, spec::lid::reservation_notification);
    spec::resv_notification_log log{};
    auto lp = b->get_log_page(spec::lid::reservation_notification, 0,
                              {reinterpret_cast<uint8_t*>(&log), sizeof(log)});
    ASSERT_TRUE(lp && lp->ok());
    EXPECT_EQ(log.type, spec::resv_notice::registration_preempted);
    EXPECT_EQ(log.nsid, nsid);
    EXPECT_GE(log.log_page_count, 1u);
    EXPECT_EQ(log.num_avail, 0);
    // Read again: empty.
    lp = b->get_log_page(spec::lid::reservation_notification, 0,
                         {reinterpret_cast<uint8_t*>(&log), sizeof(log)});
    ASSERT_TRUE(lp && lp->ok());
    EXPECT_EQ(log.type, spec::resv_notice::empty);
    // b's access is over: not registered any more, a holds exclusive access.
    EXPECT_EQ(read_st(*b), conflict_);
    EXPECT_EQ(write_st(*b), conflict_);
    EXPECT_EQ(st(b->resv_release(nsid, rrela_release, 2, 0xb)), conflict_);
    const report rep = get_report(*a);
    EXPECT_EQ(rep.h.gen, gen + 1);
    EXPECT_EQ(static_cast<int>(rep.h.regctl), 1);
    EXPECT_EQ(write_st(*a), 0);

    // Clear: the others hear "reservation preempted" unless their mask says no.
    ASSERT_EQ(st(b->resv_register(nsid, rrega_register, 0, 0xb)), 0);
    auto c = host_n(3);
    ASSERT_TRUE(c);
    ASSERT_EQ(st(c->resv_register(nsid, rrega_register, 0, 0xc)), 0);
    auto mk = c->set_features(spec::feat::reservation_notification_mask,
                              spec::resv_notice::mask_of(spec::resv_notice::reservation_preempted),
                              0xffffffff);
    ASSERT_TRUE(mk && mk->ok());
    auto aer2 = b->submit_aer();
    ASSERT_TRUE(aer2);
    ASSERT_EQ(st(a->resv_release(nsid, rrela_clear, 0, 0xa)), 0);
    ev = b->admin().wait(*aer2, 5000);
    ASSERT_TRUE(ev) << ev.err().message;
    lp = b->get_log_page(spec::lid::reservation_notification, 0,
                         {reinterpret_cast<uint8_t*>(&log), sizeof(log)});
    ASSERT_TRUE(lp && lp->ok());
    EXPECT_EQ(log.type, spec::resv_notice::reservation_preempted);
    lp = c->get_log_page(spec::lid::reservation_notification, 0,
                         {reinterpret_cast<uint8_t*>(&log), sizeof(log)});
    ASSERT_TRUE(lp && lp->ok());
    EXPECT_EQ(log.type, spec::resv_notice::empty);  // masked
    EXPECT_EQ(static_cast<int>(get_report(*a).h.regctl), 0);
}

TEST_F(reservation_test, ReconnectingHostKeepsItsReservation) {
    auto a = host_n(1), b = host_n(2);
    ASSERT_TRUE(a && b);
    ASSERT_EQ(st(a->resv_register(nsid, rrega_register, 0, 0x11)), 0);
    ASSERT_EQ(st(a->resv_acquire(nsid, racqa_acquire, 4, 0x11)), 0);  // EA registrants only
    a->disconnect();
    a.reset();
    EXPECT_EQ(write_st(*b), conflict_);
    auto again = host_n(1);  // a new controller, the same host identifier
    ASSERT_TRUE(again);
    EXPECT_EQ(write_st(*again), 0);
    EXPECT_EQ(read_st(*again), 0);
    const report rep = get_report(*b);
    EXPECT_EQ(rep.h.rtype, 4);
    ASSERT_TRUE(entry_of(rep, 1));
    EXPECT_EQ(entry_of(rep, 1)->rcsts, 1);
    // The same host on a second controller at once shares it too.
    auto twin = host_n(1);
    ASSERT_TRUE(twin);
    EXPECT_EQ(write_st(*twin), 0);
    EXPECT_EQ(st(twin->resv_release(nsid, rrela_release, 4, 0x11)), 0);
    EXPECT_EQ(write_st(*b), 0);
}

class ptpl_test : public target_test {
protected:
    void SetUp() override {}  // each test starts the daemon with its PTPL file
    void start() {
        ASSERT_TRUE(
            tgt.start_with([&](const std::string& port) { return config_with_ptpl(port, ptpl_); }));
    }
    std::unique_ptr<host::controller> host_n(uint8_t n) {
        auto o = tgt.ctrlr_opts();
        o.hostid = hostid_of(n);
        o.hostnqn = hostnqn_of(n);
        return connect(o);
    }
    temp_dir dir_;
    std::string ptpl_ = dir_.path + "/ns1.ptpl";
};

TEST_F(ptpl_test, ReservationSurvivesKill9AndRestart) {
    start();
    {
        auto a = host_n(1), b = host_n(2);
        ASSERT_TRUE(a && b);
        auto ns = a->identify_ns(nsid);
        ASSERT_TRUE(ns);
        EXPECT_TRUE(ns->rescap & spec::rescap::ptpl);
        // CPTPL 11b: persist from now on.
        auto r = a->resv_register(nsid, rrega_register, 0, 0x1234, false, 3);
        ASSERT_TRUE(r && r->ok());
        r = b->resv_register(nsid, rrega_register, 0, 0x5678);
        ASSERT_TRUE(r && r->ok());
        r = a->resv_acquire(nsid, racqa_acquire, 3, 0x1234);  // WE registrants only
        ASSERT_TRUE(r && r->ok());
        auto p = b->get_features(spec::feat::reservation_persistence, nsid);
        ASSERT_TRUE(p && p->ok());
        EXPECT_EQ(p->cqe.cdw0, 1u);
    }
    std::ifstream f(ptpl_);
    const json file = json::parse(f, nullptr, false);
    ASSERT_FALSE(file.is_discarded());
    EXPECT_EQ(file["ptpl"], true);
    EXPECT_EQ(file["rtype"], 3);
    EXPECT_EQ(file["crkey"], 0x1234);
    EXPECT_EQ(file["registrants"].size(), 2u);
    EXPECT_FALSE(std::filesystem::exists(ptpl_ + ".tmp"));

    tgt.kill9();
    start();
    auto a = host_n(1), b = host_n(2), c = host_n(3);
    ASSERT_TRUE(a && b && c);
    std::vector<uint8_t> buf(4096);
    auto r = c->resv_report(nsid, buf);
    ASSERT_TRUE(r && r->ok());
    spec::resv_status_header h{};
    std::memcpy(&h, buf.data(), sizeof(h));
    EXPECT_EQ(h.rtype, 3);
    EXPECT_EQ(static_cast<int>(h.regctl), 2);
    EXPECT_EQ(h.ptpls, 1);
    std::vector<uint8_t> blk(512, 1);
    auto w = c->write(nsid, 0, 1, blk);
    ASSERT_TRUE(w);
    EXPECT_EQ(spec::status_sc(w->status()), spec::sc::reservation_conflict);
    w = b->write(nsid, 0, 1, blk);
    ASSERT_TRUE(w && w->ok());
    // Turning PTPL off (Set Features 83h) is persisted as well: after another
    // crash, nothing is restored.
    auto off = a->set_features(spec::feat::reservation_persistence, 0, nsid);
    ASSERT_TRUE(off && off->ok());
    a.reset();
    b.reset();
    c.reset();
    tgt.kill9();
    start();
    auto d = host_n(4);
    ASSERT_TRUE(d);
    r = d->resv_report(nsid, buf);
    ASSERT_TRUE(r && r->ok());
    std::memcpy(&h, buf.data(), sizeof(h));
    EXPECT_EQ(static_cast<int>(h.regctl), 0);
    EXPECT_EQ(h.ptpls, 0);
}

TEST_F(ptpl_test, CorruptOrTruncatedFileIsRefusedWhole) {
    start();
    {
        auto a = host_n(1);
        ASSERT_TRUE(a);
        auto r = a->resv_register(nsid, rrega_register, 0, 0x77, false, 3);
        ASSERT_TRUE(r && r->ok());
    }
    std::string text;
    {
        std::ifstream f(ptpl_);
        text.assign(std::istreambuf_iterator<char>(f), {});
    }
    ASSERT_GT(text.size(), 20u);
    // A second namespace on the same file content, truncated: refused, and
    // the subsystem has no namespace 2 afterwards.
    const std::string cut = dir_.path + "/cut.ptpl";
    {
        std::ofstream o(cut);
        o << text.substr(0, text.size() / 2);
    }
    auto bd =
        tgt.rpc("bdev_malloc_create", {{"name", "M2"}, {"num_blocks", 2048}, {"block_size", 512}});
    ASSERT_TRUE(bd.contains("result")) << bd.dump();
    auto add = tgt.rpc("nvmf_subsystem_add_ns",
                       {{"nqn", default_nqn},
                        {"namespace", {{"bdev_name", "M2"}, {"nsid", 2}, {"ptpl_file", cut}}}});
    ASSERT_TRUE(add.contains("error")) << add.dump();
    EXPECT_NE(add["error"]["message"].get<std::string>().find("not valid JSON"), std::string::npos)
        << add.dump();
    // The file of another bdev: refused too.
    add = tgt.rpc("nvmf_subsystem_add_ns",
                  {{"nqn", default_nqn},
                   {"namespace", {{"bdev_name", "M2"}, {"nsid", 2}, {"ptpl_file", ptpl_}}}});
    ASSERT_TRUE(add.contains("error")) << add.dump();
    EXPECT_NE(add["error"]["message"].get<std::string>().find("bdev"), std::string::npos);
    auto subs = tgt.rpc("nvmf_get_subsystems", {{"nqn", default_nqn}});
    ASSERT_TRUE(subs.contains("result"));
    EXPECT_EQ(subs["result"][0]["namespaces"].size(), 1u);
    // A corrupt file at start-up: the daemon refuses the configuration.
    EXPECT_TRUE(tgt.stop());
    {
        std::ofstream o(ptpl_, std::ios::trunc);
        o << "{\"ptpl\": true, \"rtype\": 1, \"regis";
    }
    auto bad =
        tgt.start_with([&](const std::string& port) { return config_with_ptpl(port, ptpl_); });
    ASSERT_FALSE(bad);
    EXPECT_NE(std::string(bad.message()).find("PTPL file " + ptpl_), std::string::npos)
        << bad.message();
    // Without the file the namespace starts with no reservation (and TearDown
    // has a daemon to stop).
    std::filesystem::remove(ptpl_);
    start();
}

TEST_F(ptpl_test, SaveConfigKeepsPtplFile) {
    start();
    auto cfg = tgt.rpc("save_config");
    ASSERT_TRUE(cfg.contains("result"));
    bool found = false;
    for (const auto& sub : cfg["result"]["subsystems"]) {
        for (const auto& e : sub["config"]) {
            if (e["method"] == "nvmf_subsystem_add_ns") {
                found = found || e["params"]["namespace"].value("ptpl_file", "") == ptpl_;
            }
        }
    }
    EXPECT_TRUE(found) << cfg.dump(2);
}

}  // namespace
}  // namespace nvmf::test
