// SPDK's framework methods and states (rpc_get_methods current=true,
// framework_start_init, framework_get_subsystems/_get_config), the options
// of SPDK libraries this target does not have (what SPDK's save_config
// writes must load; values asking for a missing feature are refused), and
// the two-pass config loader.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/config.hpp"
#include "rpc/framework.hpp"
#include "rpc/methods.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {
namespace {

class framework_test : public ::testing::Test {
protected:
    reactor_group reactors_{std::vector<int>{}};
    target tgt_{reactors_};

    static result<void> count_init(void* arg) {
        ++*static_cast<int*>(arg);
        return {};
    }
};

bool has(const json& list, const char* name) {
    return std::find(list.begin(), list.end(), json(name)) != list.end();
}

TEST_F(framework_test, startup_then_runtime) {
    framework fw(state_startup);
    context ctx(tgt_, &fw);
    int inits = 0;
    fw.set_init_hook(count_init, &inits);

    auto all = call(ctx, "rpc_get_methods", nullptr);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->size(), method_table().size());
    auto now = call(ctx, "rpc_get_methods", {{"current", true}});
    ASSERT_TRUE(now.ok());
    EXPECT_TRUE(has(*now, "iobuf_set_options"));
    EXPECT_TRUE(has(*now, "framework_start_init"));
    EXPECT_TRUE(has(*now, "spdk_get_version"));
    EXPECT_FALSE(has(*now, "bdev_malloc_create"));
    EXPECT_FALSE(has(*now, "framework_get_config"));

    auto refused = call(ctx, "bdev_get_bdevs", nullptr);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.err().code, err_invalid_state);
    EXPECT_EQ(refused.err().message,
              "Method may only be called after framework is initialized using "
              "framework_start_init RPC.");
    ASSERT_TRUE(call(ctx, "nvmf_set_max_subsystems", {{"max_subsystems", 8}}).ok());
    auto wait = call(ctx, "framework_wait_init", nullptr);
    ASSERT_FALSE(wait.ok());  // the server holds it back instead (server.cpp)

    ASSERT_TRUE(call(ctx, "framework_start_init", nullptr).ok());
    EXPECT_EQ(inits, 1);
    EXPECT_EQ(fw.state(), state_runtime);
    EXPECT_TRUE(call(ctx, "framework_wait_init", nullptr).ok());
    EXPECT_TRUE(call(ctx, "bdev_get_bdevs", nullptr).ok());
    auto again = call(ctx, "framework_start_init", nullptr);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.err().code, err_invalid_state);
    EXPECT_NE(again.err().message.find("--wait-for-rpc"), std::string::npos);
    EXPECT_EQ(inits, 1);
    now = call(ctx, "rpc_get_methods", {{"current", true}});
    ASSERT_TRUE(now.ok());
    EXPECT_FALSE(has(*now, "iobuf_set_options"));
    EXPECT_TRUE(has(*now, "bdev_malloc_create"));
    EXPECT_TRUE(has(*now, "framework_set_scheduler"));  // both states
}

