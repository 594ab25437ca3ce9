// The interchange formats the keyring accepts. Each entry is a prefix and a
// validator; a new format adds one line here.
#include "keyring/formats.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "keyring/dhchap_secret.hpp"
#include "keyring/tls_psk.hpp"

namespace nvmf::keyring {

namespace {

result<void> validate_tls_psk(std::span<const uint8_t> contents) {
    auto k = parse_interchange({reinterpret_cast<const char*>(contents.data()), contents.size()});
    if (!k) return k.err();
    return {};
}

const key_format formats[] = {
    {"DHHC-1", dhchap_prefix, validate_dhchap_secret},
    {"NVMeTLSkey-1", "NVMeTLSkey-1:", validate_tls_psk},
};

}  // namespace

result<const key_format*> detect_format(std::span<const uint8_t> contents) {
    std::string known;
    for (const auto& f : formats) {
        const size_t n = std::strlen(f.prefix);
        if (contents.size() >= n && std::memcmp(contents.data(), f.prefix, n) == 0) return &f;
        known += known.empty() ? "" : ", ";
        known += f.name;
    }
    return make_error(-EINVAL, "not in a known key interchange format (" + known + ")");
}

}  // namespace nvmf::keyring
