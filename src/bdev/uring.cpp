// File and block device bdevs (SPDK's uring and aio bdevs) on the per-reactor
// io_uring engine. SPDK's aio bdev uses libaio; here "aio" is the same
// io_uring driver under SPDK's aio name and parameters, so that SPDK configs
// load: io_uring does everything libaio did (and fsync and fallocate, which
// libaio cannot do asynchronously), and one engine per reactor is simpler
// than two.
//
// Data lives in the kernel's page cache unless O_DIRECT is possible, and even
// with O_DIRECT the disk may cache writes, so these bdevs report a volatile
// write cache: Flush is fdatasync, a write with FUA (or any write while the
// host has disabled the write cache) carries RWF_DSYNC.
//
// NVMF_UNSAFE_SKIP_SYNC=1 (test-only, see docs/durability.md): Flush
// completes at once and FUA writes go without RWF_DSYNC, so that the
// power-loss test (tests/interop/run-power-loss) can show it catches a target
// that acknowledges writes as durable when they are not. Never for real data.
//
// O_DIRECT: the file is opened twice, with and without it. An I/O whose
// offset, buffers and lengths meet the direct-I/O alignment goes direct, any
// other through the page cache (Linux keeps the two coherent: a direct write
// writes back and invalidates the cached range). A file system that refuses
// O_DIRECT (tmpfs: EINVAL) leaves only the buffered descriptor.
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "bdev/bdev.hpp"
#include "bdev/file_identity.hpp"
#include "bdev/power_state.hpp"
#include "bdev/uring_engine.hpp"
#include "util/log.hpp"

namespace nvmf::bdev {
namespace {

// Zeroes for Write Zeroes/Deallocate where the file system has no fallocate
// mode that zeroes; aligned so that these writes may go direct.
constexpr size_t zero_buf_size = 128 * 1024;
alignas(4096) const uint8_t zero_buf[zero_buf_size] = {};

// io.drv.step for write_zeroes / unmap: the ways to zero a range, in order.
enum zero_step : uint32_t { zero_range = 0, punch_hole = 1, write_zeroes = 2, sync_after = 3 };
// io.drv.step for read/write: which descriptor the SQE used.
constexpr uint32_t step_direct = 1;

class file_bdev final : public block_device, public uring_client {
public:
    struct params {
        file_options opts;
        int fd_direct;  // -1: no O_DIRECT
        int fd;
        uint32_t block_size;
        uint64_t num_blocks;
        uint32_t dio_mem_align;
        uint32_t dio_offset_align;
        power_state power;
        bool skip_sync;  // NVMF_UNSAFE_SKIP_SYNC: a test switch that breaks durability
    };

    explicit file_bdev(const params& p)
        : block_device(p.opts.name, p.block_size, p.num_blocks), opts_(p.opts),
          fd_direct_(p.fd_direct), fd_(p.fd), dio_mem_align_(p.dio_mem_align),
          dio_offset_align_(p.dio_offset_align), power_(p.power), skip_sync_(p.skip_sync) {}

    ~file_bdev() override {
        power_off_file(fd_, power_);  // a clean shutdown of this "drive"
        if (fd_direct_ >= 0) close(fd_direct_);
        close(fd_);
    }

    const char* product_name() const override {
        return opts_.type == file_options::kind::aio ? "AIO disk" : "URING bdev";
    }
    // Compare would need a bounce buffer per I/O; SPDK's aio/uring bdevs lack it too.
    bool supports(io_type t) const override { return t != io_type::compare; }
    bool volatile_write_cache() const override { return !opts_.readonly; }
    bool read_only() const override { return opts_.readonly; }
    uint64_t power_cycles() const override { return power_.record.cycles; }
    uint64_t unsafe_shutdowns() const override { return power_.record.unsafe_shutdowns; }

    nlohmann::json driver_specific() const override {
        if (opts_.type == file_options::kind::aio) {
            return {{"aio",
                     {{"filename", opts_.filename},
                      {"block_size_override", opts_.block_size != 0},
                      {"readonly", opts_.readonly},
                      {"fallocate", opts_.fallocate},
                      {"nowait", false}}}};
        }
        return {{"uring", {{"filename", opts_.filename}}}};
    }

