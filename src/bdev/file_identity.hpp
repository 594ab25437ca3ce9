// The UUID of a file or block device bdev created without one, so that its
// namespaces keep their identifiers across restarts (a Linux host that
// reconnects to a namespace whose NGUID/UUID changed fails all its I/O).
// The rule, in order (docs/namespace-identity.md):
//   regular file: the UUID stored in its extended attribute uuid_xattr; when
//     there is none, a new random one stored there; when the file system or
//     the permissions refuse, derived from the canonical path and the inode;
//   block device: derived from the device's own identity in sysfs (WWID,
//     device-mapper or MD UUID, RBD image, loop backing file, serial; a
//     partition adds its number to its disk's), else from the path as given.
// Derived UUIDs are name-based (version 5) in namespace derived_uuid_ns.
// Control path only: this reads and writes file metadata and sysfs.
#pragma once

#include <sys/stat.h>

#include <string>

#include "bdev/bdev.hpp"
#include "util/result.hpp"

namespace nvmf::bdev {

// The extended attribute holding a file's UUID (36 characters, as printed).
constexpr const char* uuid_xattr = "user.nvmf-target.uuid";

// Namespace of the name-based UUIDs derived for bdevs (random, fixed forever:
// changing it would change every derived identifier).
constexpr uuid_t derived_uuid_ns = {0x2d, 0x58, 0xa1, 0x5e, 0x0a, 0xeb, 0x4b, 0x79,
                                    0xbd, 0xf5, 0x0b, 0x64, 0xf8, 0x6d, 0xc1, 0xb3};

struct identity {
    uuid_t uuid{};
    id_origin origin = id_origin::random;
    std::string note;  // for the log: where the UUID came from
};

// The identity of the opened file `fd` (fstat in `st`), opened as `filename`.
// Fails only when the extended attribute holds something that is not a UUID
// (never replaced silently: the operator decides).
result<identity> file_identity(int fd, const struct stat& st, const std::string& filename);

// What identifies a block device, from its sysfs directory (normally
// /sys/dev/block/MAJOR:MINOR), e.g. "wwid:naa.5000c500a1b2c3d4"; empty when
// it has nothing of its own (then only its path can).
std::string block_device_id(const std::string& sysfs_dir);

}  // namespace nvmf::bdev
