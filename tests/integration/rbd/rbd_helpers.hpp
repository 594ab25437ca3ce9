// Helpers of the rbd integration tests: the test cluster ctest started
// (tests/ceph/cluster-up, NVMF_TEST_CEPH_DIR), the rbd CLI, fresh images.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon_fixture.hpp"

namespace nvmf::test {

using nlohmann::json;

// The cluster's directory (cluster-up's DIR): its ceph.conf and admin keyring.
inline std::string ceph_dir() {
    const char* d = std::getenv("NVMF_TEST_CEPH_DIR");
    return d == nullptr ? std::string() : std::string(d);
}
inline std::string ceph_conf() { return ceph_dir() + "/ceph.conf"; }
inline std::string ceph_keyring() { return ceph_dir() + "/ceph.client.admin.keyring"; }

// client.admin's secret, as the "key" config pair takes it (empty on error).
inline std::string admin_key() {
    int rc = 0;
    std::string key = run_command("ceph-authtool -p -n client.admin " + ceph_keyring(), &rc);
    if (rc != 0) return "";
    while (!key.empty() && (key.back() == '\n' || key.back() == ' ')) key.pop_back();
    return key;
}

// The cluster's "mon host" line, as the "mon_host" config pair takes it.
inline std::string mon_host_of_cluster() {
    std::ifstream conf(ceph_conf());
    for (std::string line; std::getline(conf, line);) {
        if (line.rfind("mon host = ", 0) == 0) return line.substr(11);
    }
    return "";
}

// Runs the rbd CLI on the test cluster; true when it exits 0.
inline bool rbd_cli(const std::string& args, std::string* out = nullptr) {
    int rc = 0;
    std::string o = run_command(
        "rbd -c " + ceph_conf() + " --keyring " + ceph_keyring() + " " + args + " 2>&1", &rc);
    if (out != nullptr) *out = o;
    return rc == 0;
}

// A fresh image per test, removed after it.
class image {
public:
    // features: rbd create's --image-feature list (empty: the defaults).
    explicit image(const std::string& name, uint64_t bytes = 64ull << 20,
                   const std::string& features = "")
        : name_(name) {
        rbd_cli("rm rbd/" + name_);
        const std::string f = features.empty() ? "" : " --image-feature " + features;
        ok_ = rbd_cli("create --size " + std::to_string(bytes >> 20) + "M" + f + " rbd/" + name_,
                      &out_);
    }
    ~image() { rbd_cli("rm --no-progress rbd/" + name_); }
    image(const image&) = delete;
    image& operator=(const image&) = delete;
    bool ok() const { return ok_; }
    const std::string& name() const { return name_; }
    const std::string& output() const { return out_; }

private:
    std::string name_;
    bool ok_ = false;
    std::string out_;
};

inline json register_cluster_entry() {
    return {{"method", "bdev_rbd_register_cluster"},
            {"params",
             {{"name", "ceph0"},
              {"user_id", "admin"},
              {"config_file", ceph_conf()},
              {"key_file", ceph_keyring()}}}};
}

}  // namespace nvmf::test
