// A namespace: a bdev exported under an NSID, and the immutable table of a
// subsystem's namespaces that I/O queues read without locks (a queue keeps
// its snapshot until the subsystem's generation moves).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bdev/bdev.hpp"
#include "nvmf/io_counters.hpp"
#include "nvmf/io_metrics.hpp"
#include "nvmf/reservation.hpp"
#include "nvmf/write_gate.hpp"
#include "util/result.hpp"

namespace nvmf {

// A namespace's reservations (cmd/reservation.cpp). They belong to the
// namespace, not to a connection: a host that reconnects keeps them. Changes
// are made under mtx (reservation commands only, never Read/Write); each one
// is published to the I/O queues as an immutable snapshot in the ns_table.
struct ns_reservation {
    std::mutex mtx;
    resv_state state;  // under mtx
    // Set once by add_ns: the PTPL file (empty: PTPL not supported).
    std::string ptpl_file;
};

class ns {
public:
    ns(uint32_t nsid, std::shared_ptr<bdev::block_device> dev) : nsid(nsid), dev(std::move(dev)) {}
    const uint32_t nsid;
    const std::shared_ptr<bdev::block_device> dev;
    // Configured, else derived (subsystem::add_ns, docs/namespace-identity.md):
    // never zero, the same after a restart whenever the bdev's UUID is.
    bdev::uuid_t uuid{};
    std::array<uint8_t, 16> nguid{};
    std::array<uint8_t, 8> eui64{};
    uint32_t anagrpid = 0;
    bool has_eui64 = false;
    // NSFEAT UIDREUSE: no other namespace ever gets this NGUID (or EUI-64).
    // Not so when it derives from a path, which another file may take later.
    bool ids_never_reused = true;
    const std::shared_ptr<ns_reservation> resv = std::make_shared<ns_reservation>();
    // SPDK's no_auto_visible: active only for the hosts added to it
    // (nvmf_ns_add_host); set by add_ns before the namespace is published.
    bool no_auto_visible = false;
    // The SMART / Health log's I/O counters of this namespace, from every
    // controller (as a drive counts what all its hosts did), since it was added.
    io_counters counters;
    // Makes fused Compare and Write atomic against the namespace's other
    // writes (write_gate.hpp); `bounce` holds the blocks read for a compare
    // and is used only by the gate's exclusive holder.
    write_gate gate;
    std::vector<uint8_t> bounce;
    iovec bounce_iov{};
    // The metrics endpoint's counters: every I/O queue command on it.
    io_metrics metrics;
};

// A namespace's UUID when none is configured: the name-based (version 5) UUID
// of "<subsystem NQN>/<NSID>" in the namespace of its bdev's UUID. It lasts
// as long as the bdev's UUID, and differs for every subsystem and NSID, even
// with one bdev behind several namespaces.
inline result<bdev::uuid_t> derive_ns_uuid(const bdev::uuid_t& bdev_uuid, const std::string& subnqn,
                                           uint32_t nsid) {
    return bdev::name_based_uuid(bdev_uuid, subnqn + "/" + std::to_string(nsid));
}

// The hosts a no_auto_visible namespace is active for (NQNs).
using ns_hosts = std::set<std::string>;

class ns_table {
public:
    explicit ns_table(uint32_t max_nsid) : slots(max_nsid), resv(max_nsid), visible_to(max_nsid) {}
    // nullptr when nsid is 0, past max_nsid, or not active.
    const std::shared_ptr<ns>& find(uint32_t nsid) const {
        static const std::shared_ptr<ns> none;
        return nsid == 0 || nsid > slots.size() ? none : slots[nsid - 1];
    }
    uint32_t max_nsid() const { return static_cast<uint32_t>(slots.size()); }
    // The reservation state I/O commands check; null or type none: no reservation.
    const resv_state* resv_of(uint32_t nsid) const {
        return nsid == 0 || nsid > resv.size() ? nullptr : resv[nsid - 1].get();
    }
    // Whether nsid is active for a controller of hostnqn: a namespace is,
    // unless it is no_auto_visible and hostnqn was not added to it.
    bool visible(uint32_t nsid, const std::string& hostnqn) const {
        if (!find(nsid)) return false;
        const auto& hosts = visible_to[nsid - 1];
        return !hosts || hosts->count(hostnqn) != 0;
    }
    // The table as a controller of hostnqn sees it: the namespaces hidden
    // from it are inactive (empty slots). Only needed when `masked`.
    std::shared_ptr<const ns_table> view_for(const std::string& hostnqn) const;
    // Recomputes `masked` after visible_to changed.
    void update_masked();

    std::vector<std::shared_ptr<ns>> slots;               // index nsid - 1
    std::vector<std::shared_ptr<const resv_state>> resv;  // index nsid - 1, with slots
    // Index nsid - 1, with slots: null for a namespace every host sees, else
    // the hosts a no_auto_visible one is active for (maybe none).
    std::vector<std::shared_ptr<const ns_hosts>> visible_to;
    // Some namespace is no_auto_visible: queues need a per-host view.
    bool masked = false;
};

// Whether a controller of hostnqn saw nsid change between two tables: it
// came, went, or became another namespace. Those controllers, and only
// those, get the Namespace Attribute Changed event.
bool ns_view_changed(const ns_table& before, const ns_table& after, uint32_t nsid,
                     const std::string& hostnqn);

}  // namespace nvmf
