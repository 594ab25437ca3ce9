// nvmf-rpc against the daemon: rpc.py-style arguments, raw JSON mode, per
// method --help, readable errors and the exit status; and the RPC socket's
// mode.
#include <sys/stat.h>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

class rpc_cli_test : public target_test {
protected:
    void SetUp() override {
        tool_ = std::string(NVMF_BUILD_DIR) + "/nvmf-rpc";
        ASSERT_EQ(::access(tool_.c_str(), X_OK), 0) << tool_ << " not built";
        target_test::SetUp();
    }
    std::string cli(const std::string& args, int* rc) {
        return run_command(tool_ + " -s " + tgt.rpc_path() + " " + args + " 2>&1", rc);
    }
    std::string tool_;
};

TEST_F(rpc_cli_test, SocketIsPrivate) {
    struct stat st {};
    ASSERT_EQ(::stat(tgt.rpc_path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(rpc_cli_test, RpcPyStyleArguments) {
    int rc = -1;
    auto out = cli("bdev_malloc_create -b CliMalloc 8 4096", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, "CliMalloc\n");
    out = cli("nvmf_create_subsystem nqn.2016-06.io.spdk:cli -a -s CLI001 -m 4", &rc);
    EXPECT_EQ(rc, 0) << out;
    out = cli("nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cli CliMalloc -n 3", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, "3\n");
    out = cli(
        "nvmf_subsystem_add_listener nqn.2016-06.io.spdk:cli -t tcp -a 127.0.0.1 -s " + tgt.port(),
        &rc);
    EXPECT_EQ(rc, 0) << out;
    out =
        cli("nvmf_subsystem_add_host nqn.2016-06.io.spdk:cli "
            "nqn.2014-08.org.nvmexpress:uuid:c1c1c1c1-0000-4000-8000-000000000001",
            &rc);
    EXPECT_EQ(rc, 0) << out;
    out = cli("nvmf_subsystem_allow_any_host nqn.2016-06.io.spdk:cli -d", &rc);
    EXPECT_EQ(rc, 0) << out;
    out = cli("nvmf_get_subsystems nqn.2016-06.io.spdk:cli", &rc);
    ASSERT_EQ(rc, 0) << out;
    auto j = json::parse(out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(j[0]["serial_number"], "CLI001");
    EXPECT_EQ(j[0]["max_namespaces"], 4);
    EXPECT_EQ(j[0]["allow_any_host"], false);
    EXPECT_EQ(j[0]["namespaces"][0]["nsid"], 3);
    EXPECT_EQ(j[0]["listen_addresses"][0]["trsvcid"], tgt.port());
    EXPECT_EQ(j[0]["hosts"].size(), 1u);

    // The raw mode takes the params as JSON.
    out =
        cli("--raw nvmf_subsystem_remove_ns '{\"nqn\": \"nqn.2016-06.io.spdk:cli\", \"nsid\": 3}'",
            &rc);
    EXPECT_EQ(rc, 0) << out;
    out = cli("nvmf_get_stats", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("\"poll_groups\""), std::string::npos) << out;
}

TEST_F(rpc_cli_test, ErrorsAreReadableAndFail) {
    int rc = -1;
    auto out = cli("nvmf_delete_subsystem nqn.2016-06.io.spdk:none", &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("error -32602: Unable to find subsystem with NQN nqn.2016-06.io.spdk:none"),
              std::string::npos)
        << out;
    out = cli("nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1 NoSuchBdev", &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("bdev 'NoSuchBdev' does not exist"), std::string::npos) << out;
    out = cli("--raw nvmf_create_subsystem '{\"nqn\": 5}'", &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("'nqn' must be a string"), std::string::npos) << out;
    // Usage errors: exit 2, nothing sent.
    out = cli("nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1", &rc);
    EXPECT_EQ(rc, 2) << out;
    out = cli("no_such_method", &rc);
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find("unknown method"), std::string::npos) << out;
    out = cli("--raw bdev_get_bdevs '{not json'", &rc);
    EXPECT_EQ(rc, 2) << out;
    // No daemon on the socket.
    out = run_command(tool_ + " -s " + tgt.dir() + "/nothing.sock spdk_get_version 2>&1", &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
}

TEST_F(rpc_cli_test, HelpPerMethod) {
    int rc = -1;
    auto out = cli("nvmf_subsystem_add_listener --help", &rc);
    EXPECT_EQ(rc, 0) << out;
    for (const char* opt : {"--trtype", "--traddr", "--trsvcid", "--adrfam"})
        EXPECT_NE(out.find(opt), std::string::npos) << opt << "\n" << out;
    out = run_command(tool_ + " --help 2>&1", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("nvmf_get_stats"), std::string::npos) << out;
}

}  // namespace
}  // namespace nvmf::test
