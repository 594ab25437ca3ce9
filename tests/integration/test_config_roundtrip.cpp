// The JSON config round trip: a target started from a config with three
// subsystems, listeners on two addresses and ports, hosts and namespaces
// saves a config (save_config) that, loaded by a fresh daemon, gives the same
// target: its own save_config is identical, and hosts can use it.
#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr const char* host_1 =
    "nqn.2014-08.org.nvmexpress:uuid:11111111-1111-1111-1111-111111111111";
constexpr const char* host_2 =
    "nqn.2014-08.org.nvmexpress:uuid:22222222-2222-2222-2222-222222222222";

json listener(const std::string& nqn, const std::string& traddr, const std::string& port) {
    return {{"method", "nvmf_subsystem_add_listener"},
            {"params",
             {{"nqn", nqn},
              {"listen_address",
               {{"trtype", "tcp"}, {"adrfam", "ipv4"}, {"traddr", traddr}, {"trsvcid", port}}}}}};
}

json add_ns(const std::string& nqn, json ns) {
    return {{"method", "nvmf_subsystem_add_ns"}, {"params", {{"nqn", nqn}, {"namespace", ns}}}};
}

json start_config(const std::string& p1, const std::string& p2) {
    const std::string a = "nqn.2016-06.io.spdk:a", b = "nqn.2016-06.io.spdk:b",
                      c = "nqn.2016-06.io.spdk:c";
    json bdev = json::array({
        {{"method", "bdev_malloc_create"},
         {"params", {{"name", "Malloc0"}, {"num_blocks", 4096}, {"block_size", 512}}}},
        {{"method", "bdev_malloc_create"},
         {"params",
          {{"name", "Malloc1"},
           {"num_blocks", 1024},
           {"block_size", 4096},
           {"uuid", "0f8e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"}}}},
        {{"method", "bdev_null_create"},
         {"params", {{"name", "Null0"}, {"num_blocks", 65536}, {"block_size", 512}}}},
        {{"method", "bdev_malloc_create"},
         {"params", {{"name", "Malloc2"}, {"num_blocks", 2048}, {"block_size", 512}}}},
    });
    json nvmf = json::array({
        {{"method", "nvmf_create_transport"},
         {"params", {{"trtype", "TCP"}, {"max_queue_depth", 64}, {"in_capsule_data_size", 8192}}}},
        {{"method", "nvmf_create_subsystem"},
         {"params",
          {{"nqn", a},
           {"serial_number", "SNA"},
           {"model_number", "Model A"},
           {"allow_any_host", true}}}},
        {{"method", "nvmf_create_subsystem"},
         {"params",
          {{"nqn", b},
           {"serial_number", "SNB"},
           {"max_namespaces", 8},
           {"min_cntlid", 10},
           {"max_cntlid", 20}}}},
        {{"method", "nvmf_create_subsystem"}, {"params", {{"nqn", c}, {"ana_reporting", true}}}},
        {{"method", "nvmf_subsystem_add_host"}, {"params", {{"nqn", b}, {"host", host_1}}}},
        {{"method", "nvmf_subsystem_add_host"}, {"params", {{"nqn", b}, {"host", host_2}}}},
        {{"method", "nvmf_subsystem_add_host"}, {"params", {{"nqn", c}, {"host", host_2}}}},
        add_ns(a, {{"bdev_name", "Malloc0"}}),
        add_ns(a, {{"bdev_name", "Null0"}, {"nsid", 5}, {"eui64", "0011223344556677"}}),
        add_ns(b, {{"bdev_name", "Malloc1"},
                   {"nsid", 2},
                   {"nguid", "000102030405060708090A0B0C0D0E0F"},
                   {"uuid", "aaaabbbb-cccc-4ddd-8eee-ffff00001111"}}),
        add_ns(c, {{"bdev_name", "Malloc2"}, {"nsid", 1}, {"anagrpid", 3}}),
        listener(a, "127.0.0.1", p1),
        listener(a, "127.0.0.2", p2),
        listener(b, "127.0.0.2", p2),
        listener(c, "127.0.0.1", p2),
        listener(spec::discovery_nqn, "127.0.0.1", p1),
        listener(spec::discovery_nqn, "127.0.0.2", p2),
    });
    return {{"subsystems", json::array({{{"subsystem", "bdev"}, {"config", bdev}},
                                        {{"subsystem", "nvmf"}, {"config", nvmf}},
                                        {{"subsystem", "sock"}, {"config", json::array()}}})}};
}

