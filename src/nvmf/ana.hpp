// Asymmetric Namespace Access (NVMe Base 2.0, 8.1.3): each listener of a
// subsystem reports a state per ANA group, and every namespace belongs to one
// group. A controller sees the states of the listener its admin queue came in
// on. The control plane writes them; I/O queues on any reactor read them with
// one relaxed load per command.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "nvme/spec/nvme.hpp"

namespace nvmf {

// ANA states as the ANA log page codes them.
enum class ana_state : uint8_t {
    optimized = 0x1,
    non_optimized = 0x2,
    inaccessible = 0x3,
    persistent_loss = 0x4,
    change = 0xf,
};

// SPDK's spellings: "optimized", "non_optimized", "inaccessible"; we add
// "persistent_loss" and "change".
const char* to_string(ana_state s);
std::optional<ana_state> ana_state_from_string(std::string_view s);

// The status of a command that needs the namespace's data through a path in
// state s: success for optimized and non-optimized paths, else the path
// related status (SCT 3h) the host uses to fail over.
spec::status ana_io_status(ana_state s);

// One listener's states, for ANA groups 1..groups (ANAGRPMAX). Group IDs out
// of range read as inaccessible: no namespace can be in such a group.
class ana_states {
public:
    explicit ana_states(uint32_t groups, ana_state initial = ana_state::optimized);

    uint32_t groups() const { return groups_; }
    ana_state get(uint32_t anagrpid) const {
        if (anagrpid == 0 || anagrpid > groups_) return ana_state::inaccessible;
        return static_cast<ana_state>(states_[anagrpid - 1].load(std::memory_order_relaxed));
    }
    // Sets one group, or every group when anagrpid is 0. Returns whether any
    // state changed.
    bool set(uint32_t anagrpid, ana_state s);

private:
    uint32_t groups_;
    std::unique_ptr<std::atomic<uint8_t>[]> states_;
};

}  // namespace nvmf
