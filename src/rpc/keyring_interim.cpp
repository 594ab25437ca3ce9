// INTERIM keyring for the TLS work (branch security-tls): SPDK's
// keyring_file_add_key / keyring_file_remove_key / keyring_get_keys over a
// name -> path table, and keyring::get_key (src/keyring/key_source.hpp)
// reading the file when a key is used, as SPDK's file keyring does. The real
// keyring (src/keyring/keyring.*, branch security-auth) replaces this whole
// file at merge: drop it, its three method table entries (methods.cpp) and
// keyring_config_entries(), and implement keyring::get_key over that store.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "keyring/key_source.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf {

namespace {

std::mutex key_mtx;
std::map<std::string, std::string, std::less<>> key_paths;  // name -> absolute path

// SPDK's checks: an absolute path to a file only its owner (us) can read.
result<size_t> check_key_file(const std::string& path) {
    if (path.empty() || path[0] != '/') {
        return make_error(-EPERM, "Non-absolute paths are not allowed: " + path);
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int e = errno;
        return make_error(-e, "Could not stat key file '" + path + "': " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) return make_error(-EINVAL, "Key file '" + path + "' is not a file");
    if ((st.st_mode & 077) != 0) {
        return make_error(-EPERM, "Invalid permissions of key file '" + path + "': 0" +
                                      std::to_string((st.st_mode & 0777) >> 6) +
                                      std::to_string((st.st_mode >> 3) & 7) +
                                      std::to_string(st.st_mode & 7) + ", 0600 required");
    }
    if (st.st_uid != ::getuid()) {
        return make_error(-EPERM, "Invalid owner of key file '" + path + "'");
    }
    if (st.st_size > 4096) return make_error(-ENOBUFS, "Key file '" + path + "' is too large");
    return static_cast<size_t>(st.st_size);
}

}  // namespace

namespace keyring {

result<secret_bytes> get_key(std::string_view name) {
    std::string path;
    {
        std::lock_guard lk(key_mtx);
        auto it = key_paths.find(name);
        if (it == key_paths.end()) {
            return make_error(-ENOKEY, "Key '" + std::string(name) + "' does not exist");
        }
        path = it->second;
    }
    auto size = check_key_file(path);
    if (!size) return size.err();
    secret_bytes out(*size);
    std::ifstream f(path, std::ios::binary);
    if (!f || !f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(*size))) {
        return make_error(-EIO, "Could not load key '" + std::string(name) + "'");
    }
    return out;
}

}  // namespace keyring

namespace rpc {

result<json> keyring_file_add_key(context&, const json& j) {
    params p(j, false);
    std::string name, path;
    p.str("name", name, true, 255);
    p.str("path", path, true, 4096);
    if (auto r = p.finish(); !r) return r.err();
    if (name.empty()) return invalid_params("parameter 'name' is empty");
    if (auto r = check_key_file(path); !r) return make_error(r.err().code, r.err().message);
    std::lock_guard lk(key_mtx);
    if (!key_paths.emplace(name, path).second) {
        return make_error(-EEXIST, "Key '" + name + "' already exists");
    }
    return json(true);
}

result<json> keyring_file_remove_key(context&, const json& j) {
    params p(j, false);
    std::string name;
    p.str("name", name, true, 255);
    if (auto r = p.finish(); !r) return r.err();
    std::lock_guard lk(key_mtx);
    if (key_paths.erase(name) == 0) return make_error(-ENODEV, "Key '" + name + "' does not exist");
    return json(true);
}

result<json> keyring_get_keys(context&, const json& j) {
    params p(j, true);
    if (auto r = p.finish(); !r) return r.err();
    json out = json::array();
    std::lock_guard lk(key_mtx);
    for (const auto& [name, path] : key_paths) {
        out.push_back({{"name", name}, {"module", "keyring_file"}, {"path", path}});
    }
    return out;
}

json keyring_config_entries() {
    json out = json::array();
    std::lock_guard lk(key_mtx);
    for (const auto& [name, path] : key_paths) {
        out.push_back(
            {{"method", "keyring_file_add_key"}, {"params", {{"name", name}, {"path", path}}}});
    }
    return out;
}

}  // namespace rpc
}  // namespace nvmf
