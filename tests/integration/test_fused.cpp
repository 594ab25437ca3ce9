// Fused Compare and Write and Compare on every bdev kind: the pair's
// statuses (success, miscompare, a missing or mismatched half), Identify
// FUSES, and no lost update when two queues on two reactors race
// compare-and-write on one counter block.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "daemon_fixture.hpp"
#include "host/commands.hpp"
#include "temp_files.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

spec::sqe fused(spec::sqe c, uint8_t fuse) {
    c.flags = static_cast<uint8_t>((c.flags & ~0x3) | fuse);
    return c;
}

struct pair_result {
    host::completion compare;
    host::completion write;
};

// One fused Compare and Write: both capsules leave in one socket write, so
// they are adjacent in the queue, as the spec requires.
result<pair_result> compare_and_write(host::queue& q, uint32_t nsid, uint64_t slba, uint32_t nlb,
                                      std::span<const uint8_t> expect,
                                      std::span<const uint8_t> data) {
    auto c1 = q.submit(fused(host::cmd::compare(nsid, slba, nlb), spec::fuse::first), expect, {},
                       host::submit_flag::defer);
    if (!c1) return c1.err();
    auto c2 = q.submit(fused(host::cmd::write(nsid, slba, nlb), spec::fuse::second), data, {},
                       host::submit_flag::defer);
    if (!c2) return c2.err();
    if (auto f = q.flush(); !f) return f.err();
    auto r1 = q.wait(*c1);
    if (!r1) return r1.err();
    auto r2 = q.wait(*c2);
    if (!r2) return r2.err();
    return pair_result{*r1, *r2};
}

constexpr uint64_t file_bytes = 8ull << 20;

// nsid 1: RAM (512 B), 2: null, 3: uring on a file (4 KiB blocks).
daemon_config fused_config(const std::string& file) {
    daemon_config c = daemon_config::simple();
    c.extra_bdevs.push_back(
        {{"method", "bdev_null_create"},
         {"params", {{"name", "Null0"}, {"num_blocks", 4096}, {"block_size", 512}}}});
    c.extra_bdevs.push_back(
        {{"method", "bdev_uring_create"},
         {"params", {{"name", "Uring0"}, {"filename", file}, {"block_size", 4096}}}});
    c.subsystems[0].namespaces.push_back({"Null0", 2});
    c.subsystems[0].namespaces.push_back({"Uring0", 3});
    return c;
}

class fused_test : public target_test {
protected:
    daemon_config config() override { return fused_config(file_.path); }
    void SetUp() override {
        ASSERT_TRUE(file_.ok) << "cannot create the backing file";
        target_test::SetUp();
        ctrlr = connect();
        ASSERT_TRUE(ctrlr);
    }
    backing_file file_{"/var/tmp", file_bytes};
};

TEST_F(fused_test, identify_says_fused_compare_and_write_and_compare) {
    auto id = ctrlr->identify_ctrlr();
    ASSERT_TRUE(id) << id.err().message;
    EXPECT_EQ(id->fuses & spec::fuses::compare_and_write, spec::fuses::compare_and_write);
    EXPECT_TRUE(id->oncs & spec::oncs::compare);
}

TEST_F(fused_test, pair_writes_when_the_compare_matches_on_every_bdev_kind) {
    for (uint32_t nsid : {1u, 3u}) {
        SCOPED_TRACE("nsid " + std::to_string(nsid));
        const uint32_t b = nsid == 3 ? 4096 : 512;
        const auto old = random_bytes(4 * b, nsid);
        const auto next = random_bytes(4 * b, nsid + 100);
        ASSERT_TRUE(ctrlr->write(nsid, 10, 4, old)->ok());
        auto r = compare_and_write(ctrlr->io(0), nsid, 10, 4, old, next);
        ASSERT_TRUE(r) << r.err().message;
        EXPECT_TRUE(r->compare.ok()) << st(r->compare);
        EXPECT_TRUE(r->write.ok()) << st(r->write);
        std::vector<uint8_t> back(4 * b);
        ASSERT_TRUE(ctrlr->read(nsid, 10, 4, back)->ok());
        EXPECT_TRUE(back == next);

        // A miscompare: Compare Failure, the Write aborted, the data unchanged.
        auto again = compare_and_write(ctrlr->io(0), nsid, 10, 4, old, old);
        ASSERT_TRUE(again) << again.err().message;
        EXPECT_EQ(again->compare.sct(), spec::sct::media_error) << st(again->compare);
        EXPECT_EQ(again->compare.sc(), spec::sc_media::compare_failure) << st(again->compare);
        EXPECT_EQ(again->write.sct(), spec::sct::generic) << st(again->write);
        EXPECT_EQ(again->write.sc(), spec::sc::aborted_failed_fused) << st(again->write);
        ASSERT_TRUE(ctrlr->read(nsid, 10, 4, back)->ok());
        EXPECT_TRUE(back == next);
    }
    // The null bdev reads zeroes and drops writes: a pair comparing zeroes
    // succeeds, one comparing anything else fails.
    const std::vector<uint8_t> zeroes(512);
    const auto ones = random_bytes(512, 9);
    auto z = compare_and_write(ctrlr->io(0), 2, 7, 1, zeroes, ones);
    ASSERT_TRUE(z) << z.err().message;
    EXPECT_TRUE(z->compare.ok() && z->write.ok()) << st(z->compare) << " " << st(z->write);
    auto nz = compare_and_write(ctrlr->io(0), 2, 7, 1, ones, ones);
    ASSERT_TRUE(nz) << nz.err().message;
    EXPECT_EQ(nz->compare.sc(), spec::sc_media::compare_failure) << st(nz->compare);
    EXPECT_EQ(nz->write.sc(), spec::sc::aborted_failed_fused) << st(nz->write);
}