    void submit(io& io) override {
        if (const int e = refusal(io, opts_.readonly); e != 0) {
            finish(io, e);
            return;
        }
        if (io.type == io_type::flush && skip_sync_) {
            finish(io, 0);  // the test switch: claim durability without fdatasync
            return;
        }
        io.drv = {};
        io.drv.owner = static_cast<uring_client*>(this);
        if (io.type == io_type::write_zeroes) {
            io.drv.step = first_zero_step(zero_range);
        } else if (io.type == io_type::unmap) {
            io.drv.step = first_zero_step(punch_hole);
        }
        start(io);
    }

    void retry(io& io) override { start(io); }

    void on_cqe(io& io, int res) override {
        if (res == -EINTR || res == -EAGAIN) {
            start(io);
            return;
        }
        switch (io.type) {
        case io_type::read:
        case io_type::write:
            transferred(io, res);
            return;
        case io_type::flush:
            finish(io, res < 0 ? res : 0);
            return;
        case io_type::write_zeroes:
        case io_type::unmap:
            zeroed(io, res);
            return;
        case io_type::compare:
            break;
        }
        finish(io, -EINVAL);
    }

private:
    uint64_t bytes(const io& io) const { return io.num_blocks * block_size(); }
    uint64_t offset(const io& io) const { return io.offset_blocks * block_size() + io.drv.done; }

    uint32_t first_zero_step(uint32_t from) const {
        if (from == zero_range && !zero_range_ok_.load(std::memory_order_relaxed))
            from = punch_hole;
        if (from == punch_hole && !punch_hole_ok_.load(std::memory_order_relaxed)) {
            from = write_zeroes;
        }
        return from;
    }

    void start(io& io) {
        uring_engine* eng = uring_engine::local();
        if (eng == nullptr) {
            finish(io, -ENOMEM);  // io_uring unavailable on this thread (logged)
            return;
        }
        io_uring_sqe* sqe = eng->get_sqe();
        if (sqe == nullptr) {
            eng->wait(io);
            return;
        }
        switch (io.type) {
        case io_type::read:
        case io_type::write:
            prep_rw(sqe, io);
            break;
        case io_type::flush:
            io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
            break;
        case io_type::write_zeroes:
        case io_type::unmap:
            prep_zero(sqe, io);
            break;
        case io_type::compare:
            break;
        }
        eng->queue(sqe, io);
    }

    // What is left of the caller's iov after drv.done bytes, at most max_iov entries.
    int rest_iov(io& io, uint64_t want) {
        uint64_t skip = io.drv.done;
        int n = 0;
        for (int i = 0; i < io.iovcnt && n < io_driver_state::max_iov && want > 0; ++i) {
            uint64_t len = io.iov[i].iov_len;
            if (skip >= len) {
                skip -= len;
                continue;
            }
            len = std::min(len - skip, want);
            io.drv.iov[n++] = {static_cast<uint8_t*>(io.iov[i].iov_base) + skip, len};
            want -= len;
            skip = 0;
        }
        return n;
    }

    bool direct_ok(const io& io, int n, uint64_t off) const {
        if (fd_direct_ < 0 || !direct_.load(std::memory_order_relaxed)) return false;
        if (off % dio_offset_align_ != 0) return false;
        for (int i = 0; i < n; ++i) {
            const auto base = reinterpret_cast<uintptr_t>(io.drv.iov[i].iov_base);
            if (base % dio_mem_align_ != 0 || io.drv.iov[i].iov_len % dio_offset_align_ != 0) {
                return false;
            }
        }
        return true;
    }

    void prep_rw(io_uring_sqe* sqe, io& io) {
        const uint64_t off = offset(io);
        const int n = rest_iov(io, bytes(io) - io.drv.done);
        const bool direct = direct_ok(io, n, off);
        io.drv.step = direct ? step_direct : 0;
        const int fd = direct ? fd_direct_ : fd_;
        if (io.type == io_type::read) {
            io_uring_prep_readv(sqe, fd, io.drv.iov, static_cast<unsigned>(n), off);
        } else {
            io_uring_prep_writev(sqe, fd, io.drv.iov, static_cast<unsigned>(n), off);
            if (io.fua && !skip_sync_) sqe->rw_flags = RWF_DSYNC;
        }
    }

