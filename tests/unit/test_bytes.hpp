// Byte helpers the key and crypto tests share: hex text both ways (vectors
// are written as hex) and DHHC-1 secrets made from a seed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "keyring/dhchap_secret.hpp"

namespace nvmf::test {

inline std::string hex(std::span<const uint8_t> b) {
    static constexpr const char* digits = "0123456789abcdef";
    std::string s;
    for (uint8_t c : b) {
        s += digits[c >> 4];
        s += digits[c & 15];
    }
    return s;
}

inline std::vector<uint8_t> unhex(std::string_view s) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < s.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

// The DHHC-1 text of a `len`-byte secret for `hash` (0 none, 1-3 SHA-256/384/512
// transform), its bytes a pattern of `seed`: different seeds, different keys.
inline std::string dhchap_key_text(uint8_t hash, size_t len, uint8_t seed) {
    std::vector<uint8_t> s(len);
    for (size_t i = 0; i < len; ++i) s[i] = static_cast<uint8_t>(seed + i * 7);
    auto t = keyring::format_dhchap_secret(hash, s);
    return {reinterpret_cast<const char*>(t->data()), t->size()};
}

}  // namespace nvmf::test
