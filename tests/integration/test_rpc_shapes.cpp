// The output shapes of the query methods are SPDK's (field names, nesting,
// JSON types), as SPDK's lib/nvmf/nvmf_rpc.c, lib/nvmf/transport.c,
// lib/bdev/bdev_rpc.c and lib/rpc/rpc.c write them, with a host connected so
// that controllers and queue pairs exist. Fields of our own may be added;
// none of SPDK's may be missing or of another type.
#include <set>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

// {"field": "string" | "number" | "boolean" | "object" | "array"}
::testing::AssertionResult has_shape(const json& v, const json& shape, const std::string& what) {
    if (!v.is_object()) return ::testing::AssertionFailure() << what << " is not an object";
    for (const auto& [key, type] : shape.items()) {
        auto it = v.find(key);
        if (it == v.end()) {
            return ::testing::AssertionFailure() << what << " has no '" << key << "': " << v.dump();
        }
        const std::string t = type.get<std::string>();
        const bool ok = (t == "string" && it->is_string()) ||
                        (t == "number" && it->is_number_integer()) ||
                        (t == "boolean" && it->is_boolean()) ||
                        (t == "object" && it->is_object()) || (t == "array" && it->is_array());
        if (!ok) {
            return ::testing::AssertionFailure()
                   << what << "['" << key << "'] is not a " << t << ": " << it->dump();
        }
    }
    return ::testing::AssertionSuccess();
}

const json trid_shape = {
    {"trtype", "string"}, {"adrfam", "string"}, {"traddr", "string"}, {"trsvcid", "string"}};

constexpr const char* ana_nqn = "nqn.2016-06.io.spdk:ana";

class rpc_shapes_test : public target_test {
protected:
    json result(const std::string& method, const json& params = nullptr) {
        const json r = tgt.rpc(method, params);
        EXPECT_TRUE(r.contains("result")) << method << ": " << r.dump();
        return r.value("result", json());
    }
};

