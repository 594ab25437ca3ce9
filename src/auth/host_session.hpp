// The host's side of one DH-HMAC-CHAP transaction (NVMe Base 2.x): builds
// AUTH_Negotiate, answers the controller's challenge, checks its Success1
// (and its response, when the controller is authenticated too). Pure, like
// target_session: host/auth.cpp carries the messages in AUTH_Send/Receive.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "auth/dhchap_crypto.hpp"
#include "keyring/dhchap_secret.hpp"
#include "nvme/spec/auth.hpp"

namespace nvmf::auth {

struct host_params {
    std::string hostnqn;
    std::string subnqn;
    const keyring::dhchap_secret* key = nullptr;       // required
    const keyring::dhchap_secret* ctrl_key = nullptr;  // set: authenticate the controller
    std::vector<uint8_t> digests{hash_id::sha256, hash_id::sha384, hash_id::sha512};
    std::vector<uint8_t> dhgroups{dhgroup_id::null,      dhgroup_id::ffdhe2048,
                                  dhgroup_id::ffdhe3072, dhgroup_id::ffdhe4096,
                                  dhgroup_id::ffdhe6144, dhgroup_id::ffdhe8192};
    uint16_t t_id = 0;
    // Secure channel concatenation (admin queue): spec::auth_scc::new_tls_psk
    // on a plain queue, replace_tls_psk on a TLS one. Only SHA-256/SHA-384
    // and the FFDHE groups are offered then; C2 is always sent (SEQNUM 0
    // unless ctrl_key asks for the controller's response too).
    uint8_t sc_c = spec::auth_scc::none;
};

// What to do next: send `send` (when not empty) with AUTH_Send, then either
// receive the next message, or stop (done: authenticated; failed: refused).
struct host_step {
    std::vector<uint8_t> send;
    bool done = false;
    bool failed = false;
    uint8_t reason = 0;  // spec::auth_rce when failed
    std::string why;     // never contains key material
};

class host_session {
public:
    explicit host_session(host_params p);
    ~host_session();
    host_session(const host_session&) = delete;
    host_session& operator=(const host_session&) = delete;

    std::vector<uint8_t> negotiate() const;
    // The first AUTH_Receive: a challenge (answered with a reply) or Failure1.
    host_step on_challenge(std::span<const uint8_t> msg);
    // The second AUTH_Receive: Success1 (maybe answered with Success2) or Failure1.
    host_step on_success1(std::span<const uint8_t> msg);

    uint8_t hash() const { return hash_; }
    uint8_t dhgroup() const { return dhgroup_; }
    // After a transaction with SC_C other than 0 is done: the generated PSK
    // (auth/generated_psk.hpp), handed over once; empty otherwise.
    keyring::secure_bytes take_generated_psk();

private:
    host_step refuse(uint8_t reason, std::string why, bool send_failure2);
    host_step failure1_or(std::span<const uint8_t> msg, const error& e);

    host_params p_;
    uint8_t hash_ = 0xff;
    uint8_t dhgroup_ = 0xff;
    uint8_t expected_ctrl_[max_hash_len]{};
    bool done_ = false;
    keyring::secure_bytes generated_;
};

}  // namespace nvmf::auth
