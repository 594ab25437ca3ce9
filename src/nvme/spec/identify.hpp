// Identify data structures (NVM Express Base Specification 2.0, 5.17.2 and
// NVM Command Set Specification 1.0, 4.1.5): Identify Controller, Identify
// Namespace, the Namespace Identification Descriptor list and the active
// namespace list. Every struct is byte-exact; offsets are asserted below.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nvmf::spec {

constexpr size_t identify_data_size = 4096;

// Power state descriptor (32 bytes).
struct power_state_descriptor {
    uint16_t mp;  // maximum power, centiwatts (or 0.0001 W when MXPS)
    uint8_t reserved1;
    uint8_t flags;  // bit 0 MXPS, bit 1 NOPS
    uint32_t enlat;
    uint32_t exlat;
    uint8_t rrt, rrl, rwt, rwl;
    uint16_t idlp;
    uint8_t ips;
    uint8_t reserved2;
    uint16_t actp;
    uint8_t apw_aps;
    uint8_t reserved3[9];
};
static_assert(sizeof(power_state_descriptor) == 32);

struct identify_ctrlr {
    uint16_t vid;
    uint16_t ssvid;
    char sn[20];
    char mn[40];
    char fr[8];
    uint8_t rab;
    uint8_t ieee[3];
    uint8_t cmic;
    uint8_t mdts;
    uint16_t cntlid;
    uint32_t ver;
    uint32_t rtd3r;
    uint32_t rtd3e;
    uint32_t oaes;
    uint32_t ctratt;
    uint16_t rrls;
    uint8_t reserved102[9];
    uint8_t cntrltype;
    uint8_t fguid[16];
    uint16_t crdt1;
    uint16_t crdt2;
    uint16_t crdt3;
    uint8_t reserved134[119];
    uint8_t nvmsr;
    uint8_t vwci;
    uint8_t mec;
    // Admin command set attributes and optional controller capabilities.
    uint16_t oacs;
    uint8_t acl;
    uint8_t aerl;
    uint8_t frmw;
    uint8_t lpa;
    uint8_t elpe;
    uint8_t npss;
    uint8_t avscc;
    uint8_t apsta;
    uint16_t wctemp;
    uint16_t cctemp;
    uint16_t mtfa;
    uint32_t hmpre;
    uint32_t hmmin;
    uint8_t tnvmcap[16];
    uint8_t unvmcap[16];
    uint32_t rpmbs;
    uint16_t edstt;
    uint8_t dsto;
    uint8_t fwug;
    uint16_t kas;
    uint16_t hctma;
    uint16_t mntmt;
    uint16_t mxtmt;
    uint32_t sanicap;
    uint32_t hmminds;
    uint16_t hmmaxd;
    uint16_t nsetidmax;
    uint16_t endgidmax;
    uint8_t anatt;
    uint8_t anacap;
    uint32_t anagrpmax;
    uint32_t nanagrpid;
    uint32_t pels;
    uint16_t domainid;
    uint8_t reserved358[10];
    uint8_t megcap[16];
    uint8_t reserved384[128];
    // NVM command set attributes.
    uint8_t sqes;
    uint8_t cqes;
    uint16_t maxcmd;
    uint32_t nn;
    uint16_t oncs;
    uint16_t fuses;
    uint8_t fna;
    uint8_t vwc;
    uint16_t awun;
    uint16_t awupf;
    uint8_t icsvscc;
    uint8_t nwpc;
    uint16_t acwu;
    uint16_t ocfs;
    uint32_t sgls;
    uint32_t mnan;
    uint8_t maxdna[16];
    uint32_t maxcna;
    uint8_t reserved564[204];
    char subnqn[256];
    uint8_t reserved1024[768];
    // NVMe over Fabrics attributes.
    uint32_t ioccsz;
    uint32_t iorcsz;
    uint16_t icdoff;
    uint8_t fcatt;
    uint8_t msdbd;
    uint16_t ofcs;
    uint8_t dctype;
    uint8_t reserved1807[241];
    power_state_descriptor psd[32];
    uint8_t vs[1024];
};
static_assert(sizeof(identify_ctrlr) == identify_data_size);
static_assert(offsetof(identify_ctrlr, sn) == 4);
static_assert(offsetof(identify_ctrlr, mn) == 24);
static_assert(offsetof(identify_ctrlr, fr) == 64);
static_assert(offsetof(identify_ctrlr, cmic) == 76);
static_assert(offsetof(identify_ctrlr, mdts) == 77);
static_assert(offsetof(identify_ctrlr, cntlid) == 78);
static_assert(offsetof(identify_ctrlr, ver) == 80);
static_assert(offsetof(identify_ctrlr, oaes) == 92);
static_assert(offsetof(identify_ctrlr, ctratt) == 96);
static_assert(offsetof(identify_ctrlr, cntrltype) == 111);
static_assert(offsetof(identify_ctrlr, fguid) == 112);
static_assert(offsetof(identify_ctrlr, oacs) == 256);
static_assert(offsetof(identify_ctrlr, acl) == 258);
static_assert(offsetof(identify_ctrlr, aerl) == 259);
static_assert(offsetof(identify_ctrlr, frmw) == 260);
static_assert(offsetof(identify_ctrlr, lpa) == 261);
static_assert(offsetof(identify_ctrlr, elpe) == 262);
static_assert(offsetof(identify_ctrlr, wctemp) == 266);
static_assert(offsetof(identify_ctrlr, tnvmcap) == 280);
static_assert(offsetof(identify_ctrlr, kas) == 320);
static_assert(offsetof(identify_ctrlr, anatt) == 342);
static_assert(offsetof(identify_ctrlr, anagrpmax) == 344);
static_assert(offsetof(identify_ctrlr, pels) == 352);
static_assert(offsetof(identify_ctrlr, megcap) == 368);
static_assert(offsetof(identify_ctrlr, sqes) == 512);
static_assert(offsetof(identify_ctrlr, cqes) == 513);
static_assert(offsetof(identify_ctrlr, maxcmd) == 514);
static_assert(offsetof(identify_ctrlr, nn) == 516);
static_assert(offsetof(identify_ctrlr, oncs) == 520);
static_assert(offsetof(identify_ctrlr, fuses) == 522);
static_assert(offsetof(identify_ctrlr, vwc) == 525);
static_assert(offsetof(identify_ctrlr, acwu) == 532);
static_assert(offsetof(identify_ctrlr, sgls) == 536);
static_assert(offsetof(identify_ctrlr, mnan) == 540);
static_assert(offsetof(identify_ctrlr, maxcna) == 560);
static_assert(offsetof(identify_ctrlr, subnqn) == 768);
static_assert(offsetof(identify_ctrlr, ioccsz) == 1792);
static_assert(offsetof(identify_ctrlr, iorcsz) == 1796);
static_assert(offsetof(identify_ctrlr, icdoff) == 1800);
static_assert(offsetof(identify_ctrlr, fcatt) == 1802);
static_assert(offsetof(identify_ctrlr, msdbd) == 1803);
static_assert(offsetof(identify_ctrlr, ofcs) == 1804);
static_assert(offsetof(identify_ctrlr, dctype) == 1806);
static_assert(offsetof(identify_ctrlr, psd) == 2048);
static_assert(offsetof(identify_ctrlr, vs) == 3072);

