// Base64 (RFC 4648, standard alphabet, '=' padding) for the key interchange
// formats. Decoding is strict: a length that is not a multiple of 4, a
// character outside the alphabet or padding anywhere but the end is an error.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "keyring/secure_bytes.hpp"

namespace nvmf::keyring {

std::optional<secure_bytes> base64_decode(std::span<const uint8_t> text);
// Encoded text goes into wiped memory as well: it is the key, spelled out.
secure_bytes base64_encode(std::span<const uint8_t> bytes);

// CRC-32 as zlib computes it (IEEE 802.3, reflected): the interchange formats
// append it, little-endian, to the secret before encoding.
uint32_t crc32_ieee(std::span<const uint8_t> bytes);

}  // namespace nvmf::keyring
