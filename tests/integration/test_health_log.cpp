// SMART / Health (02h) and Error Information (01h) logs read with our
// initiator from the running daemon: the counters follow the I/O done on
// two queues, per namespace and for the controller (LPA bit 0), a read-only
// file bdev raises the read-only warning, each error completion is an error
// log entry with its queue, CID, status, NSID, LBA and parameter, and a file
// bdev counts power cycles and unsafe shutdowns across restarts.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "daemon_fixture.hpp"
#include "nvme/spec/log.hpp"

namespace nvmf::test {
namespace {

uint64_t u128_low(const uint8_t (&v)[16]) {
    uint64_t x = 0;
    for (int i = 7; i >= 0; --i) x = x << 8 | v[i];
    return x;
}

class health_log_test : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(tgt_.start(daemon_config::simple(512, 16ull << 20)));
        auto o = tgt_.ctrlr_opts();
        o.num_io_queues = 2;
        auto c = host::controller::create(o);
        ASSERT_TRUE(c) << c.err().message << "\n" << tgt_.log_tail();
        ctrlr_ = std::move(*c);
    }
    void TearDown() override {
        ctrlr_.reset();
        EXPECT_TRUE(tgt_.stop());
        if (!ro_file_.empty()) ::unlink(ro_file_.c_str());
    }

    spec::smart_health_log smart(uint32_t nsid, uint16_t* status = nullptr) {
        std::vector<uint8_t> buf(512);
        auto c = ctrlr_->get_log_page(spec::lid::smart_health, nsid, buf);
        EXPECT_TRUE(c) << c.err().message;
        spec::smart_health_log log{};
        if (!c) return log;
        if (status != nullptr) {
            *status = c->status();
        } else {
            EXPECT_TRUE(c->ok()) << st(*c);
        }
        std::memcpy(&log, buf.data(), sizeof(log));
        return log;
    }

    std::vector<spec::error_log_entry> error_log() {
        const uint32_t n = ctrlr_->data().elpe + 1u;  // the log's size, from ELPE
        std::vector<uint8_t> buf(n * sizeof(spec::error_log_entry));
        auto c = ctrlr_->get_log_page(spec::lid::error, 0, buf);
        EXPECT_TRUE(c && c->ok());
        std::vector<spec::error_log_entry> out(n);
        std::memcpy(out.data(), buf.data(), buf.size());
        return out;
    }

    daemon tgt_;
    std::unique_ptr<host::controller> ctrlr_;
    std::string ro_file_;
};

TEST_F(health_log_test, counters_follow_the_io_of_every_queue) {
    EXPECT_TRUE(ctrlr_->data().lpa & spec::lpa::smart_per_ns);
    const auto before = smart(spec::nsid_all);
    EXPECT_EQ(u128_low(before.host_read_commands), 0u);
    EXPECT_EQ(u128_low(before.host_write_commands), 0u);

    // 300 writes of 4 KiB on queue 0 and 150 reads of 8 KiB on queue 1:
    // 1,228,800 bytes written (2400 units of 512 bytes: 3 data units, as
    // thousands rounded up) and 1,228,800 read.
    std::vector<uint8_t> buf(8192, 0x5a);
    for (uint32_t i = 0; i < 300; ++i) {
        auto w = ctrlr_->write(1, i * 8, 8, std::span<const uint8_t>(buf).first(4096), 0);
        ASSERT_TRUE(w && w->ok());
    }
    for (uint32_t i = 0; i < 150; ++i) {
        auto r = ctrlr_->read(1, i * 16, 16, buf, 1);
        ASSERT_TRUE(r && r->ok());
    }
    auto f = ctrlr_->flush(1, 0);  // neither a read nor a write
    ASSERT_TRUE(f && f->ok());

    for (const uint32_t nsid : {spec::nsid_all, 1u}) {
        SCOPED_TRACE("nsid " + std::to_string(nsid));
        const auto log = smart(nsid);
        EXPECT_EQ(u128_low(log.host_write_commands), 300u);
        EXPECT_EQ(u128_low(log.host_read_commands), 150u);
        EXPECT_EQ(u128_low(log.data_units_written), 3u);
        EXPECT_EQ(u128_low(log.data_units_read), 3u);
        EXPECT_EQ(log.critical_warning, 0);
        EXPECT_EQ(u128_low(log.media_errors), 0u);
        EXPECT_EQ(u128_low(log.power_on_hours), 0u);  // started a moment ago
    }
    uint16_t status = 0;
    smart(2, &status);  // not an active namespace
    EXPECT_EQ(status,
              spec::make_status(spec::sct::generic, spec::sc::invalid_namespace_or_format, true) &
                  0xfffe);
}

