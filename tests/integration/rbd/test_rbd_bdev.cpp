// Ceph RBD namespaces (bdev_rbd_*) through the real daemon, against the
// one-node cluster of tests/ceph/cluster-up that ctest starts once for this
// binary (fixture ceph_cluster, tests/CMakeLists.txt): every I/O command,
// the RPC methods and their errors, a read-only image, an image with a
// connection of its own, save_config across a restart with the data and the
// identifiers kept, and two daemons giving the same image the same UUID.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "host/commands.hpp"
#include "rbd/rbd_helpers.hpp"
#include "spdk_rpc_py.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr uint64_t image_bytes = 64ull << 20;

json rbd_entry(const std::string& name, const std::string& img, uint32_t bs,
               bool read_only = false) {
    return {{"method", "bdev_rbd_create"},
            {"params",
             {{"name", name},
              {"cluster_name", "ceph0"},
              {"pool_name", "rbd"},
              {"rbd_name", img},
              {"block_size", bs},
              {"read_only", read_only}}}};
}

daemon_config rbd_config(const std::string& img, uint32_t bs) {
    daemon_config c;
    c.extra_bdevs.push_back(register_cluster_entry());
    c.extra_bdevs.push_back(rbd_entry("Rbd0", img, bs));
    subsystem_cfg s;
    s.nqn = default_nqn;
    s.namespaces = {{"Rbd0", 1}};
    c.subsystems.push_back(s);
    return c;
}

class rbd_test : public target_test {
protected:
    void SetUp() override {
        ASSERT_FALSE(ceph_dir().empty())
            << "NVMF_TEST_CEPH_DIR is not set: run through ctest, whose fixture starts the "
               "cluster (tests/ceph/cluster-up)";
        ASSERT_TRUE(img_.ok()) << img_.output();
        target_test::SetUp();
    }
    daemon_config config() override { return rbd_config(img_.name(), 4096); }
    image img_{::testing::UnitTest::GetInstance()->current_test_info()->name()};
};

class rbd_ns : public rbd_test {
protected:
    void SetUp() override {
        rbd_test::SetUp();
        if (HasFatalFailure()) return;
        ctrlr = connect();
        ASSERT_TRUE(ctrlr);
    }
};

TEST_F(rbd_ns, identify_reports_the_image_size) {
    auto ns = ctrlr->identify_ns(1);
    ASSERT_TRUE(ns) << ns.err().message;
    EXPECT_EQ(ns->nsze, image_bytes / 4096);
    EXPECT_EQ(1u << ns->lbaf[ns->flbas & 0xf].lbads, 4096u);
    // librbd's client cache is on by default: writes are volatile until a flush.
    EXPECT_EQ(ctrlr->data().vwc & 1, 1);
}

