// Every JSON-RPC method against the real daemon's socket: its success case
// (with the effect checked through another method or a host connection) and
// each class of error: missing, unknown, mistyped or out-of-range parameter,
// unknown NQN or bdev, duplicate name or NSID, malformed JSON, oversized
// request, unknown method.
#include <poll.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr int invalid_params = -32602;
constexpr int internal_error = -32603;
constexpr const char* cnode2 = "nqn.2016-06.io.spdk:cnode2";
constexpr const char* host_a =
    "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-0000-0000-000000000001";

class rpc_methods_test : public target_test {
protected:
    // Asserts an error response with this code and a message containing needle.
    static ::testing::AssertionResult is_error(const json& r, int code, const std::string& needle) {
        if (!r.contains("error")) return ::testing::AssertionFailure() << "no error: " << r.dump();
        const int c = r["error"].value("code", 0);
        const std::string m = r["error"].value("message", "");
        if (c != code || m.find(needle) == std::string::npos) {
            return ::testing::AssertionFailure()
                   << "want code " << code << " and '" << needle << "', got " << r.dump();
        }
        return ::testing::AssertionSuccess();
    }
    static ::testing::AssertionResult is_ok(const json& r) {
        if (r.contains("result")) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << r.dump();
    }
    json addr(const std::string& traddr, const std::string& port) const {
        return {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", traddr}, {"trsvcid", port}};
    }

    // Raw bytes to the RPC socket; returns what the daemon sends back until
    // it has sent `lines` responses (one per line), closes the connection or
    // goes quiet for 5 s.
    std::string raw(const std::string& bytes, size_t lines = 1) const {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, tgt.rpc_path().c_str(), sizeof(a.sun_path) - 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
            ::close(fd);
            return "connect failed";
        }
        for (size_t off = 0; off < bytes.size();) {
            const ssize_t n =
                ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                off += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno != EAGAIN) break;  // the daemon closed on us: read what it said
            pollfd p{fd, POLLOUT | POLLIN, 0};
            ::poll(&p, 1, 2000);
            if (p.revents & (POLLIN | POLLHUP | POLLERR)) break;
        }
        std::string in;
        char buf[4096];
        while (static_cast<size_t>(std::count(in.begin(), in.end(), '\n')) < lines) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 5000) <= 0) break;
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) break;
            in.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        return in;
    }
};

TEST_F(rpc_methods_test, InformationalMethods) {
    auto m = tgt.rpc("rpc_get_methods");
    ASSERT_TRUE(is_ok(m));
    std::set<std::string> names;
    for (auto& n : m["result"]) names.insert(n.get<std::string>());
    for (const char* want : {"bdev_malloc_create",
                             "bdev_malloc_delete",
                             "bdev_null_create",
                             "bdev_null_delete",
                             "bdev_get_bdevs",
                             "bdev_wait_for_examine",
                             "nvmf_create_transport",
                             "nvmf_get_transports",
                             "nvmf_create_subsystem",
                             "nvmf_delete_subsystem",
                             "nvmf_get_subsystems",
                             "nvmf_subsystem_add_listener",
                             "nvmf_subsystem_remove_listener",
                             "nvmf_subsystem_get_listeners",
                             "nvmf_subsystem_add_ns",
                             "nvmf_subsystem_remove_ns",
                             "nvmf_subsystem_add_host",
                             "nvmf_subsystem_remove_host",
                             "nvmf_subsystem_allow_any_host",
                             "nvmf_subsystem_get_controllers",
                             "nvmf_subsystem_get_qpairs",
                             "nvmf_get_stats",
                             "rpc_get_methods",
                             "spdk_get_version",
                             "save_config",
                             "framework_start_init",
                             "framework_wait_init",
                             "framework_get_subsystems",
                             "framework_get_config"}) {
        EXPECT_TRUE(names.count(want)) << want;
    }
    EXPECT_TRUE(is_error(tgt.rpc("rpc_get_methods", {{"current", 1}}), invalid_params,
                         "'current' must be a boolean"));

    auto v = tgt.rpc("spdk_get_version");
    ASSERT_TRUE(is_ok(v));
    EXPECT_NE(v["result"]["version"].get<std::string>().find("nvmf-target"), std::string::npos);
    EXPECT_TRUE(v["result"]["fields"].contains("major"));
    EXPECT_TRUE(
        is_error(tgt.rpc("spdk_get_version", {{"x", 1}}), invalid_params, "unknown parameter 'x'"));

    // Started without --wait-for-rpc: initialized already, as SPDK's nvmf_tgt.
    EXPECT_TRUE(is_error(tgt.rpc("framework_start_init"), -1,
                         "Method may only be called before framework is initialized"));
    EXPECT_TRUE(is_ok(tgt.rpc("framework_wait_init")));
    EXPECT_TRUE(is_ok(tgt.rpc("bdev_wait_for_examine")));
    EXPECT_TRUE(is_error(tgt.rpc("framework_wait_init", {{"x", 1}}), invalid_params, "'x'"));

    auto c = tgt.rpc("save_config");
    ASSERT_TRUE(is_ok(c));
    // keyring, sock, bdev, nvmf: SPDK's sections, in its order.
    EXPECT_EQ(c["result"]["subsystems"].size(), 4u);
    EXPECT_TRUE(is_error(tgt.rpc("save_config", {{"x", 1}}), invalid_params, "'x'"));

    EXPECT_TRUE(is_error(tgt.rpc("no_such_method"), -32601, "Method not found"));
}