TEST_F(health_log_test, every_error_completion_is_in_the_error_log) {
    auto id = ctrlr_->identify_ns(1);
    ASSERT_TRUE(id);
    const uint64_t nsze = id->nsze;
    std::vector<uint8_t> buf(4096);
    // An LBA past the end on queue 1 (qid 2), a namespace that does not exist
    // on queue 0 (qid 1), an unknown log page on the admin queue.
    auto r = ctrlr_->read(1, nsze - 1, 2, std::span<uint8_t>(buf).first(1024), 1);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->sc(), spec::sc::lba_out_of_range) << st(*r);
    auto w = ctrlr_->write(9, 0, 1, std::span<const uint8_t>(buf).first(512), 0);
    ASSERT_TRUE(w);
    ASSERT_EQ(w->sc(), spec::sc::invalid_namespace_or_format) << st(*w);
    auto g = ctrlr_->get_log_page(0xbf, 0, buf);
    ASSERT_TRUE(g);
    ASSERT_FALSE(g->ok());

    const auto log = smart(spec::nsid_all);
    EXPECT_EQ(u128_low(log.num_error_log_entries), 3u);
    const auto e = error_log();
    ASSERT_EQ(e.size(), ctrlr_->data().elpe + 1u);
    // Newest first.
    EXPECT_EQ(e[0].error_count, 3u);
    EXPECT_EQ(e[0].sqid, 0);
    EXPECT_EQ(e[0].cid, g->cqe.cid);
    EXPECT_EQ(e[0].status, g->status());
    EXPECT_EQ(e[1].error_count, 2u);
    EXPECT_EQ(e[1].sqid, 1);
    EXPECT_EQ(e[1].cid, w->cqe.cid);
    EXPECT_EQ(e[1].status, w->status());
    EXPECT_EQ(e[1].nsid, 9u);
    EXPECT_EQ(e[1].parm_error_location, 4);  // NSID
    EXPECT_EQ(e[2].error_count, 1u);
    EXPECT_EQ(e[2].sqid, 2);
    EXPECT_EQ(e[2].cid, r->cqe.cid);
    EXPECT_EQ(e[2].status, r->status());
    EXPECT_EQ(e[2].nsid, 1u);
    EXPECT_EQ(e[2].lba, nsze - 1);
    EXPECT_EQ(e[2].parm_error_location, 40);  // SLBA
    EXPECT_EQ(e[3].error_count, 0u);          // unused entries are zero
}

TEST_F(health_log_test, read_only_file_bdev_raises_the_read_only_warning) {
    ro_file_ = "/dev/shm/nvmf-health-" + std::to_string(::getpid()) + ".img";
    const int fd = ::open(ro_file_.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 1 << 20), 0);
    ::close(fd);
    auto r =
        tgt_.rpc("bdev_aio_create", {{"name", "Ro0"}, {"filename", ro_file_}, {"readonly", true}});
    ASSERT_EQ(r["result"], "Ro0") << r.dump();
    r = tgt_.rpc("nvmf_subsystem_add_ns",
                 {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "Ro0"}, {"nsid", 2}}}});
    ASSERT_TRUE(r.contains("result")) << r.dump();

    EXPECT_EQ(smart(1).critical_warning, 0);
    EXPECT_EQ(smart(2).critical_warning, spec::critical_warning::read_only);
    EXPECT_EQ(smart(spec::nsid_all).critical_warning, spec::critical_warning::read_only);
    // A write to it fails (Namespace is Write Protected), not the backend: no media error.
    std::vector<uint8_t> buf(512, 1);
    auto w = ctrlr_->write(2, 0, 1, buf, 0);
    ASSERT_TRUE(w);
    EXPECT_FALSE(w->ok());
    EXPECT_EQ(u128_low(smart(2).media_errors), 0u);
    EXPECT_EQ(smart(2).critical_warning, spec::critical_warning::read_only);
}

// A file bdev is a drive: each start of the daemon powers it on, and a start
// after kill -9 counts an unsafe shutdown; SIGTERM closes it cleanly.
TEST(health_log_power, power_cycles_and_unsafe_shutdowns_of_a_file_bdev) {
    const std::string file = "/var/tmp/nvmf-health-power-" + std::to_string(::getpid()) + ".img";
    const int fd = ::open(file.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 4 << 20), 0);
    ::close(fd);
    daemon_config cfg;
    cfg.extra_bdevs.push_back(
        {{"method", "bdev_uring_create"}, {"params", {{"name", "File0"}, {"filename", file}}}});
    subsystem_cfg sub;
    sub.nqn = default_nqn;
    sub.namespaces.push_back({"File0", 1});
    cfg.subsystems.push_back(sub);

    struct seen {
        uint64_t cycles, unsafe;
    };
    auto read_log = [&](daemon& d) -> seen {
        auto c = host::controller::create(d.ctrlr_opts());
        EXPECT_TRUE(c) << c.err().message;
        if (!c) return {~0ull, ~0ull};
        std::vector<uint8_t> buf(512);
        auto r = (*c)->get_log_page(spec::lid::smart_health, 1, buf);
        EXPECT_TRUE(r && r->ok());
        spec::smart_health_log log{};
        std::memcpy(&log, buf.data(), sizeof(log));
        const seen ns1{u128_low(log.power_cycles), u128_low(log.unsafe_shutdowns)};
        r = (*c)->get_log_page(spec::lid::smart_health, spec::nsid_all, buf);
        std::memcpy(&log, buf.data(), sizeof(log));
        EXPECT_EQ(u128_low(log.power_cycles), ns1.cycles) << "one namespace: the same";
        return ns1;
    };

    daemon d;
    ASSERT_TRUE(d.start(cfg));
    seen s = read_log(d);
    EXPECT_EQ(s.cycles, 1u);
    EXPECT_EQ(s.unsafe, 0u);
    ASSERT_TRUE(d.stop());  // SIGTERM: closed cleanly

    ASSERT_TRUE(d.start(cfg));
    s = read_log(d);
    EXPECT_EQ(s.cycles, 2u);
    EXPECT_EQ(s.unsafe, 0u);
    d.kill9();  // never closed

    ASSERT_TRUE(d.start(cfg));
    s = read_log(d);
    EXPECT_EQ(s.cycles, 3u);
    EXPECT_EQ(s.unsafe, 1u);
    EXPECT_TRUE(d.stop());
    ::unlink(file.c_str());
}

}  // namespace
}  // namespace nvmf::test
