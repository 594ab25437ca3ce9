// Base64 and CRC-32 for key interchange formats.
#include "keyring/base64.hpp"

#include <isa-l/crc.h>

namespace nvmf::keyring {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int decode_char(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

std::optional<secure_bytes> base64_decode(std::span<const uint8_t> text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    size_t pad = 0;
    if (text[text.size() - 1] == '=') ++pad;
    if (text[text.size() - 2] == '=') ++pad;
    secure_bytes out(text.size() / 4 * 3 - pad);
    size_t o = 0;
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        uint32_t v = 0;
        for (size_t j = 0; j < 4; ++j) {
            const uint8_t c = text[i + j];
            int d;
            if (c == '=' && last && j >= 4 - pad) {
                d = 0;
            } else {
                d = decode_char(c);
                if (d < 0) return std::nullopt;
            }
            v = (v << 6) | static_cast<uint32_t>(d);
        }
        const uint8_t b[3] = {static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                              static_cast<uint8_t>(v)};
        const size_t n = last ? 3 - pad : 3;
        // Padding bits must be zero, or two texts would decode to one value.
        if (last && pad > 0 && b[n] != 0) return std::nullopt;
        for (size_t j = 0; j < n; ++j) out[o++] = b[j];
        cleanse(&v, sizeof(v));
    }
    return out;
}

secure_bytes base64_encode(std::span<const uint8_t> bytes) {
    secure_bytes out((bytes.size() + 2) / 3 * 4);
    size_t o = 0;
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const size_t n = bytes.size() - i < 3 ? bytes.size() - i : 3;
        uint32_t v = static_cast<uint32_t>(bytes[i]) << 16;
        if (n > 1) v |= static_cast<uint32_t>(bytes[i + 1]) << 8;
        if (n > 2) v |= bytes[i + 2];
        out[o++] = static_cast<uint8_t>(alphabet[(v >> 18) & 63]);
        out[o++] = static_cast<uint8_t>(alphabet[(v >> 12) & 63]);
        out[o++] = static_cast<uint8_t>(n > 1 ? alphabet[(v >> 6) & 63] : '=');
        out[o++] = static_cast<uint8_t>(n > 2 ? alphabet[v & 63] : '=');
    }
    return out;
}

uint32_t crc32_ieee(std::span<const uint8_t> bytes) {
    // isa-l's reflected IEEE CRC takes and returns the finished value (it
    // inverts on entry and exit), so a seed of 0 gives zlib's crc32().
    return crc32_gzip_refl(0, bytes.data(), bytes.size());
}

}  // namespace nvmf::keyring