TEST_F(rpc_methods_test, BdevMethods) {
    auto r =
        tgt.rpc("bdev_malloc_create", {{"name", "M1"}, {"num_blocks", 64}, {"block_size", 4096}});
    ASSERT_TRUE(is_ok(r));
    EXPECT_EQ(r["result"], "M1");
    EXPECT_TRUE(is_ok(
        tgt.rpc("bdev_null_create", {{"name", "N1"}, {"num_blocks", 1024}, {"block_size", 512}})));
    auto g = tgt.rpc("bdev_get_bdevs", {{"name", "M1"}});
    ASSERT_TRUE(is_ok(g));
    ASSERT_EQ(g["result"].size(), 1u);
    EXPECT_EQ(g["result"][0]["block_size"], 4096);
    EXPECT_EQ(g["result"][0]["num_blocks"], 64);
    auto all = tgt.rpc("bdev_get_bdevs");
    ASSERT_TRUE(is_ok(all));
    EXPECT_EQ(all["result"].size(), 3u);  // Malloc0 of the config too

    // Errors: duplicate, missing, wrong type, out of range, unknown, wrong kind, in use.
    EXPECT_TRUE(is_error(
        tgt.rpc("bdev_malloc_create", {{"name", "M1"}, {"num_blocks", 8}, {"block_size", 512}}),
        -EEXIST, "already exists"));
    EXPECT_TRUE(is_error(tgt.rpc("bdev_malloc_create", {{"name", "M2"}, {"block_size", 512}}),
                         invalid_params, "missing required parameter 'num_blocks'"));
    EXPECT_TRUE(is_error(
        tgt.rpc("bdev_malloc_create", {{"name", "M2"}, {"num_blocks", "8"}, {"block_size", 512}}),
        invalid_params, "'num_blocks' must be an unsigned integer"));
    EXPECT_TRUE(is_error(
        tgt.rpc("bdev_malloc_create", {{"name", "M2"}, {"num_blocks", 0}, {"block_size", 512}}),
        invalid_params, "'num_blocks' is out of range"));
    EXPECT_TRUE(is_error(
        tgt.rpc("bdev_malloc_create", {{"name", "M2"}, {"num_blocks", 8}, {"block_size", 500}}),
        invalid_params, "block_size"));
    EXPECT_TRUE(is_error(
        tgt.rpc("bdev_malloc_create",
                {{"name", "M2"}, {"num_blocks", 8}, {"block_size", 512}, {"colour", "red"}}),
        invalid_params, "unknown parameter 'colour'"));
    EXPECT_TRUE(is_error(tgt.rpc("bdev_get_bdevs", {{"name", "nope"}}), -ENODEV, "does not exist"));
    EXPECT_TRUE(
        is_error(tgt.rpc("bdev_malloc_delete", {{"name", "nope"}}), -ENODEV, "does not exist"));
    EXPECT_TRUE(
        is_error(tgt.rpc("bdev_malloc_delete", {{"name", "N1"}}), -ENODEV, "not a malloc bdev"));
    EXPECT_TRUE(is_error(tgt.rpc("bdev_malloc_delete", {{"name", "Malloc0"}}), -EBUSY, "Malloc0"));
    EXPECT_TRUE(
        is_error(tgt.rpc("bdev_null_delete", {{"name", 5}}), invalid_params, "must be a string"));

    EXPECT_TRUE(is_ok(tgt.rpc("bdev_malloc_delete", {{"name", "M1"}})));
    EXPECT_TRUE(is_ok(tgt.rpc("bdev_null_delete", {{"name", "N1"}})));
    EXPECT_TRUE(is_error(tgt.rpc("bdev_get_bdevs", {{"name", "M1"}}), -ENODEV, "does not exist"));
}