TEST_F(framework_test, subsystems_and_their_config) {
    context ctx(tgt_);
    auto subs = call(ctx, "framework_get_subsystems", nullptr);
    ASSERT_TRUE(subs.ok());
    EXPECT_EQ(*subs, json::parse(R"([{"subsystem":"keyring","depends_on":[]},
                                    {"subsystem":"sock","depends_on":[]},
                                    {"subsystem":"bdev","depends_on":["keyring","sock"]},
                                    {"subsystem":"nvmf","depends_on":["bdev","keyring","sock"]}])"));
    EXPECT_FALSE(call(ctx, "framework_get_subsystems", {{"x", 1}}).ok());

    ASSERT_TRUE(
        call(ctx, "bdev_malloc_create", {{"name", "M0"}, {"num_blocks", 8}, {"block_size", 512}})
            .ok());
    auto bdev = call(ctx, "framework_get_config", {{"name", "bdev"}});
    ASSERT_TRUE(bdev.ok());
    ASSERT_EQ(bdev->size(), 2u);
    EXPECT_EQ((*bdev)[0]["method"], "bdev_malloc_create");
    EXPECT_EQ((*bdev)[1], json::parse(R"({"method":"bdev_wait_for_examine"})"));
    auto nvmf = call(ctx, "framework_get_config", {{"name", "nvmf"}, {"with_batches", true}});
    ASSERT_TRUE(nvmf.ok());
    EXPECT_TRUE(nvmf->is_array());
    auto none = call(ctx, "framework_get_config", {{"name", "vhost"}});
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.err().code, err_invalid_params);
    EXPECT_EQ(none.err().message, "Subsystem 'vhost' not found");
    EXPECT_FALSE(call(ctx, "framework_get_config", json::object()).ok());

    // save_config is what rpc.py composes from these two.
    auto saved = call(ctx, "save_config", nullptr);
    ASSERT_TRUE(saved.ok());
    auto keyring = call(ctx, "framework_get_config", {{"name", "keyring"}});
    ASSERT_TRUE(keyring.ok());
    auto sock = call(ctx, "framework_get_config", {{"name", "sock"}});
    ASSERT_TRUE(sock.ok());
    EXPECT_EQ(*saved, (json{{"subsystems",
                             {{{"subsystem", "keyring"}, {"config", *keyring}},
                              {{"subsystem", "sock"}, {"config", *sock}},
                              {{"subsystem", "bdev"}, {"config", *bdev}},
                              {{"subsystem", "nvmf"}, {"config", *nvmf}}}}}));
}

TEST_F(framework_test, max_subsystems_is_honoured) {
    framework fw(state_startup);
    context ctx(tgt_, &fw);
    auto bad = call(ctx, "nvmf_set_max_subsystems", {{"max_subsystems", 0}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.err().message.find("max_subsystems"), std::string::npos);
    ASSERT_TRUE(call(ctx, "nvmf_set_max_subsystems", {{"max_subsystems", 2}}).ok());
    ASSERT_TRUE(fw.start_init().ok());
    // The discovery subsystem counts, as in SPDK.
    ASSERT_TRUE(call(ctx, "nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.spdk:one"}}).ok());
    auto full = call(ctx, "nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.spdk:two"}});
    ASSERT_FALSE(full.ok());
    EXPECT_EQ(full.err().code, err_internal);
    EXPECT_NE(full.err().message.find("maximum of 2 subsystems"), std::string::npos);
    auto cfg = call(ctx, "framework_get_config", {{"name", "nvmf"}});
    ASSERT_TRUE(cfg.ok());
    ASSERT_GE(cfg->size(), 2u);
    EXPECT_EQ((*cfg)[0]["method"], "nvmf_set_config");  // always first, as SPDK writes it
    EXPECT_EQ((*cfg)[1],
              json::parse(R"({"method":"nvmf_set_max_subsystems","params":{"max_subsystems":2}})"));
    // Not below what exists.
    EXPECT_FALSE(tgt_.set_max_subsystems(1).ok());
}

