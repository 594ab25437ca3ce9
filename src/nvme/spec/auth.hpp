// In-band authentication on fabrics (NVMe Base 2.x, "Authentication" and the
// Authentication Send/Receive fabrics commands): the command capsules and the
// DH-HMAC-CHAP messages they carry, byte-exact, little-endian.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nvme/spec/nvme.hpp"

namespace nvmf::spec {

// SECP of Authentication Send/Receive: the protocol assigned to NVMe.
constexpr uint8_t auth_secp_nvme = 0xe9;
// SPSP0/SPSP1 for the DH-HMAC-CHAP messages.
constexpr uint8_t auth_spsp0 = 0x01;
constexpr uint8_t auth_spsp1 = 0x01;

struct auth_send_cmd {
    uint8_t opc;
    uint8_t flags;
    uint16_t cid;
    uint8_t fctype;  // 05h
    uint8_t reserved1[19];
    sgl_descriptor sgl1;
    uint8_t reserved2;
    uint8_t spsp0;
    uint8_t spsp1;
    uint8_t secp;
    uint32_t tl;  // transfer length
    uint8_t reserved3[16];
};
static_assert(sizeof(auth_send_cmd) == 64);
static_assert(offsetof(auth_send_cmd, spsp0) == 41);
static_assert(offsetof(auth_send_cmd, secp) == 43);
static_assert(offsetof(auth_send_cmd, tl) == 44);

struct auth_recv_cmd {
    uint8_t opc;
    uint8_t flags;
    uint16_t cid;
    uint8_t fctype;  // 06h
    uint8_t reserved1[19];
    sgl_descriptor sgl1;
    uint8_t reserved2;
    uint8_t spsp0;
    uint8_t spsp1;
    uint8_t secp;
    uint32_t al;  // allocation length
    uint8_t reserved3[16];
};
static_assert(sizeof(auth_recv_cmd) == 64);
static_assert(offsetof(auth_recv_cmd, al) == 44);

// Connect response dword 0: CNTLID in 15:0, AUTHREQ in 31:16.
namespace authreq {
constexpr uint32_t atr = 1u << 17;   // authentication transaction required
constexpr uint32_t ascr = 1u << 18;  // secure channel concatenation required
}  // namespace authreq

// AUTH_Type and AUTH_Id of the messages.
namespace auth_type {
constexpr uint8_t common = 0x00;
constexpr uint8_t dhchap = 0x01;
}  // namespace auth_type
namespace auth_id {
constexpr uint8_t negotiate = 0x00;  // common message
constexpr uint8_t dhchap_challenge = 0x01;
constexpr uint8_t dhchap_reply = 0x02;
constexpr uint8_t dhchap_success1 = 0x03;
constexpr uint8_t dhchap_success2 = 0x04;
constexpr uint8_t failure2 = 0xf0;  // common message, host to controller
constexpr uint8_t failure1 = 0xf1;  // common message, controller to host
}  // namespace auth_id

// Protocol identifier of a negotiate descriptor (AUTHID).
constexpr uint8_t auth_protocol_dhchap = 0x01;

// SC_C of AUTH_Negotiate: secure channel concatenation (NVMe Base 2.1). 01h
// was Base 2.0's "TLS" and is obsolete; Linux (NVME_AUTH_SECP_*) and libnvme
// (NVMF_AUTH_SCC_*) use 02h and 03h.
namespace auth_scc {
constexpr uint8_t none = 0x00;
constexpr uint8_t obsolete_tls = 0x01;
constexpr uint8_t new_tls_psk = 0x02;      // on a plain TCP admin queue: generate a PSK
constexpr uint8_t replace_tls_psk = 0x03;  // on a TLS admin queue: replace its PSK
}  // namespace auth_scc

// AUTH_Failure REASON CODE (RC) and its explanation (RCE).
constexpr uint8_t auth_rc_failure = 0x01;
namespace auth_rce {
constexpr uint8_t failed = 0x01;
constexpr uint8_t protocol_unusable = 0x02;
constexpr uint8_t scc_mismatch = 0x03;
constexpr uint8_t hash_unusable = 0x04;
constexpr uint8_t dhgroup_unusable = 0x05;
constexpr uint8_t incorrect_payload = 0x06;
constexpr uint8_t incorrect_protocol_message = 0x07;
}  // namespace auth_rce

struct auth_header {
    uint8_t auth_type;
    uint8_t auth_id;
    uint8_t reserved[2];
    uint16_t t_id;
};
static_assert(sizeof(auth_header) == 6);

// One protocol descriptor of AUTH_Negotiate: IDList holds up to 30 hash
// identifiers, then up to 30 DH group identifiers.
struct auth_descriptor {
    uint8_t authid;
    uint8_t reserved;
    uint8_t halen;
    uint8_t dhlen;
    uint8_t hash_id_list[30];
    uint8_t dhg_id_list[30];
};
static_assert(sizeof(auth_descriptor) == 64);

struct auth_negotiate {
    uint8_t auth_type;  // common
    uint8_t auth_id;    // negotiate
    uint8_t reserved[2];
    uint16_t t_id;
    uint8_t sc_c;
    uint8_t napd;  // number of descriptors that follow
    // auth_descriptor[napd]
};
static_assert(sizeof(auth_negotiate) == 8);

struct dhchap_challenge {
    uint8_t auth_type;
    uint8_t auth_id;
    uint8_t reserved1[2];
    uint16_t t_id;
    uint8_t hl;
    uint8_t reserved2;
    uint8_t hashid;
    uint8_t dhgid;
    uint16_t dhvlen;
    uint32_t seqnum;
    // cval[hl], then dhv[dhvlen]
};
static_assert(sizeof(dhchap_challenge) == 16);
static_assert(offsetof(dhchap_challenge, dhvlen) == 10);
static_assert(offsetof(dhchap_challenge, seqnum) == 12);

struct dhchap_reply {
    uint8_t auth_type;
    uint8_t auth_id;
    uint8_t reserved1[2];
    uint16_t t_id;
    uint8_t hl;
    uint8_t reserved2;
    uint8_t cvalid;
    uint8_t reserved3;
    uint16_t dhvlen;
    uint32_t seqnum;
    // rval[hl], cval[hl] (present even when cvalid is 0), then dhv[dhvlen]
};
static_assert(sizeof(dhchap_reply) == 16);
static_assert(offsetof(dhchap_reply, cvalid) == 8);

struct dhchap_success1 {
    uint8_t auth_type;
    uint8_t auth_id;
    uint8_t reserved1[2];
    uint16_t t_id;
    uint8_t hl;
    uint8_t reserved2;
    uint8_t rvalid;
    uint8_t reserved3[7];
    // rval[hl] when rvalid
};
static_assert(sizeof(dhchap_success1) == 16);

struct dhchap_success2 {
    uint8_t auth_type;
    uint8_t auth_id;
    uint8_t reserved1[2];
    uint16_t t_id;
    uint8_t reserved2[10];
};
static_assert(sizeof(dhchap_success2) == 16);

// AUTH_Failure1 (controller to host) and AUTH_Failure2 (host to controller).
struct auth_failure {
    uint8_t auth_type;  // common
    uint8_t auth_id;    // failure1 or failure2
    uint8_t reserved[2];
    uint16_t t_id;
    uint8_t rc;   // auth_rc_failure
    uint8_t rce;  // auth_rce::...
};
static_assert(sizeof(auth_failure) == 8);

}  // namespace nvmf::spec
