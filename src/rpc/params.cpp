#include "rpc/params.hpp"

#include <cctype>

namespace nvmf::rpc {

namespace {
const json& empty_object() {
    static const json e = json::object();
    return e;
}

std::string quote(const char* name) { return std::string("'") + name + "'"; }

// Short rendering of an offending value for messages.
std::string show(const json& v) {
    std::string s = v.dump();
    if (s.size() > 64) s = s.substr(0, 61) + "...";
    return s;
}
}  // namespace

params::params(const json& p, bool allow_absent) {
    if (p.is_object()) {
        obj_ = &p;
    } else if (p.is_null() && allow_absent) {
        obj_ = &empty_object();
    } else {
        obj_ = &empty_object();
        fail(p.is_null() ? "params are required" : "params must be a JSON object, not " + show(p));
    }
}

void params::fail(std::string msg) {
    if (failed_) return;
    failed_ = true;
    error_ = std::move(msg);
}

bool params::has(const char* name) const { return obj_->contains(name); }

const json* params::find(const char* name, bool required) {
    known_.insert(name);
    auto it = obj_->find(name);
    if (it == obj_->end()) {
        if (required) fail("missing required parameter " + quote(name));
        return nullptr;
    }
    return &*it;
}

bool params::ignore(const char* name) { return find(name, false) != nullptr; }

bool params::str(const char* name, std::string& out, bool required, size_t max_len) {
    const json* v = find(name, required);
    if (!v) return false;
    if (!v->is_string()) {
        fail("parameter " + quote(name) + " must be a string, not " + show(*v));
        return false;
    }
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > max_len) {
        fail("parameter " + quote(name) + " is longer than " + std::to_string(max_len) + " bytes");
        return false;
    }
    out = s;
    return true;
}

bool params::u64(const char* name, uint64_t& out, bool required, uint64_t lo, uint64_t hi) {
    const json* v = find(name, required);
    if (!v) return false;
    if (!v->is_number_integer()) {
        fail("parameter " + quote(name) + " must be an unsigned integer, not " + show(*v));
        return false;
    }
    // Values built in C++ are signed integers even when positive.
    const bool negative = !v->is_number_unsigned() && v->get<int64_t>() < 0;
    const uint64_t x = negative ? 0 : v->get<uint64_t>();
    if (negative || x < lo || x > hi) {
        fail("parameter " + quote(name) + " is out of range: must be " + std::to_string(lo) + ".." +
             std::to_string(hi) + ", got " + show(*v));
        return false;
    }
    out = x;
    return true;
}

bool params::u32(const char* name, uint32_t& out, bool required, uint32_t lo, uint32_t hi) {
    uint64_t x = 0;
    if (!u64(name, x, required, lo, hi)) return false;
    out = static_cast<uint32_t>(x);
    return true;
}

bool params::u16(const char* name, uint16_t& out, bool required, uint16_t lo, uint16_t hi) {
    uint64_t x = 0;
    if (!u64(name, x, required, lo, hi)) return false;
    out = static_cast<uint16_t>(x);
    return true;
}

bool params::i64(const char* name, int64_t& out, bool required, int64_t lo, int64_t hi) {
    const json* v = find(name, required);
    if (!v) return false;
    if (!v->is_number_integer() ||
        (v->is_number_unsigned() &&
         v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
        fail("parameter " + quote(name) + " must be an integer, not " + show(*v));
        return false;
    }
    const int64_t x = v->get<int64_t>();
    if (x < lo || x > hi) {
        fail("parameter " + quote(name) + " is out of range: must be " + std::to_string(lo) + ".." +
             std::to_string(hi) + ", got " + show(*v));
        return false;
    }
    out = x;
    return true;
}

bool params::str_list(const char* name, std::vector<std::string>& out, bool required,
                      size_t max_len) {
    const json* v = find(name, required);
    if (!v) return false;
    if (!v->is_array()) {
        fail("parameter " + quote(name) + " must be an array of strings, not " + show(*v));
        return false;
    }
    std::vector<std::string> items;
    for (const auto& e : *v) {
        if (!e.is_string() || e.get_ref<const std::string&>().size() > max_len) {
            fail("parameter " + quote(name) + " must be an array of strings, not " + show(*v));
            return false;
        }
        items.push_back(e.get<std::string>());
    }
    out = std::move(items);
    return true;
}

bool params::u32_list(const char* name, std::vector<uint32_t>& out, bool required,
                      size_t max_items) {
    const json* v = find(name, required);
    if (!v) return false;
    const auto bad = [&] {
        fail("parameter " + quote(name) + " must be an array of at most " +
             std::to_string(max_items) + " unsigned 32-bit integers, not " + show(*v));
        return false;
    };
    if (!v->is_array() || v->size() > max_items) return bad();
    std::vector<uint32_t> items;
    for (const auto& e : *v) {
        if (!e.is_number_unsigned() || e.get<uint64_t>() > 0xffffffffULL) return bad();
        items.push_back(static_cast<uint32_t>(e.get<uint64_t>()));
    }
    out = std::move(items);
    return true;
}

bool params::boolean(const char* name, bool& out, bool required) {
    const json* v = find(name, required);
    if (!v) return false;
    if (!v->is_boolean()) {
        fail("parameter " + quote(name) + " must be a boolean (true or false), not " + show(*v));
        return false;
    }
    out = v->get<bool>();
    return true;
}

const json* params::object(const char* name, bool required) {
    const json* v = find(name, required);
    if (!v) return nullptr;
    if (!v->is_object()) {
        fail("parameter " + quote(name) + " must be a JSON object, not " + show(*v));
        return nullptr;
    }
    return v;
}

result<void> params::finish() const {
    if (failed_) return invalid_params(error_);
    for (const auto& [key, _] : obj_->items()) {
        if (!known_.count(key)) return invalid_params("unknown parameter '" + key + "'");
    }
    return {};
}

bool parse_hex_bytes(const std::string& s, uint8_t* out, size_t n) {
    size_t j = 0;
    int half = -1;
    for (char c : s) {
        if (c == '-') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
        const int v = std::isdigit(static_cast<unsigned char>(c))
                          ? c - '0'
                          : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
        if (half < 0) {
            half = v;
        } else {
            if (j >= n) return false;
            out[j++] = static_cast<uint8_t>(half << 4 | v);
            half = -1;
        }
    }
    return half < 0 && j == n;
}

std::string hex_upper(const uint8_t* p, size_t n) {
    static const char digits[] = "0123456789ABCDEF";
    std::string s;
    s.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 0xf];
    }
    return s;
}

}  // namespace nvmf::rpc