TEST_F(fused_test, compare_on_every_bdev_kind) {
    for (uint32_t nsid : {1u, 2u, 3u}) {
        SCOPED_TRACE("nsid " + std::to_string(nsid));
        const uint32_t b = nsid == 3 ? 4096 : 512;
        auto data = random_bytes(8 * b, 40 + nsid);
        if (nsid == 2) std::fill(data.begin(), data.end(), 0);  // null: zeroes
        ASSERT_TRUE(ctrlr->write(nsid, 64, 8, data)->ok());
        auto c = ctrlr->compare(nsid, 64, 8, data);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->ok()) << st(*c);
        data[7 * b + 5] ^= 0x80;
        c = ctrlr->compare(nsid, 64, 8, data);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_EQ(c->sct(), spec::sct::media_error) << st(*c);
        EXPECT_EQ(c->sc(), spec::sc_media::compare_failure) << st(*c);
        EXPECT_TRUE(c->dnr());
    }
}

TEST_F(fused_test, a_first_without_its_second_is_aborted_as_missing) {
    auto& q = ctrlr->io(0);
    const std::vector<uint8_t> blk(512);
    std::vector<uint8_t> back(512);
    // First, then a plain Read: the first is aborted, the Read runs.
    auto c1 = q.submit(fused(host::cmd::compare(1, 0, 1), spec::fuse::first), blk, {},
                       host::submit_flag::defer);
    ASSERT_TRUE(c1);
    auto c2 = q.submit(host::cmd::read(1, 0, 1), {}, back, host::submit_flag::defer);
    ASSERT_TRUE(c2);
    ASSERT_TRUE(q.flush());
    auto r1 = q.wait(*c1);
    ASSERT_TRUE(r1) << r1.err().message;
    EXPECT_EQ(r1->sct(), spec::sct::generic);
    EXPECT_EQ(r1->sc(), spec::sc::aborted_missing_fused) << st(*r1);
    auto r2 = q.wait(*c2);
    ASSERT_TRUE(r2 && r2->ok());

    // A second without a first.
    auto s = q.execute(fused(host::cmd::write(1, 0, 1), spec::fuse::second), blk);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(s->sc(), spec::sc::aborted_missing_fused) << st(*s);

    // Two firsts: the earlier one is missing its second; the later one pairs.
    const auto next = random_bytes(512, 3);
    ASSERT_TRUE(ctrlr->write(1, 0, 1, blk)->ok());
    auto f1 = q.submit(fused(host::cmd::compare(1, 0, 1), spec::fuse::first), blk, {},
                       host::submit_flag::defer);
    ASSERT_TRUE(f1);
    auto p = compare_and_write(q, 1, 0, 1, blk, next);
    ASSERT_TRUE(p) << p.err().message;
    auto rf1 = q.wait(*f1);
    ASSERT_TRUE(rf1);
    EXPECT_EQ(rf1->sc(), spec::sc::aborted_missing_fused) << st(*rf1);
    EXPECT_TRUE(p->compare.ok() && p->write.ok()) << st(p->compare) << " " << st(p->write);
    ASSERT_TRUE(ctrlr->read(1, 0, 1, back)->ok());
    EXPECT_TRUE(back == next);

    // A first left alone when the queue closes: the connection goes cleanly.
    ASSERT_TRUE(q.submit(fused(host::cmd::compare(1, 0, 1), spec::fuse::first), blk));
    ctrlr.reset();
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    ASSERT_TRUE(ctrlr->read(1, 0, 1, back)->ok());
    EXPECT_TRUE(tgt.running()) << tgt.log_tail();
}

