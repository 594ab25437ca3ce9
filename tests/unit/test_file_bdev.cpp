// The io_uring file bdev on its own: opening (errors, capacity), every I/O
// type on a page-cache-only file system (/dev/shm, tmpfs: no O_DIRECT, no
// ZERO_RANGE) and on a disk file system (/var/tmp), aligned and unaligned
// buffers, ENOSPC on a tiny tmpfs (root only), completions through a running
// reactor's epoll, the Volatile Write Cache feature, and the errno -> NVMe
// status mapping.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "admin_test_fixture.hpp"
#include "bdev/bdev.hpp"
#include "nvme/spec/identify.hpp"
#include "nvmf/cmd/handlers.hpp"
#include "reactor/reactor.hpp"

namespace nvmf::test {
namespace {

using bdev::io_type;

// A file of `bytes` bytes (sparse) in a fresh directory under `parent`.
class temp_file {
public:
    temp_file(const std::string& parent, uint64_t bytes) {
        std::string tmpl = parent + "/nvmf-file-bdev-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) return;
        dir = tmpl;
        path = dir + "/disk.img";
        const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
        if (fd < 0) return;
        ok = ::ftruncate(fd, static_cast<off_t>(bytes)) == 0;
        ::close(fd);
    }
    ~temp_file() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
    std::string dir, path;
    bool ok = false;
};

// Runs one I/O to completion; off a reactor the engine waits inline.
int run_io(bdev::block_device& dev, io_type t, uint64_t slba, uint64_t nlb, void* buf = nullptr,
           size_t len = 0, bool fua = false) {
    iovec iov{buf, len};
    bdev::io io;
    io.type = t;
    io.offset_blocks = slba;
    io.num_blocks = nlb;
    io.fua = fua;
    if (buf != nullptr) {
        io.iov = &iov;
        io.iovcnt = 1;
    }
    int result = 1;
    io.ctx = &result;
    io.cb = [](bdev::io& i, int r) { *static_cast<int*>(i.ctx) = r; };
    dev.submit(io);
    EXPECT_NE(result, 1) << "the I/O did not complete";
    return result;
}

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
}

std::shared_ptr<bdev::block_device> open_file(
    const std::string& path, uint32_t bs = 0,
    bdev::file_options::kind k = bdev::file_options::kind::uring, bool readonly = false) {
    bdev::file_options o;
    o.name = "File0";
    o.filename = path;
    o.block_size = bs;
    o.type = k;
    o.readonly = readonly;
    auto r = bdev::make_file(o);
    EXPECT_TRUE(r) << r.err().message;
    return r ? *r : nullptr;
}

TEST(file_bdev, open_errors_are_clear) {
    bdev::file_options o;
    o.name = "F";
    o.filename = "/nonexistent/nvmf-no-such-file";
    auto r = bdev::make_file(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, -ENOENT);
    EXPECT_NE(r.err().message.find("/nonexistent/nvmf-no-such-file"), std::string::npos);
    EXPECT_NE(r.err().message.find("No such file"), std::string::npos) << r.err().message;

    o.filename = "/tmp";
    r = bdev::make_file(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, -EISDIR) << r.err().message;  // open(O_RDWR) of a directory

    temp_file tiny("/dev/shm", 100);
    ASSERT_TRUE(tiny.ok);
    o.filename = tiny.path;
    r = bdev::make_file(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, -EINVAL);
    EXPECT_NE(r.err().message.find("less than one block"), std::string::npos) << r.err().message;

    temp_file f("/dev/shm", 1 << 20);
    o.filename = f.path;
    o.block_size = 3000;
    r = bdev::make_file(o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, -EINVAL);
}

TEST(file_bdev, capacity_from_the_file_size) {
    temp_file f("/dev/shm", (1 << 20) + 100);  // a partial last block is not exported
    ASSERT_TRUE(f.ok);
    auto d = open_file(f.path);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->block_size(), 512u);
    EXPECT_EQ(d->num_blocks(), 2048u);
    auto d4 = open_file(f.path, 4096);
    ASSERT_TRUE(d4);
    EXPECT_EQ(d4->num_blocks(), 256u);
    EXPECT_STREQ(d->product_name(), "URING bdev");
    EXPECT_EQ(d->driver_specific()["uring"]["filename"], f.path);
    EXPECT_TRUE(d->volatile_write_cache());
    EXPECT_FALSE(d->supports(io_type::compare));
    EXPECT_TRUE(d->supports(io_type::unmap));
}

