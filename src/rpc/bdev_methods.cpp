// bdev_* methods: RAM (malloc) and null bdevs, listing and deletion.
#include <string>

#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {

namespace {

constexpr uint64_t max_malloc_bytes = 1ull << 40;  // RAM disks beyond 1 TiB are a typo
constexpr uint64_t max_null_bytes = 1ull << 56;
constexpr size_t max_bdev_name = 255;

enum class kind { malloc, null };

bool valid_name(const std::string& n) {
    if (n.empty()) return false;
    for (unsigned char c : n) {
        if (c < 0x21 || c > 0x7e) return false;
    }
    return true;
}

// SPDK's create parameters that describe metadata/DIF layouts: accepted so that
// SPDK-written configs load, but only the no-metadata layout is supported.
void metadata_params(params& p) {
    uint32_t md_size = 0, dif_type = 0, phys = 0;
    bool b = false;
    if (p.u32("md_size", md_size, false) && md_size != 0) {
        p.fail("parameter 'md_size' must be 0: bdevs with metadata are not supported");
    }
    if (p.u32("dif_type", dif_type, false) && dif_type != 0) {
        p.fail("parameter 'dif_type' must be 0: protection information is not supported");
    }
    p.boolean("md_interleave", b, false);
    p.boolean("dif_is_head_of_md", b, false);
    p.u32("physical_block_size", phys, false);
    p.ignore("optimal_io_boundary");
}

result<json> create(context& ctx, const json& j, kind k) {
    params p(j, false);
    std::string name, uuid_str;
    uint64_t num_blocks = 0;
    uint32_t block_size = 0;
    const bool named = p.str("name", name, k == kind::null, max_bdev_name);
    p.u64("num_blocks", num_blocks, true, 1);
    if (p.u32("block_size", block_size, true) && !bdev::valid_block_size(block_size)) {
        p.fail("parameter 'block_size' must be a power of two from 512 to 131072, got " +
               std::to_string(block_size));
    }
    bdev::uuid_t uuid{};
    if (p.str("uuid", uuid_str, false) && !bdev::uuid_from_string(uuid_str, &uuid)) {
        p.fail("parameter 'uuid' is not a UUID: '" + uuid_str + "'");
    }
    metadata_params(p);
    if (named && !valid_name(name)) p.fail("parameter 'name' must be printable and without spaces");
    if (auto r = p.finish(); !r) return r.err();

    const uint64_t limit = k == kind::malloc ? max_malloc_bytes : max_null_bytes;
    if (num_blocks > limit / block_size) {
        return invalid_params("bdev size " + std::to_string(num_blocks) + " x " +
                              std::to_string(block_size) + " bytes exceeds the limit of " +
                              std::to_string(limit >> 30) + " GiB");
    }
    if (!named) {
        // SPDK's default names: Malloc0, Malloc1, ...
        for (unsigned i = 0;; ++i) {
            name = "Malloc" + std::to_string(i);
            if (!ctx.tgt.bdevs.find(name)) break;
        }
    }
    if (ctx.tgt.bdevs.find(name)) return make_error(-EEXIST, "bdev '" + name + "' already exists");
    if (k == kind::malloc) {
        if (auto r = ctx.tgt.bdevs.check_ram(num_blocks * block_size); !r) {
            return from_core(r.err());
        }
    }
    auto dev = k == kind::malloc ? bdev::make_malloc(name, num_blocks, block_size)
                                 : bdev::make_null(name, num_blocks, block_size);
    if (!uuid_str.empty()) dev->set_uuid(uuid);
    if (auto r = ctx.tgt.bdevs.add(dev); !r) return from_core(r.err());
    return json(name);
}

result<json> remove(context& ctx, const json& j, kind k) {
    params p(j, false);
    std::string name;
    p.str("name", name, true, max_bdev_name);
    if (auto r = p.finish(); !r) return r.err();
    auto dev = ctx.tgt.bdevs.find(name);
    if (!dev) return make_error(-ENODEV, "bdev '" + name + "' does not exist");
    const std::string product = dev->product_name();
    if (product != (k == kind::malloc ? "Malloc disk" : "Null disk")) {
        return make_error(-ENODEV, "bdev '" + name + "' is not a " +
                                       (k == kind::malloc ? "malloc" : "null") + " bdev");
    }
    if (auto r = ctx.tgt.bdevs.remove(name); !r) return from_core(r.err());
    return json(true);
}

}  // namespace

result<json> bdev_malloc_create(context& ctx, const json& p) {
    return create(ctx, p, kind::malloc);
}
result<json> bdev_null_create(context& ctx, const json& p) { return create(ctx, p, kind::null); }
result<json> bdev_malloc_delete(context& ctx, const json& p) {
    return remove(ctx, p, kind::malloc);
}
result<json> bdev_null_delete(context& ctx, const json& p) { return remove(ctx, p, kind::null); }

result<json> bdev_get_bdevs(context& ctx, const json& j) {
    params p(j);
    std::string name;
    uint32_t timeout = 0;
    const bool one = p.str("name", name, false, max_bdev_name);
    p.u32("timeout", timeout, false);  // SPDK waits for the bdev to appear; ours exist or not
    if (auto r = p.finish(); !r) return r.err();
    json out = json::array();
    if (one) {
        auto dev = ctx.tgt.bdevs.find(name);
        if (!dev) return make_error(-ENODEV, "bdev '" + name + "' does not exist");
        out.push_back(bdev_to_json(*dev));
        return out;
    }
    for (auto& dev : ctx.tgt.bdevs.list()) out.push_back(bdev_to_json(*dev));
    return out;
}

result<json> bdev_wait_for_examine(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    return json(true);  // bdevs here are ready when created
}

json bdev_to_json(const bdev::block_device& dev) {
    using bdev::io_type;
    return json{
        {"name", dev.name()},
        {"aliases", json::array()},
        {"product_name", dev.product_name()},
        {"block_size", dev.block_size()},
        {"num_blocks", dev.num_blocks()},
        {"uuid", bdev::uuid_to_string(dev.uuid())},
        {"assigned_rate_limits",
         {{"rw_ios_per_sec", 0},
          {"rw_mbytes_per_sec", 0},
          {"r_mbytes_per_sec", 0},
          {"w_mbytes_per_sec", 0}}},
        {"claimed", dev.claims > 0},
        {"zoned", false},
        {"supported_io_types",
         {{"read", dev.supports(io_type::read)},
          {"write", dev.supports(io_type::write)},
          {"unmap", dev.supports(io_type::unmap)},
          {"flush", dev.supports(io_type::flush)},
          {"reset", false},
          {"nvme_admin", false},
          {"nvme_io", false},
          {"write_zeroes", dev.supports(io_type::write_zeroes)},
          {"compare", dev.supports(io_type::compare)},
          {"compare_and_write", false},
          {"abort", false}}},
        {"driver_specific", dev.driver_specific()},
    };
}

json bdev_config_entry(const bdev::block_device& dev) {
    const std::string product = dev.product_name();
    const char* method = product == "Malloc disk" ? "bdev_malloc_create"
                         : product == "Null disk" ? "bdev_null_create"
                                                  : nullptr;
    if (!method) return file_bdev_config_entry(dev);
    return json{{"method", method},
                {"params",
                 {{"name", dev.name()},
                  {"num_blocks", dev.num_blocks()},
                  {"block_size", dev.block_size()},
                  {"uuid", bdev::uuid_to_string(dev.uuid())}}}};
}

}  // namespace nvmf::rpc
