// Reading the Asymmetric Namespace Access log page (LID 0Ch) as a host does:
// a buffer sized from Identify (NANAGRPID descriptors, MNAN NSIDs), then a
// parse that trusts no count in it.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "host/controller.hpp"
#include "util/result.hpp"

namespace nvmf::host {

struct ana_group_state {
    uint8_t state =
        0;  // 1 optimized, 2 non-optimized, 3 inaccessible, 4 persistent loss, Fh change
    uint64_t chgcnt = 0;
    std::vector<uint32_t> nsids;  // empty with RGO
};

struct ana_log {
    uint64_t chgcnt = 0;
    std::map<uint32_t, ana_group_state> groups;  // by ANAGRPID
    size_t bytes = 0;                            // header + descriptors + NSID lists
};

// rgo: Return Groups Only (LSP bit 0). rae: Retain Asynchronous Event.
result<ana_log> get_ana_log(controller& c, bool rgo = false, bool rae = false);

// Parses an ANA log image; -EPROTO when a count runs past the data.
result<ana_log> parse_ana_log(std::span<const uint8_t> image);

// "optimized", "non-optimized", ... (nvme-cli's spelling) for a state code.
const char* ana_state_name(uint8_t state);

}  // namespace nvmf::host
