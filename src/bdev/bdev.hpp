// Block devices ("bdevs"): what a namespace is backed by. A bdev executes
// block I/O described by an io; completion may happen inline (RAM) or later
// on the submitting reactor (files). Results are 0 or a negative errno;
// the NVMe layer maps errno to a status, so bdevs know nothing of NVMe.
#pragma once

#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace nvmf::bdev {

enum class io_type : uint8_t { read, write, flush, write_zeroes, unmap, compare };

// Miscompare on io_type::compare.
constexpr int err_miscompare = -EILSEQ;

struct io;
using io_cb = void (*)(io& io, int result);

// Per-I/O scratch a driver may use between submit and completion (resubmitting
// the rest of a short transfer, trying the next way to zero a range), so that
// drivers allocate nothing per I/O. Callers leave it alone.
struct io_driver_state {
    static constexpr int max_iov = 8;
    void* owner = nullptr;  // the driver's object for this I/O
    void* aux = nullptr;    // driver defined (rbd: the completion list to push to)
    io* next = nullptr;     // driver wait list
    uint64_t done = 0;      // bytes transferred so far
    uint32_t step = 0;      // driver defined
    iovec iov[max_iov]{};   // what is left of the caller's iov
};

struct io {
    io_type type = io_type::read;
    // Write: durable before completion (NVMe FUA, or the write cache disabled).
    bool fua = false;
    uint64_t offset_blocks = 0;
    uint64_t num_blocks = 0;
    const iovec* iov = nullptr;  // read/write/compare data
    int iovcnt = 0;
    io_cb cb = nullptr;
    void* ctx = nullptr;
    // Read: the caller can send from the device's own memory. A driver that
    // holds the data in memory (RAM disk) may then set `lent` to it instead of
    // copying into iov; the memory stays valid while the bdev object lives.
    bool may_lend = false;
    const uint8_t* lent = nullptr;
    io_driver_state drv{};
};

using uuid_t = std::array<uint8_t, 16>;
// A random (version 4) UUID.
uuid_t generate_uuid();
// The name-based (version 5, SHA-1) UUID of `name` in namespace `ns` (RFC
// 4122 4.3): the same name in the same namespace always gives the same UUID,
// different names different ones. Python's uuid.uuid5(ns, name) computes it too.
result<uuid_t> name_based_uuid(const uuid_t& ns, std::string_view name);
bool uuid_is_null(const uuid_t& u);
std::string uuid_to_string(const uuid_t& u);
bool uuid_from_string(const std::string& s, uuid_t* out);

// Where a bdev's UUID comes from, which says whether it survives a restart
// (docs/namespace-identity.md). Namespaces derive their identifiers from it.
enum class id_origin : uint8_t {
    random,      // made at creation: a new one at every start (RAM and null disks)
    configured,  // the create method's `uuid` parameter
    stored,      // kept with the data: a file's extended attribute
    device,      // derived from the block device's own identity (WWID, dm/md UUID...)
    path,        // derived from a path (and inode): stable while the file stays put
};

class block_device {
public:
    block_device(std::string name, uint32_t block_size, uint64_t num_blocks);
    virtual ~block_device() = default;

    const std::string& name() const { return name_; }
    uint32_t block_size() const { return block_size_; }
    // May grow while I/O runs (bdev_rbd_resize): every reader sees the old
    // or the new size, and blocks below the old one stay valid either way.
    uint64_t num_blocks() const { return num_blocks_.load(std::memory_order_relaxed); }
    const uuid_t& uuid() const { return uuid_; }
    id_origin uuid_origin() const { return uuid_origin_; }
    // How the UUID was found, for the log ("stored in ... of FILE", "random: ...").
    const std::string& uuid_note() const { return uuid_note_; }
    void set_uuid(const uuid_t& u, id_origin origin = id_origin::configured,
                  std::string note = "configured") {
        uuid_ = u;
        uuid_origin_ = origin;
        uuid_note_ = std::move(note);
    }

    virtual const char* product_name() const = 0;
    virtual bool supports(io_type t) const = 0;
    virtual bool volatile_write_cache() const { return false; }
    // Opened read-only: writes fail (the SMART log's read-only warning).
    virtual bool read_only() const { return false; }
    // Power cycles and unsafe shutdowns of what backs it (power_state.hpp); 0
    // where nothing outlives the process (RAM disks) or nothing is kept.
    virtual uint64_t power_cycles() const { return 0; }
    virtual uint64_t unsafe_shutdowns() const { return 0; }
    // Memory this bdev holds committed (RAM disks), for the registry's RAM budget.
    virtual uint64_t ram_bytes() const { return 0; }
    // Submits io; io.cb is called exactly once, possibly before submit returns.
    virtual void submit(io& io) = 0;
    // Cancels io if it has not started yet (still held by this bdev, as the
    // delay bdev holds it): then io.cb has been called with -ECANCELED when
    // this returns true. False once the I/O is past the point of no return
    // (with a RAM or file bdev, as soon as it is submitted). Submitting
    // reactor only.
    virtual bool cancel(io&) { return false; }
    // The bdev this one is layered on and claims (delay bdev), if any.
    virtual block_device* claimed_base() const { return nullptr; }
    // Driver specific fields for bdev_get_bdevs.
    virtual nlohmann::json driver_specific() const { return nlohmann::json::object(); }

