// The controller's side of one DH-HMAC-CHAP transaction on one queue (NVMe
// Base 2.x): negotiate -> challenge -> reply -> success1 [-> success2], or
// failure1 with a reason code. Pure: it takes the payloads of AUTH_Send and
// answers AUTH_Receive, and knows nothing of queues, timers or sockets
// (nvmf/cmd/auth.cpp wires it to the fabrics commands), so unit tests and the
// fuzzer drive it directly.
//
// A message that cannot be accepted does not fail its AUTH_Send: the
// transaction moves to failure1 and the next AUTH_Receive returns
// AUTH_Failure1 with the reason, after which the queue is to be closed (as
// the Linux target and SPDK do).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "auth/dhchap_crypto.hpp"
#include "keyring/keyring.hpp"

namespace nvmf::auth {

struct target_params {
    std::string hostnqn;
    std::string subnqn;
    uint32_t digests = all_digests;    // allowed HASHIDs (bit n = id n)
    uint32_t dhgroups = all_dhgroups;  // allowed DHGIDs
    keyring::key_ptr host_key;         // DHHC-1 secret the host proves it has
    keyring::key_ptr ctrl_key;         // null: the controller cannot be authenticated
};

class target_session {
public:
    enum class state : uint8_t {
        negotiate,  // waiting for AUTH_Negotiate
        challenge,  // AUTH_Receive returns the challenge
        reply,      // waiting for DH-HMAC-CHAP_Reply
        success1,   // AUTH_Receive returns Success1
        success2,   // waiting for Success2 (or Failure2)
        failure1,   // AUTH_Receive returns Failure1
        completed,  // authenticated
        failed,     // Failure1 sent or Failure2 received: close the queue
    };

    explicit target_session(target_params p);
    ~target_session();
    target_session(const target_session&) = delete;
    target_session& operator=(const target_session&) = delete;

    // AUTH_Send with this payload. Always accepted at the command level.
    void on_send(std::span<const uint8_t> msg);
    // AUTH_Receive with allocation length al: the message to return. Empty
    // when even AUTH_Failure1 does not fit (the caller fails the command and
    // closes the queue).
    std::vector<uint8_t> on_recv(size_t al);

    state current() const { return st_; }
    bool completed() const { return st_ == state::completed; }
    bool failed() const { return st_ == state::failed; }
    // The reason of the failure (spec::auth_rce), 0 if none.
    uint8_t failure_reason() const { return reason_; }
    // What went wrong, for the log: never contains key material.
    const std::string& last_error() const { return why_; }
    // Negotiated values (0xff before negotiation).
    uint8_t hash() const { return hash_; }
    uint8_t dhgroup() const { return dhgroup_; }
    uint16_t t_id() const { return t_id_; }
    // Whether the host asked to authenticate the controller too.
    bool bidirectional() const { return cvalid_; }

    static const char* state_name(state s);

private:
    void fail(uint8_t reason, std::string why);
    void on_negotiate(std::span<const uint8_t> msg);
    void on_reply(std::span<const uint8_t> msg);
    void on_success2(std::span<const uint8_t> msg);
    void on_failure2(std::span<const uint8_t> msg);
    std::vector<uint8_t> make_challenge(size_t al);
    std::vector<uint8_t> make_success1(size_t al);

    target_params p_;
    state st_ = state::negotiate;
    uint8_t reason_ = 0;
    std::string why_;
    uint16_t t_id_ = 0;
    uint8_t hash_ = 0xff;
    uint8_t dhgroup_ = 0xff;
    uint32_t seqnum_ = 0;
    uint8_t c1_[max_hash_len]{};
    std::optional<dh_key> dh_;
    bool cvalid_ = false;
    uint8_t ctrl_response_[max_hash_len]{};
};

// The next sequence number for a challenge: a process-wide counter that
// starts at a random value and skips 0 (reserved).
uint32_t next_seqnum();

}  // namespace nvmf::auth
