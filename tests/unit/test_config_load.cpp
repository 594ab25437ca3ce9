// JSON config files: loading a multi-subsystem file, error reporting, and the
// save_config round trip (load -> save -> load -> save is identical).
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/config.hpp"
#include "rpc/methods.hpp"

namespace nvmf::rpc {
namespace {

// A loopback TCP port that was free a moment ago.
std::string free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return "0";
    }
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return std::to_string(ntohs(a.sin_port));
}

json entry(const char* m, json p) { return json{{"method", m}, {"params", std::move(p)}}; }

json multi_config(const std::string& port) {
    const json addr{
        {"trtype", "tcp"}, {"adrfam", "ipv4"}, {"traddr", "127.0.0.1"}, {"trsvcid", port}};
    json nvmf = json::array({
        entry("nvmf_create_transport",
              {{"trtype", "TCP"}, {"max_queue_depth", 64}, {"in_capsule_data_size", 8192}}),
        entry("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.spdk:cnode1"},
                                        {"serial_number", "SN0001"},
                                        {"allow_any_host", true}}),
        entry("nvmf_subsystem_add_ns", {{"nqn", "nqn.2016-06.io.spdk:cnode1"},
                                        {"namespace", {{"bdev_name", "Malloc0"}, {"nsid", 1}}}}),
        entry("nvmf_subsystem_add_ns", {{"nqn", "nqn.2016-06.io.spdk:cnode1"},
                                        {"namespace",
                                         {{"bdev_name", "Null0"},
                                          {"nsid", 7},
                                          {"nguid", "000102030405060708090A0B0C0D0E0F"}}}}),
        entry("nvmf_subsystem_add_listener",
              {{"nqn", "nqn.2016-06.io.spdk:cnode1"}, {"listen_address", addr}}),
        entry("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.spdk:cnode2"},
                                        {"model_number", "Second"},
                                        {"max_namespaces", 8},
                                        {"min_cntlid", 10},
                                        {"max_cntlid", 20}}),
        entry("nvmf_subsystem_add_host",
              {{"nqn", "nqn.2016-06.io.spdk:cnode2"},
               {"host", "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"}}),
        entry("nvmf_subsystem_add_ns",
              {{"nqn", "nqn.2016-06.io.spdk:cnode2"},
               {"namespace",
                {{"bdev_name", "Malloc1"}, {"uuid", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}}}}),
        entry("nvmf_subsystem_add_listener",
              {{"nqn", "nqn.2016-06.io.spdk:cnode2"}, {"listen_address", addr}}),
        entry("nvmf_subsystem_add_listener",
              {{"nqn", "nqn.2014-08.org.nvmexpress.discovery"}, {"listen_address", addr}}),
        {{"method", "framework_start_init"}},
    });
    json bdev = json::array({
        entry("bdev_malloc_create",
              {{"name", "Malloc0"}, {"num_blocks", 2048}, {"block_size", 512}}),
        entry("bdev_malloc_create", {{"name", "Malloc1"},
                                     {"num_blocks", 256},
                                     {"block_size", 4096},
                                     {"uuid", "01234567-89ab-4def-8123-456789abcdef"}}),
        entry("bdev_null_create",
              {{"name", "Null0"}, {"num_blocks", 1 << 20}, {"block_size", 4096}}),
    });
    // nvmf first in the file: bdev must still be applied first.
    return json{{"subsystems", json::array({json{{"subsystem", "accel"}, {"config", json::array()}},
                                            json{{"subsystem", "nvmf"}, {"config", nvmf}},
                                            json{{"subsystem", "bdev"}, {"config", bdev}}})}};
}

class config_test : public ::testing::Test {
protected:
    reactor_group reactors_{std::vector<int>{}};
    target tgt_{reactors_};
};