    void transferred(io& io, int res) {
        if (res == -EINVAL && io.drv.step == step_direct) {
            // The alignment guess was wrong for this file; stay buffered.
            if (direct_.exchange(false)) {
                log::warn("bdev {}: O_DIRECT refused an aligned I/O; using the page cache", name());
            }
            start(io);
            return;
        }
        if (res < 0) {
            finish(io, res);
            return;
        }
        if (res == 0) {
            // End of file inside the bdev (truncated under us) or a write that
            // moves nothing: a media error, not a hang.
            finish(io, -EIO);
            return;
        }
        io.drv.done += static_cast<uint64_t>(res);
        if (io.drv.done < bytes(io)) {
            start(io);  // short transfer: the rest
            return;
        }
        finish(io, 0);
    }

    void prep_zero(io_uring_sqe* sqe, io& io) {
        const uint64_t off = io.offset_blocks * block_size();
        const uint64_t len = bytes(io);
        switch (io.drv.step) {
        case zero_range:
            io_uring_prep_fallocate(sqe, fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                                    static_cast<off_t>(off), static_cast<off_t>(len));
            return;
        case punch_hole:
            io_uring_prep_fallocate(sqe, fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                    static_cast<off_t>(off), static_cast<off_t>(len));
            return;
        case write_zeroes: {
            const uint64_t at = off + io.drv.done;
            const uint64_t n = std::min<uint64_t>(len - io.drv.done, zero_buf_size);
            io.drv.iov[0] = {const_cast<uint8_t*>(zero_buf), n};
            const bool direct = fd_direct_ >= 0 && direct_.load(std::memory_order_relaxed) &&
                                at % dio_offset_align_ == 0 && n % dio_offset_align_ == 0;
            io_uring_prep_writev(sqe, direct ? fd_direct_ : fd_, io.drv.iov, 1, at);
            if (io.fua && !skip_sync_) sqe->rw_flags = RWF_DSYNC;
            return;
        }
        default:
            io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
            return;
        }
    }

    void zeroed(io& io, int res) {
        const bool unsupported = res == -EOPNOTSUPP || res == -EINVAL || res == -ENOTTY;
        switch (io.drv.step) {
        case zero_range:
        case punch_hole:
            if (unsupported) {
                // Remember for this bdev: the file system will not change its mind.
                (io.drv.step == zero_range ? zero_range_ok_ : punch_hole_ok_)
                    .store(false, std::memory_order_relaxed);
                io.drv.step = first_zero_step(io.drv.step + 1);
                start(io);
                return;
            }
            if (res < 0) {
                finish(io, res);
                return;
            }
            if (io.fua && !skip_sync_) {
                io.drv.step = sync_after;  // fallocate is metadata: make it durable
                start(io);
                return;
            }
            finish(io, 0);
            return;
        case write_zeroes:
            if (res <= 0) {
                finish(io, res < 0 ? res : -EIO);
                return;
            }
            io.drv.done += static_cast<uint64_t>(res);
            if (io.drv.done < bytes(io)) {
                start(io);
                return;
            }
            finish(io, 0);
            return;
        default:
            finish(io, res < 0 ? res : 0);
            return;
        }
    }

