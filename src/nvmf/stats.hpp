// Per-reactor counters for nvmf_get_stats (SPDK's poll group statistics).
// Each reactor writes only its own, with plain increments; the control plane
// reads them on that reactor (run_sync), so the data path has no atomics
// and no shared cache lines for them.
#pragma once

#include <cstdint>

namespace nvmf {

struct alignas(64) poll_group_stats {
    uint64_t admin_qpairs = 0;  // admin queues connected since start
    uint64_t io_qpairs = 0;     // I/O queues connected since start
    uint64_t current_admin_qpairs = 0;
    uint64_t current_io_qpairs = 0;
    uint64_t pending_bdev_io = 0;    // bdev I/O submitted and not yet completed
    uint64_t completed_nvme_io = 0;  // commands completed on I/O queues
};

}  // namespace nvmf
