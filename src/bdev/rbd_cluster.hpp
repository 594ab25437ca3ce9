// A connected rados_t, owned (internal to the rbd bdev).
#pragma once

#include <rados/librados.h>

#include <string>

#include "bdev/rbd.hpp"

namespace nvmf::bdev {

class rados_connection {
public:
    static result<rados_connection> connect(const std::string& user_id,
                                            const std::string& config_file,
                                            const std::string& key_file, const rbd_config& config);
    rados_connection(rados_connection&& o) noexcept;
    rados_connection& operator=(rados_connection&&) = delete;
    rados_connection(const rados_connection&) = delete;
    ~rados_connection();

    rados_t handle() const { return handle_; }
    // librbd's client cache (rbd_cache): when on, writes are volatile until a flush.
    bool cache_enabled() const;

private:
    rados_connection() = default;
    rados_t handle_ = nullptr;
    bool connected_ = false;
};

class rbd_cluster {
public:
    rbd_cluster(rbd_cluster_options o, rados_connection c)
        : opts(std::move(o)), conn(std::move(c)) {}
    const rbd_cluster_options opts;
    rados_connection conn;
};

}  // namespace nvmf::bdev
