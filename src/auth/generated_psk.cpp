// The generated PSK of secure channel concatenation, on OpenSSL 3.
#include "auth/generated_psk.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "auth/dhchap_crypto.hpp"

namespace nvmf::auth {

namespace {

const EVP_MD* md_of(uint8_t hash) {
    switch (hash) {
    case hash_id::sha256:
        return EVP_sha256();
    case hash_id::sha384:
        return EVP_sha384();
    case hash_id::sha512:
        return EVP_sha512();
    default:
        return nullptr;
    }
}

}  // namespace

bool concat_hash_usable(uint8_t hash) { return hash == hash_id::sha256 || hash == hash_id::sha384; }

result<keyring::secure_bytes> session_key(uint8_t hash, std::span<const uint8_t> dh_secret) {
    const EVP_MD* md = md_of(hash);
    if (md == nullptr) return make_error(-EINVAL, "unknown hash " + std::to_string(hash));
    if (dh_secret.empty()) {
        return make_error(-EINVAL, "no DH secret: the null DH group cannot generate a PSK");
    }
    keyring::secure_bytes ks(hash_len(hash));
    unsigned int len = 0;
    if (EVP_Digest(dh_secret.data(), dh_secret.size(), ks.data(), &len, md, nullptr) != 1 ||
        len != ks.size()) {
        return make_error(-EIO, "EVP_Digest failed");
    }
    return ks;
}

result<keyring::secure_bytes> generate_psk(uint8_t hash, std::span<const uint8_t> ks,
                                           std::span<const uint8_t> c1,
                                           std::span<const uint8_t> c2) {
    const EVP_MD* md = md_of(hash);
    const size_t hl = hash_len(hash);
    if (md == nullptr) return make_error(-EINVAL, "unknown hash " + std::to_string(hash));
    if (c1.size() != hl || c2.size() != hl) {
        return make_error(-EINVAL, "challenges must be the hash's length");
    }
    // The challenges travel in clear text; only the key is secret.
    uint8_t msg[2 * max_hash_len];
    std::memcpy(msg, c1.data(), hl);
    std::memcpy(msg + hl, c2.data(), hl);
    keyring::secure_bytes psk(hl);
    unsigned int len = 0;
    if (HMAC(md, ks.data(), static_cast<int>(ks.size()), msg, 2 * hl, psk.data(), &len) ==
            nullptr ||
        len != hl) {
        return make_error(-EIO, "HMAC failed");
    }
    return psk;
}

result<keyring::tls_credentials> generated_credentials(uint8_t hash, std::span<const uint8_t> psk,
                                                       std::string_view hostnqn,
                                                       std::string_view subnqn) {
    if (!concat_hash_usable(hash)) {
        return make_error(-EINVAL, std::string("a generated PSK needs SHA-256 or SHA-384, not ") +
                                       (hash_name(hash) ? hash_name(hash) : "?"));
    }
    if (psk.size() != hash_len(hash)) return make_error(-EINVAL, "generated PSK length");
    // The DH-HMAC-CHAP hash identifiers 01h/02h are the identity's hash
    // specifiers 01/02 (SHA-256/SHA-384) as well.
    const auto cipher = static_cast<keyring::tls_cipher>(hash);
    auto digest = keyring::psk_digest(cipher, psk, hostnqn, subnqn);
    if (!digest) return digest.err();
    keyring::psk_identity id;
    id.version = 1;
    id.generated = true;
    id.cipher = cipher;
    id.hostnqn = std::string(hostnqn);
    id.subnqn = std::string(subnqn);
    id.digest = *digest;
    keyring::tls_credentials out;
    out.identity = keyring::psk_identity_text(id);
    out.cipher = cipher;
    auto tls = keyring::derive_tls_psk(id, out.identity, psk);
    if (!tls) return tls.err();
    out.tls_psk = std::move(*tls);
    return out;
}

}  // namespace nvmf::auth
