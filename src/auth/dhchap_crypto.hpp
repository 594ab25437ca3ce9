// DH-HMAC-CHAP cryptography (NVMe Base 2.x, "DH-HMAC-CHAP protocol"), on
// OpenSSL 3: hash and DH group identifiers with SPDK's names, the secret
// transformation, the augmented challenge, the response value and the
// FFDHE (RFC 7919) exchange. Pure functions plus one key-pair type, shared
// by the target (nvmf/cmd/auth.cpp) and the host (host/auth.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "keyring/dhchap_secret.hpp"
#include "keyring/secure_bytes.hpp"
#include "util/result.hpp"

namespace nvmf::auth {

using keyring::secure_bytes;

// Hash function identifiers (HASHID, and the DHHC-1 transformation hash).
namespace hash_id {
constexpr uint8_t none = 0x00;  // only as a transformation hash: secret used as is
constexpr uint8_t sha256 = 0x01;
constexpr uint8_t sha384 = 0x02;
constexpr uint8_t sha512 = 0x03;
}  // namespace hash_id

// Diffie-Hellman group identifiers (DHGID).
namespace dhgroup_id {
constexpr uint8_t null = 0x00;
constexpr uint8_t ffdhe2048 = 0x01;
constexpr uint8_t ffdhe3072 = 0x02;
constexpr uint8_t ffdhe4096 = 0x03;
constexpr uint8_t ffdhe6144 = 0x04;
constexpr uint8_t ffdhe8192 = 0x05;
}  // namespace dhgroup_id

constexpr size_t max_hash_len = 64;
constexpr size_t max_dh_len = 1024;  // ffdhe8192

// Bit masks of allowed identifiers (bit n = identifier n), as SPDK keeps them.
constexpr uint32_t all_digests =
    (1u << hash_id::sha256) | (1u << hash_id::sha384) | (1u << hash_id::sha512);
constexpr uint32_t all_dhgroups = 0x3fu;  // null and ffdhe2048..8192

// 32/48/64 for SHA-256/384/512, 0 for anything else.
size_t hash_len(uint8_t id);
// SPDK's names: "sha256", "sha384", "sha512"; null for an unknown id.
const char* hash_name(uint8_t id);
std::optional<uint8_t> hash_from_name(std::string_view name);
// "null", "ffdhe2048" ... "ffdhe8192"; null for an unknown id.
const char* dhgroup_name(uint8_t id);
std::optional<uint8_t> dhgroup_from_name(std::string_view name);
// Bytes of a public value or shared secret (the group's modulus); 0 for null.
size_t dhgroup_len(uint8_t id);

// The key the HMAC uses: the secret itself when its transformation hash is
// none, else HMAC-hash(secret, nqn || "NVMe-over-Fabrics") with the hash the
// DHHC-1 text names. nqn is the host's NQN for the host key and the
// subsystem's NQN for the controller key.
result<secure_bytes> transform_key(const keyring::dhchap_secret& s, std::string_view nqn);

// The digest id used for the exchange (negotiated), not the key's transform.
struct response_params {
    uint8_t hash = hash_id::sha256;
    std::span<const uint8_t> challenge;  // C1 or C2, hash_len(hash) bytes
    uint32_t seqnum = 0;
    uint16_t tid = 0;
    uint8_t scc = 0;                     // secure channel concatenation (0: none)
    std::string_view label;              // "HostHost" or "Controller"
    std::string_view nqn1, nqn2;         // host then subsystem, or the reverse
    std::span<const uint8_t> dh_secret;  // g^xy mod p, empty for the null group
};

// The response value:
//   Ca = C, or HMAC-hash(hash(dh_secret), C) when a DH group is used
//   R  = HMAC-hash(key, Ca || seqnum (LE32) || tid (LE16) || scc || label ||
//                  nqn1 || 0x00 || nqn2)
// out must hold hash_len(p.hash) bytes.
result<void> compute_response(std::span<const uint8_t> key, const response_params& p,
                              std::span<uint8_t> out);
// Ca alone (exposed for known-answer tests).
result<void> augment_challenge(uint8_t hash, std::span<const uint8_t> challenge,
                               std::span<const uint8_t> dh_secret, std::span<uint8_t> out);

// Cryptographically random bytes (RAND_bytes).
result<void> random_bytes(std::span<uint8_t> out);

// An ephemeral FFDHE key pair for one exchange.
class dh_key {
public:
    static result<dh_key> generate(uint8_t group);
    // A fixed private value (known-answer tests only).
    static result<dh_key> from_private(uint8_t group, std::span<const uint8_t> priv);

    dh_key(dh_key&&) noexcept;
    dh_key& operator=(dh_key&&) noexcept;
    ~dh_key();

    uint8_t group() const { return group_; }
    // g^x mod p, big-endian, padded to dhgroup_len(group()).
    result<std::vector<uint8_t>> public_value() const;
    // (peer)^x mod p, padded to dhgroup_len(group()). The peer's value must be
    // exactly the group's length and pass OpenSSL's public key checks
    // (1 < y < p-1); anything else is an error, not a weak secret.
    result<secure_bytes> shared_secret(std::span<const uint8_t> peer_public) const;

private:
    struct impl;
    dh_key(uint8_t group, impl* p);
    uint8_t group_;
    impl* p_;
};

}  // namespace nvmf::auth
