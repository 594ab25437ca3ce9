// Parameter checking of the JSON-RPC methods and of the transport options.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/methods.hpp"
#include "rpc/params.hpp"
#include "transport/transport.hpp"

namespace nvmf::rpc {
namespace {

// ----------------------------------------------------------- transport options

result<transport_options> parse(const json& j) { return transport_options::from_json(j); }

void expect_bad(const json& j, const std::string& needle) {
    auto r = parse(j);
    ASSERT_FALSE(r.ok()) << j.dump();
    EXPECT_NE(r.err().message.find(needle), std::string::npos) << r.err().message;
}

TEST(rpc_transport_options, defaults_round_trip) {
    auto r = parse({{"trtype", "tcp"}});
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->trtype, "TCP");
    const json j = r->to_json();
    auto again = parse(j);
    ASSERT_TRUE(again.ok()) << again.err().message;
    EXPECT_EQ(again->to_json(), j);
    EXPECT_EQ(j["max_queue_depth"], 128);
    EXPECT_EQ(j["max_io_qpairs_per_ctrlr"], 127);
    EXPECT_EQ(j["c2h_success"], true);
}

TEST(rpc_transport_options, every_option_is_read) {
    auto r = parse({{"trtype", "TCP"},
                    {"max_queue_depth", 256},
                    {"max_io_qpairs_per_ctrlr", 8},
                    {"in_capsule_data_size", 8192},
                    {"max_io_size", 262144},
                    {"io_unit_size", 65536},
                    {"max_aq_depth", 64},
                    {"num_shared_buffers", 1024},
                    {"buf_cache_size", 64},
                    {"dif_insert_or_strip", true},
                    {"c2h_success", false},
                    {"sock_priority", 3},
                    {"abort_timeout_sec", 5},
                    {"zcopy", true},
                    {"control_msg_num", 16},
                    {"ack_timeout", 10},
                    {"data_wr_pool_size", 4},
                    {"acceptor_poll_rate", 500},
                    {"disable_command_passthru", true}});
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->max_queue_depth, 256u);
    EXPECT_EQ(r->max_io_qpairs_per_ctrlr, 8u);
    EXPECT_EQ(r->in_capsule_data_size, 8192u);
    EXPECT_EQ(r->max_io_size, 262144u);
    EXPECT_EQ(r->io_unit_size, 65536u);
    EXPECT_EQ(r->max_aq_depth, 64u);
    EXPECT_EQ(r->num_shared_buffers, 1024u);
    EXPECT_EQ(r->buf_cache_size, 64u);
    EXPECT_TRUE(r->dif_insert_or_strip);
    EXPECT_FALSE(r->c2h_success);
    EXPECT_EQ(r->sock_priority, 3u);
    EXPECT_EQ(r->abort_timeout_sec, 5u);
    EXPECT_TRUE(r->zcopy);
    EXPECT_EQ(r->control_msg_num, 16u);
    EXPECT_EQ(r->ack_timeout, 10u);
    EXPECT_EQ(r->data_wr_pool_size, 4u);
    EXPECT_EQ(r->acceptor_poll_rate, 500u);
    EXPECT_TRUE(r->disable_command_passthru);
}

TEST(rpc_transport_options, type_and_name_errors) {
    expect_bad(json::object(), "missing required parameter 'trtype'");
    expect_bad({{"trtype", 5}}, "'trtype' must be a string");
    expect_bad({{"trtype", "QUIC"}}, "unknown transport type");
    expect_bad({{"trtype", "FC"}}, "not supported");
    expect_bad({{"trtype", "TCP"}, {"max_queue_depth", "128"}}, "must be an unsigned integer");
    expect_bad({{"trtype", "TCP"}, {"max_queue_depth", 12.5}}, "must be an unsigned integer");
    expect_bad({{"trtype", "TCP"}, {"max_queue_depth", -1}}, "must not be negative");
    expect_bad({{"trtype", "TCP"}, {"max_io_size", 1ull << 33}}, "out of range");
    expect_bad({{"trtype", "TCP"}, {"c2h_success", 1}}, "must be a boolean");
    expect_bad({{"trtype", "TCP"}, {"max_queue_dept", 1}},
               "unknown transport parameter 'max_queue_dept'");
}

TEST(rpc_transport_options, rdma_only_names_are_rejected_for_tcp) {
    for (const char* name :
         {"max_srq_depth", "no_srq", "acceptor_backlog", "no_wr_batching", "num_cqe"}) {
        expect_bad({{"trtype", "TCP"}, {name, 1}},
                   std::string("'") + name + "' is an RDMA transport option");
    }
}