TEST_F(rpc_methods_test, TransportMethods) {
    auto t = tgt.rpc("nvmf_get_transports");
    ASSERT_TRUE(is_ok(t));
    ASSERT_EQ(t["result"].size(), 1u);
    EXPECT_EQ(t["result"][0]["trtype"], "TCP");
    EXPECT_TRUE(is_ok(tgt.rpc("nvmf_get_transports", {{"trtype", "tcp"}})));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_get_transports", {{"trtype", "RDMA"}}), -ENODEV,
                         "has not been created"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_create_transport", {{"trtype", "TCP"}}), internal_error,
                         "Transport type 'TCP' already exists"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_create_transport", {{"trtype", "pigeon"}}), invalid_params,
                         "pigeon"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_create_transport", json::object()), invalid_params, "'trtype'"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_create_transport", {{"trtype", "TCP"}, {"max_queue_depth", "deep"}}),
                 invalid_params, "max_queue_depth"));
}

TEST_F(rpc_methods_test, SubsystemLifecycle) {
    EXPECT_TRUE(is_ok(tgt.rpc("nvmf_create_subsystem", {{"nqn", cnode2},
                                                        {"serial_number", "SN2"},
                                                        {"model_number", "M2"},
                                                        {"allow_any_host", true},
                                                        {"max_namespaces", 8}})));
    auto g = tgt.rpc("nvmf_get_subsystems", {{"nqn", cnode2}});
    ASSERT_TRUE(is_ok(g));
    ASSERT_EQ(g["result"].size(), 1u);
    EXPECT_EQ(g["result"][0]["serial_number"], "SN2");
    EXPECT_EQ(g["result"][0]["max_namespaces"], 8);
    auto all = tgt.rpc("nvmf_get_subsystems");
    ASSERT_TRUE(is_ok(all));
    EXPECT_EQ(all["result"].size(), 3u);  // discovery, cnode1, cnode2
    EXPECT_EQ(all["result"][0]["subtype"], "Discovery");

    // SPDK: a duplicate is -32603 "Unable to create subsystem".
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_create_subsystem", {{"nqn", cnode2}}), internal_error,
                         "Unable to create subsystem"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_create_subsystem", {{"nqn", "not-an-nqn"}}), invalid_params, "NQN"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_create_subsystem", json::object()), invalid_params,
                         "missing required parameter 'nqn'"));
    EXPECT_TRUE(is_error(
        tgt.rpc("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.spdk:x"}, {"serial_number", 7}}),
        invalid_params, "'serial_number' must be a string"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_create_subsystem",
                                 {{"nqn", "nqn.2016-06.io.spdk:x"}, {"max_namespaces", 100000}}),
                         invalid_params, "'max_namespaces' is out of range"));
    EXPECT_TRUE(is_error(
        tgt.rpc("nvmf_create_subsystem",
                {{"nqn", "nqn.2016-06.io.spdk:x"}, {"serial_number", std::string(21, 'S')}}),
        invalid_params, "'serial_number' is longer than 20"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.spdk:x"}, {"bogus", 1}}),
                 invalid_params, "unknown parameter 'bogus'"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_create_subsystem", "nqn.2016-06.io.spdk:x"), -32600,
                         "'params' must be an object"));

    EXPECT_TRUE(is_ok(tgt.rpc("nvmf_delete_subsystem", {{"nqn", cnode2}})));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_delete_subsystem", {{"nqn", cnode2}}), invalid_params,
                         std::string("Unable to find subsystem with NQN ") + cnode2));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_get_subsystems", {{"nqn", cnode2}}), invalid_params,
                         "Unable to find subsystem"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_delete_subsystem", {{"nqn", spec::discovery_nqn}}),
                         invalid_params, "cannot be deleted"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_delete_subsystem"), invalid_params, "params are required"));
}

