// The rbd bdev: one open librbd image, I/O through librbd's aio calls.
#include "bdev/rbd.hpp"

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "bdev/file_identity.hpp"
#include "bdev/rbd_cluster.hpp"
#include "bdev/rbd_completions.hpp"
#include "util/log.hpp"

namespace nvmf::bdev {

namespace {

// io.drv.step: a FUA write with librbd's cache on is the write, then a flush.
enum rbd_step : uint32_t { step_once = 0, step_write_then_flush = 1, step_flush_after_write = 2 };

error rbd_error(int rc, const std::string& what) {
    return error{rc, what + ": " + std::strerror(-rc)};
}

// The open image and what it needs: the pool context and, for an image
// opened without a registered cluster, its own connection.
class rbd_image {
public:
    rbd_image() = default;
    rbd_image(const rbd_image&) = delete;
    rbd_image& operator=(const rbd_image&) = delete;
    ~rbd_image() {
        // rbd_close waits for the image's outstanding I/O; only then may the
        // pool context and the connection go.
        if (image_ != nullptr) rbd_close(image_);
        if (ioctx_ != nullptr) rados_ioctx_destroy(ioctx_);
    }

    result<void> open(const rbd_options& o) {
        if (o.cluster) {
            cluster_ = o.cluster->conn.handle();
            cache_ = o.cluster->conn.cache_enabled();
        } else {
            auto c = rados_connection::connect(o.user_id, "", "", o.config);
            if (!c) return c.err();
            own_conn_.emplace(std::move(*c));
            cluster_ = own_conn_->handle();
            cache_ = own_conn_->cache_enabled();
        }
        int rc = rados_ioctx_create(cluster_, o.pool_name.c_str(), &ioctx_);
        if (rc < 0) {
            ioctx_ = nullptr;
            return rbd_error(rc, "pool '" + o.pool_name + "'");
        }
        rc = o.read_only ? rbd_open_read_only(ioctx_, o.rbd_name.c_str(), &image_, nullptr)
                         : rbd_open(ioctx_, o.rbd_name.c_str(), &image_, nullptr);
        if (rc < 0) {
            image_ = nullptr;
            return rbd_error(rc, "image '" + o.pool_name + "/" + o.rbd_name + "'");
        }
        return {};
    }

    result<uint64_t> size() const {
        uint64_t size = 0;
        if (const int rc = rbd_get_size(image_, &size); rc < 0)
            return rbd_error(rc, "rbd_get_size");
        return size;
    }

    // Derived from the cluster's fsid, the pool and the image's id, so every
    // gateway exporting the same image (and every restart) gives its
    // namespace the same identifiers.
    result<std::string> identity() const {
        char fsid[64] = {};
        char id[64] = {};
        if (const int rc = rados_cluster_fsid(cluster_, fsid, sizeof(fsid)); rc < 0) {
            return rbd_error(rc, "rados_cluster_fsid");
        }
        if (const int rc = rbd_get_id(image_, id, sizeof(id)); rc < 0) {
            return rbd_error(rc, "rbd_get_id");
        }
        return std::string("rbd:") + fsid + "/" + std::to_string(rados_ioctx_get_id(ioctx_)) + "/" +
               id;
    }

    rbd_image_t handle() const { return image_; }
    bool cache_enabled() const { return cache_; }

private:
    std::optional<rados_connection> own_conn_;
    rados_t cluster_ = nullptr;
    rados_ioctx_t ioctx_ = nullptr;
    rbd_image_t image_ = nullptr;
    bool cache_ = true;
};

class rbd_bdev final : public block_device, public rbd_client {
public:
    rbd_bdev(rbd_options o, uint32_t block_size, uint64_t num_blocks,
             std::unique_ptr<rbd_image> img)
        : block_device(o.name, block_size, num_blocks), opts_(std::move(o)), img_(std::move(img)),
          image_(img_->handle()), cache_(img_->cache_enabled()) {}
    rbd_bdev(const rbd_bdev&) = delete;
    rbd_bdev& operator=(const rbd_bdev&) = delete;
    ~rbd_bdev() override {
        // Unwatching waits for a notice being delivered; then nothing wakes
        // the refresher but us.
        if (watching_) rbd_update_unwatch(image_, watch_);
        if (refresher_.joinable()) {
            {
                std::lock_guard lk(refresh_mtx_);
                stop_ = true;
            }
            refresh_cv_.notify_one();
            refresher_.join();
        }
    }

