// RADOS cluster connections for the rbd bdev (bdev_rbd_register_cluster).
#include "bdev/rbd_cluster.hpp"

#include <cstring>

#include "bdev/rbd.hpp"

namespace nvmf::bdev {

namespace {

// librados waits client_mount_timeout (300 s by default) for a monitor; a
// wrong address would hold the control thread that long. Unless the user
// set it, give up sooner.
constexpr const char* default_mount_timeout = "30";

bool has_key(const rbd_config& c, const char* key) {
    for (const auto& [k, v] : c) {
        if (k == key) return true;
    }
    return false;
}

error rados_error(int rc, const std::string& what) {
    return error{rc, what + ": " + std::strerror(-rc)};
}

}  // namespace

result<rados_connection> rados_connection::connect(const std::string& user_id,
                                                   const std::string& config_file,
                                                   const std::string& key_file,
                                                   const rbd_config& config) {
    rados_connection c;
    int rc = rados_create(&c.handle_, user_id.empty() ? nullptr : user_id.c_str());
    if (rc < 0) return rados_error(rc, "rados_create");
    // SPDK's rule: a config file when named, librados' default search
    // (CEPH_CONF, /etc/ceph/ceph.conf...) when neither a file nor pairs are given.
    if (!config_file.empty() || config.empty()) {
        rc = rados_conf_read_file(c.handle_, config_file.empty() ? nullptr : config_file.c_str());
        if (rc < 0) {
            return rados_error(rc, config_file.empty()
                                       ? std::string("reading the default Ceph config")
                                       : "reading " + config_file);
        }
    }
    if (!key_file.empty()) {
        rc = rados_conf_set(c.handle_, "keyring", key_file.c_str());
        if (rc < 0) return rados_error(rc, "setting keyring to " + key_file);
    }
    for (const auto& [k, v] : config) {
        rc = rados_conf_set(c.handle_, k.c_str(), v.c_str());
        if (rc < 0) return rados_error(rc, "config '" + k + "' = '" + v + "'");
    }
    if (!has_key(config, "client_mount_timeout") && !has_key(config, "client mount timeout")) {
        rados_conf_set(c.handle_, "client_mount_timeout", default_mount_timeout);
    }
    rc = rados_connect(c.handle_);
    if (rc < 0) return rados_error(rc, "connecting to the Ceph cluster");
    c.connected_ = true;
    return c;
}

rados_connection::rados_connection(rados_connection&& o) noexcept
    : handle_(o.handle_), connected_(o.connected_) {
    o.handle_ = nullptr;
    o.connected_ = false;
}

rados_connection::~rados_connection() {
    // rados_shutdown also frees a handle that never connected.
    if (handle_ != nullptr) rados_shutdown(handle_);
}

bool rados_connection::cache_enabled() const {
    char value[16] = {};
    if (rados_conf_get(handle_, "rbd_cache", value, sizeof(value)) < 0) return true;
    return std::strcmp(value, "false") != 0 && std::strcmp(value, "0") != 0;
}

result<void> rbd_clusters::add(const rbd_cluster_options& opts) {
    {
        std::lock_guard lk(mtx_);
        if (clusters_.count(opts.name) != 0) {
            return error{-EEXIST, "cluster '" + opts.name + "' is already registered"};
        }
    }
    // Connecting may take seconds: not under the lock.
    auto conn =
        rados_connection::connect(opts.user_id, opts.config_file, opts.key_file, opts.config_param);
    if (!conn) return conn.err();
    auto c = std::make_shared<rbd_cluster>(opts, std::move(*conn));
    std::lock_guard lk(mtx_);
    if (!clusters_.emplace(opts.name, std::move(c)).second) {
        return error{-EEXIST, "cluster '" + opts.name + "' is already registered"};
    }
    return {};
}

result<void> rbd_clusters::remove(const std::string& name) {
    std::lock_guard lk(mtx_);
    auto it = clusters_.find(name);
    if (it == clusters_.end()) return error{-ENOENT, "cluster '" + name + "' is not registered"};
    // Every open image holds a reference to its cluster.
    if (it->second.use_count() > 1) {
        return error{-EBUSY, "cluster '" + name + "' is still used by rbd bdevs"};
    }
    clusters_.erase(it);
    return {};
}

std::shared_ptr<rbd_cluster> rbd_clusters::find(const std::string& name) const {
    std::lock_guard lk(mtx_);
    auto it = clusters_.find(name);
    return it == clusters_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<rbd_cluster>> rbd_clusters::list() const {
    std::lock_guard lk(mtx_);
    std::vector<std::shared_ptr<rbd_cluster>> out;
    for (const auto& [n, c] : clusters_) out.push_back(c);
    return out;
}

const rbd_cluster_options& rbd_cluster_opts(const rbd_cluster& c) { return c.opts; }

nlohmann::json rbd_cluster_info(const rbd_cluster& c) {
    nlohmann::json j{{"cluster_name", c.opts.name}};
    if (!c.opts.user_id.empty()) j["user_id"] = c.opts.user_id;
    if (!c.opts.config_param.empty()) {
        nlohmann::json p = nlohmann::json::object();
        for (const auto& [k, v] : c.opts.config_param) p[k] = v;
        j["config_param"] = std::move(p);
    }
    if (!c.opts.config_file.empty()) j["config_file"] = c.opts.config_file;
    if (!c.opts.key_file.empty()) j["key_file"] = c.opts.key_file;
    if (!c.opts.core_mask.empty()) j["core_mask"] = c.opts.core_mask;
    return j;
}

}  // namespace nvmf::bdev
