// bdev_rbd_* methods: Ceph clusters and RBD images as bdevs, with SPDK's
// names and parameters (module/bdev/rbd/bdev_rbd_rpc.c). Connecting and
// opening run on the RPC thread, never on a reactor.
#include <string>

#include "bdev/rbd.hpp"
#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {

namespace {

constexpr size_t max_name = 255;
constexpr size_t max_path = 4096;
constexpr size_t max_config_pairs = 64;

bool valid_name(const std::string& n) {
    if (n.empty()) return false;
    for (unsigned char c : n) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

// A {"key": "value", ...} object for rados_conf_set (null: none). SPDK takes
// string values only.
bool read_config(params& p, const char* name, bdev::rbd_config& out) {
    if (!p.has(name)) return false;
    const json* o = p.object(name, false);
    if (o == nullptr) return false;
    if (o->size() > max_config_pairs) {
        p.fail(std::string("parameter '") + name + "' has more than " +
               std::to_string(max_config_pairs) + " entries");
        return false;
    }
    for (const auto& [k, v] : o->items()) {
        if (!v.is_string() || k.empty() || k.size() > max_name ||
            v.get_ref<const std::string&>().size() > max_path) {
            p.fail(std::string("parameter '") + name + "': entry '" + k.substr(0, max_name) +
                   "' must be a non-empty key with a string value");
            return false;
        }
        out.emplace_back(k, v.get<std::string>());
    }
    return true;
}

json config_object(const bdev::rbd_config& c) {
    json o = json::object();
    for (const auto& [k, v] : c) o[k] = v;
    return o;
}

}  // namespace

result<json> bdev_rbd_register_cluster(context& ctx, const json& j) {
    params p(j, false);
    bdev::rbd_cluster_options o;
    if (p.str("name", o.name, true, max_name) && !valid_name(o.name)) {
        p.fail("parameter 'name' must be printable and without spaces");
    }
    p.str("user_id", o.user_id, false, max_name);
    read_config(p, "config_param", o.config_param);
    p.str("config_file", o.config_file, false, max_path);
    p.str("key_file", o.key_file, false, max_path);
    p.str("core_mask", o.core_mask, false, max_name);
    if (auto r = p.finish(); !r) return r.err();
    if (auto r = ctx.tgt.rbd_clusters.add(o); !r) return from_core(r.err());
    return json(o.name);
}

result<json> bdev_rbd_unregister_cluster(context& ctx, const json& j) {
    params p(j, false);
    std::string name;
    p.str("name", name, true, max_name);
    if (auto r = p.finish(); !r) return r.err();
    if (auto r = ctx.tgt.rbd_clusters.remove(name); !r) return from_core(r.err());
    return json(true);
}

result<json> bdev_rbd_get_clusters_info(context& ctx, const json& j) {
    params p(j, true);
    std::string name;
    const bool one = p.str("name", name, false, max_name);
    if (auto r = p.finish(); !r) return r.err();
    if (one) {
        auto c = ctx.tgt.rbd_clusters.find(name);
        if (!c) return make_error(-ENOENT, "cluster '" + name + "' is not registered");
        return bdev::rbd_cluster_info(*c);
    }
    json out = json::array();
    for (const auto& c : ctx.tgt.rbd_clusters.list()) out.push_back(bdev::rbd_cluster_info(*c));
    return out;
}

result<json> bdev_rbd_create(context& ctx, const json& j) {
    params p(j, false);
    bdev::rbd_options o;
    std::string cluster_name;
    std::string uuid_str;
    // SPDK names an unnamed one Ceph<n>.
    if (p.str("name", o.name, false, max_name) && !valid_name(o.name)) {
        p.fail("parameter 'name' must be printable and without spaces");
    }
    p.str("user_id", o.user_id, false, max_name);
    p.str("pool_name", o.pool_name, true, max_name);
    p.str("rbd_name", o.rbd_name, true, max_name);
    if (p.u32("block_size", o.block_size, true) && !bdev::valid_block_size(o.block_size)) {
        p.fail("parameter 'block_size' must be a power of two from 512 to 131072, got " +
               std::to_string(o.block_size));
    }
    read_config(p, "config", o.config);
    p.str("cluster_name", cluster_name, false, max_name);
    if (bdev::uuid_t uuid{}; p.str("uuid", uuid_str, false)) {
        if (bdev::uuid_from_string(uuid_str, &uuid)) {
            o.uuid = uuid;
        } else {
            p.fail("parameter 'uuid' is not a UUID: '" + uuid_str + "'");
        }
    }
    p.boolean("read_only", o.read_only, false);
    if (auto r = p.finish(); !r) return r.err();
    if (o.pool_name.empty() || o.rbd_name.empty()) {
        return invalid_params("parameters 'pool_name' and 'rbd_name' must not be empty");
    }
    if (!cluster_name.empty()) {
        if (!o.user_id.empty() || !o.config.empty()) {
            return invalid_params("'cluster_name' excludes 'user_id' and 'config'");
        }
        o.cluster = ctx.tgt.rbd_clusters.find(cluster_name);
        if (!o.cluster)
            return make_error(-ENOENT, "cluster '" + cluster_name + "' is not registered");
    }
    if (o.name.empty()) {
        for (int i = 0; o.name.empty() || ctx.tgt.bdevs.find(o.name); ++i) {
            o.name = "Ceph" + std::to_string(i);
        }
    }
    if (ctx.tgt.bdevs.find(o.name))
        return make_error(-EEXIST, "bdev '" + o.name + "' already exists");
    auto dev = bdev::make_rbd(o);
    if (!dev) return from_core(dev.err());
    if (auto r = ctx.tgt.bdevs.add(*dev); !r) return from_core(r.err());
    return json(o.name);
}

result<json> bdev_rbd_delete(context& ctx, const json& j) {
    return delete_bdev(
        ctx, j, [](const bdev::block_device& d) { return d.driver_specific().contains("rbd"); },
        "an rbd bdev");
}

result<json> bdev_rbd_resize(context& ctx, const json& j) {
    params p(j, false);
    std::string name;
    uint64_t new_size_mib = 0;
    p.str("name", name, true, max_name);
    p.u64("new_size", new_size_mib, true, 1, uint64_t{1} << 40);
    if (auto r = p.finish(); !r) return r.err();
    auto dev = ctx.tgt.bdevs.find(name);
    if (!dev) return make_error(-ENODEV, "bdev '" + name + "' does not exist");
    // The target hears of the new size from the bdev (its grow listener) and
    // tells the namespaces' controllers.
    if (auto r = bdev::rbd_resize(*dev, new_size_mib << 20); !r) return from_core(r.err());
    return json(true);
}

json rbd_cluster_config(target& tgt) {
    json out = json::array();
    for (const auto& c : tgt.rbd_clusters.list()) {
        const auto& o = bdev::rbd_cluster_opts(*c);
        json params{{"name", o.name}};
        if (!o.user_id.empty()) params["user_id"] = o.user_id;
        if (!o.config_param.empty()) params["config_param"] = config_object(o.config_param);
        if (!o.config_file.empty()) params["config_file"] = o.config_file;
        if (!o.key_file.empty()) params["key_file"] = o.key_file;
        if (!o.core_mask.empty()) params["core_mask"] = o.core_mask;
        out.push_back({{"method", "bdev_rbd_register_cluster"}, {"params", std::move(params)}});
    }
    return out;
}

json rbd_bdev_config_entry(const bdev::block_device& dev) {
    const json ds = dev.driver_specific();
    auto r = ds.find("rbd");
    if (r == ds.end()) return nullptr;
    json params{{"name", dev.name()},
                {"pool_name", (*r)["pool_name"]},
                {"rbd_name", (*r)["rbd_name"]},
                {"block_size", dev.block_size()},
                {"uuid", bdev::uuid_to_string(dev.uuid())},
                {"read_only", (*r)["read_only"]}};
    if (r->contains("cluster_name")) params["cluster_name"] = (*r)["cluster_name"];
    if (r->contains("user_id")) params["user_id"] = (*r)["user_id"];
    if (r->contains("config")) params["config"] = (*r)["config"];
    return json{{"method", "bdev_rbd_create"}, {"params", std::move(params)}};
}

}  // namespace nvmf::rpc
