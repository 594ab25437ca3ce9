// bdev_delay_* methods (SPDK's module/bdev/delay/vbdev_delay_rpc.c): create a
// delay bdev on an existing bdev, delete it, change one of its latencies.
// Names, parameters and error codes are SPDK's; one difference: SPDK accepts
// a base bdev that does not exist yet and creates the delay bdev when it
// appears, here the base must exist (-19, no such device).
#include <string>

#include "bdev/delay.hpp"
#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {

namespace {

constexpr size_t max_bdev_name = 255;

bool valid_name(const std::string& n) {
    if (n.empty()) return false;
    for (unsigned char c : n) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

}  // namespace

result<json> bdev_delay_create(context& ctx, const json& j) {
    params p(j, false);
    bdev::delay_options o;
    std::string base_name, uuid_str;
    p.str("base_bdev_name", base_name, true, max_bdev_name);
    if (p.str("name", o.name, true, max_bdev_name) && !valid_name(o.name)) {
        p.fail("parameter 'name' must be printable and without spaces");
    }
    if (bdev::uuid_t u{}; p.str("uuid", uuid_str, false)) {
        if (bdev::uuid_from_string(uuid_str, &u)) {
            o.uuid = u;
        } else {
            p.fail("parameter 'uuid' is not a UUID: '" + uuid_str + "'");
        }
    }
    p.u64("avg_read_latency", o.latency[bdev::delay_kind::avg_read], true, 0, bdev::max_delay_us);
    p.u64("p99_read_latency", o.latency[bdev::delay_kind::p99_read], true, 0, bdev::max_delay_us);
    p.u64("avg_write_latency", o.latency[bdev::delay_kind::avg_write], true, 0, bdev::max_delay_us);
    p.u64("p99_write_latency", o.latency[bdev::delay_kind::p99_write], true, 0, bdev::max_delay_us);
    if (auto r = p.finish(); !r) return r.err();
    if (ctx.tgt.bdevs.find(o.name)) {
        return make_error(-EEXIST, "bdev '" + o.name + "' already exists");
    }
    o.base = ctx.tgt.bdevs.find(base_name);
    if (!o.base) return make_error(-ENODEV, "bdev '" + base_name + "' does not exist");
    auto dev = bdev::make_delay(o);
    if (!dev) return make_error(dev.err().code, dev.err().message);  // SPDK: -22, not -32602
    if (auto r = ctx.tgt.bdevs.add(*dev); !r) return r.err();
    return json(o.name);
}

result<json> bdev_delay_delete(context& ctx, const json& j) {
    // A namespace on it keeps it (-16), as for every bdev here; delayed I/O
    // of a namespace removed earlier still completes (it holds the bdev).
    return delete_bdev(
        ctx, j,
        [](const bdev::block_device& d) {
            return dynamic_cast<const bdev::delay_device*>(&d) != nullptr;
        },
        "a delay bdev");
}

result<json> bdev_delay_update_latency(context& ctx, const json& j) {
    params p(j, false);
    std::string name, type;
    uint64_t us = 0;
    p.str("delay_bdev_name", name, true, max_bdev_name);
    const bool typed = p.str("latency_type", type, true, 16);
    p.u64("latency_us", us, true, 0, bdev::max_delay_us);
    const auto kind = bdev::delay_kind_from_name(type);
    if (typed && !kind) {
        p.fail(
            "parameter 'latency_type' must be avg_read, p99_read, avg_write or p99_write, not '" +
            type + "'");
    }
    if (auto r = p.finish(); !r) return r.err();
    auto dev = ctx.tgt.bdevs.find(name);
    auto* d = dynamic_cast<bdev::delay_device*>(dev.get());
    // SPDK's code and message for both: it looks among delay bdevs only.
    if (!d) return invalid_params("The requested bdev does not exist.");
    d->set_latency(*kind, us);
    return json(true);
}

json delay_bdev_config_entry(const bdev::block_device& dev) {
    const json ds = dev.driver_specific();
    auto it = ds.find("delay");
    if (it == ds.end()) return nullptr;
    return json{{"method", "bdev_delay_create"}, {"params", *it}};
}

}  // namespace nvmf::rpc