TEST_F(rpc_methods_test, ListenerMethods) {
    const uint16_t p2 = pick_port();
    ASSERT_NE(p2, 0);
    const std::string port2 = std::to_string(p2);
    auto l = tgt.rpc("nvmf_subsystem_get_listeners", {{"nqn", default_nqn}});
    ASSERT_TRUE(is_ok(l));
    ASSERT_EQ(l["result"].size(), 1u);
    EXPECT_EQ(l["result"][0]["address"]["trsvcid"], tgt.port());

    EXPECT_TRUE(
        is_ok(tgt.rpc("nvmf_subsystem_add_listener",
                      {{"nqn", default_nqn}, {"listen_address", addr("127.0.0.1", port2)}})));
    EXPECT_TRUE(port_accepts(p2));
    l = tgt.rpc("nvmf_subsystem_get_listeners", {{"nqn", default_nqn}});
    EXPECT_EQ(l["result"].size(), 2u);
    // A host can use the new address.
    auto o = tgt.ctrlr_opts();
    o.trsvcid = port2;
    auto c = connect(o);
    ASSERT_TRUE(c);

    // Errors: duplicate, bad address, missing, unknown NQN, no such listener.
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_add_listener",
                         {{"nqn", default_nqn}, {"listen_address", addr("127.0.0.1", port2)}}),
                 invalid_params, "already exists"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_add_listener",
                         {{"nqn", default_nqn}, {"listen_address", addr("127.0.0.1", "70000")}}),
                 invalid_params, "not a port number"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_add_listener",
                         {{"nqn", default_nqn}, {"listen_address", addr("10.300.0.1", port2)}}),
                 invalid_params, "10.300.0.1"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_add_listener", {{"nqn", default_nqn}}),
                         invalid_params, "missing required parameter 'listen_address'"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_add_listener",
                                 {{"nqn", cnode2}, {"listen_address", addr("127.0.0.1", port2)}}),
                         invalid_params, "Unable to find subsystem"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_remove_listener",
                         {{"nqn", default_nqn}, {"listen_address", addr("127.0.0.1", "1")}}),
                 invalid_params, "does not exist"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_get_listeners", {{"nqn", cnode2}}), invalid_params,
                         "Unable to find subsystem"));

    // Removing it disconnects the controller that came in on it and closes the port.
    EXPECT_TRUE(
        is_ok(tgt.rpc("nvmf_subsystem_remove_listener",
                      {{"nqn", default_nqn}, {"listen_address", addr("127.0.0.1", port2)}})));
    EXPECT_TRUE(c->admin().wait_closed(5000));
    EXPECT_FALSE(port_accepts(p2));
    l = tgt.rpc("nvmf_subsystem_get_listeners", {{"nqn", default_nqn}});
    EXPECT_EQ(l["result"].size(), 1u);
}