TEST(rpc_transport_options, rdma_defaults_are_spdks_and_round_trip) {
    auto r = parse({{"trtype", "rdma"}});
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->trtype, "RDMA");
    // SPDK's nvmf_rdma_opts_init.
    EXPECT_EQ(r->max_queue_depth, 128u);
    EXPECT_EQ(r->max_io_qpairs_per_ctrlr, 127u);
    EXPECT_EQ(r->in_capsule_data_size, 4096u);
    EXPECT_EQ(r->max_io_size, 131072u);
    EXPECT_EQ(r->io_unit_size, 8192u);
    EXPECT_EQ(r->max_aq_depth, 128u);
    EXPECT_EQ(r->num_shared_buffers, 4095u);
    EXPECT_EQ(r->buf_cache_size, 32u);
    EXPECT_EQ(r->max_srq_depth, 4096u);
    EXPECT_FALSE(r->no_srq);
    EXPECT_EQ(r->acceptor_backlog, 100u);
    EXPECT_FALSE(r->no_wr_batching);
    EXPECT_EQ(r->num_cqe, 4096u);
    EXPECT_EQ(r->abort_timeout_sec, 1u);
    const json j = r->to_json();
    EXPECT_EQ(j["max_srq_depth"], 4096);
    EXPECT_EQ(j["no_srq"], false);
    EXPECT_EQ(j["acceptor_backlog"], 100);
    EXPECT_FALSE(j.contains("c2h_success"));
    EXPECT_FALSE(j.contains("sock_priority"));
    auto again = parse(j);
    ASSERT_TRUE(again.ok()) << again.err().message;
    EXPECT_EQ(again->to_json(), j);
    // TCP keeps its own defaults and never prints RDMA names.
    auto t = parse({{"trtype", "TCP"}});
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->io_unit_size, 131072u);
    EXPECT_EQ(t->num_shared_buffers, 511u);
    EXPECT_FALSE(t->to_json().contains("no_srq"));
}

TEST(rpc_transport_options, rdma_options_are_read_and_checked) {
    auto r = parse({{"trtype", "RDMA"},
                    {"max_srq_depth", 1024},
                    {"no_srq", true},
                    {"acceptor_backlog", 16},
                    {"no_wr_batching", true},
                    {"num_cqe", 2048},
                    {"io_unit_size", 16384}});
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->max_srq_depth, 1024u);
    EXPECT_TRUE(r->no_srq);
    EXPECT_EQ(r->acceptor_backlog, 16u);
    EXPECT_TRUE(r->no_wr_batching);
    EXPECT_EQ(r->num_cqe, 2048u);
    EXPECT_EQ(r->io_unit_size, 16384u);
    const json rdma{{"trtype", "RDMA"}};
    auto with = [&](const char* k, json v) {
        json j = rdma;
        j[k] = std::move(v);
        return j;
    };
    expect_bad(with("max_srq_depth", 1), "'max_srq_depth' must be 2..");
    expect_bad(with("max_srq_depth", 1u << 21), "'max_srq_depth'");
    expect_bad(with("acceptor_backlog", 0), "'acceptor_backlog' must be 1..");
    expect_bad(with("num_cqe", 0), "'num_cqe'");
    expect_bad(with("no_srq", 1), "must be a boolean");
    expect_bad(with("no_wr_batching", "yes"), "must be a boolean");
    expect_bad(with("max_srq_depth", -5), "must not be negative");
    // 16 units of 8 KiB per 128 KiB transfer: room for two of them at least.
    json few = with("num_shared_buffers", 31);
    few["buf_cache_size"] = 0;
    expect_bad(few, "must be at least 32 for RDMA");
    few["num_shared_buffers"] = 32;
    EXPECT_TRUE(parse(few).ok());
    expect_bad(with("io_unit_size", 4096), "at most 16");
    expect_bad(with("bogus", 1), "unknown transport parameter 'bogus'");
    // TCP's own names are an error for RDMA, as RDMA's are for TCP (except
    // at the values rpc.py sends with every nvmf_create_transport).
    for (const char* name : {"c2h_success", "sock_priority", "control_msg_num"}) {
        expect_bad(
            with(name, name == std::string("c2h_success") ? json(false) : json(1)),
            std::string("'") + name + "' is a TCP transport option; it is not valid for RDMA");
    }
}

// What `rpc.py nvmf_create_transport -t T` sends whatever T is (its
// apply_defaults and store_true flags).
json rpc_py_defaults(const char* trtype) {
    return {{"trtype", trtype},
            {"no_srq", false},
            {"c2h_success", true},
            {"zcopy", false},
            {"dif_insert_or_strip", false},
            {"no_wr_batching", false},
            {"disable_mappable_bar0", false},
            {"disable_adaptive_irq", false},
            {"disable_shadow_doorbells", false},
            {"disable_command_passthru", false}};
}

TEST(rpc_transport_options, rpc_py_defaults_are_accepted_for_every_type) {
    auto t = parse(rpc_py_defaults("TCP"));
    ASSERT_TRUE(t.ok()) << t.err().message;
    EXPECT_EQ(t->to_json(), parse({{"trtype", "TCP"}})->to_json());
    auto r = parse(rpc_py_defaults("RDMA"));
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->to_json(), parse({{"trtype", "RDMA"}})->to_json());
    // Their other values ask for another transport's feature.
    json tcp = rpc_py_defaults("TCP");
    tcp["no_srq"] = true;
    expect_bad(tcp, "'no_srq' is an RDMA transport option");
    for (const char* vfio :
         {"disable_mappable_bar0", "disable_adaptive_irq", "disable_shadow_doorbells"}) {
        json j = rpc_py_defaults("TCP");
        j[vfio] = true;
        expect_bad(j, std::string("'") + vfio + "' is a VFIO-USER transport option");
    }
    json rdma = rpc_py_defaults("RDMA");
    rdma["c2h_success"] = false;
    expect_bad(rdma, "'c2h_success' is a TCP transport option");
}