TEST_F(config_test, loads_a_multi_subsystem_file) {
    const std::string port = free_port();
    auto r = load_config(tgt_, multi_config(port));
    ASSERT_TRUE(r.ok()) << r.err().message;

    EXPECT_EQ(tgt_.bdevs.list().size(), 3u);
    ASSERT_NE(tgt_.find_transport("TCP"), nullptr);
    EXPECT_EQ(tgt_.find_transport("TCP")->options().max_queue_depth, 64u);
    EXPECT_EQ(tgt_.find_transport("TCP")->options().in_capsule_data_size, 8192u);

    auto c1 = tgt_.find_subsystem("nqn.2016-06.io.spdk:cnode1");
    auto c2 = tgt_.find_subsystem("nqn.2016-06.io.spdk:cnode2");
    ASSERT_TRUE(c1 && c2);
    EXPECT_EQ(c1->state(), subsystem_state::active);  // started after the load
    EXPECT_EQ(c2->state(), subsystem_state::active);
    EXPECT_EQ(c1->params().serial_number, "SN0001");
    EXPECT_TRUE(c1->params().allow_any_host);
    EXPECT_FALSE(c2->params().allow_any_host);
    EXPECT_EQ(c2->params().min_cntlid, 10);
    EXPECT_EQ(c2->hosts().size(), 1u);
    auto t1 = c1->ns_snapshot();
    ASSERT_TRUE(t1->find(1) && t1->find(7));
    EXPECT_EQ(t1->find(7)->dev->name(), "Null0");
    const std::array<uint8_t, 16> nguid{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    EXPECT_EQ(t1->find(7)->nguid, nguid);
    auto t2 = c2->ns_snapshot();
    ASSERT_TRUE(t2->find(1));
    EXPECT_EQ(bdev::uuid_to_string(t2->find(1)->uuid), "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    EXPECT_EQ(bdev::uuid_to_string(t2->find(1)->nguid), "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    EXPECT_EQ(bdev::uuid_to_string(tgt_.bdevs.find("Malloc1")->uuid()),
              "01234567-89ab-4def-8123-456789abcdef");

    const transport_id trid{"TCP", "IPv4", "127.0.0.1", port};
    EXPECT_TRUE(c1->listener_allowed(trid));
    EXPECT_TRUE(c2->listener_allowed(trid));
    EXPECT_TRUE(tgt_.discovery()->listener_allowed(trid));
    auto listening = tgt_.find_transport("TCP")->listening();
    ASSERT_EQ(listening.size(), 1u);
    EXPECT_EQ(listening[0], trid);
}

TEST_F(config_test, save_config_round_trip_is_identical) {
    auto r = load_config(tgt_, multi_config(free_port()));
    ASSERT_TRUE(r.ok()) << r.err().message;
    const json saved = save_config(tgt_);
    tgt_.shutdown();  // frees the port for the second target

    reactor_group reactors2{std::vector<int>{}};
    target tgt2{reactors2};
    auto r2 = load_config(tgt2, saved);
    ASSERT_TRUE(r2.ok()) << r2.err().message << "\n" << saved.dump(2);
    const json saved2 = save_config(tgt2);
    EXPECT_EQ(saved.dump(2), saved2.dump(2));

    // The saved form is SPDK's: keyring, sock, bdev, then nvmf, methods with params.
    ASSERT_EQ(saved["subsystems"].size(), 4u);
    EXPECT_EQ(saved["subsystems"][0]["subsystem"], "keyring");
    EXPECT_EQ(saved["subsystems"][1]["subsystem"], "sock");
    EXPECT_EQ(saved["subsystems"][2]["subsystem"], "bdev");
    EXPECT_EQ(saved["subsystems"][3]["subsystem"], "nvmf");
    EXPECT_EQ(saved["subsystems"][0]["config"].size(), 0u);
    EXPECT_EQ(saved["subsystems"][1]["config"].size(), 0u);  // default TLS options
    EXPECT_EQ(saved["subsystems"][2]["config"].size(), 4u);  // 3 bdevs, bdev_wait_for_examine
    for (const auto& e : saved["subsystems"][3]["config"]) {
        EXPECT_TRUE(e["method"].is_string());
        EXPECT_TRUE(e["params"].is_object());
    }
}

// Keys, hosts that use them and DH-HMAC-CHAP settings survive the round trip,
// by name: the saved config holds names and paths, never a secret.
TEST_F(config_test, keyring_and_dhchap_round_trip) {
    char dir[] = "/tmp/nvmf-cfgkey-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string key = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:";
    const std::string path = std::string(dir) + "/key0";
    std::ofstream(path) << key << "\n";
    ::chmod(path.c_str(), 0600);
    const std::string nqn = "nqn.2016-06.io.spdk:cnode9";
    const std::string host = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    const json cfg = {
        {"subsystems",
         json::array(
             {json{{"subsystem", "nvmf"},
                   {"config",
                    json::array({entry("nvmf_set_config", {{"dhchap_digests", {"sha384"}},
                                                           {"dhchap_dhgroups", {"ffdhe3072"}}}),
                                 entry("nvmf_create_subsystem", {{"nqn", nqn}}),
                                 entry("nvmf_subsystem_add_host",
                                       {{"nqn", nqn},
                                        {"host", host},
                                        {"dhchap_key", "key0"},
                                        {"dhchap_ctrlr_key", "key0"}})})}},
              json{{"subsystem", "keyring"},
                   {"config", json::array({entry("keyring_file_add_key",
                                                 {{"name", "key0"}, {"path", path}})})}}})}};
    auto r = load_config(tgt_, cfg);  // keyring applied first, wherever it is in the file
    ASSERT_TRUE(r.ok()) << r.err().message;
    auto s = tgt_.find_subsystem(nqn);
    ASSERT_TRUE(s);
    auto k = s->keys_of(host);
    ASSERT_TRUE(k.dhchap_key && k.dhchap_ctrlr_key);
    EXPECT_EQ(k.dhchap_key->name(), "key0");
    const json saved = save_config(tgt_);
    const std::string text = saved.dump();
    EXPECT_EQ(text.find(key.substr(10, 20)), std::string::npos);
    EXPECT_EQ(saved["subsystems"][0]["config"][0]["params"]["path"], path);
    EXPECT_EQ(saved["subsystems"][3]["config"][0]["method"], "nvmf_set_config");
    EXPECT_EQ(saved["subsystems"][3]["config"][0]["params"]["dhchap_digests"], json({"sha384"}));
    tgt_.shutdown();
    reactor_group reactors2{std::vector<int>{}};
    target tgt2{reactors2};
    auto r2 = load_config(tgt2, saved);
    ASSERT_TRUE(r2.ok()) << r2.err().message;
    EXPECT_EQ(save_config(tgt2).dump(2), saved.dump(2));
    EXPECT_EQ(tgt2.dhchap_digests.load(), 1u << 2);
    EXPECT_EQ(tgt2.dhchap_dhgroups.load(), 1u << 2);
    std::remove(path.c_str());
    ::rmdir(dir);
}

#ifdef NVMF_HAVE_RDMA
TEST_F(config_test, an_rdma_transport_loads_saves_and_loads_back) {
    // No listener: creating the RDMA transport opens no device, so this runs
    // on a host without one (the listeners are covered in the guest).
    const json cfg{
        {"subsystems",
         json::array(
             {{{"subsystem", "nvmf"},
               {"config", json::array({entry("nvmf_create_transport", {{"trtype", "RDMA"},
                                                                       {"max_queue_depth", 256},
                                                                       {"max_srq_depth", 2048},
                                                                       {"no_srq", true},
                                                                       {"num_cqe", 1024},
                                                                       {"acceptor_backlog", 8},
                                                                       {"no_wr_batching", true}}),
                                       entry("nvmf_create_transport", {{"trtype", "TCP"}})})}}})}};
    auto r = load_config(tgt_, cfg);
    ASSERT_TRUE(r.ok()) << r.err().message;
    transport* t = tgt_.find_transport("rdma");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->trtype(), "RDMA");
    EXPECT_EQ(t->options().max_srq_depth, 2048u);
    EXPECT_TRUE(t->options().no_srq);
    const json saved = save_config(tgt_);
    std::string text = saved.dump();
    EXPECT_NE(text.find("\"max_srq_depth\":2048"), std::string::npos) << text;
    EXPECT_NE(text.find("\"no_wr_batching\":true"), std::string::npos) << text;
    reactor_group reactors2{std::vector<int>{}};
    target tgt2{reactors2};
    auto r2 = load_config(tgt2, saved);
    ASSERT_TRUE(r2.ok()) << r2.err().message << "\n" << saved.dump(2);
    EXPECT_EQ(save_config(tgt2).dump(2), saved.dump(2));
}
#endif

TEST_F(config_test, errors_name_the_method_and_the_reason) {
    json cfg = {
        {"subsystems",
         json::array(
             {json{{"subsystem", "bdev"},
                   {"config", json::array({entry(
                                  "bdev_malloc_create",
                                  {{"name", "M0"}, {"num_blocks", 8}, {"block_size", 512}})})}},
              json{{"subsystem", "nvmf"},
                   {"config",
                    json::array({entry("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.spdk:x"}}),
                                 entry("nvmf_subsystem_add_ns",
                                       {{"nqn", "nqn.2016-06.io.spdk:x"},
                                        {"namespace", {{"bdev_name", "Missing"}}}})})}}})}};
    auto r = load_config(tgt_, cfg);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.err().message.find("subsystem 'nvmf' entry 1: nvmf_subsystem_add_ns"),
              std::string::npos)
        << r.err().message;
    EXPECT_NE(r.err().message.find("bdev 'Missing' does not exist"), std::string::npos)
        << r.err().message;
    // Subsystems of a failed load are not started.
    auto s = tgt_.find_subsystem("nqn.2016-06.io.spdk:x");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->state(), subsystem_state::inactive);
}