TEST_F(rpc_methods_test, NamespaceMethods) {
    ASSERT_TRUE(is_ok(tgt.rpc("bdev_malloc_create",
                              {{"name", "M1"}, {"num_blocks", 2048}, {"block_size", 512}})));
    auto r = tgt.rpc(
        "nvmf_subsystem_add_ns",
        {{"nqn", default_nqn},
         {"namespace",
          {{"bdev_name", "M1"}, {"nsid", 7}, {"uuid", "6c7c4c1c-1111-4222-8333-444455556666"}}}});
    ASSERT_TRUE(is_ok(r));
    EXPECT_EQ(r["result"], 7);
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto list = ctrlr->active_ns_list();
    ASSERT_TRUE(list);
    EXPECT_EQ(*list, (std::vector<uint32_t>{1, 7}));

    ASSERT_TRUE(is_ok(tgt.rpc("bdev_malloc_create",
                              {{"name", "M2"}, {"num_blocks", 2048}, {"block_size", 512}})));
    // Errors: unknown bdev, duplicate NSID, bdev already a namespace, NSID out of range,
    // missing, wrong type, unknown parameter, unknown NQN (SPDK: all -32602).
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_add_ns",
                                 {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "nope"}}}}),
                         invalid_params, "bdev 'nope' does not exist"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_add_ns",
                         {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "M2"}, {"nsid", 7}}}}),
                 invalid_params, "NSID 7 is already in use"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_add_ns",
                                 {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "M1"}}}}),
                         invalid_params, "already a namespace"));
    EXPECT_TRUE(is_error(
        tgt.rpc("nvmf_subsystem_add_ns",
                {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "M2"}, {"nsid", 4000}}}}),
        invalid_params, "above max_namespaces"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_add_ns", {{"nqn", default_nqn}}), invalid_params,
                         "missing required parameter 'namespace'"));
    EXPECT_TRUE(is_error(
        tgt.rpc("nvmf_subsystem_add_ns",
                {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "M2"}, {"nsid", "2"}}}}),
        invalid_params, "'nsid' must be an unsigned integer"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_add_ns",
                         {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "M2"}, {"size", 1}}}}),
                 invalid_params, "unknown parameter 'size'"));
    EXPECT_TRUE(is_error(
        tgt.rpc("nvmf_subsystem_add_ns", {{"nqn", cnode2}, {"namespace", {{"bdev_name", "M2"}}}}),
        invalid_params, "Unable to find subsystem"));
    // A bdev in use cannot be deleted.
    EXPECT_TRUE(is_error(tgt.rpc("bdev_malloc_delete", {{"name", "M1"}}), -EBUSY, "M1"));

    EXPECT_TRUE(is_ok(tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", 7}})));
    list = ctrlr->active_ns_list();
    ASSERT_TRUE(list);
    EXPECT_EQ(*list, (std::vector<uint32_t>{1}));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", 7}}),
                         invalid_params, "NSID 7 is not active"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}}),
                         invalid_params, "missing required parameter 'nsid'"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", -1}}),
                         invalid_params, "'nsid' is out of range"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", cnode2}, {"nsid", 1}}),
                         invalid_params, "Unable to find subsystem"));
    // Once it is no namespace, the bdev can go.
    EXPECT_TRUE(is_ok(tgt.rpc("bdev_malloc_delete", {{"name", "M1"}})));
}