// CNTRLTYPE.
namespace cntrltype {
constexpr uint8_t io = 1;
constexpr uint8_t discovery = 2;
constexpr uint8_t admin = 3;
}  // namespace cntrltype

// CMIC.
namespace cmic {
constexpr uint8_t multi_port = 1u << 0;
constexpr uint8_t multi_ctrlr = 1u << 1;
constexpr uint8_t ana_reporting = 1u << 3;
}  // namespace cmic

// ANACAP: which ANA states the controller reports, and group ID rules.
namespace anacap {
constexpr uint8_t optimized = 1u << 0;
constexpr uint8_t non_optimized = 1u << 1;
constexpr uint8_t inaccessible = 1u << 2;
constexpr uint8_t persistent_loss = 1u << 3;
constexpr uint8_t change = 1u << 4;
constexpr uint8_t grpid_fixed_while_attached = 1u << 6;
}  // namespace anacap

// LPA.
namespace lpa {
constexpr uint8_t smart_per_ns = 1u << 0;
constexpr uint8_t cmd_effects = 1u << 1;
constexpr uint8_t extended_data = 1u << 2;
}  // namespace lpa

// ONCS.
namespace oncs {
constexpr uint16_t compare = 1u << 0;
constexpr uint16_t write_uncorrectable = 1u << 1;
constexpr uint16_t dataset_management = 1u << 2;
constexpr uint16_t write_zeroes = 1u << 3;
constexpr uint16_t save_select = 1u << 4;
constexpr uint16_t reservations = 1u << 5;
}  // namespace oncs

