// Options of SPDK libraries and bdev modules that this target has no
// counterpart of (iobuf pools, the sock layer, accel, bdev_io pools, raid and
// NVMe bdevs) and the nvmf_tgt-wide settings it does not implement. SPDK's
// save_config writes them into every config (see
// ../shared/spdk-peer/reference-config.json), so they must load:
//  - every parameter is type- and range-checked as SPDK does;
//  - sizes and tunables of machinery that does not exist here are accepted
//    and have no effect;
//  - a value that asks for a feature this target lacks (NUMA pools, TLS
//    sockets, NVMe passthrough, hotplug, a discovery filter...) is refused,
//    never silently ignored.
// docs/rpc.md lists each parameter and why.
#include <string>
#include <vector>

#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {

namespace {

// Reads unsigned options whose value has no effect here.
void no_effect_u64(params& p, std::initializer_list<const char*> names) {
    uint64_t v = 0;
    for (const char* n : names) p.u64(n, v, false);
}

void no_effect_bool(params& p, std::initializer_list<const char*> names) {
    bool v = false;
    for (const char* n : names) p.boolean(n, v, false);
}

// A boolean accepted only at its default: the other value asks for a feature.
void only_default(params& p, const char* name, bool dflt, const char* why) {
    bool v = dflt;
    if (p.boolean(name, v, false) && v != dflt) {
        p.fail(std::string("parameter '") + name + "': " + why);
    }
}

// Every name of list must be one of known.
void names_from(params& p, const char* param, const std::vector<std::string>& list,
                std::initializer_list<const char*> known) {
    for (const auto& n : list) {
        bool ok = false;
        for (const char* k : known) ok = ok || n == k;
        if (!ok) p.fail("parameter '" + std::string(param) + "': unknown value '" + n + "'");
    }
}

// DH-HMAC-CHAP digests and groups (SPDK's dhchap_digests / dhchap_dhgroups).
// Without DH-HMAC-CHAP here no host authenticates, so which ones are allowed
// changes nothing; the names are checked.
void dhchap_lists(params& p) {
    std::vector<std::string> list;
    if (p.str_list("dhchap_digests", list, false)) {
        names_from(p, "dhchap_digests", list, {"sha256", "sha384", "sha512"});
    }
    if (p.str_list("dhchap_dhgroups", list, false)) {
        names_from(p, "dhchap_dhgroups", list,
                   {"null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"});
    }
}

}  // namespace

result<json> iobuf_set_options(context&, const json& j) {
    params p(j);
    uint64_t count = 0;
    uint32_t size = 0;
    // SPDK's minimums (lib/thread/iobuf.c); the pools themselves do not
    // exist here: each transport has its own (num_shared_buffers).
    p.u64("small_pool_count", count, false, 64);
    p.u64("large_pool_count", count, false, 8);
    p.u32("small_bufsize", size, false, 4096);
    p.u32("large_bufsize", size, false, 8192);
    only_default(p, "enable_numa", false, "per-NUMA-node buffer pools are not supported");
    if (auto r = p.finish(); !r) return r.err();
    return json(true);
}

result<json> accel_set_options(context&, const json& j) {
    params p(j);
    // The accel framework's caches and pools: CRC32C for digests is computed
    // inline (isa-l) here, with no tasks or sequences to size.
    no_effect_u64(
        p, {"small_cache_size", "large_cache_size", "task_count", "sequence_count", "buf_count"});
    if (auto r = p.finish(); !r) return r.err();
    return json(true);
}

result<json> bdev_set_options(context&, const json& j) {
    params p(j);
    // Pools of SPDK's bdev_io structures: here each request carries its own.
    no_effect_u64(p, {"bdev_io_pool_size", "bdev_io_cache_size", "iobuf_small_cache_size",
                      "iobuf_large_cache_size"});
    // No bdev module here examines bdevs (no partitions, lvols or raids), so
    // there is nothing to turn off.
    no_effect_bool(p, {"bdev_auto_examine"});
    if (auto r = p.finish(); !r) return r.err();
    return json(true);
}

result<json> bdev_raid_set_options(context&, const json& j) {
    params p(j);
    // Rebuild window and bandwidth of raid bdevs, which do not exist here.
    no_effect_u64(p, {"process_window_size_kb", "process_max_bandwidth_mb_sec"});
    if (auto r = p.finish(); !r) return r.err();
    return json(true);
}