TEST_F(rbd_ns, every_io_command) {
    constexpr uint32_t b = 4096;
    uint32_t seed = 1;
    for (uint32_t bytes : {b, 8192u, 65536u, 131072u}) {
        for (bool fua : {false, true}) {
            const uint64_t slba = (seed % 50) * 64;
            const auto data = random_bytes(bytes, seed++);
            auto wr = ctrlr->io(0).execute(host::cmd::write(1, slba, bytes / b, fua), data);
            ASSERT_TRUE(wr) << wr.err().message;
            ASSERT_TRUE(wr->ok()) << st(*wr);
            std::vector<uint8_t> back(bytes);
            auto r = ctrlr->read(1, slba, bytes / b, back);
            ASSERT_TRUE(r && r->ok());
            ASSERT_TRUE(back == data) << bytes << " bytes, fua " << fua;
        }
    }
    auto f = ctrlr->flush(1);
    ASSERT_TRUE(f && f->ok()) << (f ? st(*f) : f.err().message);

    // Write Zeroes and Deallocate read back zeroes (DLFEAT says so); neighbours kept.
    const auto data = random_bytes(16 * b, seed++);
    ASSERT_TRUE(ctrlr->write(1, 0, 16, data)->ok());
    auto wz = ctrlr->write_zeroes(1, 2, 4);
    ASSERT_TRUE(wz && wz->ok()) << (wz ? st(*wz) : wz.err().message);
    const host::cmd::dsm_range range{0, 4, 10};
    auto dsm = ctrlr->deallocate(1, std::span(&range, 1));
    ASSERT_TRUE(dsm && dsm->ok()) << (dsm ? st(*dsm) : dsm.err().message);
    std::vector<uint8_t> back(16 * b);
    ASSERT_TRUE(ctrlr->read(1, 0, 16, back)->ok());
    std::vector<uint8_t> expect = data;
    std::fill(expect.begin() + 2 * b, expect.begin() + 6 * b, 0);
    std::fill(expect.begin() + 10 * b, expect.begin() + 14 * b, 0);
    EXPECT_TRUE(back == expect);

    // Errors: beyond the end.
    auto oor = ctrlr->read(1, image_bytes / b, 1, std::span(back).first(b));
    ASSERT_TRUE(oor);
    EXPECT_EQ(oor->sc(), spec::sc::lba_out_of_range);
    // Compare, which the NVMe layer does by reading (the rbd bdev has none).
    auto cmp = ctrlr->compare(1, 0, 16, back);
    ASSERT_TRUE(cmp);
    EXPECT_TRUE(cmp->ok()) << st(*cmp);
    back[b + 1] ^= 0x01;
    cmp = ctrlr->compare(1, 0, 16, back);
    ASSERT_TRUE(cmp);
    EXPECT_EQ(cmp->sc(), spec::sc_media::compare_failure) << st(*cmp);

    // The data is in the image: the rbd CLI reads it back.
    const auto last = random_bytes(b, seed++);
    ASSERT_TRUE(ctrlr->write(1, 1000, 1, last)->ok());
    ASSERT_TRUE(ctrlr->flush(1)->ok());
    const std::string dump = "/tmp/nvmf-rbd-export-" + std::to_string(::getpid());
    std::string out;
    ASSERT_TRUE(rbd_cli("export --no-progress rbd/" + img_.name() + " " + dump, &out)) << out;
    std::ifstream in(dump, std::ios::binary);
    in.seekg(1000 * b);
    std::vector<uint8_t> exported(b);
    in.read(reinterpret_cast<char*>(exported.data()), b);
    std::remove(dump.c_str());
    EXPECT_TRUE(exported == last);
}

// Many commands in flight on several queues: completions come back from
// librbd's threads to each queue's reactor.
TEST_F(rbd_ns, concurrent_writes_on_all_queues_read_back) {
    constexpr uint32_t b = 4096;
    constexpr uint32_t per_queue = 32;
    const size_t queues = ctrlr->io_queue_count();
    ASSERT_GE(queues, 1u);
    std::vector<std::vector<uint8_t>> data;
    for (size_t q = 0; q < queues; ++q) {
        for (uint32_t i = 0; i < per_queue; ++i) {
            data.push_back(random_bytes(2 * b, static_cast<uint32_t>(q * 1000 + i)));
        }
    }
    // Every queue's commands are in flight together.
    for (size_t q = 0; q < queues; ++q) {
        for (uint32_t i = 0; i < per_queue; ++i) {
            const size_t k = q * per_queue + i;
            auto cid = ctrlr->io(q).submit(host::cmd::write(1, k * 2, 2), data[k]);
            ASSERT_TRUE(cid) << cid.err().message;
        }
    }
    for (size_t q = 0; q < queues; ++q) {
        for (uint32_t i = 0; i < per_queue; ++i) {
            auto c = ctrlr->io(q).wait_any();
            ASSERT_TRUE(c) << c.err().message;
            EXPECT_TRUE(c->second.ok()) << st(c->second);
        }
    }
    for (size_t k = 0; k < data.size(); ++k) {
        std::vector<uint8_t> back(2 * b);
        ASSERT_TRUE(ctrlr->read(1, k * 2, 2, back)->ok());
        ASSERT_TRUE(back == data[k]) << "block pair " << k;
    }
}

