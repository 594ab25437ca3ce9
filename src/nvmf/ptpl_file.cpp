#include "nvmf/ptpl_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nvmf {

namespace {

// Largest file we read: 16 registrants take well under 4 KiB.
constexpr size_t max_file_size = 64 * 1024;

std::string dir_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

error sys_error(const std::string& what, const std::string& path) {
    const int e = errno;
    return make_error(-e, "PTPL file " + path + ": " + what + ": " + std::strerror(e));
}

}  // namespace

result<resv_state> load_ptpl_file(const std::string& path, const bdev::uuid_t& bdev_uuid) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) return sys_error("cannot open", path);
        struct stat st {};
        if (::stat(dir_of(path).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            return make_error(-ENOENT, "PTPL file " + path + ": its directory does not exist");
        }
        return resv_state{};
    }
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR) continue;
            auto e = sys_error("cannot read", path);
            ::close(fd);
            return e;
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > max_file_size) {
            ::close(fd);
            return make_error(-EFBIG, "PTPL file " + path + ": larger than 64 KiB");
        }
    }
    ::close(fd);
    auto s = resv_from_ptpl_json(text, bdev_uuid);
    if (!s) return make_error(s.err().code, "PTPL file " + path + ": " + s.err().message);
    return s;
}

result<void> store_ptpl_file(const std::string& path, const resv_state& s,
                             const bdev::uuid_t& bdev_uuid) {
    const std::string text = resv_to_ptpl_json(s, bdev_uuid);
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return sys_error("cannot create " + tmp, path);
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            auto e = sys_error("cannot write " + tmp, path);
            ::close(fd);
            ::unlink(tmp.c_str());
            return e;
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        auto e = sys_error("fsync of " + tmp, path);
        ::close(fd);
        ::unlink(tmp.c_str());
        return e;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto e = sys_error("cannot rename " + tmp + " over it", path);
        ::unlink(tmp.c_str());
        return e;
    }
    // The rename is durable only once the directory is.
    const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return sys_error("cannot open its directory", path);
    const int rc = ::fsync(dfd);
    ::close(dfd);
    if (rc != 0) return sys_error("fsync of its directory", path);
    return {};
}

}  // namespace nvmf