TEST_F(rpc_methods_test, HostMethods) {
    EXPECT_TRUE(is_ok(tgt.rpc("nvmf_subsystem_allow_any_host",
                              {{"nqn", default_nqn}, {"allow_any_host", false}})));
    auto o = tgt.ctrlr_opts();
    o.hostnqn = host_a;
    auto refused = host::controller::create(o);
    ASSERT_FALSE(refused);

    EXPECT_TRUE(
        is_ok(tgt.rpc("nvmf_subsystem_add_host", {{"nqn", default_nqn}, {"host", host_a}})));
    auto g = tgt.rpc("nvmf_get_subsystems", {{"nqn", default_nqn}});
    ASSERT_TRUE(is_ok(g));
    EXPECT_EQ(g["result"][0]["hosts"][0]["nqn"], host_a);
    EXPECT_EQ(g["result"][0]["allow_any_host"], false);
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);

    // SPDK: a duplicate host, or removing one that is not there, is -32603.
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_add_host", {{"nqn", default_nqn}, {"host", host_a}}),
                 internal_error, "already allowed"));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_add_host", {{"nqn", default_nqn}, {"host", "bad"}}),
                 invalid_params, "invalid NQN"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_add_host", {{"nqn", default_nqn}}), invalid_params,
                         "missing required parameter 'host'"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_add_host", {{"nqn", cnode2}, {"host", host_a}}),
                         invalid_params, "Unable to find subsystem"));
    EXPECT_TRUE(is_error(
        tgt.rpc("nvmf_subsystem_allow_any_host", {{"nqn", default_nqn}, {"allow_any_host", "no"}}),
        invalid_params, "must be a boolean"));

    auto ctrls = tgt.rpc("nvmf_subsystem_get_controllers", {{"nqn", default_nqn}});
    ASSERT_TRUE(is_ok(ctrls));
    ASSERT_EQ(ctrls["result"].size(), 1u);
    EXPECT_EQ(ctrls["result"][0]["hostnqn"], host_a);
    EXPECT_EQ(ctrls["result"][0]["cntlid"], ctrlr->cntlid());
    EXPECT_EQ(ctrls["result"][0]["num_io_qpairs"], 1);
    auto qps = tgt.rpc("nvmf_subsystem_get_qpairs", {{"nqn", default_nqn}});
    ASSERT_TRUE(is_ok(qps));
    ASSERT_EQ(qps["result"].size(), 2u);
    EXPECT_EQ(qps["result"][0]["qid"], 0);
    EXPECT_EQ(qps["result"][1]["qid"], 1);
    EXPECT_EQ(qps["result"][1]["listen_address"]["trsvcid"], tgt.port());
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_get_controllers", {{"nqn", cnode2}}),
                         invalid_params, "Unable to find subsystem"));
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_subsystem_get_qpairs", json::object()), invalid_params,
                         "missing required parameter 'nqn'"));

    // Removing the host ends its controller (admin and I/O queue).
    EXPECT_TRUE(
        is_ok(tgt.rpc("nvmf_subsystem_remove_host", {{"nqn", default_nqn}, {"host", host_a}})));
    EXPECT_TRUE(ctrlr->admin().wait_closed(5000));
    EXPECT_TRUE(ctrlr->io(0).wait_closed(5000));
    EXPECT_TRUE(
        is_error(tgt.rpc("nvmf_subsystem_remove_host", {{"nqn", default_nqn}, {"host", host_a}}),
                 internal_error, "not allowed"));
    ctrls = tgt.rpc("nvmf_subsystem_get_controllers", {{"nqn", default_nqn}});
    EXPECT_EQ(ctrls["result"].size(), 0u);
    ctrlr.reset();
    EXPECT_FALSE(host::controller::create(o));
}

