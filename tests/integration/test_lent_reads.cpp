// Reads from a RAM bdev are sent from the bdev's own memory (no copy into a
// buffer). That memory must outlive every send that points at it: here 15 MiB
// of reads are completed by the target but held in its socket because the host
// does not read, while the namespace is removed and its bdev deleted. The host
// then reads everything and gets the data it wrote; the daemon (ASan in CI)
// neither crashes nor touches freed memory.
#include <thread>
#include <vector>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

constexpr uint32_t block = 4096;
constexpr uint32_t io_bytes = 128 * 1024;
constexpr int reads = 120;  // 15 MiB: more than both socket buffers hold
constexpr uint64_t bdev_bytes = 32ull << 20;

class lent_reads_test : public target_test {
protected:
    daemon_config config() override { return daemon_config::simple(block, bdev_bytes); }
};

TEST_F(lent_reads_test, DataOutlivesNamespaceAndBdevRemoval) {
    auto o = tgt.ctrlr_opts();
    o.io_queue_size = 128;  // the transport's max_queue_depth
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    if (ctrlr->max_transfer() != 0 && ctrlr->max_transfer() < io_bytes) {
        GTEST_SKIP() << "MDTS below " << io_bytes;
    }
    const auto data = random_bytes(static_cast<size_t>(reads) * io_bytes, 77);
    constexpr uint32_t nlb = io_bytes / block;
    for (int i = 0; i < reads; ++i) {
        auto w =
            ctrlr->write(1, static_cast<uint64_t>(i) * nlb, nlb,
                         std::span<const uint8_t>(data.data() + size_t(i) * io_bytes, io_bytes));
        ASSERT_TRUE(w && w->ok()) << (w ? st(*w) : w.err().message);
    }

    auto& q = ctrlr->io(0);
    std::vector<uint8_t> back(data.size());
    std::vector<uint16_t> cids;
    for (int i = 0; i < reads; ++i) {
        auto cid = q.submit(host::cmd::read(1, static_cast<uint64_t>(i) * nlb, nlb), {},
                            std::span<uint8_t>(back.data() + size_t(i) * io_bytes, io_bytes));
        ASSERT_TRUE(cid) << cid.err().message;
        cids.push_back(*cid);
    }
    // The target completes the reads; their data waits in its socket.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    // Neither call waits for the host to read.
    const auto removed = tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", 1}});
    ASSERT_TRUE(removed.contains("result")) << removed.dump();
    const auto deleted = tgt.rpc("bdev_malloc_delete", {{"name", "Malloc0"}});
    ASSERT_TRUE(deleted.contains("result")) << deleted.dump();
    // One more command on each queue makes it drop its snapshot of the old
    // namespace table, the last holder of the bdev apart from the lent reads
    // (a host that got the Namespace Attribute Changed event does the same).
    (void)ctrlr->identify_ns(1);
    std::vector<uint8_t> one(block);
    auto extra = q.submit(host::cmd::read(1, 0, 1), {}, one);
    ASSERT_TRUE(extra) << extra.err().message;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));

    for (uint16_t cid : cids) {
        auto c = q.wait(cid);
        ASSERT_TRUE(c) << c.err().message << "\n" << tgt.log_tail();
        EXPECT_TRUE(c->ok()) << st(*c);
    }
    EXPECT_TRUE(back == data) << "read data differs";
    auto e = q.wait(*extra);
    ASSERT_TRUE(e) << e.err().message;
    EXPECT_EQ(e->status(),
              spec::make_status(spec::sct::generic, spec::sc::invalid_namespace_or_format, true))
        << st(*e);
    EXPECT_TRUE(tgt.running());
}

}  // namespace
}  // namespace nvmf::test
