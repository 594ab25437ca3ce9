// bdev_uring_* and bdev_aio_* methods: file and block device bdevs, with
// SPDK's parameters (filename, name, block_size, uuid; aio also readonly,
// fallocate and nowait, which must be false). Both kinds run on the io_uring
// engine (src/bdev/uring.cpp).
#include <string>

#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {

namespace {

constexpr size_t max_bdev_name = 255;
constexpr size_t max_filename = 4096;

using kind = bdev::file_options::kind;

const char* product(kind k) { return k == kind::aio ? "AIO disk" : "URING bdev"; }
const char* kind_name(kind k) { return k == kind::aio ? "aio" : "uring"; }

bool valid_name(const std::string& n) {
    if (n.empty()) return false;
    for (unsigned char c : n) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

result<json> create(context& ctx, const json& j, kind k) {
    params p(j, false);
    bdev::file_options o;
    o.type = k;
    std::string uuid_str;
    p.str("filename", o.filename, true, max_filename);
    if (p.str("name", o.name, true, max_bdev_name) && !valid_name(o.name)) {
        p.fail("parameter 'name' must be printable and without spaces");
    }
    // 0 (SPDK's default): the device's logical block size, 512 for a file.
    if (p.u32("block_size", o.block_size, false) && o.block_size != 0 &&
        !bdev::valid_block_size(o.block_size)) {
        p.fail("parameter 'block_size' must be 0 or a power of two from 512 to 131072, got " +
               std::to_string(o.block_size));
    }
    // Without it the UUID is the one kept with the file, or derived from the
    // device or the path (src/bdev/file_identity.hpp), so that a restart keeps it.
    if (bdev::uuid_t uuid{}; p.str("uuid", uuid_str, false)) {
        if (bdev::uuid_from_string(uuid_str, &uuid)) {
            o.uuid = uuid;
        } else {
            p.fail("parameter 'uuid' is not a UUID: '" + uuid_str + "'");
        }
    }
    if (k == kind::aio) {
        p.boolean("readonly", o.readonly, false);
        p.boolean("fallocate", o.fallocate, false);
        bool nowait = false;
        if (p.boolean("nowait", nowait, false) && nowait) {
            p.fail("parameter 'nowait': RWF_NOWAIT submission is not supported");
        }
    }
    if (auto r = p.finish(); !r) return r.err();
    if (o.filename.empty()) return invalid_params("parameter 'filename' must not be empty");
    if (ctx.tgt.bdevs.find(o.name)) {
        return make_error(-EEXIST, "bdev '" + o.name + "' already exists");
    }
    auto dev = bdev::make_file(o);
    if (!dev) return from_core(dev.err());
    if (auto r = ctx.tgt.bdevs.add(*dev); !r) return from_core(r.err());
    return json(o.name);
}

result<json> remove(context& ctx, const json& j, kind k) {
    return delete_bdev(
        ctx, j,
        [k](const bdev::block_device& d) { return d.product_name() == std::string(product(k)); },
        std::string(k == kind::aio ? "an " : "a ") + kind_name(k) + " bdev");
}

}  // namespace

result<json> bdev_uring_create(context& ctx, const json& p) { return create(ctx, p, kind::uring); }
result<json> bdev_uring_delete(context& ctx, const json& p) { return remove(ctx, p, kind::uring); }
result<json> bdev_aio_create(context& ctx, const json& p) { return create(ctx, p, kind::aio); }
result<json> bdev_aio_delete(context& ctx, const json& p) { return remove(ctx, p, kind::aio); }

json file_bdev_config_entry(const bdev::block_device& dev) {
    const json ds = dev.driver_specific();
    if (auto u = ds.find("uring"); u != ds.end()) {
        return json{{"method", "bdev_uring_create"},
                    {"params",
                     {{"name", dev.name()},
                      {"filename", (*u)["filename"]},
                      {"block_size", dev.block_size()},
                      {"uuid", bdev::uuid_to_string(dev.uuid())}}}};
    }
    if (auto a = ds.find("aio"); a != ds.end()) {
        return json{{"method", "bdev_aio_create"},
                    {"params",
                     {{"name", dev.name()},
                      {"filename", (*a)["filename"]},
                      {"block_size", dev.block_size()},
                      {"readonly", (*a)["readonly"]},
                      {"fallocate", (*a)["fallocate"]},
                      {"uuid", bdev::uuid_to_string(dev.uuid())},
                      {"nowait", false}}}};
    }
    return nullptr;
}

}  // namespace nvmf::rpc