TEST(rpc_transport_options, spdk_keep_alive_and_iobuf_options_are_kept) {
    // SPDK's defaults, as its save_config writes them.
    auto d = parse({{"trtype", "TCP"}});
    ASSERT_TRUE(d.ok());
    const json j = d->to_json();
    EXPECT_EQ(j["kas"], 100);
    EXPECT_EQ(j["min_kato"], 10000);
    EXPECT_EQ(j["iobuf_small_cache_size"], 4294967295u);
    EXPECT_EQ(j["iobuf_large_cache_size"], 4294967295u);
    auto r = parse({{"trtype", "TCP"},
                    {"kas", 20},
                    {"min_kato", 3000},
                    {"iobuf_small_cache_size", 64},
                    {"iobuf_large_cache_size", 8},
                    {"masked_oncs", json::array()},
                    {"masked_fuses", json::array()}});
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->to_json()["kas"], 20);
    EXPECT_EQ(r->to_json()["min_kato"], 3000);
    EXPECT_EQ(r->to_json()["iobuf_small_cache_size"], 64);
    EXPECT_EQ(r->to_json()["iobuf_large_cache_size"], 8);
    EXPECT_EQ(parse(r->to_json())->to_json(), r->to_json());
    expect_bad({{"trtype", "TCP"}, {"kas", 0}}, "'kas' must be 1..65535");
    expect_bad({{"trtype", "TCP"}, {"kas", 70000}}, "'kas'");
    expect_bad({{"trtype", "TCP"}, {"min_kato", 0}}, "'min_kato'");
    expect_bad({{"trtype", "TCP"}, {"masked_oncs", json::array({"nvmcmps"})}},
               "masking Identify Controller ONCS/FUSES features is not supported");
    expect_bad({{"trtype", "TCP"}, {"masked_fuses", json::array({"fcws"})}}, "'masked_fuses'");
    expect_bad({{"trtype", "TCP"}, {"masked_oncs", "nvmcmps"}}, "must be an array");
}

TEST(rpc_transport_options, ranges) {
    const json tcp{{"trtype", "TCP"}};
    auto with = [&](const char* k, json v) {
        json j = tcp;
        j[k] = std::move(v);
        return j;
    };
    expect_bad(with("max_queue_depth", 1), "'max_queue_depth' must be 2..65535");
    expect_bad(with("max_queue_depth", 65536), "'max_queue_depth' must be 2..65535");
    expect_bad(with("max_aq_depth", 31), "at least 32 entries");
    expect_bad(with("max_aq_depth", 4097), "'max_aq_depth'");
    expect_bad(with("max_io_qpairs_per_ctrlr", 0), "'max_io_qpairs_per_ctrlr'");
    expect_bad(with("in_capsule_data_size", 4100), "multiple of 16");
    expect_bad(with("in_capsule_data_size", 262144), "'in_capsule_data_size'");
    expect_bad(with("max_io_size", 2048), "'max_io_size'");
    expect_bad(with("max_io_size", 3 * 4096), "power of two");
    expect_bad(with("max_io_size", 2u << 20), "'max_io_size'");
    expect_bad(with("io_unit_size", 4096), "at most 16");
    expect_bad(with("io_unit_size", 256), "at least 512");
    expect_bad(with("num_shared_buffers", 0), "'num_shared_buffers'");
    expect_bad(with("buf_cache_size", 1000), "must not exceed 'num_shared_buffers'");
    expect_bad(with("sock_priority", 7), "CAP_NET_ADMIN");
    json j = tcp;
    j["max_io_size"] = 8192;
    j["in_capsule_data_size"] = 16384;
    expect_bad(j, "must not exceed 'max_io_size'");
    // Edges that are fine.
    EXPECT_TRUE(parse(with("max_queue_depth", 2)).ok());
    EXPECT_TRUE(parse(with("max_queue_depth", 65535)).ok());
    EXPECT_TRUE(parse(with("in_capsule_data_size", 0)).ok());
    EXPECT_TRUE(parse(with("sock_priority", 6)).ok());
    EXPECT_TRUE(parse(with("buf_cache_size", 4294967295u)).ok());
}

TEST(rpc_transport_options, legacy_max_qpairs_and_io_unit_clamp) {
    auto r = parse({{"trtype", "TCP"}, {"max_qpairs_per_ctrlr", 5}});
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->max_io_qpairs_per_ctrlr, 4u);
    EXPECT_TRUE(
        parse({{"trtype", "TCP"}, {"max_qpairs_per_ctrlr", 5}, {"max_io_qpairs_per_ctrlr", 4}})
            .ok());
    expect_bad({{"trtype", "TCP"}, {"max_qpairs_per_ctrlr", 5}, {"max_io_qpairs_per_ctrlr", 8}},
               "contradicts");
    expect_bad({{"trtype", "TCP"}, {"max_qpairs_per_ctrlr", 1}}, "counts the admin queue");
    auto c = parse({{"trtype", "TCP"}, {"max_io_size", 65536}, {"io_unit_size", 262144}});
    ASSERT_TRUE(c.ok()) << c.err().message;
    EXPECT_EQ(c->io_unit_size, 65536u);
}

