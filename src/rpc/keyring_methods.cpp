// keyring_* methods (SPDK's keyring_file module): keys read from files and
// known by name. Replies and logs carry names and paths, never key material.
#include <string>

#include "keyring/formats.hpp"
#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"
#include "util/log.hpp"

namespace nvmf::rpc {

result<json> keyring_file_add_key(context& ctx, const json& j) {
    params p(j, false);
    std::string name, path;
    p.str("name", name, true, 255);
    p.str("path", path, true, 4096);
    if (auto r = p.finish(); !r) return r.err();
    auto k = ctx.tgt.keys.add_file_key(name, path);
    if (!k) {
        // As SPDK: the (negative errno) code of the failure, with our message.
        log::error("keyring_file_add_key {}: {}", name, k.err().message);
        return k.err();
    }
    log::info("keyring: key {} added from {} ({})", name, path, (*k)->format().name);
    return json(true);
}

result<json> keyring_file_remove_key(context& ctx, const json& j) {
    params p(j, false);
    std::string name;
    p.str("name", name, true, 255);
    if (auto r = p.finish(); !r) return r.err();
    if (auto r = ctx.tgt.keys.remove_key(name); !r) return r.err();
    log::info("keyring: key {} removed", name);
    return json(true);
}

result<json> keyring_get_keys(context& ctx, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    json out = json::array();
    for (const auto& k : ctx.tgt.keys.keys()) {
        // refcnt as SPDK counts it: the keyring's own reference plus one per
        // user (hosts, queues holding it); ours is the shared_ptr count less
        // the copy this loop holds.
        out.push_back({{"name", k->name()},
                       {"removed", !k->usable()},
                       {"probed", true},
                       {"refcnt", k.use_count() - 1},
                       {"path", k->path()},
                       {"format", k->format().name}});
    }
    return out;
}

json keyring_config(target& tgt) {
    json out = json::array();
    for (const auto& k : tgt.keys.keys()) {
        out.push_back({{"method", "keyring_file_add_key"},
                       {"params", {{"name", k->name()}, {"path", k->path()}}}});
    }
    return out;
}

}  // namespace nvmf::rpc
