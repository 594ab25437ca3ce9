// The PTPL file of a namespace (nvmf_subsystem_add_ns ptpl_file): the
// reservation state in SPDK's JSON format, written atomically (a new file,
// fsync, rename over the old one, fsync of the directory) so that a crash at
// any point leaves the old state or the new one, never a mix.
#pragma once

#include <string>

#include "bdev/bdev.hpp"
#include "nvmf/reservation.hpp"
#include "util/result.hpp"

namespace nvmf {

// A missing file is an empty state (the first change creates it, as SPDK);
// one that cannot be read, is corrupt or truncated, or belongs to another
// bdev is an error naming the file and the fault.
result<resv_state> load_ptpl_file(const std::string& path, const bdev::uuid_t& bdev_uuid);

// Writes s to path atomically. Blocking (write, two fsyncs).
result<void> store_ptpl_file(const std::string& path, const resv_state& s,
                             const bdev::uuid_t& bdev_uuid);

}  // namespace nvmf
