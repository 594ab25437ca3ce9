// The keyring store and key files.
#include "keyring/keyring.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "keyring/formats.hpp"

namespace nvmf::keyring {

namespace {

std::string octal(unsigned v) {
    char b[16];
    std::snprintf(b, sizeof(b), "0%o", v);
    return b;
}

// Closes a descriptor on every return path.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

result<void> validate_key_name(const std::string& name) {
    if (name.empty()) return make_error(-EINVAL, "key name must not be empty");
    if (name.size() > 255) return make_error(-EINVAL, "key name is longer than 255 characters");
    for (char c : name) {
        if (c <= ' ' || c > '~') {
            return make_error(-EINVAL,
                              "key name '" + name + "' must be printable ASCII without whitespace");
        }
    }
    return {};
}

result<secure_bytes> read_key_file(const std::string& path) {
    if (path.empty() || path[0] != '/') {
        return make_error(-EPERM, "Non-absolute paths are not allowed: " + path);
    }
    // Checks are made on the open descriptor, so the file read is the file checked.
    fd_guard f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    if (f.fd < 0) {
        const int e = errno;
        return make_error(-e, "Could not open key file '" + path + "': " + std::strerror(e));
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) {
        const int e = errno;
        return make_error(-e, "Could not stat key file '" + path + "': " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        return make_error(-EINVAL, "Key file '" + path + "' is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
        return make_error(-EPERM, "Invalid permissions of key file '" + path +
                                      "': " + octal(st.st_mode & 07777) +
                                      ", required: " + octal(st.st_mode & 07700));
    }
    if (st.st_uid != ::getuid()) {
        return make_error(-EPERM, "Invalid owner of key file '" + path +
                                      "': " + std::to_string(st.st_uid) +
                                      ", must be: " + std::to_string(::getuid()));
    }
    if (st.st_size <= 0 || static_cast<size_t>(st.st_size) > key_file_max) {
        return make_error(-EINVAL, "Key file '" + path + "' has " + std::to_string(st.st_size) +
                                       " bytes; a key file holds 1 to " +
                                       std::to_string(key_file_max));
    }
    secure_bytes data(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < data.size()) {
        const ssize_t n = ::read(f.fd, data.data() + got, data.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            return make_error(-e, "Could not read key file '" + path + "': " + std::strerror(e));
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    if (got != data.size()) return make_error(-EIO, "Key file '" + path + "' changed while read");
    return data;
}

result<key_ptr> store::add_file_key(const std::string& name, const std::string& path) {
    if (auto r = validate_key_name(name); !r) return r.err();
    if (find(name)) return make_error(-EEXIST, "Key '" + name + "' already exists");
    auto data = read_key_file(path);
    if (!data) return data.err();
    return add_key(name, path, std::move(*data));
}

result<key_ptr> store::add_key(const std::string& name, const std::string& path,
                               secure_bytes data) {
    if (auto r = validate_key_name(name); !r) return r.err();
    auto fmt = detect_format(data.span());
    if (!fmt) return make_error(fmt.err().code, "Key '" + name + "': " + fmt.err().message);
    if (auto r = (*fmt)->validate(data.span()); !r) {
        return make_error(r.err().code,
                          "Key '" + name + "' (" + (*fmt)->name + "): " + r.err().message);
    }
    auto k = std::make_shared<const key>(name, path, std::move(data), *fmt);
    std::lock_guard lk(mtx_);
    if (!keys_.emplace(name, k).second) {
        return make_error(-EEXIST, "Key '" + name + "' already exists");
    }
    return k;
}

result<void> store::remove_key(const std::string& name) {
    key_ptr k;
    {
        std::lock_guard lk(mtx_);
        auto it = keys_.find(name);
        if (it == keys_.end()) return make_error(-ENOKEY, "Key '" + name + "' does not exist");
        k = std::move(it->second);
        keys_.erase(it);
    }
    k->mark_removed();
    return {};
}

key_ptr store::find(const std::string& name) const {
    std::lock_guard lk(mtx_);
    auto it = keys_.find(name);
    return it == keys_.end() ? nullptr : it->second;
}

std::vector<key_ptr> store::keys() const {
    std::lock_guard lk(mtx_);
    std::vector<key_ptr> out;
    out.reserve(keys_.size());
    for (const auto& [n, k] : keys_) out.push_back(k);
    return out;
}

}  // namespace nvmf::keyring
