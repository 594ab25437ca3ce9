// A controller: created by an admin-queue Connect, owned by the reactor of
// its admin queue. Registers, features, keep-alive and asynchronous events
// live here. I/O queues on other reactors attach under mtx (control path)
// and read only `enabled` on the data path.
#pragma once

#include <array>
#include <atomic>
#include <bitset>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/identify.hpp"
#include "nvme/spec/log.hpp"
#include "nvme/spec/nvme.hpp"
#include "nvme/spec/reservation.hpp"
#include "nvmf/ana.hpp"
#include "nvmf/io_metrics.hpp"
#include "nvmf/transport_id.hpp"
#include "reactor/reactor.hpp"

namespace nvmf {

class subsystem;
class qpair;
struct request;

// Limits a controller inherits from the transport its admin queue came on.
struct controller_limits {
    uint32_t max_io_size = 131072;  // MDTS in bytes
    uint32_t in_capsule_data_size = 4096;
    uint16_t max_queue_depth = 128;  // I/O queue entries (1's based)
    uint16_t max_aq_depth = 128;     // admin queue entries
    uint16_t max_io_qpairs = 127;
    // Identify Controller SGLS: the data descriptors the transport takes (TCP:
    // Transport SGL Data Block; RDMA: Keyed SGL Data Block). SGL Offset for
    // in-capsule data is added when in_capsule_data_size is not 0.
    uint32_t sgls = spec::sgls::supported_no_alignment | spec::sgls::transport_data_block;
};

// Feature values (Get/Set Features). Current values only: nothing is saveable.
struct feature_values {
    uint32_t arbitration = 0;
    uint32_t power_management = 0;
    uint16_t temperature_threshold = 0x0157;  // 343 K over-temperature threshold
    uint16_t under_temperature_threshold = 0;
    uint32_t error_recovery = 0;
    uint32_t number_of_queues = 0;  // cdw0 form: NCQA << 16 | NSQA (0's based)
    uint32_t async_event_config = 0;
    std::array<uint8_t, 16> host_identifier{};
    bool host_identifier_set = false;
};

constexpr int aer_limit = 4;  // outstanding AERs (Identify AERL is this - 1)
constexpr size_t changed_ns_list_max = 1024;
constexpr size_t error_log_entries = 8;  // Identify ELPE is this - 1

class controller : public std::enable_shared_from_this<controller> {
public:
    controller(std::shared_ptr<subsystem> subsys, uint16_t cntlid, std::string hostnqn,
               const uint8_t hostid[16], qpair* admin_qp, uint32_t kato_ms,
               const controller_limits& limits);
    ~controller();

    const std::shared_ptr<subsystem> subsys;
    const uint16_t cntlid;
    const std::string hostnqn;
    std::array<uint8_t, 16> hostid{};
    reactor* const admin_reactor;
    const controller_limits limits;
    // The listener the admin queue came in on, and its ANA states (null when
    // that is not a listener of the subsystem, as for discovery).
    const transport_id listen_trid;
    const std::shared_ptr<const ana_states> ana;
    const bool ana_reporting;  // the subsystem's ana_reporting, fixed at creation
    // The metrics endpoint's counters of this host in this subsystem.
    const std::shared_ptr<io_metrics> host_metrics;

    // Any thread: the state this controller reports for an ANA group.
    ana_state ana_state_of(uint32_t anagrpid) const {
        return ana ? ana->get(anagrpid) : ana_state::optimized;
    }

    bool is_discovery() const;

    // --- admin reactor only ---------------------------------------------
    qpair* admin_qp;
    uint64_t cap = 0;
    uint32_t vs = 0;
    uint32_t cc = 0;
    uint32_t csts = 0;
    feature_values features;
    uint32_t kato_ms;  // 0: keep-alive disabled
    reactor::clock::time_point last_keep_alive;

    // Property Get/Set. Returns a status; value is in/out.
    spec::status get_property(uint32_t ofst, uint8_t size, uint64_t* value) const;
    spec::status set_property(uint32_t ofst, uint8_t size, uint64_t value);

    // The end of a shutdown notification's flushes (src/nvmf/shutdown.cpp):
    // CSTS.SHST complete, unless a reset or a newer shutdown came meanwhile.
    void end_shutdown(uint64_t generation, int failed);

    void keep_alive() { last_keep_alive = reactor::clock::now(); }
    void start_keep_alive_timer();

    // Asynchronous events (src/nvmf/aer.cpp). queue_aer holds an AER
    // request; raise_event completes one or remembers the event.
    spec::status queue_aer(request& req);
    void raise_event(uint8_t type, uint8_t info, uint8_t log_page);
    // Aborts the AER with this cid; true when found.
    bool abort_aer(uint16_t cid);
    void note_ns_changed(uint32_t nsid);
    // Changed Namespace List log: returns the list and clears it.
    std::vector<uint32_t> take_changed_ns_list();
    std::vector<uint32_t> peek_changed_ns_list() const;  // same, without clearing (RAE=1)
    // A reported event stays masked until the host reads its log page
    // (Get Log Page with RAE=0 calls this).
    void clear_aen_mask(uint8_t log_page);
    uint64_t discovery_genctr_seen = 0;