// bdev_rbd_resize grows the image under a connected host: the Namespace
// Attribute Changed notice names the namespace, Identify shows the new size,
// and the blocks past the old end take I/O. Shrinking is refused.
TEST_F(rbd_ns, resize_grows_the_namespace_and_tells_the_host) {
    constexpr uint32_t b = 4096;
    auto s =
        ctrlr->set_features(spec::feat::async_event_configuration, spec::aer::cfg_ns_attr_notice);
    ASSERT_TRUE(s && s->ok());
    auto cid = ctrlr->submit_aer();
    ASSERT_TRUE(cid) << cid.err().message;
    auto r = tgt.rpc("bdev_rbd_resize", {{"name", "Rbd0"}, {"new_size", 128}});
    ASSERT_EQ(r["result"], true) << r.dump();
    auto ev = ctrlr->admin().wait(*cid, 5000);
    ASSERT_TRUE(ev) << "no AEN: " << ev.err().message;
    EXPECT_EQ((ev->cqe.cdw0 >> 8) & 0xff, spec::aer::notice_ns_attr_changed);
    EXPECT_EQ((ev->cqe.cdw0 >> 16) & 0xff, spec::lid::changed_ns_list);
    std::vector<uint8_t> log(4096);
    auto l = ctrlr->get_log_page(spec::lid::changed_ns_list, 0, log);
    ASSERT_TRUE(l && l->ok());
    uint32_t first = 0;
    std::memcpy(&first, log.data(), 4);
    EXPECT_EQ(first, 1u);
    auto ns = ctrlr->identify_ns(1);
    ASSERT_TRUE(ns) << ns.err().message;
    EXPECT_EQ(ns->nsze, (128ull << 20) / b);
    const auto data = random_bytes(b, 77);
    const uint64_t past_old_end = image_bytes / b + 5;
    ASSERT_TRUE(ctrlr->write(1, past_old_end, 1, data)->ok());
    std::vector<uint8_t> back(b);
    ASSERT_TRUE(ctrlr->read(1, past_old_end, 1, back)->ok());
    EXPECT_TRUE(back == data);
    std::string info;
    ASSERT_TRUE(rbd_cli("info rbd/" + img_.name(), &info));
    EXPECT_NE(info.find("size 128 MiB"), std::string::npos) << info;

    r = tgt.rpc("bdev_rbd_resize", {{"name", "Rbd0"}, {"new_size", 64}});
    EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
    r = tgt.rpc("bdev_rbd_resize", {{"name", "nope"}, {"new_size", 256}});
    EXPECT_EQ(r["error"]["code"], -ENODEV) << r.dump();
    r = tgt.rpc("bdev_rbd_resize", {{"name", "Rbd0"}});
    EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
}

// Another client (here the rbd tool; in a gateway group, another gateway)
// grows the image: librbd's header notice reaches the bdev, and the host
// hears of it as for bdev_rbd_resize.
TEST_F(rbd_ns, an_image_grown_by_another_client_grows_the_namespace) {
    constexpr uint32_t b = 4096;
    auto s =
        ctrlr->set_features(spec::feat::async_event_configuration, spec::aer::cfg_ns_attr_notice);
    ASSERT_TRUE(s && s->ok());
    auto cid = ctrlr->submit_aer();
    ASSERT_TRUE(cid) << cid.err().message;
    std::string out;
    ASSERT_TRUE(rbd_cli("resize --no-progress --size 96M rbd/" + img_.name(), &out)) << out;
    auto ev = ctrlr->admin().wait(*cid, 10000);
    ASSERT_TRUE(ev) << "no AEN: " << ev.err().message << "\n" << tgt.log_tail();
    EXPECT_EQ((ev->cqe.cdw0 >> 8) & 0xff, spec::aer::notice_ns_attr_changed);
    auto ns = ctrlr->identify_ns(1);
    ASSERT_TRUE(ns) << ns.err().message;
    EXPECT_EQ(ns->nsze, (96ull << 20) / b);
    const auto data = random_bytes(b, 78);
    const uint64_t past_old_end = image_bytes / b + 7;
    ASSERT_TRUE(ctrlr->write(1, past_old_end, 1, data)->ok());
    std::vector<uint8_t> back(b);
    ASSERT_TRUE(ctrlr->read(1, past_old_end, 1, back)->ok());
    EXPECT_TRUE(back == data);
    auto info = tgt.rpc("bdev_get_bdevs", {{"name", "Rbd0"}});
    EXPECT_EQ(info["result"][0]["num_blocks"], (96ull << 20) / b) << info.dump();
}

class rbd_rpc : public rbd_test {
protected:
    daemon_config config() override { return daemon_config::simple(); }
};