TEST_F(rpc_methods_test, GetStatsCountsQueuesAndIo) {
    auto s0 = tgt.rpc("nvmf_get_stats");
    ASSERT_TRUE(is_ok(s0));
    EXPECT_EQ(s0["result"]["tick_rate"], 1000000000u);
    const json& groups = s0["result"]["poll_groups"];
    ASSERT_EQ(groups.size(), test_reactor_count());
    for (size_t i = 0; i < groups.size(); ++i) {
        EXPECT_EQ(groups[i]["name"], fmt::format("nvmf_tgt_poll_group_{:03}", i));
        ASSERT_EQ(groups[i]["transports"].size(), 1u);
        EXPECT_EQ(groups[i]["transports"][0]["trtype"], "TCP");
    }
    const json g0 = sum_poll_groups(s0);
    EXPECT_EQ(g0["current_admin_qpairs"], 0);
    EXPECT_EQ(g0["current_io_qpairs"], 0);

    auto o = tgt.ctrlr_opts();
    o.num_io_queues = 2;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    std::vector<uint8_t> buf(4096, 0x5a);
    for (int i = 0; i < 10; ++i) {
        auto w = ctrlr->write(1, static_cast<uint64_t>(i) * 8, 8, buf, static_cast<size_t>(i % 2));
        ASSERT_TRUE(w && w->ok());
    }
    auto s1 = tgt.rpc("nvmf_get_stats");
    ASSERT_TRUE(is_ok(s1));
    const json g1 = sum_poll_groups(s1);
    EXPECT_EQ(g1["admin_qpairs"].get<uint64_t>(), g0["admin_qpairs"].get<uint64_t>() + 1);
    EXPECT_EQ(g1["io_qpairs"].get<uint64_t>(), g0["io_qpairs"].get<uint64_t>() + 2);
    EXPECT_EQ(g1["current_admin_qpairs"], 1);
    EXPECT_EQ(g1["current_io_qpairs"], 2);
    EXPECT_EQ(g1["completed_nvme_io"].get<uint64_t>(),
              g0["completed_nvme_io"].get<uint64_t>() + 10);
    EXPECT_EQ(g1["pending_bdev_io"], 0);
    EXPECT_GE(g1["current_connections"].get<uint64_t>(), 3u);

    ctrlr->disconnect();
    ASSERT_TRUE(ctrlr->admin().wait_closed(5000));
    // The daemon sees the close asynchronously; poll briefly for it.
    json g2;
    for (int i = 0; i < 100; ++i) {
        g2 = sum_poll_groups(tgt.rpc("nvmf_get_stats"));
        if (g2["current_admin_qpairs"] == 0 && g2["current_io_qpairs"] == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(g2["current_admin_qpairs"], 0);
    EXPECT_EQ(g2["current_io_qpairs"], 0);
    EXPECT_EQ(g2["admin_qpairs"], g1["admin_qpairs"]);
    EXPECT_TRUE(is_error(tgt.rpc("nvmf_get_stats", {{"x", 1}}), invalid_params, "'x'"));
}

TEST_F(rpc_methods_test, MalformedOversizedAndInvalidRequests) {
    // Not JSON: -32700 and the connection is closed.
    auto r = raw("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"spdk_get_version\"}x{]", 2);
    ASSERT_FALSE(r.empty());
    auto first = json::parse(r.substr(0, r.find('\n')), nullptr, false);
    ASSERT_FALSE(first.is_discarded()) << r;
    EXPECT_TRUE(is_ok(first));
    auto second = json::parse(r.substr(r.find('\n') + 1), nullptr, false);
    ASSERT_FALSE(second.is_discarded()) << r;
    EXPECT_TRUE(is_error(second, -32700, "Parse error"));

    r = raw("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"spdk_get_version\",}");
    EXPECT_TRUE(is_error(json::parse(r, nullptr, false), -32700, "Parse error")) << r;

    // Larger than 1 MiB: -32600 and closed, without reading it all first.
    std::string big =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"bdev_get_bdevs\",\"params\":{\"name\":\"";
    big += std::string((1u << 20) + 100, 'a');
    big += "\"}}";
    r = raw(big);
    EXPECT_TRUE(is_error(json::parse(r, nullptr, false), -32600, "larger than"))
        << r.substr(0, 200);

    // Not a request object.
    r = raw("{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"spdk_get_version\"}");
    EXPECT_TRUE(is_error(json::parse(r, nullptr, false), -32600, "'jsonrpc' must be")) << r;

    // The daemon still serves.
    EXPECT_TRUE(is_ok(tgt.rpc("spdk_get_version")));
}

TEST_F(rpc_methods_test, ConcurrentClientsAreServedInOrder) {
    // Several clients, each sending a pipeline of requests at once: every
    // client gets all its responses, in its own order.
    constexpr int clients = 4, per_client = 25;
    std::vector<std::thread> ts;
    ts.reserve(clients);
    std::vector<std::string> outs(clients);
    for (int c = 0; c < clients; ++c) {
        ts.emplace_back([&, c] {
            std::string batch;
            for (int i = 0; i < per_client; ++i) {
                const std::string name = "C" + std::to_string(c) + "_" + std::to_string(i);
                batch +=
                    json{{"jsonrpc", "2.0"},
                         {"id", i},
                         {"method", i % 2 ? "bdev_get_bdevs" : "bdev_null_create"},
                         {"params",
                          i % 2 ? json{{"name",
                                        "C" + std::to_string(c) + "_" + std::to_string(i - 1)}}
                                : json{{"name", name}, {"num_blocks", 8}, {"block_size", 512}}}}
                        .dump();
            }
            outs[c] = raw(batch, per_client);
        });
    }
    for (auto& t : ts) t.join();
    for (int c = 0; c < clients; ++c) {
        std::stringstream ss(outs[c]);
        std::string line;
        int i = 0;
        while (std::getline(ss, line)) {
            auto j = json::parse(line, nullptr, false);
            ASSERT_FALSE(j.is_discarded()) << line;
            EXPECT_EQ(j["id"], i) << "client " << c;
            // Each bdev_get_bdevs finds the bdev its client created just before.
            EXPECT_TRUE(is_ok(j)) << line;
            ++i;
        }
        EXPECT_EQ(i, per_client) << "client " << c;
    }
    auto all = tgt.rpc("bdev_get_bdevs");
    EXPECT_EQ(all["result"].size(), 1u + clients * ((per_client + 1) / 2));
}

}  // namespace
}  // namespace nvmf::test
