// Namespace identity across a crash (issue 19): file-backed namespaces
// configured without identifiers keep their NGUID and UUID when the daemon is
// killed with SIGKILL and started again from the same config, as Identify
// Namespace, the Namespace Identification Descriptor list, nvmf_get_subsystems
// and save_config report them; every namespace has its own (files on disk and
// tmpfs, several NSIDs, two subsystems, one bdev in both); a RAM disk's change
// unless pinned, and save_config pins them all, also when loaded without the
// NGUIDs (a config saved before they were written).
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "daemon_fixture.hpp"
#include "temp_files.hpp"

namespace nvmf::test {
namespace {

using nlohmann::json;

constexpr const char* cnode2 = "nqn.2016-06.io.spdk:cnode2";

// What a host and the RPC see of one namespace's identity.
struct ns_ids {
    std::string nguid;                           // Identify Namespace
    std::string eui64;                           // Identify Namespace
    std::map<uint8_t, std::string> descriptors;  // NIDT -> NID (CNS 03h)
    std::string rpc_uuid, rpc_nguid;             // nvmf_get_subsystems
    bool operator==(const ns_ids&) const = default;
};
using key = std::pair<std::string, uint32_t>;  // subsystem NQN, NSID

std::string hex(const uint8_t* p, size_t n) {
    std::string s;
    char b[3];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof(b), "%02X", p[i]);
        s += b;
    }
    return s;
}

