#include "bdev/bdev.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "util/log.hpp"

namespace nvmf::bdev {

uuid_t generate_uuid() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    uuid_t u;
    for (size_t i = 0; i < u.size(); i += 8) {
        uint64_t v = rng();
        for (size_t j = 0; j < 8; ++j) u[i + j] = static_cast<uint8_t>(v >> (8 * j));
    }
    u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);  // version 4
    u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return u;
}

result<uuid_t> name_based_uuid(const uuid_t& ns, std::string_view name) {
    // SHA-1 over the namespace's 16 bytes (network order, as written) then
    // the name; the first 16 bytes of the digest with version and variant set.
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, ns.data(), ns.size()) == 1 &&
                    EVP_DigestUpdate(ctx, name.data(), name.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx, md.data(), &len) == 1 && len >= 16;
    EVP_MD_CTX_free(ctx);
    // Never a random UUID instead: that would silently break the promise.
    if (!ok) return make_error(-ENOTSUP, "OpenSSL's SHA-1 is unavailable: cannot derive a UUID");
    uuid_t u;
    std::copy_n(md.begin(), u.size(), u.begin());
    u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x50);  // version 5
    u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return u;
}

bool uuid_is_null(const uuid_t& u) {
    return std::all_of(u.begin(), u.end(), [](uint8_t b) { return b == 0; });
}

std::string uuid_to_string(const uuid_t& u) {
    char buf[37];
    std::snprintf(buf, sizeof(buf),
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
                  u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                  u[14], u[15]);
    return buf;
}

bool uuid_from_string(const std::string& s, uuid_t* out) {
    if (s.size() != 36) return false;
    size_t j = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
            ++i;
            continue;
        }
        unsigned v;
        if (std::sscanf(s.c_str() + i, "%2x", &v) != 1 || !isxdigit(s[i]) || !isxdigit(s[i + 1])) {
            return false;
        }
        (*out)[j++] = static_cast<uint8_t>(v);
        i += 2;
    }
    return j == 16;
}

block_device::block_device(std::string name, uint32_t block_size, uint64_t num_blocks)
    : name_(std::move(name)), block_size_(block_size), num_blocks_(num_blocks),
      uuid_(generate_uuid()) {}

bool valid_block_size(uint32_t bs) {
    return bs == 512 || bs == 1024 || bs == 2048 || bs == 4096 || bs == 8192 || bs == 16384 ||
           bs == 32768 || bs == 65536 || bs == 131072;
}

void block_device::set_grow_listener(grow_listener fn, void* arg) {
    std::lock_guard lk(grow_mtx_);
    grow_fn_ = fn;
    grow_arg_ = arg;
}

bool block_device::grow_to(uint64_t n) {
    uint64_t cur = num_blocks_.load(std::memory_order_relaxed);
    do {
        if (n <= cur) return false;
    } while (!num_blocks_.compare_exchange_weak(cur, n, std::memory_order_relaxed));
    log::info("bdev {}: grew from {} to {} blocks", name(), cur, n);
    std::lock_guard lk(grow_mtx_);
    if (grow_fn_ != nullptr) grow_fn_(grow_arg_, *this);
    return true;
}

void registry::set_grow_listener(block_device::grow_listener fn, void* arg) {
    std::vector<std::shared_ptr<block_device>> devs;
    {
        std::lock_guard lk(mtx_);
        grow_fn_ = fn;
        grow_arg_ = arg;
        for (const auto& [n, d] : devs_) devs.push_back(d);
    }
    for (const auto& d : devs) d->set_grow_listener(fn, arg);
}