result<json> bdev_nvme_set_options(context&, const json& j) {
    params p(j);
    // Defaults for NVMe bdevs (SPDK's NVMe initiator), which do not exist
    // here: they apply to no bdev, whatever their values.
    std::string action;
    if (p.str("action_on_timeout", action, false, 16) && action != "none" && action != "reset" &&
        action != "abort") {
        p.fail("parameter 'action_on_timeout' must be none, reset or abort, not '" + action + "'");
    }
    no_effect_u64(p,
                  {"timeout_us", "timeout_admin_us", "keep_alive_timeout_ms", "arbitration_burst",
                   "low_priority_weight", "medium_priority_weight", "high_priority_weight",
                   "nvme_adminq_poll_period_us", "nvme_ioq_poll_period_us", "io_queue_requests",
                   "transport_retry_count", "transport_ack_timeout", "reconnect_delay_sec",
                   "fast_io_fail_timeout_sec", "transport_tos", "rdma_srq_size", "rdma_max_cq_size",
                   "rdma_cm_event_timeout_ms", "tcp_connect_timeout_ms"});
    int64_t signed_value = 0;
    p.i64("bdev_retry_count", signed_value, false, -1);
    p.i64("ctrlr_loss_timeout_sec", signed_value, false, -1);
    no_effect_bool(
        p, {"delay_cmd_submit", "disable_auto_failback", "generate_uuids", "nvme_error_stat",
            "io_path_stat", "allow_accel_sequence", "rdma_umr_per_io", "enable_flush"});
    dhchap_lists(p);
    if (const json* mp = p.object("multipath_opts", false)) {
        params q(*mp);
        std::string s;
        uint32_t min_io = 0;
        q.str("policy", s, false, 32);
        q.str("selector", s, false, 32);
        q.u32("min_io", min_io, false);
        if (auto r = q.finish(); !r) p.fail("multipath_opts: " + r.err().message);
    }
    if (auto r = p.finish(); !r) return r.err();
    return json(true);
}

result<json> bdev_nvme_set_hotplug(context&, const json& j) {
    params p(j, false);
    bool enable = false;
    uint64_t period = 0;
    p.boolean("enable", enable, true);
    if (!p.failed() && enable) {
        p.fail(
            "parameter 'enable': there is no NVMe (PCIe) bdev driver here to probe for "
            "hot-inserted devices");
    }
    p.u64("period_us", period, false);
    if (auto r = p.finish(); !r) return r.err();
    return json(true);
}

result<json> nvmf_set_config(context& ctx, const json& j) {
    params p(j);
    std::vector<std::string> list;
    std::string s;
    if (const json* pt = p.object("admin_cmd_passthru", false)) {
        // Passing admin commands to an NVMe drive behind a namespace: there
        // are no NVMe bdevs here, so only "none" is accepted.
        params q(*pt);
        for (const char* n :
             {"identify_ctrlr", "identify_uuid_list", "get_log_page", "get_set_features",
              "sanitize", "security_send_recv", "fw_update", "nvme_mi", "vendor_specific"}) {
            only_default(q, n, false, "admin command passthrough is not supported (no NVMe bdevs)");
        }
        if (auto r = q.finish(); !r) p.fail("admin_cmd_passthru: " + r.err().message);
    }
    if (p.str("poll_groups_mask", s, false, 256)) {
        p.fail(
            "parameter 'poll_groups_mask': poll groups run on the daemon's reactors "
            "(-m/--cpumask); a separate mask is not supported");
    }
    // Discovery log filtering: every host sees every entry it is allowed
    // ("match_any", SPDK's default, which an empty list also means).
    if (p.str("discovery_filter", s, false, 64) && s != "match_any") {
        p.fail("parameter 'discovery_filter': only match_any is supported, not '" + s + "'");
    }
    if (p.str_list("discovery_filters", list, false)) {
        for (const auto& f : list) {
            if (f != "match_any") {
                p.fail("parameter 'discovery_filters': only match_any is supported, not '" + f +
                       "'");
            }
        }
    }
    // DH-HMAC-CHAP digests and groups: checked with the rest, applied only
    // once every parameter passed.
    dhchap_settings(ctx, p, false);
    if (p.str("dup_host_policy", s, false, 32) && s != "allow") {
        p.fail(
            "parameter 'dup_host_policy': only 'allow' (a host NQN may connect on any "
            "listener, more than once) is supported, not '" +
            s + "'");
    }
    if (auto r = p.finish(); !r) return r.err();
    params again(j);
    dhchap_settings(ctx, again, true);
    return json(true);
}

result<json> nvmf_set_crdt(context&, const json& j) {
    params p(j);
    uint32_t crdt = 0;
    for (const char* n : {"crdt1", "crdt2", "crdt3"}) {
        if (p.u32(n, crdt, false, 0, 0xffff) && crdt != 0) {
            p.fail(std::string("parameter '") + n +
                   "': Command Retry Delay Times are not reported (only 0)");
        }
    }
    if (auto r = p.finish(); !r) return r.err();
    return json(true);
}

}  // namespace nvmf::rpc
