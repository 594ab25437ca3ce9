// bdev_* methods: RAM (malloc) and null bdevs, listing and deletion.
#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"
#include "util/log.hpp"

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

// SPDK's create parameters for metadata/DIF layouts and reported geometry.
// Their defaults (what SPDK's save_config writes for a plain bdev) are
// accepted; values that ask for metadata, protection information, a separate
// physical block size, I/O boundaries or NUMA placement are refused: no bdev
// here has them.
void layout_params(params& p, kind k) {
    uint32_t md_size = 0, pi_format = 0, zero = 0;
    int64_t dif_type = 0, numa_id = -1;
    bool b = false;
    if (p.u32("md_size", md_size, false) && md_size != 0) {
        p.fail("parameter 'md_size' must be 0: bdevs with metadata are not supported");
    }
    if (p.i64("dif_type", dif_type, false) && dif_type != 0) {
        p.fail("parameter 'dif_type' must be 0: protection information is not supported");
    }
    if (p.u32("dif_pi_format", pi_format, false) && pi_format != 0) {
        p.fail("parameter 'dif_pi_format' must be 0: protection information is not supported");
    }
    // Where metadata would be, without any: no effect either way.
    p.boolean("md_interleave", b, false);
    p.boolean("dif_is_head_of_md", b, false);
    if (k == kind::malloc) {
        if (p.u32("optimal_io_boundary", zero, false) && zero != 0) {
            p.fail("parameter 'optimal_io_boundary' must be 0: I/O is not split on boundaries");
        }
        if (p.i64("numa_id", numa_id, false, -1, std::numeric_limits<int32_t>::max()) &&
            numa_id != -1) {
            p.fail("parameter 'numa_id' must be -1: RAM disks are not placed on a NUMA node");
        }
    } else {
        for (const char* n :
             {"preferred_write_granularity", "preferred_write_alignment", "optimal_write_size",
              "preferred_unmap_granularity", "preferred_unmap_alignment"}) {
            if (p.u32(n, zero, false) && zero != 0) {
                p.fail(std::string("parameter '") + n +
                       "' must be 0: namespaces report no preferred write or deallocate sizes");
            }
        }
    }
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
    layout_params(p, k);
    // 0 (SPDK: the block size) or the block size itself: what hosts assume
    // when a namespace reports no physical block size (NPWG).
    uint32_t physical = 0;
    if (p.u32("physical_block_size", physical, false) && physical != 0 && physical != block_size &&
        !p.failed()) {
        p.fail("parameter 'physical_block_size' must be 0 or block_size (" +
               std::to_string(block_size) +
               "): namespaces report no physical block size of their own");
    }
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
    // The null UUID asks for none, as in SPDK.
    if (!uuid_str.empty() && !bdev::uuid_is_null(uuid)) dev->set_uuid(uuid);
    if (auto r = ctx.tgt.bdevs.add(dev); !r) return from_core(r.err());
    return json(name);
}

result<json> remove(context& ctx, const json& j, kind k) {
    const char* product = k == kind::malloc ? "Malloc disk" : "Null disk";
    return delete_bdev(
        ctx, j,
        [product](const bdev::block_device& d) { return d.product_name() == std::string(product); },
        k == kind::malloc ? "a malloc bdev" : "a null bdev");
}

}  // namespace

result<json> delete_bdev(context& ctx, const json& j,
                         const std::function<bool(const bdev::block_device&)>& is_kind,
                         const std::string& kind) {
    params p(j, false);
    std::string name;
    p.str("name", name, true, max_bdev_name);
    if (auto r = p.finish(); !r) return r.err();
    auto dev = ctx.tgt.bdevs.find(name);
    if (!dev) return make_error(-ENODEV, "bdev '" + name + "' does not exist");
    if (!is_kind(*dev)) return make_error(-ENODEV, "bdev '" + name + "' is not " + kind);
    if (auto r = ctx.tgt.bdevs.remove(name); !r) return from_core(r.err());
    return json(true);
}

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
    uint64_t timeout = 0;
    const bool one = p.str("name", name, false, max_bdev_name);
    // SPDK waits this long for a bdev still being created (examined); ours
    // exist once their create method returned, so there is nothing to wait for.
    p.u64("timeout", timeout, false);
    if (auto r = p.finish(); !r) return r.err();
    json out = json::array();
    if (one) {
        auto dev = ctx.tgt.bdevs.find(name);
        if (!dev) return make_error(-ENODEV, "bdev '" + name + "' does not exist");
        out.push_back(bdev_to_json(*dev, ctx.tgt.bdevs.claimer(*dev)));
        return out;
    }
    for (auto& dev : ctx.tgt.bdevs.list()) {
        out.push_back(bdev_to_json(*dev, ctx.tgt.bdevs.claimer(*dev)));
    }
    return out;
}

result<json> bdev_wait_for_examine(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    return json(true);  // bdevs here are ready when created
}