TEST_F(config_test, sockets_open_only_after_the_whole_config) {
    // A port held by someone else: every entry applies, then opening it fails
    // and the error names the address.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    const std::string busy = std::to_string(ntohs(a.sin_port));
    auto r = load_config(tgt_, multi_config(busy));
    ::close(fd);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.err().message.find("listening on TCP 127.0.0.1:" + busy), std::string::npos)
        << r.err().message;
    EXPECT_TRUE(tgt_.find_transport("TCP")->listening().empty());
    // Listening is no longer held: a listener added afterwards opens at once.
    const std::string port = free_port();
    ASSERT_TRUE(tgt_.add_listener("nqn.2016-06.io.spdk:cnode1",
                                  transport_id{"TCP", "IPv4", "127.0.0.1", port}));
    EXPECT_EQ(tgt_.find_transport("TCP")->listening().size(), 1u);
}

TEST_F(config_test, malformed_configs) {
    auto msg = [&](const json& j) {
        auto r = load_config(tgt_, j);
        EXPECT_FALSE(r.ok()) << j.dump();
        return r.ok() ? std::string() : r.err().message;
    };
    EXPECT_NE(msg(json::array()).find("top level"), std::string::npos);
    EXPECT_NE(msg(json::object()).find("'subsystems'"), std::string::npos);
    EXPECT_NE(msg({{"subsystems", json::array({5})}}).find("'subsystem' name"), std::string::npos);
    EXPECT_NE(msg({{"subsystems", json::array({json{{"subsystem", "bdev"}, {"config", 3}}})}})
                  .find("must be an array"),
              std::string::npos);
    EXPECT_NE(
        msg({{"subsystems", json::array({json{{"subsystem", "bdev"},
                                              {"config", json::array({json{{"params", 1}}})}}})}})
            .find("missing 'method'"),
        std::string::npos);
    const std::string unknown =
        msg({{"subsystems",
              json::array(
                  {json{{"subsystem", "nvmf"},
                        {"config", json::array({entry("nvmf_set_colour", json::object())})}}})}});
    EXPECT_NE(unknown.find("nvmf_set_colour"), std::string::npos);
    EXPECT_NE(unknown.find("Method not found"), std::string::npos);
    const std::string bad_param = msg(
        {{"subsystems",
          json::array({json{
              {"subsystem", "nvmf"},
              {"config", json::array({entry("nvmf_create_transport",
                                            {{"trtype", "TCP"}, {"max_queue_depth", 1}})})}}})}});
    EXPECT_NE(bad_param.find("nvmf_create_transport"), std::string::npos);
    EXPECT_NE(bad_param.find("max_queue_depth"), std::string::npos);
}

TEST_F(config_test, files) {
    const std::string path = "/tmp/nvmf-config-test-" + std::to_string(getpid()) + ".json";
    { std::ofstream(path) << "{\"subsystems\": [ {\"subsystem\": \"bdev\", \"config\": [ }"; }
    auto r = load_config_file(tgt_, path);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.err().message.find("not valid JSON"), std::string::npos) << r.err().message;
    EXPECT_NE(r.err().message.find(path), std::string::npos);

    json cfg = multi_config(free_port());
    { std::ofstream(path) << cfg.dump(2); }
    auto ok = load_config_file(tgt_, path);
    EXPECT_TRUE(ok.ok()) << ok.err().message;
    ::unlink(path.c_str());

    auto missing = load_config_file(tgt_, path);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.err().message.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace nvmf::rpc
