// The keyring: secrets known by name, as SPDK's keyring (keyring_file_add_key,
// keyring_file_remove_key, keyring_get_keys). A key is a name, the file it was
// read from and that file's contents, held in wiped memory. The store is
// generic: typed parsers interpret the contents (DHHC-1 secrets in
// keyring/dhchap_secret.hpp, NVMeTLSkey-1 PSKs in keyring/tls_psk.hpp); on
// load the contents must be in one of the interchange formats registered in
// keyring/formats.cpp, and valid in it.
//
// Users (subsystem hosts, a queue authenticating) hold a shared_ptr to the key
// they were configured with. Removing a key from the store marks it removed:
// holders still have the object but must not use it (key::usable()), as SPDK
// refuses a removed key. Key material never reaches a log line or save_config;
// only names and paths do.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "keyring/secure_bytes.hpp"
#include "util/result.hpp"

namespace nvmf::keyring {

struct key_format;

class key {
public:
    key(std::string name, std::string path, secure_bytes data, const key_format* format)
        : name_(std::move(name)), path_(std::move(path)), data_(std::move(data)), format_(format) {}

    const std::string& name() const { return name_; }
    const std::string& path() const { return path_; }
    // The file's contents as read (the interchange-format text, trailing
    // newline included). Wiped when the last holder lets go.
    std::span<const uint8_t> data() const { return data_.span(); }
    // The interchange format it was recognised as on load.
    const key_format& format() const { return *format_; }

    // False once keyring_file_remove_key took it out of the store.
    bool usable() const { return !removed_.load(std::memory_order_acquire); }
    void mark_removed() const { removed_.store(true, std::memory_order_release); }

private:
    const std::string name_;
    const std::string path_;
    const secure_bytes data_;
    const key_format* const format_;
    mutable std::atomic<bool> removed_{false};
};

using key_ptr = std::shared_ptr<const key>;

// Largest key file accepted: every interchange format fits in a few hundred
// bytes; a larger file is not a key.
constexpr size_t key_file_max = 4096;

// Reads a key file with SPDK's checks: an absolute path, a regular file,
// no permission bits for group or others (0600 or stricter), owned by the
// user this process runs as, at most key_file_max bytes.
result<secure_bytes> read_key_file(const std::string& path);

class store {
public:
    // Reads and validates path and adds it as name. Fails (-EEXIST) when the
    // name is taken.
    result<key_ptr> add_file_key(const std::string& name, const std::string& path);
    // Adds already-read contents (tools that take a secret on the command
    // line; tests). Same validation as a file, path is informational.
    result<key_ptr> add_key(const std::string& name, const std::string& path, secure_bytes data);
    // -ENOKEY when there is no such key.
    result<void> remove_key(const std::string& name);
    key_ptr find(const std::string& name) const;
    std::vector<key_ptr> keys() const;  // sorted by name

private:
    mutable std::mutex mtx_;
    std::map<std::string, key_ptr> keys_;
};

// Checks a key name: 1..255 printable ASCII characters, no whitespace (SPDK
// builds key names into log lines and JSON).
result<void> validate_key_name(const std::string& name);

}  // namespace nvmf::keyring