    // Follows the image's size when another client (the rbd tool, another
    // gateway) resizes it: librbd tells its watchers of header changes. The
    // size is read on a thread of our own, as librbd may not be called back
    // from its notice (SPDK moves it to its app thread for the same reason).
    void watch_header() {
        refresher_ = std::thread([this] { refresh_loop(); });
        const int rc = rbd_update_watch(image_, &watch_, &rbd_bdev::on_header_update, this);
        if (rc < 0) {
            log::warn("rbd bdev {}: no notice of resizes by other clients (rbd_update_watch: {})",
                      name(), std::strerror(-rc));
            return;
        }
        watching_ = true;
    }

    result<void> grow(uint64_t new_bytes) {
        const uint64_t cur = num_blocks() * block_size();
        if (new_bytes < cur) {
            return error{-EINVAL, "bdev " + name() + " holds " + std::to_string(cur) +
                                      " bytes: an rbd bdev can only grow"};
        }
        if (const int rc = ::rbd_resize(image_, new_bytes); rc < 0) {
            return rbd_error(rc, "rbd_resize of " + opts_.pool_name + "/" + opts_.rbd_name);
        }
        // The header notice of our own resize may come first: announced once.
        grow_to(new_bytes / block_size());
        return {};
    }

    const char* product_name() const override { return "Ceph Rbd Disk"; }
    // Compare needs a bounce buffer per I/O; SPDK's rbd bdev has no compare either.
    bool supports(io_type t) const override { return t != io_type::compare; }
    bool volatile_write_cache() const override { return cache_ && !opts_.read_only; }
    bool read_only() const override { return opts_.read_only; }

    nlohmann::json driver_specific() const override {
        nlohmann::json r{{"pool_name", opts_.pool_name}, {"rbd_name", opts_.rbd_name}};
        if (opts_.cluster) {
            r["cluster_name"] = opts_.cluster->opts.name;
        } else {
            if (!opts_.user_id.empty()) r["user_id"] = opts_.user_id;
            nlohmann::json c = nlohmann::json::object();
            for (const auto& [k, v] : opts_.config) c[k] = v;
            if (!c.empty()) r["config"] = std::move(c);
        }
        r["read_only"] = opts_.read_only;
        return {{"rbd", std::move(r)}};
    }

    void submit(io& io) override {
        if (const int e = refusal(io, opts_.read_only); e != 0) {
            finish(io, e);
            return;
        }
        io.drv = {};
        io.drv.owner = static_cast<rbd_client*>(this);
        io.drv.step = (io.type == io_type::write && io.fua && volatile_write_cache())
                          ? step_write_then_flush
                          : step_once;
        start(io, io.type);
    }

    void on_rbd_done(io& io, int result) override {
        if (result >= 0 && io.drv.step == step_write_then_flush) {
            io.drv.step = step_flush_after_write;
            start(io, io_type::flush);
            return;
        }
        finish(io, result < 0 ? result : 0);
    }

private:
    static void on_librbd(rbd_completion_t c, void* arg) {
        auto* done = static_cast<io*>(arg);
        const ssize_t rc = rbd_aio_get_return_value(c);
        rbd_aio_release(c);
        static_cast<rbd_completions*>(done->drv.aux)
            ->push(*done, rc < 0 ? static_cast<int>(rc) : 0);
    }

    void start(io& io, io_type op) {
        rbd_completions* list = rbd_completions::local();
        io.drv.aux = list;
        rbd_completion_t c = nullptr;
        int rc = rbd_aio_create_completion(&io, list != nullptr ? on_librbd : nullptr, &c);
        if (rc < 0) {
            finish(io, rc);
            return;
        }
        const uint64_t off = io.offset_blocks * block_size();
        const uint64_t len = io.num_blocks * block_size();
        switch (op) {
        case io_type::read:
            rc = rbd_aio_readv(image_, io.iov, io.iovcnt, off, c);
            break;
        case io_type::write:
            rc = rbd_aio_writev(image_, io.iov, io.iovcnt, off, c);
            break;
        case io_type::flush:
            rc = rbd_aio_flush(image_, c);
            break;
        // Deallocated blocks must read back as zeroes (we report DLFEAT so):
        // librbd's write-zeroes deallocates whole objects and zeroes the rest,
        // where a discard may skip partial objects and leave old data.
        case io_type::write_zeroes:
        case io_type::unmap:
            rc = rbd_aio_write_zeroes(image_, off, len, c, 0, 0);
            break;
        case io_type::compare:
            rc = -ENOTSUP;
            break;
        }
        if (rc < 0) {
            rbd_aio_release(c);
            finish(io, rc);
            return;
        }
        if (list != nullptr) {
            ++list->in_flight;
            return;
        }
        // Off a reactor (tools, unit tests): wait here.
        rbd_aio_wait_for_complete(c);
        const ssize_t r = rbd_aio_get_return_value(c);
        rbd_aio_release(c);
        on_rbd_done(io, r < 0 ? static_cast<int>(r) : 0);
    }