// Every I/O type on one file system; run for tmpfs and a disk file system.
void io_types(const std::string& parent) {
    SCOPED_TRACE(parent);
    constexpr uint32_t bs = 4096;
    temp_file f(parent, 8 << 20);
    ASSERT_TRUE(f.ok) << "cannot create a file under " << parent;
    auto d = open_file(f.path, bs);
    ASSERT_TRUE(d);

    // Aligned buffers (O_DIRECT where the file system allows it) and
    // unaligned ones (page cache), several sizes, FUA and not.
    auto* aligned = static_cast<uint8_t*>(std::aligned_alloc(4096, 256 * 1024));
    ASSERT_NE(aligned, nullptr);
    std::vector<uint8_t> unaligned_store(256 * 1024 + 1);
    uint8_t* unaligned = unaligned_store.data() + 1;
    uint32_t seed = 1;
    for (uint8_t* buf : {aligned, unaligned}) {
        for (uint32_t n : {bs, 8 * bs, 64 * bs}) {
            for (bool fua : {false, true}) {
                const uint64_t slba = seed * 70;
                const auto data = pattern(n, seed++);
                std::memcpy(buf, data.data(), n);
                ASSERT_EQ(run_io(*d, io_type::write, slba, n / bs, buf, n, fua), 0);
                std::memset(buf, 0, n);
                ASSERT_EQ(run_io(*d, io_type::read, slba, n / bs, buf, n), 0);
                ASSERT_EQ(std::memcmp(buf, data.data(), n), 0) << "n " << n << " fua " << fua;
            }
        }
    }
    EXPECT_EQ(run_io(*d, io_type::flush, 0, 0), 0);

    // The bytes are in the file itself.
    {
        const auto data = pattern(bs, 99);
        std::memcpy(aligned, data.data(), bs);
        ASSERT_EQ(run_io(*d, io_type::write, 5, 1, aligned, bs), 0);
        std::vector<uint8_t> back(bs);
        const int fd = ::open(f.path.c_str(), O_RDONLY);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::pread(fd, back.data(), bs, 5 * bs), static_cast<ssize_t>(bs));
        ::close(fd);
        EXPECT_EQ(back, data);
    }

    // Write Zeroes and Deallocate read back as zeroes, neighbours untouched.
    for (io_type t : {io_type::write_zeroes, io_type::unmap}) {
        const auto data = pattern(16 * bs, seed++);
        std::memcpy(aligned, data.data(), 16 * bs);
        ASSERT_EQ(run_io(*d, io_type::write, 100, 16, aligned, 16 * bs), 0);
        ASSERT_EQ(run_io(*d, t, 104, 8), 0);
        ASSERT_EQ(run_io(*d, io_type::read, 100, 16, aligned, 16 * bs), 0);
        EXPECT_EQ(std::memcmp(aligned, data.data(), 4 * bs), 0);
        EXPECT_EQ(std::memcmp(aligned + 12 * bs, data.data() + 12 * bs, 4 * bs), 0);
        const std::vector<uint8_t> zero(8 * bs, 0);
        EXPECT_EQ(std::memcmp(aligned + 4 * bs, zero.data(), 8 * bs), 0)
            << (t == io_type::unmap ? "unmap" : "write zeroes");
    }
    // With FUA (a durable Write Zeroes needs an fdatasync after fallocate).
    ASSERT_EQ(run_io(*d, io_type::write_zeroes, 0, 8, nullptr, 0, true), 0);

    // Out of range, last block, compare.
    EXPECT_EQ(run_io(*d, io_type::read, d->num_blocks(), 1, aligned, bs), -ERANGE);
    EXPECT_EQ(run_io(*d, io_type::write, d->num_blocks() - 1, 2, aligned, 2 * bs), -ERANGE);
    EXPECT_EQ(run_io(*d, io_type::write, d->num_blocks() - 1, 1, aligned, bs), 0);
    EXPECT_EQ(run_io(*d, io_type::compare, 0, 1, aligned, bs), -ENOTSUP);
    std::free(aligned);
}

TEST(file_bdev, io_types_on_tmpfs) { io_types("/dev/shm"); }
TEST(file_bdev, io_types_on_disk) { io_types("/var/tmp"); }

TEST(file_bdev, readonly_aio_refuses_writes) {
    temp_file f("/dev/shm", 1 << 20);
    ASSERT_TRUE(f.ok);
    auto d = open_file(f.path, 512, bdev::file_options::kind::aio, true);
    ASSERT_TRUE(d);
    EXPECT_STREQ(d->product_name(), "AIO disk");
    EXPECT_EQ(d->driver_specific()["aio"]["readonly"], true);
    EXPECT_FALSE(d->volatile_write_cache());  // nothing is ever written
    std::vector<uint8_t> buf(512);
    EXPECT_EQ(run_io(*d, io_type::read, 0, 1, buf.data(), 512), 0);
    EXPECT_EQ(run_io(*d, io_type::write, 0, 1, buf.data(), 512), -EROFS);
    EXPECT_EQ(run_io(*d, io_type::write_zeroes, 0, 1), -EROFS);
    EXPECT_EQ(run_io(*d, io_type::unmap, 0, 1), -EROFS);
    EXPECT_EQ(run_io(*d, io_type::flush, 0, 0), 0);
}