result<void> registry::add(std::shared_ptr<block_device> dev) {
    {
        std::lock_guard lk(mtx_);
        dev->set_grow_listener(grow_fn_, grow_arg_);
    }
    std::lock_guard lk(mtx_);
    if (devs_.count(dev->name())) {
        return make_error(-EEXIST, "bdev '" + dev->name() + "' already exists");
    }
    if (block_device* base = dev->claimed_base()) {
        auto it = devs_.find(base->name());
        if (it == devs_.end() || it->second.get() != base) {
            return make_error(-ENODEV, "bdev '" + base->name() + "' does not exist");
        }
        if (base->claims > 0) {
            return make_error(-EPERM, "bdev '" + base->name() + "' is used by a namespace");
        }
        if (!base->claimed_by.empty()) {
            return make_error(-EPERM, "bdev '" + base->name() + "' is already claimed by bdev '" +
                                          base->claimed_by + "'");
        }
        base->claimed_by = dev->name();
    }
    const std::string uuid = uuid_to_string(dev->uuid());
    // A UUID derived from a path lasts only while the file stays where it is.
    if (dev->uuid_origin() == id_origin::path) {
        log::warn("bdev {}: UUID {} ({})", dev->name(), uuid, dev->uuid_note());
    } else {
        log::info("bdev {}: UUID {} ({})", dev->name(), uuid, dev->uuid_note());
    }
    for (const auto& [name, other] : devs_) {
        // Namespaces stay apart (their identifiers also hash the subsystem
        // and NSID), but two bdevs with one UUID are most likely one file
        // opened twice, or a copy that kept the original's extended attribute.
        if (other->uuid() == dev->uuid()) {
            log::warn("bdev {} has the UUID {} of bdev {} ({}): the same data twice, or a copy?",
                      dev->name(), uuid, name, other->uuid_note());
        }
    }
    devs_.emplace(dev->name(), std::move(dev));
    return {};
}

result<void> registry::remove(const std::string& name) {
    std::shared_ptr<block_device> gone;
    {
        std::lock_guard lk(mtx_);
        auto r = remove_locked(name, gone);
        if (!r) return r;
    }
    // Not under mtx_: the listener takes the target's locks (lock order:
    // a bdev's grow lock, then the target's, never the registry's).
    gone->set_grow_listener(nullptr, nullptr);
    return {};
}

result<void> registry::remove_locked(const std::string& name, std::shared_ptr<block_device>& gone) {
    auto it = devs_.find(name);
    if (it == devs_.end()) return make_error(-ENODEV, "bdev '" + name + "' does not exist");
    if (it->second->claims > 0) {
        return make_error(-EBUSY, "bdev '" + name + "' is used by a namespace");
    }
    if (!it->second->claimed_by.empty()) {
        return make_error(
            -EBUSY, "bdev '" + name + "' is claimed by bdev '" + it->second->claimed_by + "'");
    }
    if (block_device* base = it->second->claimed_base()) base->claimed_by.clear();
    gone = it->second;
    devs_.erase(it);
    return {};
}

std::string registry::claimer(const block_device& dev) const {
    std::lock_guard lk(mtx_);
    return dev.claimed_by;
}

std::shared_ptr<block_device> registry::find(const std::string& name) const {
    std::lock_guard lk(mtx_);
    auto it = devs_.find(name);
    return it == devs_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<block_device>> registry::list() const {
    std::lock_guard lk(mtx_);
    std::vector<std::shared_ptr<block_device>> out;
    for (auto& [_, d] : devs_) out.push_back(d);
    return out;
}

namespace {
// Left to the rest of the process and the system when a RAM disk is created.
constexpr uint64_t ram_reserve = uint64_t{256} << 20;

// MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read.
uint64_t mem_available() {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("MemAvailable:", 0) != 0) continue;
        std::istringstream fields(line.substr(13));
        uint64_t kib = 0;
        fields >> kib;
        return kib << 10;
    }
    return 0;
}

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }
}  // namespace

void registry::set_ram_limit(uint64_t bytes) {
    std::lock_guard lk(mtx_);
    ram_limit_ = bytes;
}

uint64_t registry::ram_limit() const {
    std::lock_guard lk(mtx_);
    return ram_limit_;
}

result<void> registry::check_ram(uint64_t bytes) const {
    uint64_t in_use = 0;
    uint64_t limit = 0;
    {
        std::lock_guard lk(mtx_);
        for (const auto& [name, dev] : devs_) in_use += dev->ram_bytes();
        limit = ram_limit_;
    }
    if (limit && (in_use > limit || bytes > limit - in_use)) {
        return make_error(-ENOMEM, "a RAM disk of " + mib(bytes) + " exceeds the memory limit (" +
                                       mib(limit) + ", " + mib(in_use) +
                                       " already used by RAM disks; see --mem-size)");
    }
    const uint64_t avail = mem_available();
    if (avail && (avail < ram_reserve || bytes > avail - ram_reserve)) {
        return make_error(-ENOMEM, "a RAM disk of " + mib(bytes) +
                                       " exceeds the memory available on this machine (" +
                                       mib(avail) + " available, " + mib(ram_reserve) +
                                       " kept free)");
    }
    return {};
}

}  // namespace nvmf::bdev