    const file_options opts_;
    const int fd_direct_;
    const int fd_;
    const uint32_t dio_mem_align_;
    const uint32_t dio_offset_align_;
    // Learned on the first refusal; read on every reactor (relaxed: a stale
    // value only costs one more refused attempt).
    std::atomic<bool> direct_{true};
    std::atomic<bool> zero_range_ok_{true};
    std::atomic<bool> punch_hole_ok_{true};
    const power_state power_;
    const bool skip_sync_;
};

error open_error(const file_options& o, int err, const char* what) {
    return make_error(-err, "bdev '" + o.name + "': cannot " + what + " '" + o.filename +
                                "': " + std::strerror(err));
}

}  // namespace

result<std::shared_ptr<block_device>> make_file(const file_options& o) {
    const int mode = o.readonly ? O_RDONLY : O_RDWR;
    const int fd = ::open(o.filename.c_str(), mode | O_CLOEXEC);
    if (fd < 0) return open_error(o, errno, "open");
    auto fail = [&](error e) {
        close(fd);
        return e;
    };
    struct stat st {};
    if (fstat(fd, &st) != 0) return fail(open_error(o, errno, "stat"));
    uint64_t size = 0;
    uint32_t logical = 512;
    const bool blk = S_ISBLK(st.st_mode);
    if (blk) {
        int ssz = 0;
        if (ioctl(fd, BLKGETSIZE64, &size) != 0) return fail(open_error(o, errno, "size"));
        if (ioctl(fd, BLKSSZGET, &ssz) != 0) return fail(open_error(o, errno, "size"));
        logical = static_cast<uint32_t>(ssz);
    } else if (S_ISREG(st.st_mode)) {
        size = static_cast<uint64_t>(st.st_size);
    } else {
        return fail(make_error(-EINVAL, "bdev '" + o.name + "': '" + o.filename +
                                            "' is neither a regular file nor a block device"));
    }
    const uint32_t bs = o.block_size != 0 ? o.block_size : logical;
    if (!valid_block_size(bs)) {
        return fail(make_error(-EINVAL, "bdev '" + o.name + "': block size " + std::to_string(bs) +
                                            " is not a power of two from 512 to 131072"));
    }
    if (blk && bs < logical) {
        return fail(make_error(-EINVAL, "bdev '" + o.name + "': block size " + std::to_string(bs) +
                                            " is smaller than the device's logical block size " +
                                            std::to_string(logical)));
    }
    if (size < bs) {
        return fail(make_error(
            -EINVAL, "bdev '" + o.name + "': '" + o.filename + "' holds " + std::to_string(size) +
                         " bytes, less than one block of " + std::to_string(bs)));
    }
    if (size % bs != 0) {
        log::warn("bdev {}: the last {} bytes of {} are not a whole block and stay unused", o.name,
                  size % bs, o.filename);
    }

    // Direct-I/O alignment: the device's logical block for block devices;
    // statx(STATX_DIOALIGN) for files where the kernel reports it, else 512
    // (a wrong guess is corrected at the first refusal, see transferred()).
    uint32_t mem_align = logical, off_align = logical;
    if (!blk) {
        struct statx sx {};
        if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
            (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align != 0) {
            mem_align = sx.stx_dio_mem_align;
            off_align = sx.stx_dio_offset_align;
        }
    }
    // A configured UUID wins; none (or the null UUID, as SPDK reads it): the
    // one that survives a restart.
    identity id{};
    if (o.uuid && !uuid_is_null(*o.uuid)) {
        id = {*o.uuid, id_origin::configured, "configured"};
    } else if (auto found = file_identity(fd, st, o.filename); found) {
        id = *found;
    } else {
        return fail(make_error(found.err().code, "bdev '" + o.name + "': " + found.err().message));
    }
    int fd_direct = ::open(o.filename.c_str(), mode | O_CLOEXEC | O_DIRECT);
    if (fd_direct < 0) {
        log::info("bdev {}: {} refuses O_DIRECT ({}); I/O goes through the page cache", o.name,
                  o.filename, std::strerror(errno));
    }
    const char* skip_env = std::getenv("NVMF_UNSAFE_SKIP_SYNC");  // NOLINT(concurrency-mt-unsafe)
    const bool skip_sync = skip_env != nullptr && std::strcmp(skip_env, "1") == 0 && !o.readonly;
    if (skip_sync) {
        log::error(
            "bdev {}: NVMF_UNSAFE_SKIP_SYNC=1: TEST ONLY, Flush and FUA do NOT sync {}: "
            "acknowledged writes are lost on a power cut",
            o.name, o.filename);
    }
    // Regular files only: a device node's attributes do not outlive the boot.
    const power_state power = blk ? power_state{} : power_on_file(fd, !o.readonly);
    file_bdev::params p{
        o,     fd_direct, fd, bs, size / bs, std::max(mem_align, 1u), std::max(off_align, 1u),
        power, skip_sync};
    auto dev = std::make_shared<file_bdev>(p);
    dev->set_uuid(id.uuid, id.origin, std::move(id.note));
    return std::shared_ptr<block_device>(std::move(dev));
}

}  // namespace nvmf::bdev
