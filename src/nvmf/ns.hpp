// A namespace: a bdev exported under an NSID, and the immutable table of a
// subsystem's namespaces that I/O queues read without locks (a queue keeps
// its snapshot until the subsystem's generation moves).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "bdev/bdev.hpp"

namespace nvmf {

class ns {
public:
    ns(uint32_t nsid, std::shared_ptr<bdev::block_device> dev) : nsid(nsid), dev(std::move(dev)) {}
    const uint32_t nsid;
    const std::shared_ptr<bdev::block_device> dev;
    bdev::uuid_t uuid{};
    std::array<uint8_t, 16> nguid{};
    std::array<uint8_t, 8> eui64{};
    uint32_t anagrpid = 0;
    bool has_nguid = false;
    bool has_eui64 = false;
};

class ns_table {
public:
    explicit ns_table(uint32_t max_nsid) : slots(max_nsid) {}
    // nullptr when nsid is 0, past max_nsid, or not active.
    const std::shared_ptr<ns>& find(uint32_t nsid) const {
        static const std::shared_ptr<ns> none;
        return nsid == 0 || nsid > slots.size() ? none : slots[nsid - 1];
    }
    uint32_t max_nsid() const { return static_cast<uint32_t>(slots.size()); }
    std::vector<std::shared_ptr<ns>> slots;  // index nsid - 1
};

}  // namespace nvmf