// NVMF_UNSAFE_SKIP_SYNC=1 (the power-loss test's switch, read when the bdev
// is opened): Flush completes at once and FUA writes still write. Whether they
// are durable only a power cut shows: tests/interop/run-power-loss.
TEST(file_bdev, unsafe_skip_sync_switch_still_does_io) {
    temp_file f("/var/tmp", 1 << 20);
    ASSERT_TRUE(f.ok);
    ::setenv("NVMF_UNSAFE_SKIP_SYNC", "1", 1);
    auto d = open_file(f.path, 4096, bdev::file_options::kind::uring, false);
    ::unsetenv("NVMF_UNSAFE_SKIP_SYNC");
    ASSERT_TRUE(d);
    auto* buf = static_cast<uint8_t*>(std::aligned_alloc(4096, 4096));
    const auto data = pattern(4096, 7);
    std::memcpy(buf, data.data(), 4096);
    EXPECT_EQ(run_io(*d, io_type::write, 3, 1, buf, 4096, true), 0);
    EXPECT_EQ(run_io(*d, io_type::flush, 0, 0), 0);
    EXPECT_EQ(run_io(*d, io_type::write_zeroes, 8, 2, nullptr, 0, true), 0);
    std::memset(buf, 0, 4096);
    EXPECT_EQ(run_io(*d, io_type::read, 3, 1, buf, 4096), 0);
    EXPECT_EQ(std::memcmp(buf, data.data(), 4096), 0);
    std::free(buf);
}

// A tmpfs of 256 KiB holding a sparse 4 MiB file: writing past 256 KiB fails
// with ENOSPC. Needs root (mount); skipped otherwise.
class tiny_tmpfs {
public:
    tiny_tmpfs() {
        char tmpl[] = "/tmp/nvmf-enospc-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) return;
        dir = tmpl;
        if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=256k") != 0) {
            why = std::string("mount -t tmpfs: ") + std::strerror(errno);
            return;
        }
        mounted = true;
    }
    ~tiny_tmpfs() {
        if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
        if (!dir.empty()) ::rmdir(dir.c_str());
    }
    std::string dir, why;
    bool mounted = false;
};

TEST(file_bdev, enospc_on_a_full_file_system) {
    tiny_tmpfs fs;
    if (!fs.mounted) GTEST_SKIP() << "needs root to mount a tiny tmpfs (" << fs.why << ")";
    const std::string path = fs.dir + "/disk.img";
    const int fd = ::open(path.c_str(), O_CREAT | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 4 << 20), 0);
    ::close(fd);
    auto d = open_file(path, 4096);
    ASSERT_TRUE(d);
    std::vector<uint8_t> buf(64 * 1024, 0x5a);
    int r = 0;
    uint64_t slba = 0;
    for (; slba + 16 <= d->num_blocks() && r == 0; slba += 16) {
        r = run_io(*d, io_type::write, slba, 16, buf.data(), buf.size());
    }
    EXPECT_EQ(r, -ENOSPC) << "after " << slba << " blocks";
    EXPECT_LE(slba * 4096, 512u * 1024);
}

// Completions come back through the reactor's epoll (the ring's eventfd),
// on the reactor thread, and the I/O is submitted at the end of the batch.
TEST(file_bdev, completes_on_a_running_reactor) {
    temp_file f("/dev/shm", 1 << 20);
    ASSERT_TRUE(f.ok);
    auto d = open_file(f.path, 512);
    ASSERT_TRUE(d);
    reactor r(0);
    r.start_thread();
    while (!r.running()) std::this_thread::yield();

    constexpr int n = 64;
    struct slot {
        bdev::io io;
        iovec iov;
        std::vector<uint8_t> buf = std::vector<uint8_t>(512);
        std::promise<std::pair<int, bool>> done;
    };
    std::vector<slot> slots(n);
    auto run_batch = [&](io_type t) {
        std::vector<std::future<std::pair<int, bool>>> futs;
        for (auto& s : slots) {
            s.done = {};
            futs.push_back(s.done.get_future());
        }
        r.post([&] {
            for (int i = 0; i < n; ++i) {
                auto& s = slots[i];
                s.iov = {s.buf.data(), s.buf.size()};
                s.io = {};
                s.io.type = t;
                s.io.offset_blocks = static_cast<uint64_t>(i);
                s.io.num_blocks = 1;
                s.io.iov = &s.iov;
                s.io.iovcnt = 1;
                s.io.ctx = &s;
                s.io.cb = [](bdev::io& io, int res) {
                    static_cast<slot*>(io.ctx)->done.set_value(
                        {res, reactor::current() != nullptr});
                };
                d->submit(s.io);
            }
        });
        for (auto& fu : futs) {
            ASSERT_EQ(fu.wait_for(std::chrono::seconds(20)), std::future_status::ready);
            const auto [res, on_reactor] = fu.get();
            EXPECT_EQ(res, 0);
            EXPECT_TRUE(on_reactor);
        }
    };
    for (int i = 0; i < n; ++i) std::memset(slots[i].buf.data(), i + 1, 512);
    run_batch(io_type::write);
    for (auto& s : slots) std::fill(s.buf.begin(), s.buf.end(), 0);
    run_batch(io_type::read);
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(slots[i].buf[0], i + 1);
        EXPECT_EQ(slots[i].buf[511], i + 1);
    }
    r.stop();
    r.join();
}

