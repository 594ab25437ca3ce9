// NVMe over Fabrics structures: the fabrics command capsules (Connect,
// Property Get/Set), Connect data, controller properties and the discovery
// log page (NVMe-oF 1.1, Base spec 2.0 section 3.3 and 6).
#pragma once

#include <cstddef>
#include <cstdint>

#include "nvme/spec/nvme.hpp"

namespace nvmf::spec {

constexpr const char* discovery_nqn = "nqn.2014-08.org.nvmexpress.discovery";
constexpr size_t nqn_max_len = 223;  // NQN string length, excluding the NUL

namespace fctype {
constexpr uint8_t property_set = 0x00;
constexpr uint8_t connect = 0x01;
constexpr uint8_t property_get = 0x04;
constexpr uint8_t auth_send = 0x05;
constexpr uint8_t auth_recv = 0x06;
constexpr uint8_t disconnect = 0x08;
}  // namespace fctype

// Generic fabrics command: byte 4 is FCTYPE.
struct fabrics_cmd {
    uint8_t opc;  // 0x7f
    uint8_t flags;
    uint16_t cid;
    uint8_t fctype;
    uint8_t reserved1[19];
    sgl_descriptor sgl1;
    uint8_t specific[24];
};
static_assert(sizeof(fabrics_cmd) == 64);
static_assert(offsetof(fabrics_cmd, fctype) == 4);

struct connect_cmd {
    uint8_t opc;
    uint8_t flags;
    uint16_t cid;
    uint8_t fctype;
    uint8_t reserved1[19];
    sgl_descriptor sgl1;
    uint16_t recfmt;
    uint16_t qid;
    uint16_t sqsize;  // 0's based
    uint8_t cattr;
    uint8_t reserved2;
    uint32_t kato;  // milliseconds
    uint8_t reserved3[12];
};
static_assert(sizeof(connect_cmd) == 64);
static_assert(offsetof(connect_cmd, recfmt) == 40);
static_assert(offsetof(connect_cmd, qid) == 42);
static_assert(offsetof(connect_cmd, sqsize) == 44);
static_assert(offsetof(connect_cmd, cattr) == 46);
static_assert(offsetof(connect_cmd, kato) == 48);

struct connect_data {
    uint8_t hostid[16];
    uint16_t cntlid;
    uint8_t reserved1[238];
    char subnqn[256];
    char hostnqn[256];
    uint8_t reserved2[256];
};
static_assert(sizeof(connect_data) == 1024);
static_assert(offsetof(connect_data, cntlid) == 16);
static_assert(offsetof(connect_data, subnqn) == 256);
static_assert(offsetof(connect_data, hostnqn) == 512);

// Connect response dword 0 on "Connect Invalid Parameters": which field.
struct connect_invalid_param {
    uint16_t ipo;   // byte offset of the bad field
    uint8_t iattr;  // 0: in the SQE, 1: in the connect data
    uint8_t reserved;
};
static_assert(sizeof(connect_invalid_param) == 4);

// Connect CATTR bits.
constexpr uint8_t cattr_priority_class_mask = 0x3;
constexpr uint8_t cattr_disable_sq_flow_control = 0x4;

constexpr uint16_t cntlid_dynamic = 0xffff;
constexpr uint16_t cntlid_static_any = 0xfffe;
constexpr uint16_t cntlid_min = 0x0001;
constexpr uint16_t cntlid_max = 0xffef;

struct property_get_cmd {
    uint8_t opc;
    uint8_t flags;
    uint16_t cid;
    uint8_t fctype;
    uint8_t reserved1[35];
    uint8_t attrib;  // bits 2:0 size: 0 = 4 bytes, 1 = 8 bytes
    uint8_t reserved2[3];
    uint32_t ofst;
    uint8_t reserved3[16];
};
static_assert(sizeof(property_get_cmd) == 64);
static_assert(offsetof(property_get_cmd, attrib) == 40);
static_assert(offsetof(property_get_cmd, ofst) == 44);

struct property_set_cmd {
    uint8_t opc;
    uint8_t flags;
    uint16_t cid;
    uint8_t fctype;
    uint8_t reserved1[35];
    uint8_t attrib;
    uint8_t reserved2[3];
    uint32_t ofst;
    uint64_t value;
    uint8_t reserved3[8];
};
static_assert(sizeof(property_set_cmd) == 64);
static_assert(offsetof(property_set_cmd, value) == 48);

// Controller property offsets (Base spec 3.1.4).
namespace prop {
constexpr uint32_t cap = 0x00;
constexpr uint32_t vs = 0x08;
constexpr uint32_t intms = 0x0c;
constexpr uint32_t intmc = 0x10;
constexpr uint32_t cc = 0x14;
constexpr uint32_t csts = 0x1c;
constexpr uint32_t nssr = 0x20;
}  // namespace prop

// CC fields.
namespace cc {
constexpr uint32_t en = 1u << 0;
constexpr uint32_t css_shift = 4, css_mask = 0x7u << 4;
constexpr uint32_t mps_shift = 7, mps_mask = 0xfu << 7;
constexpr uint32_t ams_shift = 11, ams_mask = 0x7u << 11;
constexpr uint32_t shn_shift = 14, shn_mask = 0x3u << 14;
constexpr uint32_t shn_normal = 1, shn_abrupt = 2;  // CC.SHN values
constexpr uint32_t iosqes_shift = 16, iosqes_mask = 0xfu << 16;
constexpr uint32_t iocqes_shift = 20, iocqes_mask = 0xfu << 20;
}  // namespace cc

// CSTS fields.
namespace csts {
constexpr uint32_t rdy = 1u << 0;
constexpr uint32_t cfs = 1u << 1;
constexpr uint32_t shst_shift = 2, shst_mask = 0x3u << 2;
constexpr uint32_t shst_normal = 0, shst_occurring = 1, shst_complete = 2;
}  // namespace csts

constexpr uint32_t nvme_version(unsigned major, unsigned minor, unsigned tertiary = 0) {
    return (major << 16) | (minor << 8) | tertiary;
}

// Discovery log page (Base spec 2.0 5.16.1.23).
namespace trtype {
constexpr uint8_t rdma = 1;
constexpr uint8_t fc = 2;
constexpr uint8_t tcp = 3;
constexpr uint8_t intra_host = 0xfe;
}  // namespace trtype
namespace adrfam {
constexpr uint8_t ipv4 = 1;
constexpr uint8_t ipv6 = 2;
constexpr uint8_t ib = 3;
constexpr uint8_t fc = 4;
constexpr uint8_t intra_host = 0xfe;
}  // namespace adrfam
namespace subtype {
constexpr uint8_t discovery_referral = 1;
constexpr uint8_t nvme = 2;
constexpr uint8_t discovery_current = 3;
}  // namespace subtype
// TREQ: bits 1:0 secure channel, bit 2 disable SQ flow control.
namespace treq {
constexpr uint8_t secure_channel_not_specified = 0;
constexpr uint8_t secure_channel_required = 1;
constexpr uint8_t secure_channel_not_required = 2;
constexpr uint8_t sq_flow_control_disable_supported = 1u << 2;
}  // namespace treq

struct discovery_log_entry {
    uint8_t trtype;
    uint8_t adrfam;
    uint8_t subtype;
    uint8_t treq;
    uint16_t portid;
    uint16_t cntlid;
    uint16_t asqsz;
    uint16_t eflags;
    uint8_t reserved1[20];
    char trsvcid[32];
    uint8_t reserved2[192];
    char subnqn[256];
    char traddr[256];
    uint8_t tsas[256];
};
static_assert(sizeof(discovery_log_entry) == 1024);
static_assert(offsetof(discovery_log_entry, asqsz) == 8);
static_assert(offsetof(discovery_log_entry, trsvcid) == 32);
static_assert(offsetof(discovery_log_entry, subnqn) == 256);
static_assert(offsetof(discovery_log_entry, traddr) == 512);
static_assert(offsetof(discovery_log_entry, tsas) == 768);

struct discovery_log_header {
    uint64_t genctr;
    uint64_t numrec;
    uint16_t recfmt;
    uint8_t reserved[1006];
};
static_assert(sizeof(discovery_log_header) == 1024);

// TCP transport specific address subtype (TSAS) for NVMe/TCP: SECTYPE.
namespace tcp_sectype {
constexpr uint8_t none = 0;
constexpr uint8_t tls12 = 1;
constexpr uint8_t tls13 = 2;
}  // namespace tcp_sectype

}  // namespace nvmf::spec