// The STARTUP and library entries of SPDK nvmf_tgt's saved config
// (../shared/spdk-peer/reference-config.json), as SPDK wrote them.
TEST_F(framework_test, spdk_saved_options_load) {
    framework fw(state_startup);
    context ctx(tgt_, &fw);
    const json entries = json::parse(R"([
      {"method": "iobuf_set_options", "params": {"small_pool_count": 8192, "large_pool_count": 1024,
        "small_bufsize": 8192, "large_bufsize": 135168, "enable_numa": false}},
      {"method": "sock_set_default_impl", "params": {"impl_name": "posix"}},
      {"method": "sock_impl_set_options", "params": {"impl_name": "ssl", "recv_buf_size": 4096,
        "send_buf_size": 4096, "enable_recv_pipe": true, "enable_quickack": false,
        "enable_placement_id": 0, "enable_zerocopy_send_server": true,
        "enable_zerocopy_send_client": false, "zerocopy_threshold": 0, "tls_version": 0,
        "enable_ktls": false}},
      {"method": "accel_set_options", "params": {"small_cache_size": 128, "large_cache_size": 16,
        "task_count": 2048, "sequence_count": 2048, "buf_count": 2048}},
      {"method": "bdev_set_options", "params": {"bdev_io_pool_size": 65535,
        "bdev_io_cache_size": 256, "bdev_auto_examine": true, "iobuf_small_cache_size": 128,
        "iobuf_large_cache_size": 16}},
      {"method": "bdev_raid_set_options", "params": {"process_window_size_kb": 1024,
        "process_max_bandwidth_mb_sec": 0}},
      {"method": "bdev_nvme_set_options", "params": {"action_on_timeout": "none", "timeout_us": 0,
        "timeout_admin_us": 0, "keep_alive_timeout_ms": 10000, "arbitration_burst": 0,
        "low_priority_weight": 0, "medium_priority_weight": 0, "high_priority_weight": 0,
        "nvme_adminq_poll_period_us": 10000, "nvme_ioq_poll_period_us": 0,
        "io_queue_requests": 0, "delay_cmd_submit": true, "transport_retry_count": 4,
        "bdev_retry_count": 3, "transport_ack_timeout": 0, "ctrlr_loss_timeout_sec": 0,
        "reconnect_delay_sec": 0, "fast_io_fail_timeout_sec": 0, "disable_auto_failback": false,
        "generate_uuids": false, "transport_tos": 0, "nvme_error_stat": false,
        "rdma_srq_size": 0, "io_path_stat": false, "allow_accel_sequence": false,
        "rdma_max_cq_size": 0, "rdma_cm_event_timeout_ms": 0,
        "dhchap_digests": ["sha256", "sha384", "sha512"],
        "dhchap_dhgroups": ["null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"],
        "rdma_umr_per_io": false, "tcp_connect_timeout_ms": 0, "enable_flush": false,
        "multipath_opts": {"policy": "active_passive"}}},
      {"method": "framework_set_scheduler", "params": {"name": "static"}},
      {"method": "nvmf_set_config", "params": {"discovery_filters": [],
        "admin_cmd_passthru": {"identify_ctrlr": false, "identify_uuid_list": false,
          "get_log_page": false, "get_set_features": false, "sanitize": false,
          "security_send_recv": false, "fw_update": false, "nvme_mi": false,
          "vendor_specific": false},
        "dhchap_digests": ["sha256", "sha384", "sha512"],
        "dhchap_dhgroups": ["null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"],
        "dup_host_policy": "allow"}},
      {"method": "nvmf_set_max_subsystems", "params": {"max_subsystems": 1024}},
      {"method": "nvmf_set_crdt", "params": {"crdt1": 0, "crdt2": 0, "crdt3": 0}}
    ])");
    for (const auto& e : entries) {
        auto r = call(ctx, e["method"].get<std::string>(), e["params"]);
        EXPECT_TRUE(r.ok()) << e.dump() << ": " << r.err().message;
    }
    ASSERT_TRUE(fw.start_init().ok());
    auto hotplug = call(ctx, "bdev_nvme_set_hotplug", {{"period_us", 100000}, {"enable", false}});
    EXPECT_TRUE(hotplug.ok());
}

TEST_F(framework_test, options_asking_for_missing_features_are_refused) {
    framework fw(state_startup);
    context ctx(tgt_, &fw);
    auto refused = [&](const char* m, const json& p, const std::string& needle) {
        auto r = call(ctx, m, p);
        ASSERT_FALSE(r.ok()) << m << " " << p.dump();
        EXPECT_EQ(r.err().code, err_invalid_params) << r.err().message;
        EXPECT_NE(r.err().message.find(needle), std::string::npos) << r.err().message;
    };
    refused("iobuf_set_options", {{"enable_numa", true}}, "NUMA");
    refused("iobuf_set_options", {{"small_bufsize", 512}}, "small_bufsize");
    refused("sock_set_default_impl", {{"impl_name", "ssl"}}, "secure_channel");
    refused("sock_set_default_impl", json::object(), "impl_name");
    refused("sock_impl_set_options", {{"impl_name", "uring"}}, "posix and ssl");
    refused("sock_impl_set_options", {{"impl_name", "ssl"}, {"tls_version", 12}}, "TLS 1.3");
    refused("sock_impl_set_options", {{"impl_name", "posix"}, {"enable_placement_id", 2}},
            "placement");
    refused("sock_impl_set_options", {{"impl_name", "posix"}, {"recv_buf_size", "big"}},
            "recv_buf_size");
    refused("accel_set_options", {{"task_count", -1}}, "task_count");
    refused("bdev_set_options", {{"bdev_auto_examine", 1}}, "bdev_auto_examine");
    refused("bdev_nvme_set_options", {{"action_on_timeout", "explode"}}, "action_on_timeout");
    refused("bdev_nvme_set_options", {{"bdev_retry_count", -2}}, "bdev_retry_count");
    refused("bdev_nvme_set_options", {{"multipath_opts", {{"colour", 1}}}}, "multipath_opts");
    refused("nvmf_set_config", {{"admin_cmd_passthru", {{"identify_ctrlr", true}}}}, "passthrough");
    refused("nvmf_set_config", {{"poll_groups_mask", "0x1"}}, "poll_groups_mask");
    refused("nvmf_set_config", {{"discovery_filters", {"transport"}}}, "match_any");
    refused("nvmf_set_config", {{"dhchap_digests", {"md5"}}}, "dhchap_digests");
    refused("nvmf_set_config", {{"dup_host_policy", "restrict_per_listener"}}, "dup_host_policy");
    refused("nvmf_set_crdt", {{"crdt2", 1}}, "crdt2");
    refused("framework_set_scheduler", {{"name", "dynamic"}}, "static");
    ASSERT_TRUE(fw.start_init().ok());
    refused("bdev_nvme_set_hotplug", {{"enable", true}}, "hot-inserted");
}

