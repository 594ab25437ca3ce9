// DH-HMAC-CHAP configuration: host keys by keyring name
// (nvmf_subsystem_add_host --dhchap-key/--dhchap-ctrlr-key,
// nvmf_subsystem_set_keys) and the digests and DH groups a controller may
// pick (nvmf_set_config dhchap_digests/dhchap_dhgroups), with SPDK's names.
#include <string>
#include <vector>

#include "auth/dhchap_crypto.hpp"
#include "keyring/formats.hpp"
#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"
#include "util/log.hpp"

namespace nvmf::rpc {

namespace {

// A key named in a parameter: it must be in the keyring and hold a DHHC-1 secret.
result<keyring::key_ptr> dhchap_key(context& ctx, const std::string& name, const char* what) {
    auto k = ctx.tgt.keys.find(name);
    if (!k) return invalid_params(std::string("Unable to find ") + what + ": " + name);
    if (std::string(k->format().name) != "DHHC-1") {
        return invalid_params(std::string(what) + " '" + name + "' is a " + k->format().name +
                              " key, not a DH-HMAC-CHAP secret (DHHC-1)");
    }
    return k;
}

json names_of(uint32_t mask, const char* (*name)(uint8_t)) {
    json out = json::array();
    for (uint8_t i = 0; i < 32; ++i) {
        if ((mask & (1u << i)) != 0 && name(i) != nullptr) out.push_back(name(i));
    }
    return out;
}

}  // namespace

result<host_keys> read_host_keys(context& ctx, params& p) {
    std::string key, ckey;
    const bool has_key = p.str("dhchap_key", key, false, 255) && !key.empty();
    const bool has_ckey = p.str("dhchap_ctrlr_key", ckey, false, 255) && !ckey.empty();
    if (p.failed()) {
        if (auto r = p.finish(); !r) return r.err();
    }
    host_keys k;
    if (has_key) {
        auto r = dhchap_key(ctx, key, "DH-HMAC-CHAP key");
        if (!r) return r.err();
        k.dhchap_key = *r;
    }
    if (has_ckey) {
        auto r = dhchap_key(ctx, ckey, "DH-HMAC-CHAP ctrlr key");
        if (!r) return r.err();
        k.dhchap_ctrlr_key = *r;
    }
    return k;
}

void host_keys_to_json(const host_keys& k, json& out) {
    if (k.dhchap_key) out["dhchap_key"] = k.dhchap_key->name();
    if (k.dhchap_ctrlr_key) out["dhchap_ctrlr_key"] = k.dhchap_ctrlr_key->name();
}

result<json> nvmf_subsystem_set_keys(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn, host;
    p.str("nqn", nqn, true, 223);
    p.str("host", host, true, 223);
    p.ignore("tgt_name");
    auto keys = read_host_keys(ctx, p);
    if (auto r = p.finish(); !r) return r.err();
    if (!keys) return keys.err();
    auto s = ctx.tgt.find_subsystem(nqn);
    if (!s) return invalid_params("Unable to find subsystem with NQN " + nqn);
    if (keys->dhchap_ctrlr_key && !keys->dhchap_key) {
        return invalid_params("DH-HMAC-CHAP controller key requires host key to be set");
    }
    if (auto r = s->set_host_keys(host, *keys); !r) return invalid_params(r.err().message);
    // Queues already connected keep going; the next (re-)authentication uses these.
    log::info("{}: DH-HMAC-CHAP keys of host {} set to {} / {}", nqn, host,
              keys->dhchap_key ? keys->dhchap_key->name() : "none",
              keys->dhchap_ctrlr_key ? keys->dhchap_ctrlr_key->name() : "none");
    return json(true);
}

void dhchap_settings(context& ctx, params& p, bool apply) {
    std::vector<std::string> digests, groups;
    const bool set_digests = p.str_list("dhchap_digests", digests, false, 32);
    const bool set_groups = p.str_list("dhchap_dhgroups", groups, false, 32);
    uint32_t dmask = 0, gmask = 0;
    for (const auto& d : digests) {
        auto id = auth::hash_from_name(d);
        if (!id) {
            p.fail("parameter 'dhchap_digests': unknown digest '" + d +
                   "' (sha256, sha384, sha512)");
            break;
        }
        dmask |= 1u << *id;
    }
    for (const auto& g : groups) {
        auto id = auth::dhgroup_from_name(g);
        if (!id) {
            p.fail("parameter 'dhchap_dhgroups': unknown DH group '" + g +
                   "' (null, ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144, ffdhe8192)");
            break;
        }
        gmask |= 1u << *id;
    }
    if (set_digests && digests.empty()) p.fail("parameter 'dhchap_digests' must not be empty");
    if (set_groups && groups.empty()) p.fail("parameter 'dhchap_dhgroups' must not be empty");
    if (!apply || p.failed()) return;
    if (set_digests) ctx.tgt.dhchap_digests.store(dmask);
    if (set_groups) ctx.tgt.dhchap_dhgroups.store(gmask);
}

json nvmf_config_entry(target& tgt) {
    return {{"method", "nvmf_set_config"},
            {"params",
             {{"discovery_filter", "match_any"},
              {"admin_cmd_passthru", {{"identify_ctrlr", false}}},
              {"dhchap_digests", names_of(tgt.dhchap_digests.load(), auth::hash_name)},
              {"dhchap_dhgroups", names_of(tgt.dhchap_dhgroups.load(), auth::dhgroup_name)}}}};
}

}  // namespace nvmf::rpc