    // How many namespaces use this bdev (a bdev in use cannot be deleted).
    int claims = 0;
    // The bdev layered on this one (a delay bdev): it claims this bdev
    // exclusively, so no namespace or other layer may use it. Under the
    // registry's lock (registry::claimer).
    std::string claimed_by;

protected:
    static void finish(io& io, int result) { io.cb(io, result); }
    // Why io cannot run on a bdev that has no Compare (a negative errno), or
    // 0: blocks past the end, Compare, a write to a read-only bdev.
    int refusal(const io& io, bool read_only) const {
        if (io.type != io_type::flush &&
            (io.offset_blocks > num_blocks() || io.num_blocks > num_blocks() - io.offset_blocks)) {
            return -ERANGE;
        }
        if (io.type == io_type::compare) return -ENOTSUP;
        if (read_only && io.type != io_type::read && io.type != io_type::flush) return -EROFS;
        return 0;
    }

public:
    // Who hears of a bdev that grew (the target: it tells the namespaces'
    // controllers). Called on whatever thread saw the new size.
    using grow_listener = void (*)(void* arg, block_device& dev);
    void set_grow_listener(grow_listener fn, void* arg);

protected:
    // Raises the size to n blocks (never lowers it) and tells the listener;
    // false when it was that big already, so a resize seen twice (our own
    // rbd_resize, then librbd's header notice of it) is announced once.
    bool grow_to(uint64_t n);

private:
    std::mutex grow_mtx_;
    grow_listener grow_fn_ = nullptr;
    void* grow_arg_ = nullptr;
    std::string name_;
    uint32_t block_size_;
    std::atomic<uint64_t> num_blocks_;
    uuid_t uuid_;
    id_origin uuid_origin_ = id_origin::random;
    std::string uuid_note_ = "random, a new one at every start";
};

// RAM disk (SPDK's Malloc bdev). Memory is zero-filled at creation.
std::shared_ptr<block_device> make_malloc(const std::string& name, uint64_t num_blocks,
                                          uint32_t block_size);
// Discards writes, reads return zeroes (SPDK's null bdev).
std::shared_ptr<block_device> make_null(const std::string& name, uint64_t num_blocks,
                                        uint32_t block_size);

// File or block device bdev on io_uring (SPDK's uring and aio bdevs; both run
// on the same engine, see uring.cpp). Opened on the calling (control) thread.
struct file_options {
    enum class kind : uint8_t { uring, aio };
    std::string name;
    std::string filename;
    uint32_t block_size = 0;  // 0: the device's logical block size, 512 for files
    bool readonly = false;
    bool fallocate = false;  // aio's flag; recorded for save_config
    kind type = kind::uring;
    // The `uuid` parameter. Without it the bdev's UUID is the one stored with
    // the file, or derived from the block device or the path (file_identity.hpp).
    std::optional<uuid_t> uuid;
};
result<std::shared_ptr<block_device>> make_file(const file_options& opts);

// Allowed data block sizes for RAM and null bdevs.
bool valid_block_size(uint32_t block_size);

// All bdevs of a target, by name. Thread-safe (control path).
class registry {
public:
    // A bdev layered on another (claimed_base()) claims it here: refused when
    // the base is gone, used by a namespace or claimed already.
    result<void> add(std::shared_ptr<block_device> dev);
    // Refused while a namespace uses the bdev or a layer claims it; releases
    // the bdev's own claim on its base.
    result<void> remove(const std::string& name);
    // The name of the bdev layered on dev (empty: none).
    std::string claimer(const block_device& dev) const;
    std::shared_ptr<block_device> find(const std::string& name) const;
    std::vector<std::shared_ptr<block_device>> list() const;

    // RAM budget for RAM disks (daemon option --mem-size; 0: no budget of our
    // own). A RAM disk is committed at creation, so one larger than what the
    // machine has free would get the daemon killed by the OOM killer instead of
    // failing the request.
    void set_ram_limit(uint64_t bytes);
    uint64_t ram_limit() const;
    // Whether `bytes` more of RAM disk fit both the budget and the memory the
    // kernel reports available (MemAvailable, less a reserve); -ENOMEM if not.
    result<void> check_ram(uint64_t bytes) const;
    // Given to every bdev, those here and those added from now on
    // (block_device::set_grow_listener); a removed bdev loses it.
    void set_grow_listener(block_device::grow_listener fn, void* arg);

private:
    result<void> remove_locked(const std::string& name, std::shared_ptr<block_device>& gone);
    mutable std::mutex mtx_;
    block_device::grow_listener grow_fn_ = nullptr;
    void* grow_arg_ = nullptr;
    uint64_t ram_limit_ = 0;
    std::map<std::string, std::shared_ptr<block_device>> devs_;
};

}  // namespace nvmf::bdev
