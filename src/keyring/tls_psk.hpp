// NVMe/TCP TLS pre-shared keys (NVMe/TCP Transport spec, "Pre-Shared Key
// Management"; TP 8018 for the TLS 1.3 identity): the PSK interchange format
// "NVMeTLSkey-1:HH:<base64(key || CRC-32)>:", the retained PSK derived from a
// configured PSK and the host NQN, the PSK identities "NVMe0RHH <hostnqn>
// <subnqn>" and "NVMe1RHH <hostnqn> <subnqn> <digest>", and the TLS PSK handed
// to the TLS 1.3 handshake. Pure functions over bytes (OpenSSL for HKDF and
// HMAC): the target, the host and the fuzzers share them.
//
// Derivations (the spec's, as SPDK, libnvme and the Linux host implement them):
//   retained  = HKDF-Expand-Label(HKDF-Extract(0, configured), "HostNQN", hostnqn, L(configured))
//               (or the configured PSK itself when the key says hash 00)
//   digest    = base64(HMAC-H(retained, hostnqn " " subnqn " NVMe-over-Fabrics"))  (NVMe1R only)
//   TLS PSK   = HKDF-Expand-Label(HKDF-Extract(0, retained), "nvme-tls-psk", C, L(H))
//               C = the identity (NVMe0R) or "HH <digest>" (NVMe1R)
// where H is the hash of the identity's cipher suite: 01 SHA-256
// (TLS_AES_128_GCM_SHA256), 02 SHA-384 (TLS_AES_256_GCM_SHA384).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace nvmf::keyring {

// Bytes of key material, wiped (OPENSSL_cleanse) when freed or reassigned.
class secret_bytes {
public:
    secret_bytes() = default;
    explicit secret_bytes(size_t n) : b_(n) {}
    secret_bytes(const uint8_t* p, size_t n) : b_(p, p + n) {}
    secret_bytes(const secret_bytes& o) = default;
    secret_bytes(secret_bytes&& o) noexcept : b_(std::move(o.b_)) { o.b_.clear(); }
    secret_bytes& operator=(const secret_bytes& o);
    secret_bytes& operator=(secret_bytes&& o) noexcept;
    ~secret_bytes() { wipe(); }

    uint8_t* data() { return b_.data(); }
    const uint8_t* data() const { return b_.data(); }
    size_t size() const { return b_.size(); }
    bool empty() const { return b_.empty(); }
    std::span<const uint8_t> span() const { return {b_.data(), b_.size()}; }
    void resize(size_t n);
    bool operator==(const secret_bytes& o) const;

private:
    void wipe();
    std::vector<uint8_t> b_;
};

// The HH of an interchange key: how the retained PSK is made.
enum class psk_hash : uint8_t { none = 0, sha256 = 1, sha384 = 2 };

// The HH of a PSK identity: the cipher suite, and so the hash of the TLS PSK.
enum class tls_cipher : uint8_t { aes_128_gcm_sha256 = 1, aes_256_gcm_sha384 = 2 };

const char* cipher_name(tls_cipher c);  // "TLS_AES_128_GCM_SHA256", ...
size_t cipher_hash_len(tls_cipher c);   // 32 or 48

// A configured PSK as read from the interchange format.
struct configured_psk {
    psk_hash hash = psk_hash::none;
    secret_bytes key;  // 32 or 48 bytes

    // The cipher suite this key is used with: by its length (32: SHA-256,
    // 48: SHA-384), as SPDK and libnvme choose it.
    tls_cipher cipher() const;
};

// Parses "NVMeTLSkey-1:HH:<base64>:" (HH 00, 01 or 02; 32 or 48 key bytes,
// 01 needing 32 and 02 needing 48; the CRC-32 after the key must match).
// Trailing whitespace (a newline in a key file) is ignored. Errors never
// contain key material.
result<configured_psk> parse_interchange(std::string_view text);
// The interchange text for a key (32 or 48 bytes).
result<std::string> format_interchange(psk_hash hash, std::span<const uint8_t> key);

// CRC-32 (IEEE 802.3, as zlib's crc32) of the key, as appended little-endian.
uint32_t interchange_crc(std::span<const uint8_t> key);

// Retained PSK: HKDF with the key's hash over "HostNQN" and the host NQN;
// with psk_hash::none the configured key itself.
result<secret_bytes> derive_retained_psk(const configured_psk& psk, std::string_view hostnqn);

// PSK identity, version 0: "NVMe0RHH <hostnqn> <subnqn>".
std::string psk_identity_v0(tls_cipher c, std::string_view hostnqn, std::string_view subnqn);
// The NVMe1R digest: base64(HMAC(retained, "<hostnqn> <subnqn> NVMe-over-Fabrics")).
result<std::string> psk_digest(tls_cipher c, std::span<const uint8_t> retained,
                               std::string_view hostnqn, std::string_view subnqn);
// PSK identity, version 1: "NVMe1RHH <hostnqn> <subnqn> <digest>".
std::string psk_identity_v1(tls_cipher c, std::string_view hostnqn, std::string_view subnqn,
                            std::string_view digest);

// A PSK identity taken apart. NQNs contain no space (the fields are
// space-separated; an NQN with one could not be told apart).
struct psk_identity {
    int version = 0;  // 0: NVMe0R, 1: NVMe1R
    tls_cipher cipher = tls_cipher::aes_128_gcm_sha256;
    std::string hostnqn;
    std::string subnqn;
    std::string digest;  // version 1 only
};
result<psk_identity> parse_psk_identity(std::string_view id);

// TLS PSK for an identity, from the retained PSK: the context is the whole
// identity (version 0) or "HH <digest>" (version 1). L = the cipher's hash length.
result<secret_bytes> derive_tls_psk(const psk_identity& id, std::string_view identity_text,
                                    std::span<const uint8_t> retained);

// Everything one side of a connection needs for a (hostnqn, subnqn) pair.
struct tls_credentials {
    std::string identity;
    tls_cipher cipher = tls_cipher::aes_128_gcm_sha256;
    secret_bytes tls_psk;
};
// The host's view: from its configured key, its NQN and the subsystem's, the
// identity it offers (version 0 or 1) and the TLS PSK that goes with it.
result<tls_credentials> host_credentials(const configured_psk& psk, std::string_view hostnqn,
                                         std::string_view subnqn, int identity_version);

// A host's PSK as the target keeps it (nvmf_subsystem_add_host --psk NAME):
// the keyring name it came from, the cipher suite its length implies, and
// the retained PSK for that host (the configured key is not kept).
struct host_psk {
    std::string key_name;
    tls_cipher cipher = tls_cipher::aes_128_gcm_sha256;
    secret_bytes retained;
};
result<host_psk> make_host_psk(std::string key_name, std::string_view interchange,
                               std::string_view hostnqn);

// The target's answer to an identity a host offers, given that host's PSK on
// the subsystem the identity names: the TLS PSK, or an error when the
// identity does not fit the key (its hash, or an NVMe1R digest made with
// another key).
result<secret_bytes> target_tls_psk(const psk_identity& id, std::string_view identity_text,
                                    const host_psk& key);

// Base64 (RFC 4648, with padding), used by the interchange format and the digest.
std::string base64_encode(std::span<const uint8_t> in);
// Decodes strict base64 (length a multiple of 4, padding only at the end).
result<secret_bytes> base64_decode(std::string_view in);

}  // namespace nvmf::keyring