    rbd_options opts_;
    std::unique_ptr<rbd_image> img_;
    rbd_image_t image_;
    bool cache_;

    static void on_header_update(void* arg) {
        auto* self = static_cast<rbd_bdev*>(arg);
        {
            std::lock_guard lk(self->refresh_mtx_);
            self->refresh_pending_ = true;
        }
        self->refresh_cv_.notify_one();
    }
    void refresh_loop() {
        std::unique_lock lk(refresh_mtx_);
        for (;;) {
            refresh_cv_.wait(lk, [this] { return stop_ || refresh_pending_; });
            if (stop_) return;
            refresh_pending_ = false;
            lk.unlock();
            uint64_t bytes = 0;
            if (const int rc = rbd_get_size(image_, &bytes); rc < 0) {
                log::warn("rbd bdev {}: reading the size after a header change: {}", name(),
                          std::strerror(-rc));
            } else if (bytes / block_size() < num_blocks()) {
                log::warn(
                    "rbd bdev {}: the image shrank to {} bytes; the namespace keeps its "
                    "size (blocks past the end now fail)",
                    name(), bytes);
            } else {
                grow_to(bytes / block_size());
            }
            lk.lock();
        }
    }
    uint64_t watch_ = 0;
    bool watching_ = false;
    std::thread refresher_;
    std::mutex refresh_mtx_;
    std::condition_variable refresh_cv_;
    bool refresh_pending_ = false;
    bool stop_ = false;
};

}  // namespace

result<void> rbd_resize(block_device& dev, uint64_t new_bytes) {
    auto* r = dynamic_cast<rbd_bdev*>(&dev);
    if (r == nullptr) return error{-ENODEV, "bdev " + dev.name() + " is not an rbd bdev"};
    return r->grow(new_bytes);
}

result<std::shared_ptr<block_device>> make_rbd(const rbd_options& opts) {
    if (opts.block_size == 0 || !valid_block_size(opts.block_size)) {
        return error{-EINVAL, "block_size must be a power of two from 512 to 131072"};
    }
    auto img = std::make_unique<rbd_image>();
    if (auto r = img->open(opts); !r) return r.err();
    auto size = img->size();
    if (!size) return size.err();
    if (*size < opts.block_size) {
        return error{-EINVAL, "image '" + opts.pool_name + "/" + opts.rbd_name + "' holds " +
                                  std::to_string(*size) + " bytes, less than one block"};
    }
    if (*size % opts.block_size != 0) {
        log::warn(
            "rbd bdev {}: the image's {} bytes are not a multiple of {}; the last {} "
            "bytes are not exported",
            opts.name, *size, opts.block_size, *size % opts.block_size);
    }
    uuid_t uuid{};
    std::string note = "configured";
    id_origin origin = id_origin::configured;
    if (opts.uuid) {
        uuid = *opts.uuid;
    } else {
        auto name = img->identity();
        if (!name) return name.err();
        auto u = name_based_uuid(derived_uuid_ns, *name);
        if (!u) return u.err();
        uuid = *u;
        origin = id_origin::device;
        note = "derived from the image's cluster, pool and id (" + *name + ")";
    }
    const uint64_t num_blocks = *size / opts.block_size;
    auto dev = std::make_shared<rbd_bdev>(opts, opts.block_size, num_blocks, std::move(img));
    dev->set_uuid(uuid, origin, std::move(note));
    dev->watch_header();
    return std::shared_ptr<block_device>(std::move(dev));
}

}  // namespace nvmf::bdev
