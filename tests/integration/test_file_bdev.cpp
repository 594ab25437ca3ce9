// File-backed namespaces (bdev_uring_create / bdev_aio_create) through the
// real daemon: every I/O command on a disk file (O_DIRECT) and a tmpfs file
// (page cache), the Volatile Write Cache feature, the RPC methods and their
// errors, save_config round trip, ENOSPC as Capacity Exceeded (tiny tmpfs,
// root only), and durability across kill -9: writes acknowledged with FUA, or
// followed by a completed Flush, read back after a restart.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "daemon_fixture.hpp"
#include "host/commands.hpp"
#include "temp_files.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

json uring_entry(const std::string& name, const std::string& file, uint32_t bs) {
    return {{"method", "bdev_uring_create"},
            {"params", {{"name", name}, {"filename", file}, {"block_size", bs}}}};
}
json aio_entry(const std::string& name, const std::string& file, uint32_t bs) {
    return {{"method", "bdev_aio_create"},
            {"params", {{"name", name}, {"filename", file}, {"block_size", bs}}}};
}

// nsid 1: uring on a disk file, 4 KiB blocks; nsid 2: aio on tmpfs, 512 B.
daemon_config file_config(const backing_file& disk, const backing_file& shm) {
    daemon_config c;
    c.extra_bdevs.push_back(uring_entry("Uring0", disk.path, 4096));
    c.extra_bdevs.push_back(aio_entry("Aio0", shm.path, 512));
    subsystem_cfg s;
    s.nqn = default_nqn;
    s.namespaces = {{"Uring0", 1}, {"Aio0", 2}};
    c.subsystems.push_back(s);
    return c;
}

constexpr uint64_t file_bytes = 16ull << 20;

class file_ns : public target_test {
protected:
    daemon_config config() override { return file_config(disk_, shm_); }
    void SetUp() override {
        ASSERT_TRUE(disk_.ok && shm_.ok) << "cannot create backing files";
        target_test::SetUp();
        ctrlr = connect();
        ASSERT_TRUE(ctrlr);
    }
    uint32_t bs(uint32_t nsid) {
        auto ns = ctrlr->identify_ns(nsid);
        EXPECT_TRUE(ns) << ns.err().message;
        return ns ? 1u << ns->lbaf[ns->flbas & 0xf].lbads : 0;
    }
    backing_file disk_{"/var/tmp", file_bytes};
    backing_file shm_{"/dev/shm", file_bytes};
};

TEST_F(file_ns, identify_reports_the_file_size_and_a_write_cache) {
    auto ns1 = ctrlr->identify_ns(1);
    ASSERT_TRUE(ns1) << ns1.err().message;
    EXPECT_EQ(ns1->nsze, file_bytes / 4096);
    auto ns2 = ctrlr->identify_ns(2);
    ASSERT_TRUE(ns2) << ns2.err().message;
    EXPECT_EQ(ns2->nsze, file_bytes / 512);
    EXPECT_EQ(ctrlr->data().vwc & 1, 1);
}