// Writes too large for in-capsule data wait for their R2T and H2CData; a
// pair received after them still executes as a pair (SPDK's fused_ordering
// case, SPDK issue #2428), and a pair whose Write itself needs an R2T too.
TEST_F(fused_test, pair_stays_adjacent_behind_and_across_r2t_writes) {
    auto& q = ctrlr->io(0);
    const auto big = random_bytes(64 * 1024, 11);
    const auto old = random_bytes(512, 12);
    ASSERT_TRUE(ctrlr->write(1, 300, 1, old)->ok());
    std::vector<uint16_t> writes;
    for (int i = 0; i < 8; ++i) {
        auto w = q.submit(host::cmd::write(1, 1000, 128), big, {},
                          host::submit_flag::defer | host::submit_flag::force_r2t);
        ASSERT_TRUE(w);
        writes.push_back(*w);
    }
    const auto next = random_bytes(512, 13);
    auto p = compare_and_write(q, 1, 300, 1, old, next);
    ASSERT_TRUE(p) << p.err().message;
    EXPECT_TRUE(p->compare.ok()) << st(p->compare);
    EXPECT_TRUE(p->write.ok()) << st(p->write);
    for (uint16_t w : writes) {
        auto c = q.wait(w);
        ASSERT_TRUE(c && c->ok());
    }
    // The pair's own Write by R2T.
    const auto big_next = random_bytes(64 * 1024, 14);
    auto c1 = q.submit(fused(host::cmd::compare(1, 1000, 128), spec::fuse::first), big, {},
                       host::submit_flag::defer | host::submit_flag::force_r2t);
    auto c2 = q.submit(fused(host::cmd::write(1, 1000, 128), spec::fuse::second), big_next, {},
                       host::submit_flag::defer | host::submit_flag::force_r2t);
    ASSERT_TRUE(c1 && c2 && q.flush());
    auto r1 = q.wait(*c1);
    auto r2 = q.wait(*c2);
    ASSERT_TRUE(r1 && r2);
    EXPECT_TRUE(r1->ok()) << st(*r1);
    EXPECT_TRUE(r2->ok()) << st(*r2);
    std::vector<uint8_t> back(64 * 1024);
    ASSERT_TRUE(ctrlr->read(1, 1000, 128, back)->ok());
    EXPECT_TRUE(back == big_next);
}

TEST_F(fused_test, mismatched_or_wrong_halves_are_refused) {
    auto& q = ctrlr->io(0);
    const auto blk = random_bytes(1024, 5);
    ASSERT_TRUE(ctrlr->write(1, 20, 2, blk)->ok());
    const auto other = random_bytes(1024, 6);
    // Different LBA ranges: Invalid Field for both, nothing written.
    auto c1 = q.submit(fused(host::cmd::compare(1, 20, 2), spec::fuse::first), blk, {},
                       host::submit_flag::defer);
    auto c2 = q.submit(fused(host::cmd::write(1, 21, 2), spec::fuse::second), other, {},
                       host::submit_flag::defer);
    ASSERT_TRUE(c1 && c2 && q.flush());
    auto r1 = q.wait(*c1);
    auto r2 = q.wait(*c2);
    ASSERT_TRUE(r1 && r2);
    EXPECT_EQ(r1->sc(), spec::sc::invalid_field) << st(*r1);
    EXPECT_EQ(r2->sc(), spec::sc::invalid_field) << st(*r2);
    std::vector<uint8_t> back(1536);
    ASSERT_TRUE(ctrlr->read(1, 20, 3, back)->ok());
    EXPECT_TRUE(std::equal(blk.begin(), blk.end(), back.begin()));

    // A first that is not a Compare: Invalid Opcode (as SPDK), so its second
    // finds no first.
    auto bad = q.submit(fused(host::cmd::write(1, 20, 2), spec::fuse::first), other, {},
                        host::submit_flag::defer);
    auto bad2 = q.submit(fused(host::cmd::write(1, 20, 2), spec::fuse::second), other, {},
                         host::submit_flag::defer);
    ASSERT_TRUE(bad && bad2 && q.flush());
    auto rb = q.wait(*bad);
    auto rb2 = q.wait(*bad2);
    ASSERT_TRUE(rb && rb2);
    EXPECT_EQ(rb->sc(), spec::sc::invalid_opcode) << st(*rb);
    EXPECT_EQ(rb2->sc(), spec::sc::aborted_missing_fused) << st(*rb2);
    ASSERT_TRUE(ctrlr->read(1, 20, 3, back)->ok());
    EXPECT_TRUE(std::equal(blk.begin(), blk.end(), back.begin()));
    // FUSE 11b is reserved.
    auto rsv = q.execute(fused(host::cmd::compare(1, 20, 2), 3), blk);
    ASSERT_TRUE(rsv);
    EXPECT_EQ(rsv->sc(), spec::sc::invalid_field) << st(*rsv);
    // No admin command is fused.
    spec::sqe ka = fused(host::cmd::keep_alive(), spec::fuse::first);
    auto a = ctrlr->admin().execute(ka);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->sc(), spec::sc::invalid_field) << st(*a);
    // Out of range: the Compare says so, the Write is aborted.
    const uint64_t nsze = (16ull << 20) / 512;
    auto oor = compare_and_write(q, 1, nsze - 1, 2, blk, other);
    ASSERT_TRUE(oor) << oor.err().message;
    EXPECT_EQ(oor->compare.sc(), spec::sc::lba_out_of_range) << st(oor->compare);
    EXPECT_EQ(oor->write.sc(), spec::sc::aborted_failed_fused) << st(oor->write);
}