// ----------------------------------------------------------- methods

class rpc_params_test : public ::testing::Test {
protected:
    reactor_group reactors_{std::vector<int>{}};
    target tgt_{reactors_};
    context ctx_{tgt_};

    result<json> run(const char* m, const json& p) { return call(ctx_, m, p); }
    void expect_error(const char* m, const json& p, int code, const std::string& needle) {
        auto r = run(m, p);
        ASSERT_FALSE(r.ok()) << m << " " << p.dump() << " -> " << (r.ok() ? r->dump() : "");
        EXPECT_EQ(r.err().code, code) << r.err().message;
        EXPECT_NE(r.err().message.find(needle), std::string::npos) << r.err().message;
    }
    void ok(const char* m, const json& p) {
        auto r = run(m, p);
        ASSERT_TRUE(r.ok()) << m << " " << p.dump() << " -> " << r.err().message;
    }
};

constexpr const char* cnode1 = "nqn.2016-06.io.spdk:cnode1";

TEST_F(rpc_params_test, unknown_method) {
    expect_error("bdev_foo_create", json::object(), err_method_not_found, "bdev_foo_create");
}

TEST_F(rpc_params_test, bdev_create_checks) {
    expect_error("bdev_malloc_create", nullptr, err_invalid_params, "params are required");
    expect_error("bdev_malloc_create", json::array(), err_invalid_params, "must be a JSON object");
    expect_error("bdev_malloc_create", {{"block_size", 512}}, err_invalid_params,
                 "missing required parameter 'num_blocks'");
    expect_error("bdev_malloc_create", {{"num_blocks", 8}, {"block_size", "512"}},
                 err_invalid_params, "'block_size' must be an unsigned integer");
    expect_error("bdev_malloc_create", {{"num_blocks", 8}, {"block_size", 1000}},
                 err_invalid_params, "power of two");
    expect_error("bdev_malloc_create", {{"num_blocks", 0}, {"block_size", 512}}, err_invalid_params,
                 "'num_blocks' is out of range");
    expect_error("bdev_malloc_create", {{"num_blocks", 8}, {"block_size", 512}, {"colour", "red"}},
                 err_invalid_params, "unknown parameter 'colour'");
    expect_error("bdev_malloc_create", {{"num_blocks", 8}, {"block_size", 512}, {"md_size", 8}},
                 err_invalid_params, "metadata");
    expect_error("bdev_malloc_create", {{"num_blocks", 8}, {"block_size", 512}, {"uuid", "xyz"}},
                 err_invalid_params, "not a UUID");
    expect_error("bdev_malloc_create", {{"num_blocks", 1ull << 40}, {"block_size", 4096}},
                 err_invalid_params, "exceeds the limit");
    expect_error("bdev_null_create", {{"num_blocks", 8}, {"block_size", 512}}, err_invalid_params,
                 "missing required parameter 'name'");
}

TEST_F(rpc_params_test, bdev_malloc_create_keeps_to_memory) {
    // More than the machine has free (the limit of 1 TiB is not reached): refused, not attempted.
    expect_error("bdev_malloc_create",
                 {{"name", "Huge"}, {"num_blocks", 1ull << 26}, {"block_size", 4096}}, -ENOMEM,
                 "exceeds the memory available");
    EXPECT_FALSE(tgt_.bdevs.find("Huge"));
    // The --mem-size budget counts every RAM disk; null bdevs take no memory.
    tgt_.bdevs.set_ram_limit(uint64_t{8} << 20);
    ok("bdev_malloc_create", {{"name", "A"}, {"num_blocks", 8192}, {"block_size", 512}});
    ok("bdev_malloc_create", {{"name", "B"}, {"num_blocks", 2048}, {"block_size", 2048}});
    expect_error("bdev_malloc_create", {{"name", "C"}, {"num_blocks", 1}, {"block_size", 512}},
                 -ENOMEM, "exceeds the memory limit (8 MiB, 8 MiB already used");
    ok("bdev_null_create", {{"name", "N"}, {"num_blocks", 1ull << 30}, {"block_size", 512}});
    ok("bdev_malloc_delete", {{"name", "A"}});
    ok("bdev_malloc_create", {{"name", "C"}, {"num_blocks", 8192}, {"block_size", 512}});
}