TEST_F(file_ns, every_io_command) {
    for (uint32_t nsid : {1u, 2u}) {
        SCOPED_TRACE("nsid " + std::to_string(nsid));
        const uint32_t b = bs(nsid);
        ASSERT_NE(b, 0u);
        uint32_t seed = nsid * 100;
        // In-capsule and R2T sizes up to MDTS, with and without FUA.
        for (uint32_t bytes : {b, 8192u, 65536u, 131072u}) {
            for (bool fua : {false, true}) {
                const uint64_t slba = (seed % 50) * 64;
                const auto data = random_bytes(bytes, seed++);
                auto wr = ctrlr->io(0).execute(host::cmd::write(nsid, slba, bytes / b, fua), data);
                ASSERT_TRUE(wr) << wr.err().message;
                ASSERT_TRUE(wr->ok()) << st(*wr);
                std::vector<uint8_t> back(bytes);
                auto r = ctrlr->read(nsid, slba, bytes / b, back);
                ASSERT_TRUE(r && r->ok());
                ASSERT_TRUE(back == data) << bytes << " bytes, fua " << fua;
            }
        }
        auto f = ctrlr->flush(nsid);
        ASSERT_TRUE(f && f->ok()) << (f ? st(*f) : f.err().message);

        // Write Zeroes and Deallocate read back zeroes; neighbours kept.
        const auto data = random_bytes(16 * b, seed++);
        ASSERT_TRUE(ctrlr->write(nsid, 0, 16, data)->ok());
        auto wz = ctrlr->write_zeroes(nsid, 2, 4);
        ASSERT_TRUE(wz && wz->ok()) << (wz ? st(*wz) : wz.err().message);
        const host::cmd::dsm_range range{0, 4, 10};
        auto dsm = ctrlr->deallocate(nsid, std::span(&range, 1));
        ASSERT_TRUE(dsm && dsm->ok()) << (dsm ? st(*dsm) : dsm.err().message);
        std::vector<uint8_t> back(16 * b);
        ASSERT_TRUE(ctrlr->read(nsid, 0, 16, back)->ok());
        std::vector<uint8_t> expect = data;
        std::fill(expect.begin() + 2 * b, expect.begin() + 6 * b, 0);
        std::fill(expect.begin() + 10 * b, expect.begin() + 14 * b, 0);
        EXPECT_TRUE(back == expect);

        // Errors: beyond the end.
        const uint64_t nsze = file_bytes / b;
        auto oor = ctrlr->read(nsid, nsze, 1, std::span(back).first(b));
        ASSERT_TRUE(oor);
        EXPECT_EQ(oor->sc(), spec::sc::lba_out_of_range);
        // Compare (read and compared by the NVMe layer): equal, then one bit off.
        auto cmp = ctrlr->compare(nsid, 0, 16, back);
        ASSERT_TRUE(cmp);
        EXPECT_TRUE(cmp->ok()) << st(*cmp);
        back[5 * b + 3] ^= 0x10;
        cmp = ctrlr->compare(nsid, 0, 16, back);
        ASSERT_TRUE(cmp);
        EXPECT_EQ(cmp->sct(), spec::sct::media_error) << st(*cmp);
        EXPECT_EQ(cmp->sc(), spec::sc_media::compare_failure) << st(*cmp);
    }
    // The data is in the backing files themselves.
    const auto data = random_bytes(4096, 7);
    ASSERT_TRUE(ctrlr->write(1, 100, 1, data)->ok());
    ASSERT_TRUE(ctrlr->flush(1)->ok());
    EXPECT_TRUE(disk_.read_at(100 * 4096, 4096) == data);
    ASSERT_TRUE(ctrlr->write(2, 8, 8, data)->ok());
    EXPECT_TRUE(shm_.read_at(8 * 512, 4096) == data);
}

TEST_F(file_ns, volatile_write_cache_feature) {
    constexpr uint8_t fid = spec::feat::volatile_write_cache;
    auto g = ctrlr->get_features(fid);
    ASSERT_TRUE(g && g->ok());
    EXPECT_EQ(g->cqe.cdw0, 1u);
    auto s = ctrlr->set_features(fid, 0);
    ASSERT_TRUE(s && s->ok()) << (s ? st(*s) : s.err().message);
    g = ctrlr->get_features(fid);
    EXPECT_EQ(g->cqe.cdw0, 0u);
    // Write-through now: still correct data.
    const auto data = random_bytes(65536, 3);
    ASSERT_TRUE(ctrlr->write(1, 0, 16, data)->ok());
    std::vector<uint8_t> back(65536);
    ASSERT_TRUE(ctrlr->read(1, 0, 16, back)->ok());
    EXPECT_TRUE(back == data);
    EXPECT_TRUE(disk_.read_at(0, 65536) == data);
    ASSERT_TRUE(ctrlr->set_features(fid, 1)->ok());
    EXPECT_EQ(ctrlr->get_features(fid)->cqe.cdw0, 1u);
}

