// The DH-HMAC-CHAP secret interchange format (NVMe Base 2.x, "DH-HMAC-CHAP
// secret representation"; what `nvme gen-dhchap-key` prints):
//
//   DHHC-1:<hh>:<base64 of secret || CRC-32 of secret, little-endian>:
//
// hh is the hash that transforms the secret before use (00 none, 01 SHA-256,
// 02 SHA-384, 03 SHA-512); the secret is 32, 48 or 64 bytes. As the Linux
// host and SPDK do, any transform hash may go with any secret length.
#pragma once

#include <cstdint>
#include <span>

#include "keyring/secure_bytes.hpp"
#include "util/result.hpp"

namespace nvmf::keyring {

constexpr const char* dhchap_prefix = "DHHC-1:";

struct dhchap_secret {
    uint8_t hash_id = 0;  // transformation hash, 0..3
    secure_bytes secret;  // 32, 48 or 64 bytes
};

// Parses the text of a key (trailing whitespace, such as the newline of a
// key file, is ignored). Errors never quote the key.
result<dhchap_secret> parse_dhchap_secret(std::span<const uint8_t> text);
result<void> validate_dhchap_secret(std::span<const uint8_t> text);

// The interchange text of a secret (tools, tests); no trailing newline.
result<secure_bytes> format_dhchap_secret(uint8_t hash_id, std::span<const uint8_t> secret);

}  // namespace nvmf::keyring
