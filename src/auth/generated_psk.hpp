// Secure channel concatenation (NVMe Base 2.1, "Secure Channel
// Concatenation" and "Generated PSK for TLS"): a DH-HMAC-CHAP transaction on
// an admin queue with SC_C NEWTLSPSK or REPLACETLSPSK makes both sides derive
// the same TLS PSK from what the exchange produced, and the host then opens
// its TLS queues with it. Pure functions over OpenSSL, shared by the target
// (auth/target_session) and the host (auth/host_session).
//
//   Ks      = H(g^xy mod p)                      the session key (a DH group is required)
//   PSK     = HMAC-H(Ks, C1 || C2)               the generated PSK, hash length bytes
//   digest  = Base64(HMAC-H(PSK, NQNh " " NQNc " NVMe-over-Fabrics"))
//   identity "NVMe1G<hh> <NQNh> <NQNc> <digest>"
//   TLS PSK = HKDF-Expand-Label(HKDF-Extract(0, PSK), "nvme-tls-psk", "<hh> <digest>", L)
//
// H is the hash negotiated for the transaction. Only SHA-256 (hh 01) and
// SHA-384 (hh 02) can be used: the NVMe/TCP cipher suites have no SHA-512,
// so the Linux host and target (and this code) refuse SHA-512 with it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "keyring/secure_bytes.hpp"
#include "keyring/tls_psk.hpp"
#include "util/result.hpp"

namespace nvmf::auth {

// Whether a DH-HMAC-CHAP hash can generate a PSK (SHA-256, SHA-384).
bool concat_hash_usable(uint8_t hash);

// Ks = H(dh_secret).
result<keyring::secure_bytes> session_key(uint8_t hash, std::span<const uint8_t> dh_secret);

// PSK = HMAC-H(ks, c1 || c2); c1 and c2 are hash length bytes each.
result<keyring::secure_bytes> generate_psk(uint8_t hash, std::span<const uint8_t> ks,
                                           std::span<const uint8_t> c1,
                                           std::span<const uint8_t> c2);

// The identity (NVMe1G) and TLS PSK of a generated PSK for this host and
// subsystem, with the cipher suite of its hash.
result<keyring::tls_credentials> generated_credentials(uint8_t hash, std::span<const uint8_t> psk,
                                                       std::string_view hostnqn,
                                                       std::string_view subnqn);

}  // namespace nvmf::auth