TEST_F(rpc_params_test, bdev_create_names_and_duplicates) {
    auto a = run("bdev_malloc_create", {{"num_blocks", 8}, {"block_size", 512}});
    auto b = run("bdev_malloc_create", {{"num_blocks", 8}, {"block_size", 512}});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, "Malloc0");
    EXPECT_EQ(*b, "Malloc1");
    expect_error("bdev_null_create", {{"name", "Malloc0"}, {"num_blocks", 8}, {"block_size", 512}},
                 -EEXIST, "already exists");
    ok("bdev_malloc_create", {{"name", "M"},
                              {"num_blocks", 16},
                              {"block_size", 4096},
                              {"uuid", "12345678-1234-4234-8234-123456789abc"},
                              {"optimal_io_boundary", 0},
                              {"md_size", 0},
                              {"dif_type", 0}});
    auto g = run("bdev_get_bdevs", {{"name", "M"}});
    ASSERT_TRUE(g.ok());
    ASSERT_EQ(g->size(), 1u);
    EXPECT_EQ((*g)[0]["uuid"], "12345678-1234-4234-8234-123456789abc");
    EXPECT_EQ((*g)[0]["num_blocks"], 16);
    EXPECT_EQ((*g)[0]["product_name"], "Malloc disk");
    EXPECT_EQ(run("bdev_get_bdevs", nullptr)->size(), 3u);
    expect_error("bdev_get_bdevs", {{"name", "nope"}}, -ENODEV, "does not exist");
}

TEST_F(rpc_params_test, bdev_delete_checks) {
    ok("bdev_null_create", {{"name", "N0"}, {"num_blocks", 8}, {"block_size", 512}});
    expect_error("bdev_malloc_delete", {{"name", "nope"}}, -ENODEV, "does not exist");
    expect_error("bdev_malloc_delete", {{"name", "N0"}}, -ENODEV, "not a malloc bdev");
    expect_error("bdev_null_delete", json::object(), err_invalid_params,
                 "missing required parameter 'name'");
    ok("nvmf_create_subsystem", {{"nqn", cnode1}});
    ok("nvmf_subsystem_add_ns", {{"nqn", cnode1}, {"namespace", {{"bdev_name", "N0"}}}});
    expect_error("bdev_null_delete", {{"name", "N0"}}, -EBUSY, "used by a namespace");
    ok("nvmf_subsystem_remove_ns", {{"nqn", cnode1}, {"nsid", 1}});
    ok("bdev_null_delete", {{"name", "N0"}});
}

TEST_F(rpc_params_test, create_subsystem_checks) {
    expect_error("nvmf_create_subsystem", json::object(), err_invalid_params,
                 "missing required parameter 'nqn'");
    expect_error("nvmf_create_subsystem", {{"nqn", "iqn.bad"}}, err_invalid_params, "invalid NQN");
    expect_error("nvmf_create_subsystem",
                 {{"nqn", cnode1}, {"serial_number", std::string(21, 'S')}}, err_invalid_params,
                 "'serial_number' is longer than 20");
    expect_error("nvmf_create_subsystem", {{"nqn", cnode1}, {"model_number", std::string(41, 'M')}},
                 err_invalid_params, "'model_number' is longer than 40");
    expect_error("nvmf_create_subsystem", {{"nqn", cnode1}, {"max_namespaces", 5000}},
                 err_invalid_params, "'max_namespaces' is out of range");
    expect_error("nvmf_create_subsystem", {{"nqn", cnode1}, {"min_cntlid", 0}}, err_invalid_params,
                 "'min_cntlid' is out of range");
    expect_error("nvmf_create_subsystem", {{"nqn", cnode1}, {"max_cntlid", 0xfff0}},
                 err_invalid_params, "'max_cntlid' is out of range");
    expect_error("nvmf_create_subsystem", {{"nqn", cnode1}, {"min_cntlid", 10}, {"max_cntlid", 5}},
                 err_invalid_params, "above max_cntlid");
    expect_error("nvmf_create_subsystem", {{"nqn", cnode1}, {"allow_any_host", "yes"}},
                 err_invalid_params, "must be a boolean");
    expect_error("nvmf_create_subsystem", {{"nqn", "nqn.2014-08.org.nvmexpress.discovery"}},
                 err_internal, "already exists");

    ok("nvmf_create_subsystem", {{"nqn", cnode1},
                                 {"serial_number", "SN1"},
                                 {"model_number", "Model"},
                                 {"allow_any_host", true},
                                 {"max_namespaces", 0},
                                 {"min_cntlid", 2},
                                 {"max_cntlid", 9},
                                 {"ana_reporting", true}});
    auto s = tgt_.find_subsystem(cnode1);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->state(), subsystem_state::active);  // started at once outside a config load
    EXPECT_EQ(s->params().max_namespaces, 1024u);    // 0: no limit (the core's ceiling)
    EXPECT_EQ(s->params().min_cntlid, 2);
    EXPECT_TRUE(s->params().ana_reporting);
    expect_error("nvmf_create_subsystem", {{"nqn", cnode1}}, err_internal,
                 "Unable to create subsystem");
}