    // Reservation notifications (aer.cpp): a notice the mask of its namespace
    // lets through becomes a Reservation Notification log page and an I/O
    // command set specific event (log page 80h). Up to 255 wait; later ones
    // are counted (the Log Page Count skips) but dropped.
    void add_resv_notice(uint8_t type, uint32_t nsid);
    // The oldest page, removed; an empty page (type 0) when there is none.
    spec::resv_notification_log take_resv_notice();
    size_t resv_notices_pending() const { return resv_log_.size(); }
    // Reservation Notification Mask feature (82h), per namespace; nsid
    // FFFFFFFFh sets every namespace.
    uint32_t resv_notice_mask(uint32_t nsid) const;
    void set_resv_notice_mask(uint32_t nsid, uint32_t mask);

    // Error information log (newest first): every error completion of this
    // controller's queues (src/nvmf/request.cpp posts them here).
    struct error_entry {
        uint64_t error_count = 0;  // set by record_error
        uint16_t sqid = 0, cid = 0, status = 0;
        uint32_t nsid = 0;
        uint64_t lba = 0;  // first LBA of the command, where it has one
        uint16_t parm_error_location = spec::parm_error_location_none;
    };
    void record_error(error_entry e);
    void record_error(uint16_t sqid, uint16_t cid, uint16_t status, uint32_t nsid) {
        record_error(error_entry{0, sqid, cid, status, nsid});
    }
    std::vector<error_entry> error_log() const;
    uint64_t error_count = 0;

    // Controller Busy Time (SMART log), in nanoseconds: what the I/O queues
    // have been busy (see qpair::io_started), summed, including queues gone.
    uint64_t busy_ns() const;

    // Volatile Write Cache feature (FID 06h), on by default like a drive's
    // cache. Set on the admin reactor, read (relaxed) by every I/O queue: while
    // off, every write is made durable before it completes.
    std::atomic<bool> write_cache_enabled{true};

    // --- any thread -------------------------------------------------------
    // Data path check: CC.EN=1 and CSTS.RDY=1 and not shutting down.
    bool enabled() const { return enabled_.load(std::memory_order_acquire); }

    // I/O queue attach/detach; false on a duplicate or out-of-range qid.
    bool attach_io_qpair(qpair* q);
    void detach_qpair(qpair* q);
    size_t io_qpair_count() const;
    std::vector<std::shared_ptr<qpair>> qpairs() const;  // admin first
    // The I/O queue with this qid, or null.
    std::shared_ptr<qpair> io_qpair(uint16_t qid) const;

    // Tears the controller down: every queue is disconnected on its reactor,
    // the subsystem forgets it. Idempotent; any thread.
    void destroy(const char* why);
    bool destroyed() const { return destroyed_.load(); }

    // Set by the first I/O Connect refused for a limit of this controller
    // (qid beyond max_io_qpairs_per_ctrlr): a host that keeps retrying gets
    // its status every time, the log gets one line.
    std::atomic<bool> warned_queue_limit{false};

private:
    void on_keep_alive_timer();
    void disable();
    // Shutdown notification (src/nvmf/shutdown.cpp): CSTS.SHST goes to
    // "occurring", every namespace's volatile write cache is flushed, then
    // SHST reports complete. Admin reactor; nothing blocks.
    void begin_shutdown(uint32_t shn);
    uint64_t shutdown_gen_ = 0;  // admin reactor: a reset or a newer shutdown voids older flushes

    std::atomic<bool> enabled_{false};
    std::atomic<bool> destroyed_{false};
    std::atomic<uint64_t> retired_busy_ns_{0};  // of I/O queues detached
    reactor::timer_id ka_timer_ = 0;

    mutable std::mutex mtx_;                       // io_qpairs_, admin_weak_
    std::vector<std::weak_ptr<qpair>> io_qpairs_;  // index qid; [0] unused
    std::weak_ptr<qpair> admin_weak_;

    std::vector<request*> aers_;
    std::deque<uint32_t> pending_events_;
    std::vector<uint32_t> changed_ns_;
    bool changed_ns_overflow_ = false;
    std::bitset<256> aen_masked_;  // by log page id
    std::deque<spec::resv_notification_log> resv_log_;
    uint64_t resv_log_count_ = 0;
    std::map<uint32_t, uint32_t> resv_masks_;  // by NSID, else resv_mask_all_
    uint32_t resv_mask_all_ = 0;
    std::deque<error_entry> errors_;
};

}  // namespace nvmf