// Two queues on two reactors increment one counter block by compare-and-write:
// every successful pair must be one increment, so the final count equals the
// number of successes (a lost update would leave it short).
class fused_race_test : public target_test {
protected:
    daemon_config config() override { return daemon_config::simple(); }
    void SetUp() override {
        const char* old = std::getenv("NVMF_TEST_CPUMASK");
        if (old != nullptr) saved_ = old;
        had_ = old != nullptr;
        ::setenv("NVMF_TEST_CPUMASK", "0x3", 1);
        target_test::SetUp();
    }
    void TearDown() override {
        target_test::TearDown();
        if (had_) {
            ::setenv("NVMF_TEST_CPUMASK", saved_.c_str(), 1);
        } else {
            ::unsetenv("NVMF_TEST_CPUMASK");
        }
    }
    std::string saved_;
    bool had_ = false;
};

TEST_F(fused_race_test, no_lost_update_in_100000_tries_from_two_reactors) {
    auto o = tgt.ctrlr_opts();
    o.num_io_queues = 2;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    // Both reactors have an I/O queue (placement is round robin).
    const json stats = tgt.rpc("nvmf_get_stats");
    ASSERT_EQ(stats["result"]["poll_groups"].size(), 2u) << stats.dump();
    for (const auto& g : stats["result"]["poll_groups"]) {
        EXPECT_EQ(g["current_io_qpairs"].get<uint64_t>(), 1u) << stats.dump();
    }

    constexpr uint64_t counter_lba = 77;
    ASSERT_TRUE(ctrlr->write(1, counter_lba, 1, std::vector<uint8_t>(512))->ok());
    constexpr int tries_per_queue = 50000;
    std::atomic<uint64_t> successes{0};
    std::atomic<uint64_t> failures{0};
    std::atomic<bool> broken{false};
    auto worker = [&](size_t qi) {
        host::queue& q = ctrlr->io(qi);
        std::vector<uint8_t> cur(512), next(512);
        for (int i = 0; i < tries_per_queue && !broken; ++i) {
            auto r = q.execute(host::cmd::read(1, counter_lba, 1), {}, cur);
            if (!r || !r->ok()) {
                broken = true;
                return;
            }
            uint64_t v = 0;
            std::memcpy(&v, cur.data(), sizeof(v));
            next = cur;
            ++v;
            std::memcpy(next.data(), &v, sizeof(v));
            auto p = compare_and_write(q, 1, counter_lba, 1, cur, next);
            if (!p) {
                broken = true;
                return;
            }
            if (p->compare.ok() && p->write.ok()) {
                ++successes;
            } else if (p->compare.sc() == spec::sc_media::compare_failure &&
                       p->write.sc() == spec::sc::aborted_failed_fused) {
                ++failures;
            } else {
                broken = true;
                return;
            }
        }
    };
    std::thread a(worker, 0);
    std::thread b(worker, 1);
    a.join();
    b.join();
    ASSERT_FALSE(broken) << tgt.log_tail();
    EXPECT_EQ(successes + failures, 2u * tries_per_queue);
    std::vector<uint8_t> fin(512);
    ASSERT_TRUE(ctrlr->read(1, counter_lba, 1, fin)->ok());
    uint64_t v = 0;
    std::memcpy(&v, fin.data(), sizeof(v));
    EXPECT_EQ(v, successes.load()) << successes << " successes, " << failures << " miscompares";
    // Both queues raced: some tries lost the race (else the test shows nothing).
    EXPECT_GT(failures.load(), 0u);
    std::cout << "fused race: " << successes << " increments, " << failures
              << " miscompares, counter " << v << "\n";
}

}  // namespace
}  // namespace nvmf::test