json entry(const char* m, json p) { return json{{"method", m}, {"params", std::move(p)}}; }

TEST_F(framework_test, loader_runs_startup_entries_first_and_skips_foreign_methods) {
    // A STARTUP method after RUNTIME ones in the file still runs first (a
    // max of 2 refuses the second subsystem); a batch runs call by call; a
    // method of a subsystem this target lacks is skipped; framework_start_init
    // in the file changes nothing.
    const json cfg = {
        {"subsystems",
         json::array({{{"subsystem", "nbd"},
                       {"config", json::array({entry("nbd_start_disk", {{"bdev_name", "M0"}})})}},
                      {{"subsystem", "nvmf"},
                       {"config",
                        json::array({json::array({entry("nvmf_create_subsystem",
                                                        {{"nqn", "nqn.2016-06.io.spdk:one"}}),
                                                  entry("nvmf_create_subsystem",
                                                        {{"nqn", "nqn.2016-06.io.spdk:two"}})}),
                                     json{{"method", "framework_start_init"}},
                                     entry("nvmf_set_max_subsystems", {{"max_subsystems", 2}})})}},
                      {{"subsystem", "scheduler"}, {"config", nullptr}}})}};
    auto r = load_config(tgt_, cfg);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.err().message.find("subsystem 'nvmf' entry 0[1]: nvmf_create_subsystem"),
              std::string::npos)
        << r.err().message;
    EXPECT_NE(r.err().message.find("maximum of 2"), std::string::npos) << r.err().message;
    EXPECT_TRUE(tgt_.find_subsystem("nqn.2016-06.io.spdk:one"));

    // A method unknown in a subsystem this target has is an error.
    const json bad = {
        {"subsystems",
         json::array({{{"subsystem", "bdev"},
                       {"config", json::array({entry("bdev_lvol_create", json::object())})}}})}};
    auto e = load_config(tgt_, bad);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.err().message.find("Method not found: bdev_lvol_create"), std::string::npos)
        << e.err().message;
}

TEST_F(framework_test, wait_for_rpc_halves) {
    // --wait-for-rpc: the STARTUP half now, the RUNTIME half at
    // framework_start_init.
    framework fw(state_startup);
    const json cfg = {
        {"subsystems",
         json::array(
             {{{"subsystem", "bdev"},
               {"config", json::array({entry("bdev_set_options", json::object()),
                                       entry("bdev_malloc_create", {{"name", "M0"},
                                                                    {"num_blocks", 8},
                                                                    {"block_size", 512}})})}}})}};
    ASSERT_TRUE(load_config_startup(tgt_, cfg, &fw).ok());
    EXPECT_FALSE(tgt_.bdevs.find("M0"));
    EXPECT_EQ(fw.state(), state_startup);
    ASSERT_TRUE(fw.start_init().ok());
    ASSERT_TRUE(load_config_runtime(tgt_, cfg, &fw).ok());
    EXPECT_TRUE(tgt_.bdevs.find("M0"));
}

}  // namespace
}  // namespace nvmf::rpc
