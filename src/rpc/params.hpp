// Reading a JSON-RPC method's "params" object with SPDK's strictness:
// missing required names, unknown names, wrong types and out-of-range values
// are all Invalid params (-32602) with a message naming the parameter.
#pragma once

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace nvmf::rpc {

using json = nlohmann::json;

// JSON-RPC 2.0 error codes.
constexpr int err_parse = -32700;
constexpr int err_invalid_request = -32600;
constexpr int err_method_not_found = -32601;
constexpr int err_invalid_params = -32602;
constexpr int err_internal = -32603;

inline error invalid_params(std::string msg) {
    return make_error(err_invalid_params, std::move(msg));
}

// Core errors keep their negative errno as the code (as SPDK's bdev RPCs
// do), except -EINVAL, which is a parameter problem.
inline error from_core(const error& e) {
    if (e.code == -EINVAL) return invalid_params(e.message);
    return e;
}

// Usage: construct, call the getters, then finish(). Getters record the first
// error and keep going so that finish() can report it; they return true when
// the value was present and valid.
class params {
public:
    params(const json& p, bool allow_absent = true);

    bool str(const char* name, std::string& out, bool required, size_t max_len = 4096);
    bool u32(const char* name, uint32_t& out, bool required, uint32_t lo = 0,
             uint32_t hi = std::numeric_limits<uint32_t>::max());
    bool u64(const char* name, uint64_t& out, bool required, uint64_t lo = 0,
             uint64_t hi = std::numeric_limits<uint64_t>::max());
    bool u16(const char* name, uint16_t& out, bool required, uint16_t lo = 0, uint16_t hi = 0xffff);
    bool i64(const char* name, int64_t& out, bool required,
             int64_t lo = std::numeric_limits<int64_t>::min(),
             int64_t hi = std::numeric_limits<int64_t>::max());
    bool boolean(const char* name, bool& out, bool required);
    // An array of strings (SPDK's bitmask parameters, such as dhchap_digests).
    bool str_list(const char* name, std::vector<std::string>& out, bool required,
                  size_t max_len = 4096);
    bool u32_list(const char* name, std::vector<uint32_t>& out, bool required, size_t max_items);
    // A nested object; nullptr when absent or not an object (an error is recorded).
    const json* object(const char* name, bool required);
    // Accepts the name without reading it (a parameter that has no effect here).
    bool ignore(const char* name);

    bool has(const char* name) const;
    // Records an error of the caller's own (e.g. a cross-field check).
    void fail(std::string msg);
    bool failed() const { return failed_; }

    // The first error, else the first parameter nobody asked for.
    result<void> finish() const;

private:
    const json* find(const char* name, bool required);

    const json* obj_ = nullptr;
    std::set<std::string> known_;
    bool failed_ = false;
    std::string error_;
};

// Hex helpers for NGUID/EUI64 ("-" separators are accepted on input).
bool parse_hex_bytes(const std::string& s, uint8_t* out, size_t n);
std::string hex_upper(const uint8_t* p, size_t n);

}  // namespace nvmf::rpc
