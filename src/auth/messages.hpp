// DH-HMAC-CHAP messages (NVMe Base 2.x): pure parsers and builders, no state
// and no I/O, so that every byte the peer controls is checked here and can be
// fuzzed (tests/fuzz/fuzz_auth_messages.cpp).
//
// A parser returns a view into the buffer it was given, or an error whose
// code is the AUTH_Failure reason code explanation (spec::auth_rce) the
// refusal deserves. Messages the host sends (negotiate, reply, success2,
// failure2) must be exactly as long as they say, since AUTH_Send's TL gives
// their length; messages the controller sends (challenge, success1, failure1)
// may be followed by padding, since a controller may return the whole
// AUTH_Receive allocation (Linux does).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "nvme/spec/auth.hpp"
#include "util/result.hpp"

namespace nvmf::auth {

// The largest message this code builds or accepts: a reply in ffdhe8192 with
// SHA-512 is 16 + 2 * 64 + 1024 bytes, a negotiate with 255 descriptors
// 8 + 255 * 64. AUTH_Send/Receive beyond this are refused as invalid.
constexpr uint32_t max_message_len = 8 + 255 * 64;

struct negotiate_view {
    uint16_t t_id = 0;
    uint8_t sc_c = 0;
    // Bit n set: identifier n offered in the DH-HMAC-CHAP descriptor
    // (identifiers above 31 are not defined and are ignored).
    uint32_t hashes = 0;
    uint32_t dhgroups = 0;
};

struct challenge_view {
    uint16_t t_id = 0;
    uint8_t hash = 0;
    uint8_t dhgroup = 0;
    uint32_t seqnum = 0;
    std::span<const uint8_t> cval;  // hash_len(hash) bytes
    std::span<const uint8_t> dhv;   // empty for the null group
};

struct reply_view {
    uint16_t t_id = 0;
    bool cvalid = false;
    uint32_t seqnum = 0;
    std::span<const uint8_t> rval;  // the host's response
    std::span<const uint8_t> cval;  // the host's challenge (meaningful when cvalid)
    std::span<const uint8_t> dhv;
};

struct success1_view {
    uint16_t t_id = 0;
    uint8_t hl = 0;
    bool rvalid = false;
    std::span<const uint8_t> rval;  // hl bytes when rvalid
};

struct failure_view {
    uint16_t t_id = 0;
    uint8_t rc = 0;
    uint8_t rce = 0;
};

// The common header (AUTH_Type, AUTH_Id, T_ID), if there are 6 bytes.
std::optional<spec::auth_header> peek_header(std::span<const uint8_t> msg);

result<negotiate_view> parse_negotiate(std::span<const uint8_t> msg);
// hl: the length of the digest negotiated for this transaction.
result<reply_view> parse_reply(std::span<const uint8_t> msg, size_t hl);
result<uint16_t> parse_success2(std::span<const uint8_t> msg);  // its T_ID
result<failure_view> parse_failure2(std::span<const uint8_t> msg);

result<challenge_view> parse_challenge(std::span<const uint8_t> msg);
result<success1_view> parse_success1(std::span<const uint8_t> msg);
result<failure_view> parse_failure1(std::span<const uint8_t> msg);

// Builders. Lists of identifiers are offered in the order given.
std::vector<uint8_t> build_negotiate(uint16_t t_id, uint8_t sc_c, std::span<const uint8_t> hashes,
                                     std::span<const uint8_t> dhgroups);
std::vector<uint8_t> build_challenge(uint16_t t_id, uint8_t hash, uint8_t dhgroup, uint32_t seqnum,
                                     std::span<const uint8_t> cval, std::span<const uint8_t> dhv);
// cval may be empty when cvalid is false (zeros are sent in its place).
std::vector<uint8_t> build_reply(uint16_t t_id, std::span<const uint8_t> rval, bool cvalid,
                                 std::span<const uint8_t> cval, uint32_t seqnum,
                                 std::span<const uint8_t> dhv);
// rval empty: RVALID 0 (HL still set, as the Linux host expects).
std::vector<uint8_t> build_success1(uint16_t t_id, uint8_t hl, std::span<const uint8_t> rval);
std::vector<uint8_t> build_success2(uint16_t t_id);
// id: spec::auth_id::failure1 or failure2.
std::vector<uint8_t> build_failure(uint8_t id, uint16_t t_id, uint8_t rce);

// A human name of a reason code explanation, for logs.
const char* rce_name(uint8_t rce);

}  // namespace nvmf::auth
