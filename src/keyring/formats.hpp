// The interchange formats a key file may hold, recognised by their prefix and
// checked on load so that a bad key is refused when it is added, not when a
// host first tries to use it.
#pragma once

#include <cstdint>
#include <span>

#include "util/result.hpp"

namespace nvmf::keyring {

struct key_format {
    const char* name;    // shown by keyring_get_keys
    const char* prefix;  // e.g. "DHHC-1:"
    // Checks the whole contents (trailing whitespace allowed). The message
    // must never contain key material.
    result<void> (*validate)(std::span<const uint8_t> contents);
};

// The format whose prefix contents start with, or an error naming the
// known formats.
result<const key_format*> detect_format(std::span<const uint8_t> contents);

}  // namespace nvmf::keyring
