// The target: transports, subsystems (the discovery subsystem among them),
// bdevs and reactors. Control operations are synchronous, thread-safe and
// serialised by one mutex; the public asynchronous API (include/nvmf) runs
// them off the caller's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bdev/bdev.hpp"
#include "bdev/rbd.hpp"
#include "keyring/keyring.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvmf/stats.hpp"
#include "nvmf/subsystem.hpp"
#include "nvmf/tls_sock_options.hpp"
#include "reactor/reactor.hpp"
#include "transport/transport.hpp"

namespace nvmf {
namespace ha {
class gateway_group;
}

struct request;

class target {
public:
    explicit target(reactor_group& reactors);
    ~target();
    target(const target&) = delete;
    target& operator=(const target&) = delete;

    reactor_group& reactors;
    // When this target was made: the SMART log's Power On Hours count from it
    // (the daemon is the drive that was powered on).
    const std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
    bdev::registry bdevs;
    // Ceph clusters registered for rbd bdevs (bdev_rbd_register_cluster).
    bdev::rbd_clusters rbd_clusters;
    // Secrets by name (keyring_file_add_key); subsystem hosts refer to them.
    keyring::store keys;
    // DH-HMAC-CHAP digests and DH groups a controller may pick (nvmf_set_config
    // dhchap_digests / dhchap_dhgroups): bit n allows identifier n. Default:
    // SHA-256/384/512 and null, ffdhe2048..8192, as SPDK.
    std::atomic<uint32_t> dhchap_digests{0x0e};
    std::atomic<uint32_t> dhchap_dhgroups{0x3f};

    // Transports.
    result<void> add_transport(std::unique_ptr<transport> t);
    transport* find_transport(const std::string& trtype);
    std::vector<transport*> transports();

    // Subsystems.
    result<std::shared_ptr<subsystem>> create_subsystem(const std::string& nqn,
                                                        const subsystem_params& p);
    result<void> delete_subsystem(const std::string& nqn);
    std::shared_ptr<subsystem> find_subsystem(const std::string& nqn);
    std::vector<std::shared_ptr<subsystem>> subsystems();  // discovery first
    std::shared_ptr<subsystem> discovery();
    // SPDK's nvmf_set_max_subsystems: how many subsystems may exist at once,
    // the discovery subsystem included. Lowering it below the current count
    // is an error.
    static constexpr uint32_t default_max_subsystems = 1024;
    result<void> set_max_subsystems(uint32_t n);
    uint32_t max_subsystems();

    // Listeners. add_listener allows the subsystem on trid and makes sure the
    // transport listens there; the socket closes when no subsystem uses it.
    // A secure_channel listener takes TLS connections only (NVMe/TCP), a
    // secure_concat one also plain admin queues generating their TLS PSK;
    // every subsystem on one address must agree on it.
    result<void> add_listener(const std::string& nqn, const transport_id& trid,
                              ana_state initial = ana_state::optimized,
                              listener_security sec = listener_security::plain);
    result<void> remove_listener(const std::string& nqn, const transport_id& trid);
    result<void> listen(const transport_id& trid, listener_security sec = listener_security::plain);
    // How the subsystems listening on trid secure it (plain when none does).
    listener_security address_security(const transport_id& trid);
    // While listening is held (start-up configuration), add_listener records
    // the listener but opens no socket; listen_all() then opens every listener
    // of every subsystem, so no host reaches a half-configured target.
    void hold_listen(bool held);
    result<void> listen_all();
    // Sets a listener's ANA state for one group (1..ANAGRPMAX) or all (0).
    // The subsystem must have ana_reporting. Controllers on that listener get
    // an ANA change event when a state changed.
    result<void> set_ana_state(const std::string& nqn, const transport_id& trid, uint32_t anagrpid,
                               ana_state state);

    result<void> start_subsystem(const std::string& nqn);
    result<void> stop_subsystem(const std::string& nqn);

    // Discovery log: one entry per (subsystem, listener) the host may see,
    // plus this discovery subsystem's own entry for the address asked on.
    std::vector<spec::discovery_log_entry> discovery_log(const std::string& hostnqn,
                                                         const transport_id& via);
    uint64_t discovery_genctr() const { return genctr_.load(); }
    // Bumps the generation and tells discovery controllers (AEN).
    void discovery_changed();

    // SPDK's sock_impl_set_options for the "ssl" implementation (TLS listeners).
    tls_sock_options tls_opts;

    // The gateway group this target is a member of (gateway_group_join):
    // at most one. Shutdown leaves it first, so hosts move to a survivor
    // before the connections close.
    result<void> set_gateway_group(std::shared_ptr<ha::gateway_group> g);
    std::shared_ptr<ha::gateway_group> gateway_group();
    std::shared_ptr<ha::gateway_group> take_gateway_group();

    // This reactor's nvmf_get_stats counters; only that reactor touches them.
    poll_group_stats& group_stats(const reactor& r) { return stats_[r.index()]; }

    void shutdown();

private:
    static void bdev_grew(void* arg, bdev::block_device& dev);

    std::mutex mtx_;
    std::vector<std::unique_ptr<transport>> transports_;
    std::map<std::string, std::shared_ptr<subsystem>> subsystems_;
    std::shared_ptr<subsystem> discovery_;
    uint32_t max_subsystems_ = default_max_subsystems;
    std::atomic<uint64_t> genctr_{0};
    std::vector<poll_group_stats> stats_;  // index: reactor
    std::shared_ptr<ha::gateway_group> gateway_group_;
    bool shut_down_ = false;
    std::atomic<bool> listen_held_{false};
};

// Runs a received command: fabrics, admin or I/O by queue and opcode
// (src/nvmf/dispatch.cpp). Ends, now or later, in exactly one complete().
void execute(request& req);

}  // namespace nvmf
