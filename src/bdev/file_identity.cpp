#include "bdev/file_identity.hpp"

#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "util/log.hpp"

namespace nvmf::bdev {
namespace {

// A sysfs attribute's value: up to the first NUL, without surrounding
// whitespace (values end in a newline; virtio serials are padded). Empty
// when the file is missing.
std::string read_attr(const std::string& path) {
    std::ifstream in(path);
    if (!in) return {};
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (const size_t nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
    const char* ws = " \t\r\n";
    const size_t b = s.find_first_not_of(ws);
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// `filename` made absolute (against the working directory), symbolic links kept.
std::string absolute_path(const std::string& filename) {
    std::error_code ec;
    const auto p = std::filesystem::absolute(filename, ec);
    return (ec ? std::filesystem::path(filename) : p).lexically_normal().string();
}

result<identity> derive(const std::string& name, id_origin origin, std::string note) {
    auto u = name_based_uuid(derived_uuid_ns, name);
    if (!u) return u.err();
    return identity{*u, origin, std::move(note)};
}

// What the file's extended attribute holds (read_stored).
constexpr int stored_none = 0;     // no attribute
constexpr int stored_uuid = 1;     // a UUID, in *out
constexpr int stored_garbage = 2;  // something else, in *bad
// (or -errno: it cannot be read, e.g. ENOTSUP: no user extended attributes here)

int read_stored(int fd, uuid_t* out, std::string* bad) {
    char buf[64];
    const ssize_t n = ::fgetxattr(fd, uuid_xattr, buf, sizeof(buf));
    if (n < 0 && errno == ERANGE) {
        *bad = "(more than 64 bytes)";
        return stored_garbage;
    }
    if (n < 0) return errno == ENODATA ? stored_none : -errno;
    std::string s(buf, static_cast<size_t>(n));
    // Written by hand with a newline (setfattr -v "$(uuidgen)" does not add one).
    while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
    if (!uuid_from_string(s, out)) {
        *bad = s;
        return stored_garbage;
    }
    return stored_uuid;
}

result<identity> stored_identity(int fd, const struct stat& st, const std::string& filename) {
    const std::string where = std::string(uuid_xattr) + " of " + filename;
    uuid_t u{};
    std::string bad;
    int r = read_stored(fd, &u, &bad);
    if (r == stored_none) {
        const uuid_t fresh = generate_uuid();
        const std::string s = uuid_to_string(fresh);
        // XATTR_CREATE: another daemon creating a bdev on the same file at the
        // same moment keeps its UUID, and we read it back.
        if (::fsetxattr(fd, uuid_xattr, s.data(), s.size(), XATTR_CREATE) == 0) {
            // The attribute must outlive a power cut as well as the daemon.
            if (::fsync(fd) != 0) {
                log::warn("fsync of {} after storing its UUID: {}", filename, std::strerror(errno));
            }
            return identity{fresh, id_origin::stored, "new, stored in " + where};
        }
        r = errno == EEXIST ? read_stored(fd, &u, &bad) : -errno;
        if (r == stored_none) r = -EAGAIN;  // created and removed meanwhile by someone else
    }
    if (r == stored_uuid) return identity{u, id_origin::stored, "stored in " + where};
    if (r == stored_garbage) {
        return make_error(-EINVAL, "'" + filename + "': extended attribute " + uuid_xattr +
                                       " holds '" + bad +
                                       "', not a UUID: correct or remove it (setfattr -x " +
                                       uuid_xattr + "), or give the bdev a uuid");
    }
    // Nowhere to keep it (tmpfs before Linux 6.6, some network file systems, a
    // read-only mount, no permission): the next best stable thing.
    std::error_code ec;
    std::string path = std::filesystem::canonical(filename, ec).string();
    if (ec) path = absolute_path(filename);
    const auto ino = static_cast<uint64_t>(st.st_ino);
    return derive("file:" + std::to_string(ino) + ":" + path, id_origin::path,
                  "derived from path " + path + " and inode " + std::to_string(ino) +
                      ", since it cannot be stored in " + uuid_xattr + " (" + std::strerror(-r) +
                      "): it changes if the file is moved or replaced; the uuid parameter pins it");
}

}  // namespace

std::string block_device_id(const std::string& dir) {
    // A partition: its disk's identity and its number.
    if (const std::string part = read_attr(dir + "/partition"); !part.empty()) {
        std::error_code ec;
        const auto disk = std::filesystem::canonical(dir, ec).parent_path();
        if (ec) return {};
        const std::string id = block_device_id(disk.string());
        return id.empty() ? std::string() : id + "/part" + part;
    }
    for (const char* attr : {"/wwid", "/device/wwid"}) {  // NVMe namespaces; SCSI VPD 83h
        if (std::string v = read_attr(dir + attr); !v.empty()) return "wwid:" + v;
    }
    if (std::string v = read_attr(dir + "/dm/uuid"); !v.empty()) return "dm:" + v;  // LVM, crypt
    if (std::string v = read_attr(dir + "/md/uuid"); !v.empty()) return "md:" + v;
    if (std::string v = read_attr(dir + "/device/image_id"); !v.empty()) {  // Ceph RBD
        return "rbd:" + read_attr(dir + "/device/cluster_fsid") + "/" +
               read_attr(dir + "/device/pool_id") + "/" + read_attr(dir + "/device/pool_ns") + "/" +
               v + "@" + read_attr(dir + "/device/snap_id");
    }
    if (std::string v = read_attr(dir + "/loop/backing_file"); !v.empty()) {
        const std::string off = read_attr(dir + "/loop/offset");
        return "loop:" + v + "@" + (off.empty() ? "0" : off);
    }
    std::string serial = read_attr(dir + "/serial");  // virtio-blk
    if (serial.empty()) serial = read_attr(dir + "/device/serial");
    if (!serial.empty()) {
        const std::string model = read_attr(dir + "/device/model");
        return "serial:" + serial + (model.empty() ? "" : "/" + model);
    }
    return {};
}

result<identity> file_identity(int fd, const struct stat& st, const std::string& filename) {
    if (!S_ISBLK(st.st_mode)) return stored_identity(fd, st, filename);
    // Device nodes take no user extended attributes, and the data may move
    // between /dev names: the device's own identity first.
    const std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_rdev)) + ":" +
                            std::to_string(minor(st.st_rdev));
    if (const std::string id = block_device_id(sys); !id.empty()) {
        return derive("block:" + id, id_origin::device, "derived from the device's " + id);
    }
    const std::string path = absolute_path(filename);
    return derive("path:" + path, id_origin::path,
                  "derived from path " + path +
                      " (the device reports no WWID, UUID or serial): use a stable path such as "
                      "/dev/disk/by-id/..., or the uuid parameter");
}

}  // namespace nvmf::bdev
