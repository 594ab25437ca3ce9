// DHHC-1 secrets: parse, validate, format.
#include "keyring/dhchap_secret.hpp"

#include <cerrno>
#include <cstring>

#include "keyring/base64.hpp"

namespace nvmf::keyring {

namespace {

bool valid_secret_len(size_t n) { return n == 32 || n == 48 || n == 64; }

int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

error bad(const std::string& what) {
    return make_error(-EINVAL, "not a valid DHHC-1 secret: " + what);
}

}  // namespace

result<dhchap_secret> parse_dhchap_secret(std::span<const uint8_t> text) {
    size_t n = text.size();
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' ||
                     text[n - 1] == '\t')) {
        --n;
    }
    text = text.first(n);
    const size_t plen = std::strlen(dhchap_prefix);
    // "DHHC-1:" hh ":" base64 ":"
    if (text.size() < plen + 4 || std::memcmp(text.data(), dhchap_prefix, plen) != 0) {
        return bad("it must start with 'DHHC-1:'");
    }
    const int h1 = hex_digit(text[plen]), h2 = hex_digit(text[plen + 1]);
    if (h1 < 0 || h2 < 0 || text[plen + 2] != ':') {
        return bad("the transformation hash must be two hexadecimal digits and ':'");
    }
    const int hash_id = h1 * 16 + h2;
    if (hash_id > 3) {
        return bad("unknown transformation hash " + std::to_string(hash_id) +
                   " (00 none, 01 SHA-256, 02 SHA-384, 03 SHA-512)");
    }
    auto body = text.subspan(plen + 3);
    if (body.empty() || body.back() != ':') return bad("it must end with ':'");
    body = body.first(body.size() - 1);
    if (std::memchr(body.data(), ':', body.size()) != nullptr) return bad("too many ':' fields");
    auto raw = base64_decode(body);
    if (!raw) return bad("the key is not valid base64");
    if (raw->size() < 4 || !valid_secret_len(raw->size() - 4)) {
        return bad("the secret is " + std::to_string(raw->size() < 4 ? 0 : raw->size() - 4) +
                   " bytes; it must be 32, 48 or 64 (plus a 4-byte CRC)");
    }
    const size_t slen = raw->size() - 4;
    const uint32_t stored = static_cast<uint32_t>((*raw)[slen]) |
                            static_cast<uint32_t>((*raw)[slen + 1]) << 8 |
                            static_cast<uint32_t>((*raw)[slen + 2]) << 16 |
                            static_cast<uint32_t>((*raw)[slen + 3]) << 24;
    if (crc32_ieee(raw->span().first(slen)) != stored) return bad("CRC mismatch");
    raw->truncate(slen);
    return dhchap_secret{static_cast<uint8_t>(hash_id), std::move(*raw)};
}

result<void> validate_dhchap_secret(std::span<const uint8_t> text) {
    auto s = parse_dhchap_secret(text);
    if (!s) return s.err();
    return {};
}

result<secure_bytes> format_dhchap_secret(uint8_t hash_id, std::span<const uint8_t> secret) {
    if (hash_id > 3) return make_error(-EINVAL, "transformation hash must be 0..3");
    if (!valid_secret_len(secret.size())) {
        return make_error(-EINVAL, "a DH-HMAC-CHAP secret is 32, 48 or 64 bytes");
    }
    secure_bytes raw(secret.size() + 4);
    std::memcpy(raw.data(), secret.data(), secret.size());
    const uint32_t crc = crc32_ieee(secret);
    for (int i = 0; i < 4; ++i) raw[secret.size() + i] = static_cast<uint8_t>(crc >> (8 * i));
    secure_bytes b64 = base64_encode(raw.span());
    const size_t plen = std::strlen(dhchap_prefix);
    secure_bytes out(plen + 3 + b64.size() + 1);
    std::memcpy(out.data(), dhchap_prefix, plen);
    static constexpr char hex[] = "0123456789abcdef";
    out[plen] = static_cast<uint8_t>(hex[hash_id >> 4]);
    out[plen + 1] = static_cast<uint8_t>(hex[hash_id & 15]);
    out[plen + 2] = ':';
    std::memcpy(out.data() + plen + 3, b64.data(), b64.size());
    out[out.size() - 1] = ':';
    return out;
}

}  // namespace nvmf::keyring