// A shutdown notification flushes the namespaces' write caches before
// CSTS.SHST reads complete (src/nvmf/shutdown.cpp). That the data is then on
// stable media only a power cut shows: tests/interop/run-power-loss.
TEST_F(file_ns, shutdown_notification_flushes_then_completes) {
    const auto data = random_bytes(4096, 11);
    ASSERT_TRUE(ctrlr->write(1, 3, 1, data)->ok());
    auto sh = ctrlr->shutdown();
    ASSERT_TRUE(sh) << sh.err().message;
    auto csts = ctrlr->get_property(spec::prop::csts);
    ASSERT_TRUE(csts);
    EXPECT_EQ((*csts & spec::csts::shst_mask) >> spec::csts::shst_shift, spec::csts::shst_complete);
    if (daemon::ready_line_logged()) {
        EXPECT_TRUE(tgt.log_shows("normal shutdown notification, flushing 2 namespace(s)"))
            << tgt.log_tail();
    }
    EXPECT_TRUE(disk_.read_at(3 * 4096, 4096) == data);
}

// RPC methods on a daemon with only a RAM namespace.
class file_rpc : public target_test {};

TEST_F(file_rpc, create_get_delete_and_errors) {
    backing_file f("/dev/shm", 4 << 20);
    ASSERT_TRUE(f.ok);

    auto r = tgt.rpc("bdev_uring_create", {{"name", "U0"}, {"filename", "/nonexistent/x.img"}});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_EQ(r["error"]["code"], -ENOENT);
    EXPECT_NE(r["error"]["message"].get<std::string>().find("/nonexistent/x.img"),
              std::string::npos)
        << r.dump();
    r = tgt.rpc("bdev_uring_create", {{"name", "U0"}});
    EXPECT_EQ(r["error"]["code"], -32602) << r.dump();  // filename is required
    r = tgt.rpc("bdev_aio_create", {{"name", "A0"}, {"filename", f.path}, {"block_size", 1000}});
    EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
    r = tgt.rpc("bdev_uring_create", {{"name", "U0"}, {"filename", f.path}, {"bogus", 1}});
    EXPECT_EQ(r["error"]["code"], -32602) << r.dump();

    r = tgt.rpc("bdev_uring_create", {{"name", "U0"}, {"filename", f.path}});
    ASSERT_EQ(r["result"], "U0") << r.dump();  // SPDK returns the bdev name
    r = tgt.rpc("bdev_uring_create", {{"name", "U0"}, {"filename", f.path}});
    EXPECT_EQ(r["error"]["code"], -EEXIST) << r.dump();
    r = tgt.rpc("bdev_aio_create",
                {{"name", "A0"}, {"filename", f.path}, {"block_size", 4096}, {"readonly", true}});
    ASSERT_EQ(r["result"], "A0") << r.dump();

    r = tgt.rpc("bdev_get_bdevs", {{"name", "U0"}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    const json u = r["result"][0];
    EXPECT_EQ(u["product_name"], "URING bdev");
    EXPECT_EQ(u["block_size"], 512);
    EXPECT_EQ(u["num_blocks"], (4 << 20) / 512);
    EXPECT_EQ(u["driver_specific"]["uring"]["filename"], f.path);
    EXPECT_EQ(u["supported_io_types"]["flush"], true);
    EXPECT_EQ(u["supported_io_types"]["unmap"], true);
    r = tgt.rpc("bdev_get_bdevs", {{"name", "A0"}});
    const json a = r["result"][0];
    EXPECT_EQ(a["product_name"], "AIO disk");
    EXPECT_EQ(a["block_size"], 4096);
    EXPECT_EQ(a["driver_specific"]["aio"]["filename"], f.path);
    EXPECT_EQ(a["driver_specific"]["aio"]["readonly"], true);

    // save_config emits both.
    r = tgt.rpc("save_config");
    ASSERT_TRUE(r.contains("result")) << r.dump();
    int found = 0;
    for (const auto& s : r["result"]["subsystems"]) {
        if (s["subsystem"] != "bdev") continue;
        for (const auto& e : s["config"]) {
            if (e["method"] == "bdev_uring_create") {
                EXPECT_EQ(e["params"]["filename"], f.path);
                EXPECT_EQ(e["params"]["name"], "U0");
                ++found;
            }
            if (e["method"] == "bdev_aio_create") {
                EXPECT_EQ(e["params"]["readonly"], true);
                EXPECT_EQ(e["params"]["block_size"], 4096);
                ++found;
            }
        }
    }
    EXPECT_EQ(found, 2) << r.dump();

    // Delete: by the right method only.
    r = tgt.rpc("bdev_aio_delete", {{"name", "U0"}});
    EXPECT_EQ(r["error"]["code"], -ENODEV) << r.dump();
    r = tgt.rpc("bdev_malloc_delete", {{"name", "A0"}});
    EXPECT_EQ(r["error"]["code"], -ENODEV) << r.dump();
    r = tgt.rpc("bdev_null_delete", {{"name", "A0"}});
    EXPECT_EQ(r["error"]["code"], -ENODEV) << r.dump();
    EXPECT_EQ(tgt.rpc("bdev_uring_delete", {{"name", "U0"}})["result"], true);
    EXPECT_EQ(tgt.rpc("bdev_aio_delete", {{"name", "A0"}})["result"], true);
    r = tgt.rpc("bdev_uring_delete", {{"name", "U0"}});
    EXPECT_EQ(r["error"]["code"], -ENODEV) << r.dump();
    // In use by a namespace: refused.
    ASSERT_EQ(tgt.rpc("bdev_uring_create", {{"name", "U1"}, {"filename", f.path}})["result"], "U1");
    r = tgt.rpc("nvmf_subsystem_add_ns",
                {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "U1"}}}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    r = tgt.rpc("bdev_uring_delete", {{"name", "U1"}});
    EXPECT_EQ(r["error"]["code"], -EBUSY) << r.dump();
}

// Replaces the listener port in a saved config with the new daemon's.
json with_port(json cfg, const std::string& port) {
    for (auto& s : cfg["subsystems"]) {
        for (auto& e : s["config"]) {
            if (e["method"] == "nvmf_subsystem_add_listener") {
                e["params"]["listen_address"]["trsvcid"] = port;
            }
        }
    }
    return cfg;
}

// Writes acknowledged with FUA, or followed by a completed Flush, survive a
// kill -9 of the daemon; the restarted daemon (same config) reads them back.
// Also the save_config of the first daemon starts the second one.
TEST(file_durability, fua_and_flushed_writes_survive_kill_9) {
    backing_file disk("/var/tmp", file_bytes);
    backing_file shm("/dev/shm", file_bytes);
    ASSERT_TRUE(disk.ok && shm.ok);
    const daemon_config cfg = file_config(disk, shm);
    constexpr int writes = 48;  // per kind, 32 KiB each, in flight together
    constexpr uint32_t bytes = 32768;
    std::vector<std::vector<uint8_t>> data;
    data.reserve(2 * writes);
    for (int i = 0; i < 2 * writes; ++i) data.push_back(random_bytes(bytes, 1000 + i));
    json saved;
    {
        daemon a;
        ASSERT_TRUE(a.start(cfg));
        auto c = host::controller::create(a.ctrlr_opts());
        ASSERT_TRUE(c) << c.err().message;
        auto& q = (*c)->io(0);
        for (uint32_t nsid : {1u, 2u}) {
            const uint32_t b = nsid == 1 ? 4096 : 512;
            std::vector<uint16_t> cids;
            // First half: FUA writes.
            for (int i = 0; i < writes; ++i) {
                auto cid =
                    q.submit(host::cmd::write(nsid, i * (bytes / b), bytes / b, true), data[i]);
                ASSERT_TRUE(cid) << cid.err().message;
                cids.push_back(*cid);
            }
            for (uint16_t cid : cids) {
                auto r = q.wait(cid);
                ASSERT_TRUE(r && r->ok()) << (r ? st(*r) : r.err().message);
            }
            // Second half: plain writes, then a Flush.
            cids.clear();
            for (int i = writes; i < 2 * writes; ++i) {
                auto cid =
                    q.submit(host::cmd::write(nsid, i * (bytes / b), bytes / b, false), data[i]);
                ASSERT_TRUE(cid) << cid.err().message;
                cids.push_back(*cid);
            }
            for (uint16_t cid : cids) ASSERT_TRUE(q.wait(cid)->ok());
            auto f = (*c)->flush(nsid);
            ASSERT_TRUE(f && f->ok());
        }
        auto s = a.rpc("save_config");
        ASSERT_TRUE(s.contains("result")) << s.dump();
        saved = s["result"];
        a.kill9();  // no clean shutdown
        c->reset();
    }
    for (bool from_saved : {false, true}) {
        SCOPED_TRACE(from_saved ? "started from save_config" : "started from the same config");
        daemon b;
        if (from_saved) {
            ASSERT_TRUE(
                b.start_with([&](const std::string& port) { return with_port(saved, port); }));
        } else {
            ASSERT_TRUE(b.start(cfg));
        }
        auto c = host::controller::create(b.ctrlr_opts());
        ASSERT_TRUE(c) << c.err().message << b.log_tail();
        for (uint32_t nsid : {1u, 2u}) {
            const uint32_t blk = nsid == 1 ? 4096 : 512;
            for (int i = 0; i < 2 * writes; ++i) {
                std::vector<uint8_t> back(bytes);
                auto r = (*c)->read(nsid, i * (bytes / blk), bytes / blk, back);
                ASSERT_TRUE(r && r->ok());
                ASSERT_TRUE(back == data[i]) << "nsid " << nsid << " write " << i;
            }
        }
        c->reset();
        EXPECT_TRUE(b.stop());
    }
}

// ENOSPC from the file system is Capacity Exceeded to the host, and the
// namespace keeps working. Needs root to mount a tiny tmpfs.
TEST(file_enospc, full_file_system_is_capacity_exceeded) {
    char tmpl[] = "/tmp/nvmf-it-enospc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=512k") != 0) {
        const int e = errno;
        ::rmdir(dir.c_str());
        GTEST_SKIP() << "needs root to mount a tiny tmpfs: " << std::strerror(e);
    }
    struct unmount {
        std::string d;
        ~unmount() {
            ::umount2(d.c_str(), MNT_DETACH);
            ::rmdir(d.c_str());
        }
    } um{dir};
    const std::string path = dir + "/disk.img";
    {
        const int fd = ::open(path.c_str(), O_CREAT | O_RDWR, 0600);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 8 << 20), 0);
        ::close(fd);
    }
    daemon_config cfg;
    cfg.extra_bdevs.push_back(uring_entry("Full0", path, 4096));
    subsystem_cfg s;
    s.nqn = default_nqn;
    s.namespaces = {{"Full0", 1}};
    cfg.subsystems.push_back(s);
    daemon d;
    ASSERT_TRUE(d.start(cfg));
    auto c = host::controller::create(d.ctrlr_opts());
    ASSERT_TRUE(c) << c.err().message;
    const auto data = random_bytes(65536, 5);
    host::completion last{};
    uint64_t slba = 0;
    for (; slba < (8 << 20) / 4096; slba += 16) {
        auto r = (*c)->write(1, slba, 16, data);
        ASSERT_TRUE(r) << r.err().message;
        last = *r;
        if (!r->ok()) break;
    }
    EXPECT_EQ(last.sct(), spec::sct::generic) << st(last);
    EXPECT_EQ(last.sc(), spec::sc::capacity_exceeded) << st(last);
    EXPECT_LE(slba * 4096, 1024u * 1024);
    // What was written reads back.
    std::vector<uint8_t> back(65536);
    auto r = (*c)->read(1, 0, 16, back);
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE(back == data);
    c->reset();
    EXPECT_TRUE(d.stop());
}

}  // namespace
}  // namespace nvmf::test