TEST_F(rbd_rpc, methods_and_errors) {
    auto r = tgt.rpc("bdev_rbd_create", {{"name", "R0"},
                                         {"cluster_name", "nope"},
                                         {"pool_name", "rbd"},
                                         {"rbd_name", img_.name()},
                                         {"block_size", 512}});
    EXPECT_EQ(r["error"]["code"], -ENOENT) << r.dump();
    r = tgt.rpc("bdev_rbd_register_cluster", register_cluster_entry()["params"]);
    ASSERT_EQ(r["result"], "ceph0") << r.dump();
    r = tgt.rpc("bdev_rbd_register_cluster", register_cluster_entry()["params"]);
    EXPECT_EQ(r["error"]["code"], -EEXIST) << r.dump();
    r = tgt.rpc("bdev_rbd_get_clusters_info");
    ASSERT_EQ(r["result"].size(), 1u) << r.dump();
    EXPECT_EQ(r["result"][0]["cluster_name"], "ceph0");
    EXPECT_EQ(r["result"][0]["config_file"], ceph_conf());
    r = tgt.rpc("bdev_rbd_get_clusters_info", {{"name", "other"}});
    EXPECT_EQ(r["error"]["code"], -ENOENT) << r.dump();

    // Parameters.
    json p = rbd_entry("R0", img_.name(), 4096)["params"];
    for (const char* required : {"pool_name", "rbd_name", "block_size"}) {
        json q = p;
        q.erase(required);
        r = tgt.rpc("bdev_rbd_create", q);
        EXPECT_EQ(r["error"]["code"], -32602) << required << ": " << r.dump();
    }
    json q = p;
    q["block_size"] = 1000;
    EXPECT_EQ(tgt.rpc("bdev_rbd_create", q)["error"]["code"], -32602);
    q = p;
    q["user_id"] = "admin";  // a registered cluster brings its own identity
    EXPECT_EQ(tgt.rpc("bdev_rbd_create", q)["error"]["code"], -32602);
    q = p;
    q["config"] = {{"rbd_cache", 1}};  // values are strings
    EXPECT_EQ(tgt.rpc("bdev_rbd_create", q)["error"]["code"], -32602);
    q = p;
    q["rbd_name"] = "no-such-image";
    r = tgt.rpc("bdev_rbd_create", q);
    EXPECT_EQ(r["error"]["code"], -ENOENT) << r.dump();
    EXPECT_NE(r["error"]["message"].get<std::string>().find("no-such-image"), std::string::npos);
    q = p;
    q["pool_name"] = "no-such-pool";
    EXPECT_EQ(tgt.rpc("bdev_rbd_create", q)["error"]["code"], -ENOENT);

    // Created, shown, in use, deleted.
    r = tgt.rpc("bdev_rbd_create", p);
    ASSERT_EQ(r["result"], "R0") << r.dump();
    EXPECT_EQ(tgt.rpc("bdev_rbd_create", p)["error"]["code"], -EEXIST);
    r = tgt.rpc("bdev_get_bdevs", {{"name", "R0"}});
    const json d = r["result"][0];
    EXPECT_EQ(d["product_name"], "Ceph Rbd Disk");
    EXPECT_EQ(d["num_blocks"], image_bytes / 4096);
    EXPECT_EQ(d["driver_specific"]["rbd"]["pool_name"], "rbd");
    EXPECT_EQ(d["driver_specific"]["rbd"]["rbd_name"], img_.name());
    EXPECT_EQ(d["driver_specific"]["rbd"]["cluster_name"], "ceph0");
    EXPECT_EQ(d["supported_io_types"]["unmap"], true);
    EXPECT_EQ(d["supported_io_types"]["compare"], false);
    r = tgt.rpc("bdev_rbd_unregister_cluster", {{"name", "ceph0"}});
    EXPECT_EQ(r["error"]["code"], -EBUSY) << r.dump();
    EXPECT_EQ(tgt.rpc("bdev_rbd_delete", {{"name", "Malloc0"}})["error"]["code"], -ENODEV);
    EXPECT_EQ(tgt.rpc("bdev_rbd_delete", {{"name", "R0"}})["result"], true);
    EXPECT_EQ(tgt.rpc("bdev_rbd_delete", {{"name", "R0"}})["error"]["code"], -ENODEV);
    EXPECT_EQ(tgt.rpc("bdev_rbd_unregister_cluster", {{"name", "ceph0"}})["result"], true);
    EXPECT_EQ(tgt.rpc("bdev_rbd_unregister_cluster", {{"name", "ceph0"}})["error"]["code"],
              -ENOENT);
    EXPECT_EQ(tgt.rpc("bdev_rbd_get_clusters_info")["result"].size(), 0u);
}