TEST_F(rpc_shapes_test, QueryMethodsHaveSpdksShapes) {
    ASSERT_TRUE(tgt.rpc("nvmf_create_subsystem",
                        {{"nqn", ana_nqn}, {"ana_reporting", true}, {"max_namespaces", 4}})
                    .contains("result"));
    ASSERT_TRUE(tgt.rpc("nvmf_subsystem_add_listener",
                        {{"nqn", ana_nqn}, {"listen_address", listen_address(tgt.port())}})
                    .contains("result"));
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);

    // nvmf_get_subsystems (dump_nvmf_subsystem)
    const json subs = result("nvmf_get_subsystems");
    ASSERT_EQ(subs.size(), 3u);
    const json common = {{"nqn", "string"},
                         {"subtype", "string"},
                         {"listen_addresses", "array"},
                         {"allow_any_host", "boolean"},
                         {"hosts", "array"}};
    EXPECT_TRUE(has_shape(subs[0], common, "discovery subsystem"));
    EXPECT_EQ(subs[0]["subtype"], "Discovery");
    EXPECT_FALSE(subs[0].contains("namespaces"));
    json nvme = common;
    nvme.update({{"serial_number", "string"},
                 {"model_number", "string"},
                 {"max_namespaces", "number"},
                 {"passthrough", "boolean"},
                 {"min_cntlid", "number"},
                 {"max_cntlid", "number"},
                 {"dmrsl", "number"},
                 {"wzsl", "number"},
                 {"namespaces", "array"}});
    for (size_t i = 1; i < subs.size(); ++i) {
        EXPECT_TRUE(has_shape(subs[i], nvme, subs[i]["nqn"].get<std::string>()));
        EXPECT_EQ(subs[i]["subtype"], "NVMe");
        for (const auto& l : subs[i]["listen_addresses"]) {
            EXPECT_TRUE(has_shape(l, trid_shape, "listen_addresses[]"));
        }
    }
    const json& cnode1 = subs[1]["nqn"] == default_nqn ? subs[1] : subs[2];
    ASSERT_EQ(cnode1["namespaces"].size(), 1u);
    const json& ns = cnode1["namespaces"][0];
    EXPECT_TRUE(has_shape(
        ns, {{"nsid", "number"}, {"bdev_name", "string"}, {"name", "string"}, {"uuid", "string"}},
        "namespace"));
    EXPECT_EQ(ns["name"], ns["bdev_name"]);
    EXPECT_FALSE(ns.contains("anagrpid"));  // only with ANA reporting, as SPDK

    // bdev_get_bdevs (rpc_dump_bdev_info)
    const json bdevs = result("bdev_get_bdevs");
    ASSERT_EQ(bdevs.size(), 1u);
    const json& b = bdevs[0];
    EXPECT_TRUE(has_shape(b,
                          {{"name", "string"},
                           {"aliases", "array"},
                           {"product_name", "string"},
                           {"block_size", "number"},
                           {"num_blocks", "number"},
                           {"preferred_write_alignment", "number"},
                           {"preferred_write_granularity", "number"},
                           {"optimal_write_size", "number"},
                           {"preferred_unmap_alignment", "number"},
                           {"preferred_unmap_granularity", "number"},
                           {"uuid", "string"},
                           {"numa_id", "number"},
                           {"assigned_rate_limits", "object"},
                           {"claimed", "boolean"},
                           {"zoned", "boolean"},
                           {"supported_io_types", "object"},
                           {"driver_specific", "object"}},
                          "bdev"));
    EXPECT_EQ(b["claimed"], true);
    EXPECT_EQ(b["claim_type"], "exclusive_write");
    EXPECT_TRUE(has_shape(b["assigned_rate_limits"],
                          {{"rw_ios_per_sec", "number"},
                           {"rw_mbytes_per_sec", "number"},
                           {"r_mbytes_per_sec", "number"},
                           {"w_mbytes_per_sec", "number"}},
                          "assigned_rate_limits"));
    // Every SPDK I/O type, by SPDK's name.
    std::set<std::string> io_types;
    for (const auto& [k, v] : b["supported_io_types"].items()) {
        EXPECT_TRUE(v.is_boolean()) << k;
        io_types.insert(k);
    }
    EXPECT_EQ(io_types, (std::set<std::string>{"read",
                                               "write",
                                               "unmap",
                                               "flush",
                                               "reset",
                                               "nvme_admin",
                                               "nvme_io",
                                               "nvme_io_md",
                                               "write_zeroes",
                                               "zcopy",
                                               "get_zone_info",
                                               "zone_management",
                                               "zone_append",
                                               "compare",
                                               "compare_and_write",
                                               "abort",
                                               "seek_hole",
                                               "seek_data",
                                               "copy",
                                               "nvme_iov_md",
                                               "nvme_nssr",
                                               "write_uncorrectable"}));

    // nvmf_get_transports (nvmf_transport_dump_opts + nvmf_tcp_dump_opts)
    const json transports = result("nvmf_get_transports");
    ASSERT_EQ(transports.size(), 1u);
    EXPECT_TRUE(has_shape(transports[0],
                          {{"trtype", "string"},
                           {"max_queue_depth", "number"},
                           {"max_io_qpairs_per_ctrlr", "number"},
                           {"in_capsule_data_size", "number"},
                           {"max_io_size", "number"},
                           {"max_aq_depth", "number"},
                           {"iobuf_small_cache_size", "number"},
                           {"iobuf_large_cache_size", "number"},
                           {"dif_insert_or_strip", "boolean"},
                           {"zcopy", "boolean"},
                           {"c2h_success", "boolean"},
                           {"sock_priority", "number"},
                           {"abort_timeout_sec", "number"},
                           {"ack_timeout", "number"},
                           {"data_wr_pool_size", "number"},
                           {"disable_command_passthru", "boolean"},
                           {"kas", "number"},
                           {"min_kato", "number"}},
                          "transport"));
    EXPECT_EQ(transports[0]["trtype"], "TCP");

    // nvmf_get_stats (spdk_nvmf_poll_group_dump_stat)
    const json stats = result("nvmf_get_stats");
    EXPECT_TRUE(has_shape(stats, {{"tick_rate", "number"}, {"poll_groups", "array"}}, "stats"));
    std::set<std::string> group_names;
    for (const auto& g : stats["poll_groups"]) {
        EXPECT_TRUE(has_shape(g,
                              {{"name", "string"},
                               {"admin_qpairs", "number"},
                               {"io_qpairs", "number"},
                               {"current_admin_qpairs", "number"},
                               {"current_io_qpairs", "number"},
                               {"current_unassociated_qpairs", "number"},
                               {"pending_bdev_io", "number"},
                               {"completed_nvme_io", "number"},
                               {"transports", "array"}},
                              "poll group"));
        for (const auto& t : g["transports"]) {
            EXPECT_TRUE(has_shape(t, {{"trtype", "string"}}, "poll group transport"));
        }
        group_names.insert(g["name"].get<std::string>());
    }
    EXPECT_EQ(group_names.size(), test_reactor_count());
    EXPECT_EQ(sum_poll_groups(tgt.rpc("nvmf_get_stats"))["current_admin_qpairs"], 1);

    // nvmf_subsystem_get_controllers (dump_nvmf_ctrlr)
    const json ctrls = result("nvmf_subsystem_get_controllers", {{"nqn", default_nqn}});
    ASSERT_EQ(ctrls.size(), 1u);
    EXPECT_TRUE(has_shape(ctrls[0],
                          {{"cntlid", "number"},
                           {"cntrltype", "string"},
                           {"hostnqn", "string"},
                           {"hostid", "string"},
                           {"num_io_qpairs", "number"}},
                          "controller"));
    EXPECT_EQ(ctrls[0]["cntrltype"], "io");
    EXPECT_EQ(ctrls[0]["cntlid"], ctrlr->cntlid());

    // nvmf_subsystem_get_qpairs (dump_nvmf_qpair)
    const json qps = result("nvmf_subsystem_get_qpairs", {{"nqn", default_nqn}});
    ASSERT_GE(qps.size(), 2u);
    for (const auto& q : qps) {
        EXPECT_TRUE(has_shape(q,
                              {{"cntlid", "number"},
                               {"qid", "number"},
                               {"state", "string"},
                               {"thread", "string"},
                               {"hostnqn", "string"},
                               {"listen_address", "object"},
                               {"peer_address", "object"}},
                              "qpair"));
        EXPECT_EQ(q["state"], "enabled");
        // The thread is the poll group nvmf_get_stats names.
        EXPECT_TRUE(group_names.count(q["thread"].get<std::string>())) << q.dump();
        EXPECT_EQ(q["hostnqn"], ctrls[0]["hostnqn"]);
        EXPECT_TRUE(has_shape(q["listen_address"], trid_shape, "listen_address"));
        EXPECT_TRUE(has_shape(q["peer_address"], trid_shape, "peer_address"));
    }

    // nvmf_subsystem_get_listeners (dump_nvmf_subsystem_listener): ANA
    // states only with ANA reporting, every group from 1 to ANAGRPMAX.
    const json plain = result("nvmf_subsystem_get_listeners", {{"nqn", default_nqn}});
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_TRUE(has_shape(plain[0]["address"], trid_shape, "address"));
    EXPECT_FALSE(plain[0].contains("ana_states"));
    const json ana = result("nvmf_subsystem_get_listeners", {{"nqn", ana_nqn}});
    ASSERT_EQ(ana.size(), 1u);
    ASSERT_EQ(ana[0]["ana_states"].size(), 4u);
    for (int g = 1; g <= 4; ++g) {
        EXPECT_EQ(ana[0]["ana_states"][g - 1],
                  (json{{"ana_group", g}, {"ana_state", "optimized"}}));
    }

    // spdk_get_version (lib/rpc/rpc.c)
    const json v = result("spdk_get_version");
    EXPECT_TRUE(has_shape(v, {{"version", "string"}, {"fields", "object"}}, "version"));
    EXPECT_TRUE(has_shape(
        v["fields"],
        {{"major", "number"}, {"minor", "number"}, {"patch", "number"}, {"suffix", "string"}},
        "version fields"));

    // framework_get_subsystems (lib/init/subsystem_rpc.c)
    for (const auto& s : result("framework_get_subsystems")) {
        EXPECT_TRUE(has_shape(s, {{"subsystem", "string"}, {"depends_on", "array"}}, "subsystem"));
    }
}

}  // namespace
}  // namespace nvmf::test
