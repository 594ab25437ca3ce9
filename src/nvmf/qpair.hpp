// A queue pair as the NVMe layer sees it, whatever the transport. The
// transport derives from it; Connect binds it to a controller.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "nvmf/transport_id.hpp"

namespace nvmf {

class controller;
struct controller_limits;
class reactor;
class transport;
struct poll_group_stats;
class ns_table;
class target;
struct request;
struct queue_auth;

// Transports create qpairs with std::make_shared so that a controller on
// another reactor can hold a weak reference for teardown.
class qpair : public std::enable_shared_from_this<qpair> {
public:
    virtual ~qpair() = default;

    // Sends the completion (and read data) of req and recycles it.
    virtual void on_complete(request& req) = 0;
    // Closes the connection from the reactor that owns it. Safe to call more
    // than once; outstanding commands are dropped with the connection.
    virtual void disconnect() = 0;
    // The listener address this connection arrived on, and the peer's.
    virtual const transport_id& listen_trid() const = 0;
    virtual const transport_id& peer_trid() const = 0;
    // Largest transfer a command may describe on this queue (MDTS in bytes).
    virtual uint32_t max_io_size() const = 0;
    virtual uint32_t in_capsule_data_size() const = 0;
    // What a controller created on this queue may offer (from the transport's options).
    virtual controller_limits limits() const = 0;

    target* tgt = nullptr;
    reactor* owner = nullptr;  // the reactor this queue lives on
    uint16_t qid = 0;
    uint16_t sqsize = 0;  // entries (1's based)
    uint16_t sqhd = 0;
    bool connected = false;  // a Connect succeeded on it
    // Connect CATTR bit 2: the host does not need SQHD, so a read may end with
    // a C2HData carrying SUCCESS instead of a CapsuleResp.
    bool sq_flow_control_disabled = false;
    std::shared_ptr<controller> ctrlr;
    // Set when a TLS secure channel carries this connection (NVMe/TCP): the
    // host and subsystem NQNs of the PSK identity it was opened with, which
    // Connect must repeat. Empty on a plain connection.
    std::string tls_hostnqn;
    std::string tls_subnqn;
    // Namespace table as last seen by this queue (refreshed by generation).
    std::shared_ptr<const ns_table> ns_cache;
    uint64_t ns_cache_gen = ~0ull;

    // DH-HMAC-CHAP on this queue (src/nvmf/cmd/auth.cpp), owner reactor only.
    // While auth_pending, only Authentication Send/Receive run; any other
    // command completes with Authentication Required.
    bool auth_pending = false;
    std::shared_ptr<queue_auth> auth;
    // What nvmf_subsystem_get_qpairs shows (any thread; see auth_summary_of).
    std::atomic<uint32_t> auth_summary{0};

    // The owner reactor's nvmf_get_stats counters; set by a successful Connect.
    poll_group_stats* stats = nullptr;

    // Counters for nvmf_get_stats / nvmf_subsystem_get_qpairs.
    uint64_t commands = 0;
    uint64_t errors = 0;

    // Controller Busy Time (SMART log): an I/O queue is busy while it has a
    // command outstanding (NVMe Base 2.0, 5.16.1.3). Owner reactor only, but
    // busy_ns, which the admin reactor sums (relaxed: a plain load and store
    // by the one writer). The stretch in progress counts when it ends.
    void io_started() {
        if (io_outstanding_++ == 0) busy_since_ = std::chrono::steady_clock::now();
    }
    void io_finished() {
        if (io_outstanding_ == 0 || --io_outstanding_ != 0) return;
        busy_ns.store(busy_ns.load(std::memory_order_relaxed) + busy_stretch_ns(),
                      std::memory_order_relaxed);
    }
    // Owner reactor: the busy time so far, the stretch in progress included.
    uint64_t busy_ns_now() const {
        return busy_ns.load(std::memory_order_relaxed) + (io_outstanding_ ? busy_stretch_ns() : 0);
    }
    std::atomic<uint64_t> busy_ns{0};

    // Advances SQHD for a received command (flow control is by SQHD in CQEs).
    uint16_t advance_sqhd() {
        sqhd = static_cast<uint16_t>(sqsize ? (sqhd + 1) % sqsize : 0);
        return sqhd;
    }

private:
    uint64_t busy_stretch_ns() const {
        return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::steady_clock::now() - busy_since_)
                                         .count());
    }
    uint32_t io_outstanding_ = 0;
    std::chrono::steady_clock::time_point busy_since_;
};

}  // namespace nvmf