json bdev_to_json(const bdev::block_device& dev, const std::string& claimer) {
    // SPDK's rpc_dump_bdev_info (lib/bdev/bdev_rpc.c): every I/O type by its
    // SPDK name, the optimal-performance hints (none here) and the claim.
    using bdev::io_type;
    const bool claimed = dev.claims > 0 || !claimer.empty();
    json io_types{{"read", dev.supports(io_type::read)},
                  {"write", dev.supports(io_type::write)},
                  {"unmap", dev.supports(io_type::unmap)},
                  {"flush", dev.supports(io_type::flush)},
                  {"write_zeroes", dev.supports(io_type::write_zeroes)},
                  {"compare", dev.supports(io_type::compare)}};
    for (const char* t :
         {"reset", "nvme_admin", "nvme_io", "nvme_io_md", "zcopy", "get_zone_info",
          "zone_management", "zone_append", "compare_and_write", "abort", "seek_hole", "seek_data",
          "copy", "nvme_iov_md", "nvme_nssr", "write_uncorrectable"}) {
        io_types[t] = false;
    }
    json j{
        {"name", dev.name()},
        {"aliases", json::array()},
        {"product_name", dev.product_name()},
        {"block_size", dev.block_size()},
        {"num_blocks", dev.num_blocks()},
        {"preferred_write_alignment", 0},
        {"preferred_write_granularity", 0},
        {"optimal_write_size", 0},
        {"preferred_unmap_alignment", 0},
        {"preferred_unmap_granularity", 0},
        {"uuid", bdev::uuid_to_string(dev.uuid())},
        {"numa_id", -1},  // SPDK's "any node": no bdev here is placed on one
        {"assigned_rate_limits",
         {{"rw_ios_per_sec", 0},
          {"rw_mbytes_per_sec", 0},
          {"r_mbytes_per_sec", 0},
          {"w_mbytes_per_sec", 0}}},
        {"claimed", claimed},
        {"zoned", false},
        {"supported_io_types", std::move(io_types)},
        {"driver_specific", dev.driver_specific()},
    };
    // A namespace claims its bdev as SPDK's nvmf does (spdk_bdev_module_claim_bdev).
    // So does a delay bdev its base (spdk_bdev_module_claim_bdev, exclusive write).
    if (claimed) j["claim_type"] = "exclusive_write";
    return j;
}

json bdev_config_entry(const bdev::block_device& dev) {
    const std::string product = dev.product_name();
    // SPDK's bdev_malloc_write_json_config / bdev_null_write_config_json
    // parameters, with the values every bdev here has.
    json p{{"name", dev.name()},
           {"num_blocks", dev.num_blocks()},
           {"block_size", dev.block_size()},
           {"physical_block_size", dev.block_size()},
           {"uuid", bdev::uuid_to_string(dev.uuid())},
           {"md_size", 0},
           {"dif_type", 0},
           {"dif_is_head_of_md", false},
           {"dif_pi_format", 0}};
    if (product == "Malloc disk") {
        p["optimal_io_boundary"] = 0;
        p["numa_id"] = -1;
        return json{{"method", "bdev_malloc_create"}, {"params", std::move(p)}};
    }
    if (product == "Null disk") {
        for (const char* n :
             {"preferred_write_granularity", "preferred_write_alignment", "optimal_write_size",
              "preferred_unmap_granularity", "preferred_unmap_alignment"}) {
            p[n] = 0;
        }
        return json{{"method", "bdev_null_create"}, {"params", std::move(p)}};
    }
    if (json e = rbd_bdev_config_entry(dev); !e.is_null()) return e;
    if (json d = delay_bdev_config_entry(dev); !d.is_null()) return d;
    return file_bdev_config_entry(dev);
}

json bdev_subsystem_config(target& tgt) {
    json bdevs = rbd_cluster_config(tgt);
    // A layered bdev (delay) after the bdev it is built on, so that loading
    // the config finds the base: bdevs in passes, each after its base.
    auto todo = tgt.bdevs.list();
    std::vector<std::shared_ptr<bdev::block_device>> ordered;
    std::set<const bdev::block_device*> placed;
    while (!todo.empty()) {
        std::vector<std::shared_ptr<bdev::block_device>> later;
        for (auto& dev : todo) {
            const bdev::block_device* base = dev->claimed_base();
            const bool base_listed = base && std::any_of(todo.begin(), todo.end(),
                                                         [&](auto& d) { return d.get() == base; });
            if (base_listed && !placed.count(base)) {
                later.push_back(dev);
            } else {
                placed.insert(dev.get());
                ordered.push_back(dev);
            }
        }
        if (later.size() == todo.size()) break;  // cannot happen: a claim is never circular
        todo = std::move(later);
    }
    for (auto& dev : ordered) {
        json e = bdev_config_entry(*dev);
        if (e.is_null()) {
            log::warn("save_config: bdev {} ({}) cannot be saved", dev->name(),
                      dev->product_name());
            continue;
        }
        bdevs.push_back(std::move(e));
    }
    // As SPDK ends its bdev section: namespaces are added once bdevs are ready.
    bdevs.push_back({{"method", "bdev_wait_for_examine"}});
    return bdevs;
}

}  // namespace nvmf::rpc