// Identify Controller FUSES.
namespace fuses {
constexpr uint16_t compare_and_write = 1u << 0;
}  // namespace fuses

// SGLS.
namespace sgls {
constexpr uint32_t supported_no_alignment = 0x1;  // bits 1:0 = 01b
constexpr uint32_t supported_dword_alignment = 0x2;
constexpr uint32_t keyed_data_block = 1u << 2;
constexpr uint32_t bit_bucket = 1u << 16;
constexpr uint32_t address_as_offset = 1u << 20;  // "SGL Offset": in-capsule data
constexpr uint32_t transport_data_block = 1u << 21;
}  // namespace sgls

// SQES/CQES: bits 3:0 required (minimum), 7:4 maximum, log2 of the entry size.
constexpr uint8_t sqes_64 = 0x66;
constexpr uint8_t cqes_16 = 0x44;

// LBA format (4 bytes).
struct lba_format {
    uint16_t ms;    // metadata size
    uint8_t lbads;  // log2 of the data size
    uint8_t rp;     // bits 1:0 relative performance
};
static_assert(sizeof(lba_format) == 4);

struct identify_ns {
    uint64_t nsze;
    uint64_t ncap;
    uint64_t nuse;
    uint8_t nsfeat;
    uint8_t nlbaf;  // 0's based
    uint8_t flbas;
    uint8_t mc;
    uint8_t dpc;
    uint8_t dps;
    uint8_t nmic;
    uint8_t rescap;
    uint8_t fpi;
    uint8_t dlfeat;
    uint16_t nawun;
    uint16_t nawupf;
    uint16_t nacwu;
    uint16_t nabsn;
    uint16_t nabo;
    uint16_t nabspf;
    uint16_t noiob;
    uint8_t nvmcap[16];
    uint16_t npwg;
    uint16_t npwa;
    uint16_t npdg;
    uint16_t npda;
    uint16_t nows;
    uint16_t mssrl;
    uint32_t mcl;
    uint8_t msrc;
    uint8_t reserved81;
    uint8_t nulbaf;
    uint8_t reserved83[9];
    uint32_t anagrpid;
    uint8_t reserved96[3];
    uint8_t nsattr;
    uint16_t nvmsetid;
    uint16_t endgid;
    uint8_t nguid[16];
    uint8_t eui64[8];
    lba_format lbaf[64];
    uint8_t vs[3712];
};
static_assert(sizeof(identify_ns) == identify_data_size);
static_assert(offsetof(identify_ns, nsze) == 0);
static_assert(offsetof(identify_ns, ncap) == 8);
static_assert(offsetof(identify_ns, nuse) == 16);
static_assert(offsetof(identify_ns, nsfeat) == 24);
static_assert(offsetof(identify_ns, nlbaf) == 25);
static_assert(offsetof(identify_ns, flbas) == 26);
static_assert(offsetof(identify_ns, nmic) == 30);
static_assert(offsetof(identify_ns, dlfeat) == 33);
static_assert(offsetof(identify_ns, nawun) == 34);
static_assert(offsetof(identify_ns, noiob) == 46);
static_assert(offsetof(identify_ns, nvmcap) == 48);
static_assert(offsetof(identify_ns, npwg) == 64);
static_assert(offsetof(identify_ns, mcl) == 76);
static_assert(offsetof(identify_ns, anagrpid) == 92);
static_assert(offsetof(identify_ns, nsattr) == 99);
static_assert(offsetof(identify_ns, nguid) == 104);
static_assert(offsetof(identify_ns, eui64) == 120);
static_assert(offsetof(identify_ns, lbaf) == 128);
static_assert(offsetof(identify_ns, vs) == 384);

