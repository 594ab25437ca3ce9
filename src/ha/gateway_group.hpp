// A gateway group: several nvmf-target daemons export the same Ceph images
// as the same subsystems, and each ANA group is served by whichever gateway
// holds its lease in RADOS. Every gateway has a home group it takes when
// free; a group whose lease ran out (its gateway died or stalled) is taken
// over by a survivor, which first fences the last holder (blocklist, new OSD
// map) and only then makes its paths optimized. A path of a group this
// gateway does not hold is inaccessible, so hosts send a group's I/O to one
// gateway only. A gateway that comes back finds its home group held and
// stays a standby path for it: no I/O is taken from a working gateway.
// Design, states and timeouts: docs/gateway-group.md.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ha/rados_lease.hpp"
#include "nvmf/ana.hpp"

namespace nvmf {
class target;
}
namespace nvmf::bdev {
class rbd_cluster;
class rados_connection;
}  // namespace nvmf::bdev

namespace nvmf::ha {

struct gateway_group_options {
    std::string name;          // the group's name: part of its RADOS object names
    std::string cluster_name;  // a registered rbd cluster (bdev_rbd_register_cluster)
    std::string pool_name;     // where the lease objects live
    std::string gateway_id;    // unique in the group
    uint32_t home_ana_group = 0;
    std::vector<uint32_t> ana_groups;  // every group of the gateway group, home included
    std::chrono::milliseconds lease{10000};
    uint32_t blocklist_expire_s = 3600;
};

class gateway_group {
public:
    // Checks the options, opens the leases and starts the loop; every path of
    // the groups starts inaccessible until a lease is held.
    static result<std::unique_ptr<gateway_group>> join(target& tgt,
                                                       std::shared_ptr<bdev::rbd_cluster> cluster,
                                                       gateway_group_options opts);
    ~gateway_group();  // leave(): stops the loop and releases held leases
    gateway_group(const gateway_group&) = delete;
    gateway_group& operator=(const gateway_group&) = delete;

    const gateway_group_options& options() const { return opts_; }
    nlohmann::json info() const;

private:
    // held and holder change under apply_mtx_, with the paths' states; the
    // rest belongs to the thread that looks at the group: the renewer while
    // held, the loop otherwise.
    struct group {
        uint32_t anagrpid = 0;
        rados_lease lease;
        // Held by the group's home gateway while it runs, so the others
        // know to leave the group to it.
        rados_lease presence;
        bool present = false;  // this gateway holds presence (home group only)
        bool held = false;
        std::string holder;  // gateway_id of the current holder, for info()
        // Local end of the lease: a quarter of it before the OSD's, counted
        // from before the renewal was sent, so we stop serving first.
        std::chrono::steady_clock::time_point valid_until;
        bool seen_held = false;  // another holder seen since we last held it
        bool free_seen = false;
        std::chrono::steady_clock::time_point free_since;
    };

    gateway_group(target& tgt, std::shared_ptr<bdev::rbd_cluster> cluster,
                  gateway_group_options opts);
    void run();
    void renew_loop();
    bool wait_tick();  // false once stopping
    bool is_held(const group& g) const;
    void keep_presence(group& g);
    // Looks at a group we do not hold; true when it took it.
    bool step(group& g);
    bool take(group& g);
    void drop(group& g, const char* why);
    void apply(uint32_t anagrpid, ana_state s);
    std::chrono::milliseconds tick() const { return opts_.lease / 4; }

    target& tgt_;
    // The images' connection: its address is what a taker must fence.
    std::shared_ptr<bdev::rbd_cluster> cluster_;
    // The leases' own connection, with operation timeouts shorter than a
    // lease so a stuck OSD cannot hold the loop past the lease's end (the
    // images' connection waits for the OSD forever, as librbd expects).
    std::unique_ptr<bdev::rados_connection> lease_conn_;
    const gateway_group_options opts_;
    std::string my_addrs_;    // both connections' addresses, space-separated
    mutable std::mutex mtx_;  // stop_
    std::condition_variable cv_;
    mutable std::mutex apply_mtx_;
    std::set<std::string> fenced_addrs_;  // loop thread
    bool stop_ = false;
    std::atomic<bool> fenced_{false};
    std::vector<group> groups_;
    std::thread loop_;
    std::thread renewer_;
};

}  // namespace nvmf::ha