std::string no_dashes_upper(const std::string& u) {
    std::string s;
    for (char c : u) {
        if (c != '-') s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
}

// Every namespace of `layout`, through a host connection and the RPC.
std::map<key, ns_ids> read_ids(const daemon& d,
                               const std::map<std::string, std::vector<uint32_t>>& layout) {
    std::map<key, ns_ids> out;
    const json subs = d.rpc("nvmf_get_subsystems")["result"];
    for (const auto& [nqn, nsids] : layout) {
        auto c = host::controller::create(d.ctrlr_opts(nqn));
        EXPECT_TRUE(c) << c.err().message << d.log_tail();
        if (!c) return out;
        for (uint32_t nsid : nsids) {
            ns_ids ids;
            auto id = (*c)->identify_ns(nsid);
            EXPECT_TRUE(id) << nqn << " " << nsid;
            if (!id) continue;
            ids.nguid = hex(id->nguid, sizeof(id->nguid));
            ids.eui64 = hex(id->eui64, sizeof(id->eui64));
            std::vector<uint8_t> buf(4096);
            auto r = (*c)->identify(spec::cns::ns_id_descriptor_list, nsid, buf);
            EXPECT_TRUE(r && r->ok());
            for (size_t off = 0; off + 4 <= buf.size() && buf[off] != 0;) {
                const uint8_t nidl = buf[off + 1];
                if (off + 4 + nidl > buf.size()) break;
                EXPECT_TRUE(ids.descriptors.emplace(buf[off], hex(&buf[off + 4], nidl)).second);
                off += 4 + nidl;
            }
            for (const auto& s : subs) {
                if (s["nqn"] != nqn || !s.contains("namespaces")) continue;
                for (const auto& n : s["namespaces"]) {
                    if (n["nsid"] != nsid) continue;
                    ids.rpc_uuid = n.value("uuid", "");
                    ids.rpc_nguid = n.value("nguid", "");
                }
            }
            out[{nqn, nsid}] = ids;
        }
    }
    return out;
}

// Replaces the listener ports of a saved config with the new daemon's.
json with_port(json cfg, const std::string& port) {
    for (auto& s : cfg["subsystems"]) {
        for (auto& e : s["config"]) {
            if (e["method"] == "nvmf_subsystem_add_listener") {
                e["params"]["listen_address"]["trsvcid"] = port;
            }
        }
    }
    return cfg;
}

TEST(ns_identity, file_namespaces_keep_their_identifiers_across_kill_9) {
    backing_file d1("/var/tmp", 8 << 20), d2("/var/tmp", 8 << 20), s1("/dev/shm", 8 << 20);
    ASSERT_TRUE(d1.ok && d2.ok && s1.ok);
    daemon_config cfg;
    cfg.bdevs.push_back({"Malloc0", 2048, 512});
    cfg.extra_bdevs = json::array({
        {{"method", "bdev_uring_create"},
         {"params", {{"name", "Uring0"}, {"filename", d1.path}, {"block_size", 4096}}}},
        {{"method", "bdev_aio_create"}, {"params", {{"name", "Aio0"}, {"filename", s1.path}}}},
        {{"method", "bdev_uring_create"}, {"params", {{"name", "Uring1"}, {"filename", d2.path}}}},
    });
    subsystem_cfg a;
    a.nqn = default_nqn;
    a.namespaces = {{"Uring0", 1}, {"Aio0", 2}, {"Malloc0", 3}};
    subsystem_cfg b;
    b.nqn = cnode2;
    b.namespaces = {{"Uring1", 1}, {"Uring0", 4}};  // Uring0 in both subsystems
    cfg.subsystems = {a, b};
    const std::map<std::string, std::vector<uint32_t>> layout = {{default_nqn, {1, 2, 3}},
                                                                 {cnode2, {1, 4}}};
    const key ram{default_nqn, 3};

    daemon first;
    ASSERT_TRUE(first.start(cfg));
    const auto before = read_ids(first, layout);
    ASSERT_EQ(before.size(), 5u);
    std::set<std::string> nguids, uuids;
    for (const auto& [k, ids] : before) {
        SCOPED_TRACE(k.first + " nsid " + std::to_string(k.second));
        // An NGUID and a UUID, reported alike everywhere; no EUI-64.
        ASSERT_TRUE(ids.descriptors.count(spec::nidt::nguid));
        ASSERT_TRUE(ids.descriptors.count(spec::nidt::uuid));
        EXPECT_FALSE(ids.descriptors.count(spec::nidt::eui64));
        EXPECT_EQ(ids.eui64, "0000000000000000");
        EXPECT_NE(ids.nguid, std::string(32, '0'));
        EXPECT_EQ(ids.descriptors.at(spec::nidt::nguid), ids.nguid);
        EXPECT_EQ(ids.rpc_nguid, ids.nguid);
        EXPECT_EQ(no_dashes_upper(ids.rpc_uuid), ids.descriptors.at(spec::nidt::uuid));
        nguids.insert(ids.nguid);
        uuids.insert(ids.rpc_uuid);
    }
    EXPECT_EQ(nguids.size(), before.size());  // no two namespaces alike
    EXPECT_EQ(uuids.size(), before.size());
    if (daemon::ready_line_logged()) {
        EXPECT_TRUE(first.log_has("new, stored in user.nvmf-target.uuid of " + d1.path));
        EXPECT_TRUE(first.log_has("has a random UUID: this namespace's identifiers change"));
    }
    first.kill9();

    // The same config after a crash: the files' namespaces are who they were.
    daemon second;
    ASSERT_TRUE(second.start(cfg));
    const auto after = read_ids(second, layout);
    ASSERT_EQ(after.size(), before.size());
    for (const auto& [k, ids] : before) {
        SCOPED_TRACE(k.first + " nsid " + std::to_string(k.second));
        if (k == ram) {
            EXPECT_NE(after.at(k).nguid, ids.nguid);  // a RAM disk is new at every start
        } else {
            EXPECT_EQ(after.at(k), ids);
        }
    }
    if (daemon::ready_line_logged()) {
        EXPECT_TRUE(second.log_has("UUID " + before.at({default_nqn, 1}).rpc_uuid));
        // Read back from the file on tmpfs too, or derived again the same way.
        EXPECT_TRUE(second.log_has(s1.keeps_xattrs()
                                       ? "(stored in user.nvmf-target.uuid of " + s1.path + ")"
                                       : "derived from path " + s1.path))
            << second.log_tail();
    }

    // save_config writes every identifier in use: a config saved now pins
    // them, the RAM disk's included.
    auto saved = second.rpc("save_config");
    ASSERT_TRUE(saved.contains("result")) << saved.dump();
    int pinned = 0;
    for (const auto& s : saved["result"]["subsystems"]) {
        for (const auto& e : s["config"]) {
            if (e["method"] == "nvmf_subsystem_add_ns") {
                const auto& n = e["params"]["namespace"];
                const key k{e["params"]["nqn"].get<std::string>(), n["nsid"].get<uint32_t>()};
                EXPECT_EQ(n["uuid"], after.at(k).rpc_uuid);
                EXPECT_EQ(n["nguid"], after.at(k).nguid);
                ++pinned;
            }
            const std::string m = e["method"];
            if (m.find("bdev_") == 0 && m.find("_create") != std::string::npos) {
                EXPECT_TRUE(e["params"].contains("uuid")) << e.dump();
                ++pinned;
            }
        }
    }
    EXPECT_EQ(pinned, 5 + 4);  // namespaces, bdevs
    second.kill9();
    // As saved; then without the NGUIDs, as saved before they were written:
    // the NGUID is the configured UUID's bytes, as it was.
    for (bool drop_nguid : {false, true}) {
        SCOPED_TRACE(drop_nguid ? "saved config without nguid" : "saved config");
        json cfg2 = saved["result"];
        for (auto& s : cfg2["subsystems"]) {
            for (auto& e : s["config"]) {
                if (drop_nguid && e["method"] == "nvmf_subsystem_add_ns") {
                    e["params"]["namespace"].erase("nguid");
                }
            }
        }
        daemon third;
        ASSERT_TRUE(
            third.start_with([&](const std::string& port) { return with_port(cfg2, port); }));
        EXPECT_EQ(read_ids(third, layout), after);
        third.kill9();
    }
}

}  // namespace
}  // namespace nvmf::test