// A monitor that is not there: the connection fails within the timeout
// given, the daemon answers other calls meanwhile and afterwards.
TEST_F(rbd_rpc, unreachable_monitor_fails_cleanly) {
    auto r = tgt.rpc("bdev_rbd_register_cluster",
                     {{"name", "dead"},
                      {"config_param",
                       {{"mon_host", "127.0.0.1:9"},
                        {"client_mount_timeout", "2"},
                        {"key", "AQBpQ/hmAAAAABAAtWSAMcNjdNwFLvP8GZUKgQ=="}}}});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_LT(r["error"]["code"].get<int>(), 0);
    EXPECT_TRUE(tgt.rpc("bdev_get_bdevs").contains("result"));
    EXPECT_EQ(tgt.rpc("bdev_rbd_get_clusters_info")["result"].size(), 0u);
}

// No registered cluster: the image gets a connection of its own from
// user_id and config pairs (mon_host and the key, as SPDK users pass them).
TEST_F(rbd_rpc, image_with_its_own_connection) {
    const std::string key = admin_key(), mon_host = mon_host_of_cluster();
    ASSERT_FALSE(key.empty() || mon_host.empty());
    auto r = tgt.rpc("bdev_rbd_create", {{"name", "Own0"},
                                         {"user_id", "admin"},
                                         {"config", {{"mon_host", mon_host}, {"key", key}}},
                                         {"pool_name", "rbd"},
                                         {"rbd_name", img_.name()},
                                         {"block_size", 512}});
    ASSERT_EQ(r["result"], "Own0") << r.dump() << tgt.log_tail();
    r = tgt.rpc("bdev_get_bdevs", {{"name", "Own0"}});
    EXPECT_EQ(r["result"][0]["num_blocks"], image_bytes / 512);
    EXPECT_EQ(r["result"][0]["driver_specific"]["rbd"]["user_id"], "admin");
    r = tgt.rpc("nvmf_subsystem_add_ns",
                {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "Own0"}}}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    const uint32_t nsid = r["result"].get<uint32_t>();
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    const auto data = random_bytes(4096, 9);
    ASSERT_TRUE(ctrlr->write(nsid, 8, 8, data)->ok());
    std::vector<uint8_t> back(4096);
    ASSERT_TRUE(ctrlr->read(nsid, 8, 8, back)->ok());
    EXPECT_TRUE(back == data);
}

// A start-up config whose cluster is not there: the daemon says why and
// exits non-zero within the mount timeout instead of hanging.
TEST_F(rbd_rpc, cluster_down_at_start_up_is_a_clear_error) {
    daemon_config c = rbd_config(img_.name(), 4096);
    c.extra_bdevs[0]["params"] = {{"name", "ceph0"},
                                  {"config_param",
                                   {{"mon_host", "127.0.0.1:9"},
                                    {"client_mount_timeout", "2"},
                                    {"key", "AQBpQ/hmAAAAABAAtWSAMcNjdNwFLvP8GZUKgQ=="}}}};
    daemon d;
    const auto t0 = std::chrono::steady_clock::now();
    auto r = d.start(c);
    EXPECT_FALSE(r) << "the daemon started against a cluster that is down";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(9));
    EXPECT_TRUE(d.log_has("configuration failed")) << d.log_tail();
    EXPECT_TRUE(d.log_has("connecting to the Ceph cluster")) << d.log_tail();
}

