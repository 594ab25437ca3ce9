// The nvmf-identify tool against the daemon: discovery log and identify output.
#include <cstdio>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

std::string run(const std::string& cmd, int* rc) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    *rc = ::pclose(p);
    return out;
}

class tools_test : public target_test {
protected:
    void SetUp() override {
        tool_ = std::string(NVMF_BUILD_DIR) + "/nvmf-identify";
        if (::access(tool_.c_str(), X_OK) != 0) GTEST_SKIP() << tool_ << " not built";
        target_test::SetUp();
    }
    void TearDown() override {
        if (tgt.port().empty()) return;
        target_test::TearDown();
    }
    std::string trid(const std::string& subnqn) const {
        std::string t = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:" + tgt.port();
        if (!subnqn.empty()) t += " subnqn:" + subnqn;
        return t;
    }
    std::string tool_;
};

TEST_F(tools_test, IdentifyPrintsDiscoveryLog) {
    int rc = -1;
    const auto out = run(tool_ + " -r '" + trid("") + "' 2>&1", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("Discovery Log Number of Records"), std::string::npos) << out;
    EXPECT_NE(out.find(std::string("subnqn:  ") + default_nqn), std::string::npos) << out;
    EXPECT_NE(out.find("trsvcid: " + tgt.port()), std::string::npos) << out;
}

TEST_F(tools_test, IdentifyPrintsControllerAndNamespace) {
    int rc = -1;
    const auto out = run(tool_ + " -r '" + trid(default_nqn) + "' 2>&1", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("sn        : SPDK001"), std::string::npos) << out;
    EXPECT_NE(out.find("mn        : nvmf-target test"), std::string::npos) << out;
    EXPECT_NE(out.find("NVME Identify Namespace 1:"), std::string::npos) << out;
    EXPECT_NE(out.find("(in use)"), std::string::npos) << out;
}

TEST_F(tools_test, IdentifyFailsCleanlyOnUnknownSubsystem) {
    int rc = -1;
    const auto out = run(tool_ + " -r '" + trid("nqn.2016-06.io.spdk:nope") + "' 2>&1", &rc);
    EXPECT_NE(rc, 0) << out;
    EXPECT_NE(out.find("SC 0x82"), std::string::npos) << out;
}

}  // namespace
}  // namespace nvmf::test
