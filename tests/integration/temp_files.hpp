#pragma once
// Files the integration tests hand to the daemon: key files (0600, as the
// keyring demands) in a private directory, and sparse backing files for file
// bdevs. Each lives in its own mkdtemp directory, removed with its owner.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace nvmf::test {

class temp_dir {
public:
    // `prefix` is a path such as "/tmp/nvmf-tls-keys"; empty path() when
    // mkdtemp fails.
    explicit temp_dir(const std::string& prefix) {
        std::string tmpl = prefix + "-XXXXXX";
        if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

    // A key file as keyring_file_add_key wants it: owner-only.
    std::string write_key(const std::string& name, const std::string& text) const {
        std::string p = file(name);
        std::ofstream(p) << text << "\n";
        ::chmod(p.c_str(), 0600);
        return p;
    }

private:
    std::string path_;
};

// A sparse file of `bytes` bytes in a fresh directory under `parent`.
struct backing_file {
    backing_file(const std::string& parent, uint64_t bytes) : dir(parent + "/nvmf-it-file") {
        if (dir.path().empty()) return;
        path = dir.file("disk.img");
        const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
        if (fd < 0) return;
        ok = ::ftruncate(fd, static_cast<off_t>(bytes)) == 0;
        ::close(fd);
    }
    std::vector<uint8_t> read_at(uint64_t off, size_t n) const {
        std::vector<uint8_t> v(n);
        const int fd = ::open(path.c_str(), O_RDONLY);
        if (fd < 0 || ::pread(fd, v.data(), n, static_cast<off_t>(off)) != static_cast<ssize_t>(n))
            v.clear();
        if (fd >= 0) ::close(fd);
        return v;
    }
    // Whether the file system keeps user extended attributes (tmpfs: since
    // Linux 6.6); without them a file bdev's UUID derives from path and inode.
    bool keeps_xattrs() const {
        if (::setxattr(path.c_str(), "user.nvmf-probe", "1", 1, 0) != 0) return false;
        ::removexattr(path.c_str(), "user.nvmf-probe");
        return true;
    }

    temp_dir dir;
    std::string path;
    bool ok = false;
};

}  // namespace nvmf::test