TEST_F(rpc_params_test, unknown_nqn_everywhere) {
    const json addr{{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}};
    const char* msg = "Unable to find subsystem with NQN nqn.2016-06.io.spdk:none";
    const std::string none = "nqn.2016-06.io.spdk:none";
    expect_error("nvmf_delete_subsystem", {{"nqn", none}}, err_invalid_params, msg);
    expect_error("nvmf_get_subsystems", {{"nqn", none}}, err_invalid_params, msg);
    expect_error("nvmf_subsystem_add_listener", {{"nqn", none}, {"listen_address", addr}},
                 err_invalid_params, msg);
    expect_error("nvmf_subsystem_get_listeners", {{"nqn", none}}, err_invalid_params, msg);
    expect_error("nvmf_subsystem_add_ns", {{"nqn", none}, {"namespace", {{"bdev_name", "x"}}}},
                 err_invalid_params, msg);
    expect_error("nvmf_subsystem_remove_ns", {{"nqn", none}, {"nsid", 1}}, err_invalid_params, msg);
    expect_error("nvmf_subsystem_add_host", {{"nqn", none}, {"host", cnode1}}, err_invalid_params,
                 msg);
    expect_error("nvmf_subsystem_allow_any_host", {{"nqn", none}, {"allow_any_host", true}},
                 err_invalid_params, msg);
    expect_error("nvmf_subsystem_get_controllers", {{"nqn", none}}, err_invalid_params, msg);
    expect_error("nvmf_subsystem_get_qpairs", {{"nqn", none}}, err_invalid_params, msg);
}

TEST_F(rpc_params_test, delete_subsystem) {
    ok("nvmf_create_subsystem", {{"nqn", cnode1}});
    ok("nvmf_delete_subsystem", {{"nqn", cnode1}});
    EXPECT_FALSE(tgt_.find_subsystem(cnode1));
    auto r = run("nvmf_delete_subsystem", {{"nqn", "nqn.2014-08.org.nvmexpress.discovery"}});
    EXPECT_FALSE(r.ok());
}

TEST_F(rpc_params_test, add_ns_checks) {
    ok("nvmf_create_subsystem", {{"nqn", cnode1}, {"max_namespaces", 4}});
    ok("bdev_malloc_create", {{"name", "B0"}, {"num_blocks", 8}, {"block_size", 512}});
    ok("bdev_malloc_create", {{"name", "B1"}, {"num_blocks", 8}, {"block_size", 512}});
    expect_error("nvmf_subsystem_add_ns", {{"nqn", cnode1}}, err_invalid_params,
                 "missing required parameter 'namespace'");
    expect_error("nvmf_subsystem_add_ns", {{"nqn", cnode1}, {"namespace", {{"nsid", 1}}}},
                 err_invalid_params, "namespace: missing required parameter 'bdev_name'");
    expect_error("nvmf_subsystem_add_ns", {{"nqn", cnode1}, {"namespace", {{"bdev_name", "none"}}}},
                 err_invalid_params, "bdev 'none' does not exist");
    expect_error("nvmf_subsystem_add_ns",
                 {{"nqn", cnode1}, {"namespace", {{"bdev_name", "B0"}, {"nsid", 5}}}},
                 err_invalid_params, "above max_namespaces");
    expect_error("nvmf_subsystem_add_ns",
                 {{"nqn", cnode1}, {"namespace", {{"bdev_name", "B0"}, {"nguid", "0123"}}}},
                 err_invalid_params, "'nguid' must be 32 hexadecimal digits");
    expect_error("nvmf_subsystem_add_ns",
                 {{"nqn", cnode1}, {"namespace", {{"bdev_name", "B0"}, {"eui64", "zz"}}}},
                 err_invalid_params, "'eui64' must be 16 hexadecimal digits");
    expect_error("nvmf_subsystem_add_ns",
                 {{"nqn", cnode1}, {"namespace", {{"bdev_name", "B0"}, {"size", 1}}}},
                 err_invalid_params, "unknown parameter 'size'");
    auto n = run("nvmf_subsystem_add_ns", {{"nqn", cnode1},
                                           {"namespace",
                                            {{"bdev_name", "B0"},
                                             {"nsid", 3},
                                             {"nguid", "00112233-4455-6677-8899-aabbccddeeff"},
                                             {"eui64", "0102030405060708"}}}});
    ASSERT_TRUE(n.ok()) << n.err().message;
    EXPECT_EQ(*n, 3);
    expect_error("nvmf_subsystem_add_ns",
                 {{"nqn", cnode1}, {"namespace", {{"bdev_name", "B1"}, {"nsid", 3}}}},
                 err_invalid_params, "already in use");
    auto auto_nsid =
        run("nvmf_subsystem_add_ns", {{"nqn", cnode1}, {"namespace", {{"bdev_name", "B1"}}}});
    ASSERT_TRUE(auto_nsid.ok());
    EXPECT_EQ(*auto_nsid, 1);
    auto subs = run("nvmf_get_subsystems", {{"nqn", cnode1}});
    ASSERT_TRUE(subs.ok());
    const json& nss = (*subs)[0]["namespaces"];
    ASSERT_EQ(nss.size(), 2u);
    EXPECT_EQ(nss[1]["nsid"], 3);
    EXPECT_EQ(nss[1]["nguid"], "00112233445566778899AABBCCDDEEFF");
    EXPECT_EQ(nss[1]["eui64"], "0102030405060708");
    expect_error("nvmf_subsystem_remove_ns", {{"nqn", cnode1}, {"nsid", 2}}, err_invalid_params,
                 "not active");
    expect_error("nvmf_subsystem_remove_ns", {{"nqn", cnode1}, {"nsid", 0}}, err_invalid_params,
                 "'nsid'");
    expect_error(
        "nvmf_subsystem_add_ns",
        {{"nqn", "nqn.2014-08.org.nvmexpress.discovery"}, {"namespace", {{"bdev_name", "B0"}}}},
        err_invalid_params, "no namespaces");
}