TEST(file_bdev, errno_to_nvme_status) {
    using spec::make_status;
    using spec::sct;
    EXPECT_EQ(cmd::bdev_status(0, io_type::read), 0);
    EXPECT_EQ(cmd::bdev_status(-EIO, io_type::read),
              make_status(sct::media_error, spec::sc_media::unrecovered_read_error, false));
    EXPECT_EQ(cmd::bdev_status(-EIO, io_type::write),
              make_status(sct::media_error, spec::sc_media::write_fault, false));
    EXPECT_EQ(cmd::bdev_status(-EIO, io_type::flush),
              make_status(sct::media_error, spec::sc_media::write_fault, false));
    EXPECT_EQ(cmd::bdev_status(-ENOSPC, io_type::write),
              make_status(sct::generic, spec::sc::capacity_exceeded, true));
    EXPECT_EQ(spec::sc::capacity_exceeded, 0x81);
    EXPECT_EQ(cmd::bdev_status(-EROFS, io_type::write),
              make_status(sct::generic, spec::sc::namespace_is_write_protected, true));
    EXPECT_EQ(cmd::bdev_status(-ERANGE, io_type::read),
              make_status(sct::generic, spec::sc::lba_out_of_range, true));
    for (int e : {-ENOMEM, -EBADF, -EFAULT, -12345}) {
        EXPECT_EQ(cmd::bdev_status(e, io_type::write),
                  make_status(sct::generic, spec::sc::internal_device_error, false))
            << e;
    }
}

// Volatile Write Cache: present with a file namespace, on by default,
// changeable, and off makes writes durable (fua) in the I/O path.
class file_features : public admin_fixture {};

TEST_F(file_features, volatile_write_cache_with_a_file_namespace) {
    temp_file f("/dev/shm", 1 << 20);
    ASSERT_TRUE(f.ok);
    auto d = open_file(f.path, 512);
    ASSERT_TRUE(d);
    ns_params np;
    np.nsid = 1;
    ASSERT_TRUE(subsys->add_ns(d, np));
    make_controller();
    constexpr uint32_t fid = spec::feat::volatile_write_cache;

    auto id = run(spec::admin_opc::identify, 4096, 0x01);
    ASSERT_EQ(last().status, 0);
    EXPECT_EQ(id->as<spec::identify_ctrlr>().vwc & 1, 1);

    run(spec::admin_opc::get_features, 0, fid);
    EXPECT_EQ(last().cdw0, 1u);  // on by default
    run(spec::admin_opc::get_features, 0, fid | (3u << 8));
    EXPECT_EQ(last().cdw0, 1u << 2);  // changeable
    run(spec::admin_opc::set_features, 0, fid, 0);
    EXPECT_EQ(last().status, 0);
    EXPECT_FALSE(ctrlr->write_cache_enabled.load());
    run(spec::admin_opc::get_features, 0, fid);
    EXPECT_EQ(last().cdw0, 0u);
    run(spec::admin_opc::get_features, 0, fid | (1u << 8));
    EXPECT_EQ(last().cdw0, 1u);  // the default is still "on"

    // A write with the cache off reaches the bdev as a durable write.
    command w(qp.get(), spec::io_opc::write, 512, 99);
    w.req.cmd.nsid = 1;
    qp->qid = 1;
    cmd::io(w.req);
    ASSERT_EQ(last().cid, 99);
    EXPECT_EQ(last().status, 0);
    EXPECT_TRUE(w.req.bio.fua);

    run(spec::admin_opc::set_features, 0, fid, 1);
    EXPECT_TRUE(ctrlr->write_cache_enabled.load());
    command w2(qp.get(), spec::io_opc::write, 512, 100);
    w2.req.cmd.nsid = 1;
    cmd::io(w2.req);
    EXPECT_EQ(last().status, 0);
    EXPECT_FALSE(w2.req.bio.fua);
}

}  // namespace
}  // namespace nvmf::test
