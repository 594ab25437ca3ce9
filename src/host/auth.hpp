// DH-HMAC-CHAP from the host (NVMe Base 2.x in-band authentication): one
// transaction on one queue, carried by Authentication Send/Receive, driven by
// auth::host_session. The controller asks for it with ATR in the Connect
// response; a host may run it again at any time (re-authentication).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/dhchap_crypto.hpp"
#include "host/queue.hpp"
#include "keyring/dhchap_secret.hpp"
#include "keyring/tls_psk.hpp"
#include "util/result.hpp"

namespace nvmf::host {

struct auth_options {
    // The host's secret; with ctrl_key set the controller is authenticated too.
    std::shared_ptr<const keyring::dhchap_secret> key;
    std::shared_ptr<const keyring::dhchap_secret> ctrl_key;
    // What the host offers, in its order of preference (SPDK's defaults: all).
    std::vector<uint8_t> digests{auth::hash_id::sha256, auth::hash_id::sha384,
                                 auth::hash_id::sha512};
    std::vector<uint8_t> dhgroups{auth::dhgroup_id::null,      auth::dhgroup_id::ffdhe2048,
                                  auth::dhgroup_id::ffdhe3072, auth::dhgroup_id::ffdhe4096,
                                  auth::dhgroup_id::ffdhe6144, auth::dhgroup_id::ffdhe8192};
};

struct auth_outcome {
    uint8_t hash = 0;
    uint8_t dhgroup = 0;
    bool bidirectional = false;
    uint8_t sc_c = 0;  // spec::auth_scc
    // With SC_C (secure channel concatenation): the identity (NVMe1G) and TLS
    // PSK of the PSK the transaction generated.
    std::optional<keyring::tls_credentials> generated;
};

// Authentication Send/Receive capsules (SECP E9h, SPSP 01h/01h).
spec::sqe auth_send_cmd(uint32_t tl);
spec::sqe auth_recv_cmd(uint32_t al);

// Runs one transaction. -EACCES when either side refuses (the message says
// why and with which reason code); transport errors as queue.hpp describes.
// sc_c NEWTLSPSK / REPLACETLSPSK (admin queue) asks for a generated PSK: it
// needs SHA-256 or SHA-384 and a DH group other than null among o's
// (-EINVAL before anything is sent otherwise).
result<auth_outcome> authenticate(queue& q, const auth_options& o, const std::string& hostnqn,
                                  const std::string& subnqn, uint16_t t_id, uint8_t sc_c = 0);

// Reads a DH-HMAC-CHAP secret given on a command line: the DHHC-1 text
// itself, or the path of a key file (checked as the keyring checks files).
result<std::shared_ptr<const keyring::dhchap_secret>> load_dhchap_secret(const std::string& arg);

// The tools' --dhchap-key / --dhchap-ctrlr-key / --dhchap-digests /
// --dhchap-dhgroups: each may be empty (not given).
result<void> auth_from_args(auth_options& o, const std::string& key, const std::string& ctrl_key,
                            const std::string& digests, const std::string& dhgroups);
// "sha384 ffdhe2048" for a log line.
std::string describe(const auth_outcome& a);

// Parses "sha256,sha384" / "null,ffdhe2048" lists (SPDK's names).
result<std::vector<uint8_t>> parse_digest_list(const std::string& s);
result<std::vector<uint8_t>> parse_dhgroup_list(const std::string& s);

}  // namespace nvmf::host