TEST_F(rpc_params_test, listener_checks) {
    ok("nvmf_create_subsystem", {{"nqn", cnode1}});
    expect_error("nvmf_subsystem_add_listener", {{"nqn", cnode1}}, err_invalid_params,
                 "missing required parameter 'listen_address'");
    expect_error("nvmf_subsystem_add_listener", {{"nqn", cnode1}, {"listen_address", "127.0.0.1"}},
                 err_invalid_params, "must be a JSON object");
    expect_error("nvmf_subsystem_add_listener",
                 {{"nqn", cnode1}, {"listen_address", {{"trtype", "tcp"}, {"trsvcid", "4420"}}}},
                 err_invalid_params, "listen_address: missing required parameter 'traddr'");
    expect_error(
        "nvmf_subsystem_add_listener",
        {{"nqn", cnode1},
         {"listen_address", {{"trtype", "pigeon"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}}}},
        err_invalid_params, "unknown trtype");
    expect_error(
        "nvmf_subsystem_add_listener",
        {{"nqn", cnode1},
         {"listen_address", {{"trtype", "tcp"}, {"traddr", "localhost"}, {"trsvcid", "4420"}}}},
        err_invalid_params, "is not an IPv4 address");
    expect_error(
        "nvmf_subsystem_add_listener",
        {{"nqn", cnode1},
         {"listen_address", {{"trtype", "tcp"}, {"traddr", "127.0.0.1"}, {"trsvcid", "99999"}}}},
        err_invalid_params, "not a port number");
    expect_error(
        "nvmf_subsystem_add_listener",
        {{"nqn", cnode1},
         {"listen_address", {{"trtype", "tcp"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}}}},
        err_invalid_params, "has not been created");
    expect_error(
        "nvmf_subsystem_add_listener",
        {{"nqn", cnode1},
         {"secure_channel", true},
         {"listen_address", {{"trtype", "tcp"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}}}},
        err_invalid_params, "has not been created");
    expect_error(
        "nvmf_subsystem_add_listener",
        {{"nqn", cnode1},
         {"sock_impl", "uring"},
         {"listen_address", {{"trtype", "tcp"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}}}},
        err_invalid_params, "sock_impl");
    // SPDK's rule: no secure channel for a subsystem that lets any host in.
    ok("nvmf_create_subsystem", {{"nqn", cnode1 + std::string("0")}, {"allow_any_host", true}});
    expect_error(
        "nvmf_subsystem_add_listener",
        {{"nqn", cnode1 + std::string("0")},
         {"secure_channel", true},
         {"listen_address", {{"trtype", "tcp"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}}}},
        err_internal, "allow_any_host");
    expect_error(
        "nvmf_subsystem_remove_listener",
        {{"nqn", cnode1},
         {"listen_address", {{"trtype", "tcp"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}}}},
        err_invalid_params, "does not exist");
}

TEST_F(rpc_params_test, transport_methods) {
    expect_error("nvmf_create_transport", json::object(), err_invalid_params, "'trtype'");
    expect_error("nvmf_create_transport", {{"trtype", "TCP"}, {"no_srq", true}}, err_invalid_params,
                 "RDMA");
    ok("nvmf_create_transport", {{"trtype", "TCP"}, {"max_queue_depth", 64}, {"tgt_name", "x"}});
    expect_error("nvmf_create_transport", {{"trtype", "tcp"}}, err_internal, "already exists");
    auto t = run("nvmf_get_transports", nullptr);
    ASSERT_TRUE(t.ok());
    ASSERT_EQ(t->size(), 1u);
    EXPECT_EQ((*t)[0]["trtype"], "TCP");
    EXPECT_EQ((*t)[0]["max_queue_depth"], 64);
    // SPDK answers -ENODEV for a transport type that was not created.
    expect_error("nvmf_get_transports", {{"trtype", "RDMA"}}, -ENODEV, "has not been created");
    expect_error("nvmf_get_transports", {{"foo", 1}}, err_invalid_params,
                 "unknown parameter 'foo'");
}

