// NVMe/TCP transport PDUs (NVMe/TCP Transport Specification 1.0).
// All multi-byte fields are little endian, as on the hosts we run on.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nvme/spec/nvme.hpp"

namespace nvmf::spec::tcp {

enum class pdu_type : uint8_t {
    ic_req = 0x00,
    ic_resp = 0x01,
    h2c_term_req = 0x02,
    c2h_term_req = 0x03,
    capsule_cmd = 0x04,
    capsule_resp = 0x05,
    h2c_data = 0x06,
    c2h_data = 0x07,
    r2t = 0x09,
};

namespace flag {
constexpr uint8_t hdgstf = 0x01;
constexpr uint8_t ddgstf = 0x02;
constexpr uint8_t last_pdu = 0x04;  // H2CData / C2HData
constexpr uint8_t success = 0x08;   // C2HData
}  // namespace flag

constexpr size_t digest_len = 4;
constexpr uint16_t pfv_1_0 = 0;
constexpr uint32_t ic_pdu_len = 128;
constexpr uint32_t term_req_hlen = 24;
// A termination request carries at most the first 128 bytes of the bad header.
constexpr uint32_t term_req_max_data = 128;
constexpr uint32_t cpda_max = 31;
constexpr uint32_t hpda_max = 31;

struct common_header {
    uint8_t pdu_type;
    uint8_t flags;
    uint8_t hlen;
    uint8_t pdo;
    uint32_t plen;
};
static_assert(sizeof(common_header) == 8);

struct ic_req {
    common_header ch;
    uint16_t pfv;
    uint8_t hpda;
    uint8_t dgst;     // bit 0 HDGST_ENABLE, bit 1 DDGST_ENABLE
    uint32_t maxr2t;  // 0's based
    uint8_t reserved[112];
};
static_assert(sizeof(ic_req) == 128);
static_assert(offsetof(ic_req, maxr2t) == 12);

struct ic_resp {
    common_header ch;
    uint16_t pfv;
    uint8_t cpda;
    uint8_t dgst;
    uint32_t maxh2cdata;
    uint8_t reserved[112];
};
static_assert(sizeof(ic_resp) == 128);
static_assert(offsetof(ic_resp, maxh2cdata) == 12);

constexpr uint8_t dgst_hdgst_enable = 0x01;
constexpr uint8_t dgst_ddgst_enable = 0x02;

// H2CTermReq / C2HTermReq header; FEI is at an unaligned offset, so it is
// kept as bytes.
struct term_req {
    common_header ch;
    uint16_t fes;
    uint8_t fei[4];
    uint8_t reserved[10];
};
static_assert(sizeof(term_req) == 24);
static_assert(offsetof(term_req, fei) == 10);

// Fatal error status values.
namespace fes {
constexpr uint16_t invalid_header_field = 0x01;
constexpr uint16_t pdu_sequence_error = 0x02;
constexpr uint16_t header_digest_error = 0x03;
constexpr uint16_t data_transfer_out_of_range = 0x04;
constexpr uint16_t r2t_limit_exceeded = 0x05;
constexpr uint16_t data_transfer_limit_exceeded = 0x05;
constexpr uint16_t unsupported_parameter = 0x06;
}  // namespace fes

struct capsule_cmd {
    common_header ch;
    sqe cmd;
};
static_assert(sizeof(capsule_cmd) == 72);

struct capsule_resp {
    common_header ch;
    cqe rsp;
};
static_assert(sizeof(capsule_resp) == 24);

struct h2c_data {
    common_header ch;
    uint16_t cccid;
    uint16_t ttag;
    uint32_t datao;
    uint32_t datal;
    uint8_t reserved[4];
};
static_assert(sizeof(h2c_data) == 24);
static_assert(offsetof(h2c_data, datao) == 12);

struct c2h_data {
    common_header ch;
    uint16_t cccid;
    uint16_t reserved1;
    uint32_t datao;
    uint32_t datal;
    uint8_t reserved2[4];
};
static_assert(sizeof(c2h_data) == 24);

struct r2t {
    common_header ch;
    uint16_t cccid;
    uint16_t ttag;
    uint32_t r2to;
    uint32_t r2tl;
    uint8_t reserved[4];
};
static_assert(sizeof(r2t) == 24);

// The fixed header length each PDU type must carry (HLEN).
constexpr uint8_t expected_hlen(pdu_type t) {
    switch (t) {
    case pdu_type::ic_req:
    case pdu_type::ic_resp:
        return 128;
    case pdu_type::h2c_term_req:
    case pdu_type::c2h_term_req:
        return 24;
    case pdu_type::capsule_cmd:
        return 72;
    case pdu_type::capsule_resp:
    case pdu_type::h2c_data:
    case pdu_type::c2h_data:
    case pdu_type::r2t:
        return 24;
    }
    return 0;
}

// Whether the PDU type is covered by a header digest when enabled.
constexpr bool has_hdgst(pdu_type t) {
    return t == pdu_type::capsule_cmd || t == pdu_type::capsule_resp || t == pdu_type::h2c_data ||
           t == pdu_type::c2h_data || t == pdu_type::r2t;
}

}  // namespace nvmf::spec::tcp
