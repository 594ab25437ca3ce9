// Reservations of a namespace (Base spec 2.0, 8.19), as pure rules: the state
// (registrants, the reservation, PRGEN, PTPL), what Register / Acquire /
// Release do to it, the access rule of each reservation type for I/O, the
// Reservation Report image, and the PTPL file format (SPDK's JSON). No
// locks, no I/O: cmd/reservation.cpp runs these under the namespace's
// reservation mutex and publishes the result to the I/O queues.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bdev/bdev.hpp"
#include "nvme/spec/nvme.hpp"
#include "nvme/spec/reservation.hpp"
#include "util/result.hpp"

namespace nvmf {

using host_id = std::array<uint8_t, 16>;  // Connect's 128-bit HOSTID

// A namespace keeps at most this many registrants: as many as SPDK's PTPL
// file holds, so a file written here loads there. A host registering beyond
// it gets Internal Error (there is no status that says "full").
constexpr size_t resv_max_registrants = 16;

struct resv_registrant {
    host_id hostid{};
    uint64_t rkey = 0;
    bool operator==(const resv_registrant&) const = default;
};

struct resv_state {
    std::vector<resv_registrant> regs;  // in registration order
    spec::rtype type = spec::rtype::none;
    // The holder of a reservation of types 1-4. With types 5 and 6 every
    // registrant holds it; holder is then the one that acquired it (reported
    // in the PTPL file as SPDK does).
    host_id holder{};
    uint32_t generation = 0;  // PRGEN
    bool ptpl = false;        // Persist Through Power Loss state (PTPLS)
    bool operator==(const resv_state&) const = default;

    const resv_registrant* find(const host_id& h) const;
    bool registered(const host_id& h) const { return find(h) != nullptr; }
    bool holds(const host_id& h) const;
};

// A notification for every controller of one host.
struct resv_notice {
    host_id hostid{};
    uint8_t type = 0;  // spec::resv_notice::...
};

struct resv_outcome {
    spec::status status = 0;
    bool changed = false;  // the state differs: persist (PTPL) and publish it
    std::vector<resv_notice> notices;
    // Preempt and Abort: the hosts whose registrations were preempted.
    std::vector<host_id> preempted;
};

// The commands; `me` is the host identifier of the issuing controller.
// ptpl_capable: the namespace has a PTPL file (CPTPL may set PTPL).
resv_outcome resv_register(resv_state& s, const host_id& me, uint32_t cdw10,
                           const spec::resv_register_data& d, bool ptpl_capable);
resv_outcome resv_acquire(resv_state& s, const host_id& me, uint32_t cdw10,
                          const spec::resv_acquire_data& d);
resv_outcome resv_release(resv_state& s, const host_id& me, uint32_t cdw10,
                          const spec::resv_release_data& d);

// The reservation type table for I/O commands (NVM Command Set: read group
// Read/Compare/Verify, write group Write/Write Uncorrectable/Write Zeroes/
// Dataset Management/Flush): Reservation Conflict or 0. Reservation commands
// and others pass (they have their own rules).
spec::status resv_access(const resv_state& s, const host_id& me, uint8_t opc);
inline spec::status resv_conflict() {
    return spec::make_status(spec::sct::generic, spec::sc::reservation_conflict, true);
}

// Reservation Status data structure: the full image (header + one entry per
// registrant), extended (EDS=1, 128-bit host identifiers) or not (64-bit:
// the low 8 bytes are not a host identifier of ours, so Report refuses it on
// fabrics; the builder exists for completeness and tests). CNTLID is FFFFh
// (dynamic controller model: a registrant is a host, not a controller).
std::vector<uint8_t> build_resv_report(const resv_state& s, bool eds);

// PTPL file (SPDK's format): {"ptpl":true,"rtype":N,"crkey":N,"bdev_uuid":"..",
// "holder_uuid":"..","registrants":[{"rkey":N,"host_uuid":".."}]}.
std::string resv_to_ptpl_json(const resv_state& s, const bdev::uuid_t& bdev_uuid);
// Parses a PTPL file. Empty text (SPDK writes an empty file when PTPL is
// cleared) and "ptpl": false give an empty state without PTPL. Anything
// malformed, inconsistent or for another bdev is an error naming the fault.
result<resv_state> resv_from_ptpl_json(std::string_view text, const bdev::uuid_t& bdev_uuid);

std::string host_id_to_string(const host_id& h);

}  // namespace nvmf