// The OSD stops answering (SIGSTOP) with writes in flight: they wait, the
// daemon keeps serving the admin queue and RPC, and when the OSD resumes
// every write completes and reads back.
TEST_F(rbd_ns, osd_paused_under_io_then_resumed) {
    constexpr uint32_t b = 4096;
    std::ifstream pidf(ceph_dir() + "/run/osd.0.pid");
    pid_t osd = 0;
    pidf >> osd;
    ASSERT_GT(osd, 0) << "no osd.0 pid file in " << ceph_dir();
    auto& q = ctrlr->io(0);
    std::vector<std::vector<uint8_t>> data;
    for (uint32_t i = 0; i < 16; ++i) data.push_back(random_bytes(b, 500 + i));
    ASSERT_EQ(::kill(osd, SIGSTOP), 0);
    for (uint32_t i = 0; i < 16; ++i) {
        auto cid = q.submit(host::cmd::write(1, 3000 + i, 1), data[i]);
        if (!cid) ::kill(osd, SIGCONT);
        ASSERT_TRUE(cid) << cid.err().message;
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const uint32_t waiting = q.outstanding();
    auto ka = ctrlr->keep_alive();
    const json bdevs = tgt.rpc("bdev_get_bdevs");
    ::kill(osd, SIGCONT);
    EXPECT_EQ(waiting, 16u) << "writes completed while the OSD was stopped";
    EXPECT_TRUE(ka && ka->ok()) << "admin queue stalled while the OSD was stopped";
    EXPECT_TRUE(bdevs.contains("result")) << "RPC stalled while the OSD was stopped";
    for (uint32_t i = 0; i < 16; ++i) {
        auto c = q.wait_any(30000);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->second.ok()) << st(c->second);
    }
    for (uint32_t i = 0; i < 16; ++i) {
        std::vector<uint8_t> back(b);
        ASSERT_TRUE(ctrlr->read(1, 3000 + i, 1, back)->ok());
        EXPECT_TRUE(back == data[i]) << "block " << i;
    }
}

// The namespace removed and the bdev deleted while the host is connected
// with writes in flight: every command completes (done or refused), the
// image closes, and the host's queue keeps working for what remains.
TEST_F(rbd_ns, delete_while_connected_with_io_in_flight) {
    auto& q = ctrlr->io(0);
    std::vector<std::vector<uint8_t>> data;
    for (uint32_t i = 0; i < 16; ++i) data.push_back(random_bytes(8192, 900 + i));
    for (uint32_t i = 0; i < 16; ++i) {
        auto cid = q.submit(host::cmd::write(1, 100 + i * 2, 2), data[i]);
        ASSERT_TRUE(cid) << cid.err().message;
    }
    auto r = tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", 1}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    for (uint32_t i = 0; i < 16; ++i) {
        auto c = q.wait_any(30000);
        ASSERT_TRUE(c) << "command " << i << " never completed: " << c.err().message;
    }
    r = tgt.rpc("bdev_rbd_delete", {{"name", "Rbd0"}});
    EXPECT_EQ(r["result"], true) << r.dump();
    std::vector<uint8_t> back(4096);
    auto rd = ctrlr->read(1, 0, 1, back);
    ASSERT_TRUE(rd) << rd.err().message;
    EXPECT_FALSE(rd->ok());
    auto ka = ctrlr->keep_alive();
    EXPECT_TRUE(ka && ka->ok());
}

// SPDK's rpc.py drives every bdev_rbd_* method with every option it has
// (the rest of the methods: test_spdk_rpc_py.cpp, which has no cluster).
class rbd_rpc_py : public rpc_py_test {
protected:
    void TearDown() override {
        if (tgt_.running()) {
            EXPECT_TRUE(tgt_.stop());
        }
    }
    daemon tgt_;
    image img_{"rpc_py"};
};