TEST(config_roundtrip, SaveRestartSaveIsIdentical) {
    const uint16_t p1 = pick_port();
    const uint16_t p2 = pick_port();
    ASSERT_TRUE(p1 && p2);
    const std::string port1 = std::to_string(p1), port2 = std::to_string(p2);
    daemon d;
    ASSERT_TRUE(d.start_json(start_config(port1, port2), port1));

    auto first = d.rpc("save_config");
    ASSERT_TRUE(first.contains("result")) << first.dump();
    const json saved = first["result"];
    auto subs1 = d.rpc("nvmf_get_subsystems");
    auto bdevs1 = d.rpc("bdev_get_bdevs");
    ASSERT_TRUE(subs1.contains("result") && bdevs1.contains("result"));
    ASSERT_EQ(subs1["result"].size(), 4u);  // discovery + 3

    // What was asked for is in the saved config.
    const std::string text = saved.dump();
    for (const char* want : {"\"nqn.2016-06.io.spdk:a\"", "\"nqn.2016-06.io.spdk:b\"",
                             "\"nqn.2016-06.io.spdk:c\"", "\"127.0.0.2\"", "\"Null0\"",
                             "\"0011223344556677\"", "\"000102030405060708090A0B0C0D0E0F\"",
                             "\"aaaabbbb-cccc-4ddd-8eee-ffff00001111\"", host_1, host_2}) {
        EXPECT_NE(text.find(want), std::string::npos) << want << " missing from " << text;
    }
    ASSERT_TRUE(d.stop());

    ASSERT_TRUE(d.start_json(saved, port1)) << saved.dump(2);
    auto second = d.rpc("save_config");
    ASSERT_TRUE(second.contains("result")) << second.dump();
    EXPECT_EQ(second["result"], saved) << "first:\n"
                                       << saved.dump(2) << "\nsecond:\n"
                                       << second["result"].dump(2);
    EXPECT_EQ(d.rpc("nvmf_get_subsystems")["result"], subs1["result"]);
    EXPECT_EQ(d.rpc("bdev_get_bdevs")["result"], bdevs1["result"]);

    // The restarted target serves on both addresses, with the access rules kept.
    host::controller_options o;
    o.traddr = "127.0.0.2";
    o.trsvcid = port2;
    o.subnqn = "nqn.2016-06.io.spdk:b";
    o.hostnqn = host_1;
    o.io_queue_size = 32;  // the transport's max_queue_depth is 64
    auto c = host::controller::create(o);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_GE((*c)->cntlid(), 10);
    EXPECT_LE((*c)->cntlid(), 20);
    auto list = (*c)->active_ns_list();
    ASSERT_TRUE(list);
    EXPECT_EQ(*list, std::vector<uint32_t>{2});
    o.hostnqn = "nqn.2014-08.org.nvmexpress:uuid:33333333-3333-3333-3333-333333333333";
    EXPECT_FALSE(host::controller::create(o));  // not on b's allow-list
    o.traddr = "127.0.0.1";
    o.trsvcid = port2;
    o.subnqn = "nqn.2016-06.io.spdk:c";
    o.hostnqn = host_2;
    auto cc = host::controller::create(o);
    ASSERT_TRUE(cc) << cc.err().message;
    c->reset();
    cc->reset();
    ASSERT_TRUE(d.stop());
}

}  // namespace
}  // namespace nvmf::test
