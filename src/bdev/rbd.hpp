// Ceph RBD images as bdevs (SPDK's rbd bdev), on librbd/librados.
//
// A cluster connection (rados_t) is registered once by name and shared by
// every image opened through it (bdev_rbd_register_cluster); an image opened
// without a cluster name gets a connection of its own, as in SPDK. Connecting
// and opening block the calling thread, which is the control thread, never a
// reactor: I/O keeps flowing while an image opens.
//
// I/O is librbd's asynchronous API. librbd completes on its own threads; the
// completion is pushed onto a lock-free list of the submitting reactor and the
// reactor is woken through an eventfd, so the bdev's callback runs on the
// reactor that submitted, like every other bdev's.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bdev/bdev.hpp"
#include "util/result.hpp"

namespace nvmf::bdev {

// rados_conf_set pairs, in the order given.
using rbd_config = std::vector<std::pair<std::string, std::string>>;

struct rbd_cluster_options {
    std::string name;
    std::string user_id;      // "admin" for client.admin; empty: librados' default
    rbd_config config_param;  // set after config_file is read
    std::string config_file;  // empty: librados' default search unless config_param is given
    std::string key_file;
    std::string core_mask;  // recorded for save_config; librbd's threads are its own
};

class rbd_cluster;

// The registered clusters of a target, by name. Thread-safe (control path).
class rbd_clusters {
public:
    result<void> add(const rbd_cluster_options& opts);
    // -EBUSY while an image opened through it is still a bdev.
    result<void> remove(const std::string& name);
    std::shared_ptr<rbd_cluster> find(const std::string& name) const;
    std::vector<std::shared_ptr<rbd_cluster>> list() const;

private:
    mutable std::mutex mtx_;
    std::map<std::string, std::shared_ptr<rbd_cluster>> clusters_;
};

// SPDK's bdev_rbd_get_clusters_info entry of one cluster.
nlohmann::json rbd_cluster_info(const rbd_cluster& c);
const rbd_cluster_options& rbd_cluster_opts(const rbd_cluster& c);

struct rbd_options {
    std::string name;
    std::string pool_name;
    std::string rbd_name;
    uint32_t block_size = 512;
    bool read_only = false;
    std::optional<uuid_t> uuid;
    // Either a registered cluster, or a connection of the image's own.
    std::shared_ptr<rbd_cluster> cluster;
    std::string user_id;
    rbd_config config;
};
result<std::shared_ptr<block_device>> make_rbd(const rbd_options& opts);
// Grows the image of an rbd bdev to new_bytes and the bdev with it (SPDK's
// bdev_rbd_resize: shrinking is refused). -ENODEV when dev is not an rbd bdev.
// The caller tells the namespaces' controllers.
result<void> rbd_resize(block_device& dev, uint64_t new_bytes);

}  // namespace nvmf::bdev
