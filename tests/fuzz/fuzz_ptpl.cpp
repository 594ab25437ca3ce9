// Fuzzes the PTPL file parser (what a namespace's ptpl_file holds, SPDK's
// JSON): arbitrary bytes, corrupt and truncated files included. Whatever it
// accepts must be a consistent state (at most resv_max_registrants, no host
// twice, a reservation held by a registrant) that writes back to a file
// parsing to the same state; everything else is a clear error, never a crash.
#include <cstdint>
#include <string_view>

#include "nvmf/reservation.hpp"

namespace {
// The bdev the seeds were written for (tests/fuzz/make_seeds.py).
const nvmf::bdev::uuid_t bdev_id = {0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x43, 0x33,
                                    0x84, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto s = nvmf::resv_from_ptpl_json(text, bdev_id);
    if (!s) {
        if (s.err().message.empty()) __builtin_trap();
        return 0;
    }
    if (s->regs.size() > nvmf::resv_max_registrants) __builtin_trap();
    for (size_t i = 0; i < s->regs.size(); ++i) {
        for (size_t j = i + 1; j < s->regs.size(); ++j) {
            if (s->regs[i].hostid == s->regs[j].hostid) __builtin_trap();
        }
    }
    if (s->type != nvmf::spec::rtype::none && !s->registered(s->holder)) __builtin_trap();
    if (!s->ptpl && !s->regs.empty()) __builtin_trap();
    auto again = nvmf::resv_from_ptpl_json(nvmf::resv_to_ptpl_json(*s, bdev_id), bdev_id);
    if (!again || !(*again == *s)) __builtin_trap();
    return 0;
}
