// NVMe over Fabrics RDMA transport binding (NVMe-oF spec, "RDMA Transport"):
// the RDMA CM private data exchanged at connection set-up, the keyed SGL
// data block descriptor that names host memory, and the RDMA layout of the
// discovery log entry's TSAS. Multi-byte fields are little endian.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nvmf::spec::rdma {

// RDMA_CM_REQUEST private data: the host's queue description.
struct cm_request {
    uint16_t recfmt;   // record format: 0
    uint16_t qid;      // 0 = admin queue
    uint16_t hrqsize;  // host receive queue size (entries, 1's based)
    uint16_t hsqsize;  // host send queue size (0's based, as SQSIZE in Connect)
    uint16_t cntlid;   // 0xFFFF or the controller of the I/O queue
    uint8_t reserved[22];
};
static_assert(sizeof(cm_request) == 32);
static_assert(offsetof(cm_request, hsqsize) == 6);
static_assert(offsetof(cm_request, cntlid) == 8);

// RDMA_CM_ACCEPT private data.
struct cm_accept {
    uint16_t recfmt;   // 0
    uint16_t crqsize;  // controller receive queue size (entries, 1's based)
    uint8_t reserved[28];
};
static_assert(sizeof(cm_accept) == 32);

// RDMA_CM_REJECT private data.
struct cm_reject {
    uint16_t recfmt;  // 0
    uint16_t sts;     // why (cm_status)
};
static_assert(sizeof(cm_reject) == 4);

// RDMA_CM_REJECT status values.
enum class cm_status : uint16_t {
    invalid_private_data_length = 0x01,
    invalid_recfmt = 0x02,
    invalid_qid = 0x03,
    invalid_hsqsize = 0x04,
    invalid_hrqsize = 0x05,
    no_resources = 0x06,
    invalid_ird = 0x07,
    invalid_ord = 0x08,
    invalid_cntlid = 0x09,
};

// Keyed SGL Data Block descriptor (SGL type 4h, Base spec 4.1.8.3): bytes
// 0..7 host address, 8..10 length (24 bits), 11..14 remote key, 15 type.
// The generic spec::sgl_descriptor overlays the same 16 bytes.
struct keyed_sgl {
    uint64_t address;
    uint8_t length[3];
    uint8_t key[4];
    uint8_t type;
};
static_assert(sizeof(keyed_sgl) == 16);
static_assert(offsetof(keyed_sgl, key) == 11);

// Keyed SGL sub types (bits 3:0 of the type byte).
constexpr uint8_t keyed_subtype_address = 0x0;
constexpr uint8_t keyed_subtype_invalidate = 0xF;  // "Invalidate Key": SEND with Invalidate

constexpr uint32_t keyed_max_length = (1u << 24) - 1;

// Discovery log entry TSAS for trtype RDMA (NVMe-oF, Discovery Log Page Entry).
struct tsas {
    uint8_t qptype;  // rdma_qptype
    uint8_t prtype;  // rdma_prtype
    uint8_t cms;     // rdma_cms
    uint8_t reserved1[5];
    uint16_t pkey;
    uint8_t reserved2[246];
};
static_assert(sizeof(tsas) == 256);
static_assert(offsetof(tsas, pkey) == 8);

namespace qptype {
constexpr uint8_t reliable_connected = 1;
constexpr uint8_t reliable_datagram = 2;
}  // namespace qptype
namespace prtype {
constexpr uint8_t not_specified = 1;  // no provider specified
constexpr uint8_t ib = 2;
constexpr uint8_t roce = 3;
constexpr uint8_t rocev2 = 4;
constexpr uint8_t iwarp = 5;
}  // namespace prtype
namespace cms {
constexpr uint8_t rdma_cm = 1;
}  // namespace cms

}  // namespace nvmf::spec::rdma
