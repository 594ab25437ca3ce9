// What the TLS side needs from the keyring (keyring_file_add_key and the
// like): a key's content by name, i.e. the interchange text of a PSK. The
// keyring owns its store; this one function is the boundary.
#pragma once

#include <string_view>

#include "keyring/tls_psk.hpp"
#include "util/result.hpp"

namespace nvmf::keyring {

// The bytes of the key called name; -ENOKEY when there is no such key.
result<secret_bytes> get_key(std::string_view name);

}  // namespace nvmf::keyring