#ifdef NVMF_HAVE_RDMA
TEST_F(rpc_params_test, rdma_transport_methods) {
    expect_error("nvmf_create_transport", {{"trtype", "RDMA"}, {"sock_priority", 1}},
                 err_invalid_params, "TCP transport option");
    // Creating the transport opens no device: it works on a host without one.
    ok("nvmf_create_transport", {{"trtype", "rdma"}, {"max_queue_depth", 64}, {"no_srq", true}});
    expect_error("nvmf_create_transport", {{"trtype", "RDMA"}}, err_internal, "already exists");
    auto t = run("nvmf_get_transports", {{"trtype", "RDMA"}});
    ASSERT_TRUE(t.ok()) << t.err().message;
    ASSERT_EQ(t->size(), 1u);
    EXPECT_EQ((*t)[0]["trtype"], "RDMA");
    EXPECT_EQ((*t)[0]["max_queue_depth"], 64);
    EXPECT_EQ((*t)[0]["no_srq"], true);
    EXPECT_EQ((*t)[0]["io_unit_size"], 8192);
    // An RDMA listener needs an RDMA device with that address; loopback has none.
    ok("nvmf_create_subsystem", {{"nqn", cnode1}});
    auto r = run(
        "nvmf_subsystem_add_listener",
        {{"nqn", cnode1},
         {"listen_address", {{"trtype", "rdma"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}}}});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.err().message.find("cannot listen on RDMA 127.0.0.1:4420"), std::string::npos)
        << r.err().message;
    auto l = run("nvmf_subsystem_get_listeners", {{"nqn", cnode1}});
    ASSERT_TRUE(l.ok());
    EXPECT_TRUE(l->empty()) << l->dump();
}
#endif

TEST_F(rpc_params_test, host_methods) {
    ok("nvmf_create_subsystem", {{"nqn", cnode1}});
    const std::string host = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    expect_error("nvmf_subsystem_add_host", {{"nqn", cnode1}}, err_invalid_params,
                 "missing required parameter 'host'");
    expect_error("nvmf_subsystem_add_host", {{"nqn", cnode1}, {"host", "not-an-nqn"}},
                 err_invalid_params, "invalid NQN");
    expect_error("nvmf_subsystem_add_host", {{"nqn", cnode1}, {"host", host}, {"psk", "key"}},
                 err_invalid_params, "Key 'key' does not exist");
    expect_error("nvmf_subsystem_add_host",
                 {{"nqn", cnode1}, {"host", host}, {"dhchap_key", "key"}}, err_invalid_params,
                 "Unable to find DH-HMAC-CHAP key");
    ok("nvmf_subsystem_add_host", {{"nqn", cnode1}, {"host", host}});
    expect_error("nvmf_subsystem_add_host", {{"nqn", cnode1}, {"host", host}}, err_internal,
                 "already allowed");
    EXPECT_TRUE(tgt_.find_subsystem(cnode1)->host_allowed(host));
    ok("nvmf_subsystem_remove_host", {{"nqn", cnode1}, {"host", host}});
    expect_error("nvmf_subsystem_remove_host", {{"nqn", cnode1}, {"host", host}}, err_internal,
                 "not allowed");
    expect_error("nvmf_subsystem_allow_any_host", {{"nqn", cnode1}}, err_invalid_params,
                 "missing required parameter 'allow_any_host'");
    ok("nvmf_subsystem_allow_any_host", {{"nqn", cnode1}, {"allow_any_host", true}});
    EXPECT_TRUE(tgt_.find_subsystem(cnode1)->host_allowed(host));
    auto c = run("nvmf_subsystem_get_controllers", {{"nqn", cnode1}});
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->empty());
    auto q = run("nvmf_subsystem_get_qpairs", {{"nqn", cnode1}});
    ASSERT_TRUE(q.ok());
    EXPECT_TRUE(q->empty());
}

TEST_F(rpc_params_test, misc_methods) {
    auto m = run("rpc_get_methods", nullptr);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->size(), method_table().size());
    for (const char* name : {"nvmf_create_transport", "nvmf_subsystem_get_qpairs", "save_config",
                             "framework_start_init", "bdev_get_bdevs", "spdk_get_version"}) {
        EXPECT_NE(std::find(m->begin(), m->end(), json(name)), m->end()) << name;
    }
    auto v = run("spdk_get_version", nullptr);
    ASSERT_TRUE(v.ok());
    EXPECT_NE((*v)["version"].get<std::string>().find("nvmf-target"), std::string::npos);
    // Without a framework the context is RUNTIME: already initialized.
    expect_error("framework_start_init", nullptr, err_invalid_state,
                 "Method may only be called before framework is initialized");
    expect_error("iobuf_set_options", nullptr, err_invalid_state, "--wait-for-rpc");
    expect_error("save_config", {{"x", 1}}, err_invalid_params, "unknown parameter 'x'");
    auto cfg = run("save_config", nullptr);
    ASSERT_TRUE(cfg.ok());
    EXPECT_TRUE((*cfg)["subsystems"].is_array());
}

TEST(rpc_hex, parse_and_print) {
    uint8_t b[4];
    EXPECT_TRUE(parse_hex_bytes("0aFF-10-7e", b, 4));
    EXPECT_EQ(hex_upper(b, 4), "0AFF107E");
    EXPECT_FALSE(parse_hex_bytes("0aFF10", b, 4));
    EXPECT_FALSE(parse_hex_bytes("0aFF107e00", b, 4));
    EXPECT_FALSE(parse_hex_bytes("0aFF107", b, 4));
    EXPECT_FALSE(parse_hex_bytes("0aFF10xx", b, 4));
}

}  // namespace
}  // namespace nvmf::rpc
