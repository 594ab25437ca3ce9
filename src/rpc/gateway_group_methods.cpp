// gateway_group_* methods: this target's membership of a gateway group
// (docs/gateway-group.md). Ours: SPDK has no gateway groups (ceph-nvmeof
// drives them from its own gRPC daemon). Joining connects to the cluster,
// so it runs on the RPC thread like bdev_rbd_register_cluster.
#include "bdev/rbd.hpp"
#include "ha/gateway_group.hpp"
#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {

namespace {
constexpr size_t max_name = 255;
constexpr size_t max_groups = 32;
}  // namespace

result<json> gateway_group_join(context& ctx, const json& j) {
    params p(j, false);
    ha::gateway_group_options o;
    uint32_t lease_ms = static_cast<uint32_t>(o.lease.count());
    p.str("name", o.name, true, max_name);
    p.str("cluster_name", o.cluster_name, true, max_name);
    p.str("pool_name", o.pool_name, true, max_name);
    p.str("gateway_id", o.gateway_id, true, max_name);
    p.u32("home_ana_group", o.home_ana_group, true, 1);
    p.u32_list("ana_groups", o.ana_groups, true, max_groups);
    p.u32("lease_ms", lease_ms, false, 1000, 600000);
    p.u32("blocklist_expire_s", o.blocklist_expire_s, false, 60, 86400 * 7);
    if (auto r = p.finish(); !r) return r.err();
    o.lease = std::chrono::milliseconds(lease_ms);
    if (ctx.tgt.gateway_group()) {
        return make_error(-EEXIST, "this target is already in a gateway group");
    }
    auto cluster = ctx.tgt.rbd_clusters.find(o.cluster_name);
    if (!cluster) return make_error(-ENOENT, "cluster '" + o.cluster_name + "' is not registered");
    auto g = ha::gateway_group::join(ctx.tgt, std::move(cluster), std::move(o));
    if (!g) return from_core(g.err());
    if (auto r = ctx.tgt.set_gateway_group(std::move(*g)); !r) return from_core(r.err());
    return json(true);
}

result<json> gateway_group_leave(context& ctx, const json& j) {
    params p(j, true);
    if (auto r = p.finish(); !r) return r.err();
    auto g = ctx.tgt.take_gateway_group();
    if (!g) return make_error(-ENOENT, "this target is in no gateway group");
    g.reset();
    return json(true);
}

result<json> gateway_group_get_info(context& ctx, const json& j) {
    params p(j, true);
    if (auto r = p.finish(); !r) return r.err();
    auto g = ctx.tgt.gateway_group();
    if (!g) return json(nullptr);
    return g->info();
}

json gateway_group_config_entry(target& tgt) {
    auto g = tgt.gateway_group();
    if (!g) return nullptr;
    const auto& o = g->options();
    return json{{"method", "gateway_group_join"},
                {"params",
                 {{"name", o.name},
                  {"cluster_name", o.cluster_name},
                  {"pool_name", o.pool_name},
                  {"gateway_id", o.gateway_id},
                  {"home_ana_group", o.home_ana_group},
                  {"ana_groups", o.ana_groups},
                  {"lease_ms", o.lease.count()},
                  {"blocklist_expire_s", o.blocklist_expire_s}}}};
}

}  // namespace nvmf::rpc