TEST_F(rbd_rpc_py, every_rbd_method_and_option) {
    ASSERT_FALSE(ceph_dir().empty()) << "NVMF_TEST_CEPH_DIR is not set (run through ctest)";
    ASSERT_TRUE(img_.ok()) << img_.output();
    ASSERT_TRUE(tgt_.start(daemon_config::simple()));
    const std::string key = admin_key(), mon_host = mon_host_of_cluster();
    ASSERT_FALSE(key.empty() || mon_host.empty());
    const std::string img = img_.name();
    const std::vector<rpc_case> cases = {
        no("bdev_rbd_create -c ceph0 rbd " + img + " 4096", "not registered"),
        ok("bdev_rbd_register_cluster ceph0 --user admin --config-file " + ceph_conf() +
           " --key-file " + ceph_keyring() + " --config-param rbd_cache=true --core-mask 0x1"),
        no("bdev_rbd_register_cluster ceph0 --config-file " + ceph_conf(), "already registered"),
        ok("bdev_rbd_get_clusters_info"),
        ok("bdev_rbd_get_clusters_info -b ceph0"),
        ok("bdev_rbd_create -c ceph0 -b R1 rbd " + img + " 4096"),
        ok("bdev_rbd_create --name R2 --user admin --config mon_host=" + sh_quote(mon_host) +
           " --config key=" + key + " rbd " + img +
           " 512 -u 6f1c1c0e-7d53-4c4b-9d6e-1c2f3e4d5a6b --readonly"),
        ok("bdev_rbd_create --cluster-name ceph0 --uuid 0b8f3c3e-4f60-4d3a-a2c4-0e7a1b2c3d4e -r "
           "rbd " +
           img + " 512"),
        no("bdev_rbd_create -c ceph0 -b R4 rbd no-such-image 512", "no-such-image"),
        ok("bdev_rbd_resize R1 96"),
        no("bdev_rbd_resize R1 32", "can only grow"),
        no("bdev_rbd_unregister_cluster ceph0", "still used"),
        ok("bdev_rbd_delete R1"),
        ok("bdev_rbd_delete R2"),
        ok("bdev_rbd_delete Ceph0"),
        no("bdev_rbd_delete R1", "does not exist"),
        ok("bdev_rbd_unregister_cluster ceph0"),
    };
    EXPECT_EQ(check(cases, rpc_py_many(tgt_, lines_of(cases))), 0);

    const json options = rpc_py_options();
    ASSERT_TRUE(options.is_object()) << "could not list rpc.py's options";
    for (const auto& [name, opts] : options.items()) {
        if (name.rfind("bdev_rbd_", 0) != 0) continue;
        SCOPED_TRACE("method " + name);
        EXPECT_TRUE(std::any_of(cases.begin(), cases.end(), [&](const rpc_case& c) {
            return command_of(c.line) == name && c.expect == outcome::ok;
        })) << "no accepted rpc.py case";
        for (const auto& opt : opts) {
            EXPECT_TRUE(std::any_of(cases.begin(), cases.end(),
                                    [&](const rpc_case& c) {
                                        return command_of(c.line) == name &&
                                               line_has_option(c.line, opt.get<std::string>());
                                    }))
                << "no case passes " << opt.get<std::string>();
        }
    }
}

class rbd_read_only : public rbd_test {
protected:
    daemon_config config() override {
        daemon_config c = rbd_config(img_.name(), 512);
        c.extra_bdevs[1] = rbd_entry("Rbd0", img_.name(), 512, true);
        return c;
    }
};

TEST_F(rbd_read_only, writes_are_refused_reads_work) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    const auto data = random_bytes(512, 4);
    auto w = ctrlr->write(1, 0, 1, data);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->sc(), spec::sc::namespace_is_write_protected) << st(*w);
    std::vector<uint8_t> back(512);
    auto r = ctrlr->read(1, 0, 1, back);
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE(std::all_of(back.begin(), back.end(), [](uint8_t v) { return v == 0; }));
}

class rbd_restart : public rbd_test {};

// save_config recreates the cluster and the bdev; the data and the
// namespace's identifiers survive the restart. A second daemon exporting the
// same image derives the same UUID (what a gateway group needs).
TEST_F(rbd_restart, save_config_restart_keeps_data_and_identity) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    const auto data = random_bytes(65536, 21);
    auto w = ctrlr->io(0).execute(host::cmd::write(1, 64, 16, true), data);
    ASSERT_TRUE(w && w->ok());
    auto id1 = ctrlr->identify_ns(1);
    ASSERT_TRUE(id1);
    auto saved = tgt.rpc("save_config");
    ASSERT_TRUE(saved.contains("result")) << saved.dump();
    const std::string uuid = tgt.rpc("bdev_get_bdevs", {{"name", "Rbd0"}})["result"][0]["uuid"];
    ctrlr.reset();
    ASSERT_TRUE(tgt.stop());

    // Start from what save_config wrote (it listens where the first did).
    ASSERT_TRUE(tgt.start_json(saved["result"], tgt.port()));
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    std::vector<uint8_t> back(65536);
    ASSERT_TRUE(ctrlr->read(1, 64, 16, back)->ok());
    EXPECT_TRUE(back == data);
    auto id2 = ctrlr->identify_ns(1);
    ASSERT_TRUE(id2);
    EXPECT_EQ(0, std::memcmp(id1->nguid, id2->nguid, sizeof(id1->nguid)));

    daemon other;
    ASSERT_TRUE(other.start(rbd_config(img_.name(), 4096)));
    auto r = other.rpc("bdev_get_bdevs", {{"name", "Rbd0"}});
    EXPECT_EQ(r["result"][0]["uuid"], uuid) << r.dump();
    EXPECT_TRUE(other.stop());
}

}  // namespace
}  // namespace nvmf::test