// NSFEAT.
namespace nsfeat {
constexpr uint8_t thin_provisioning = 1u << 0;
constexpr uint8_t nsabp = 1u << 1;
constexpr uint8_t dae = 1u << 2;
constexpr uint8_t uidreuse = 1u << 3;  // NGUID/EUI64 are never reused
constexpr uint8_t optperf = 1u << 4;
}  // namespace nsfeat

// NMIC.
constexpr uint8_t nmic_shared = 1u << 0;

// DLFEAT: bits 2:0 what a read of deallocated blocks returns; bit 3 Write
// Zeroes may deallocate (DEAC); bit 4 guard field is CRC.
namespace dlfeat {
constexpr uint8_t read_not_reported = 0x0;
constexpr uint8_t read_zeroes = 0x1;
constexpr uint8_t read_ones = 0x2;
constexpr uint8_t write_zeroes_deallocate = 1u << 3;
constexpr uint8_t guard_crc = 1u << 4;
}  // namespace dlfeat

// Namespace Identification Descriptor (header; NIDL bytes of NID follow).
struct ns_id_descriptor_header {
    uint8_t nidt;
    uint8_t nidl;
    uint8_t reserved[2];
};
static_assert(sizeof(ns_id_descriptor_header) == 4);

namespace nidt {
constexpr uint8_t eui64 = 1;
constexpr uint8_t nguid = 2;
constexpr uint8_t uuid = 3;
constexpr uint8_t csi = 4;
}  // namespace nidt
namespace nidl {
constexpr uint8_t eui64 = 8;
constexpr uint8_t nguid = 16;
constexpr uint8_t uuid = 16;
constexpr uint8_t csi = 1;
}  // namespace nidl

// Active Namespace ID list (CNS 02h): up to 1024 NSIDs, increasing, zero padded.
constexpr size_t ns_list_max = 1024;
struct ns_list {
    uint32_t nsid[ns_list_max];
};
static_assert(sizeof(ns_list) == identify_data_size);

// I/O Command Set specific Identify Controller for the NVM Command Set (CNS
// 06h, CSI 00h; NVM Command Set Specification, Figure "Identify - I/O Command
// Set Specific Controller Data Structure"). A zero limit means none reported.
struct identify_ctrlr_nvm {
    uint8_t vsl;     // Verify Size Limit
    uint8_t wzsl;    // Write Zeroes Size Limit
    uint8_t wusl;    // Write Uncorrectable Size Limit
    uint8_t dmrl;    // Dataset Management Ranges Limit
    uint32_t dmrsl;  // Dataset Management Range Size Limit
    uint64_t dmsl;   // Dataset Management Size Limit
    uint8_t rsvd16[4080];
};
static_assert(sizeof(identify_ctrlr_nvm) == identify_data_size);
static_assert(offsetof(identify_ctrlr_nvm, dmrsl) == 4);
static_assert(offsetof(identify_ctrlr_nvm, dmsl) == 8);

constexpr uint8_t csi_nvm = 0x00;

}  // namespace nvmf::spec
