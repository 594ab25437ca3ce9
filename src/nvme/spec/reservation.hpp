// Reservations (NVM Express Base Specification 2.0, 8.19; commands in 7.x of
// the NVM Command Set): command fields, data structures of Reservation
// Register / Acquire / Release / Report, the Reservation Notification log
// page (80h) and RESCAP. Every struct is byte-exact; offsets asserted below.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nvmf::spec {

// Reservation types (RTYPE).
enum class rtype : uint8_t {
    none = 0,
    write_exclusive = 1,
    exclusive_access = 2,
    write_exclusive_reg_only = 3,
    exclusive_access_reg_only = 4,
    write_exclusive_all_regs = 5,
    exclusive_access_all_regs = 6,
};
constexpr bool rtype_valid(uint8_t t) { return t >= 1 && t <= 6; }
// Types 5 and 6: every registrant is a reservation holder.
constexpr bool rtype_all_regs(rtype t) {
    return t == rtype::write_exclusive_all_regs || t == rtype::exclusive_access_all_regs;
}
constexpr bool rtype_reg_only(rtype t) {
    return t == rtype::write_exclusive_reg_only || t == rtype::exclusive_access_reg_only;
}

// cdw10 of Register, Acquire, Release.
namespace resv {
constexpr uint32_t action_mask = 0x7;  // RREGA / RACQA / RRELA
constexpr uint32_t iekey = 1u << 3;
constexpr uint32_t rtype_shift = 8, rtype_mask = 0xffu << 8;  // Acquire, Release
constexpr uint32_t cptpl_shift = 30;                          // Register
// Register actions.
constexpr uint8_t rrega_register = 0, rrega_unregister = 1, rrega_replace = 2;
// Change Persist Through Power Loss State.
constexpr uint8_t cptpl_no_change = 0, cptpl_clear = 2, cptpl_set = 3;
// Acquire actions.
constexpr uint8_t racqa_acquire = 0, racqa_preempt = 1, racqa_preempt_abort = 2;
// Release actions.
constexpr uint8_t rrela_release = 0, rrela_clear = 1;
// Report cdw11: Extended Data Structure.
constexpr uint32_t report_eds = 1u << 0;
}  // namespace resv

// Reservation Register data (16 bytes).
struct resv_register_data {
    uint64_t crkey;
    uint64_t nrkey;
};
static_assert(sizeof(resv_register_data) == 16);

// Reservation Acquire data (16 bytes).
struct resv_acquire_data {
    uint64_t crkey;
    uint64_t prkey;
};
static_assert(sizeof(resv_acquire_data) == 16);

// Reservation Release data (8 bytes).
struct resv_release_data {
    uint64_t crkey;
};
static_assert(sizeof(resv_release_data) == 8);

// Reservation Status data structure header (24 bytes); the extended one
// (EDS=1) is the same 24 bytes followed by 40 reserved.
#pragma pack(push, 1)
struct resv_status_header {
    uint32_t gen;
    uint8_t rtype;
    uint16_t regctl;
    uint8_t reserved7[2];
    uint8_t ptpls;
    uint8_t reserved10[14];
};
#pragma pack(pop)
static_assert(sizeof(resv_status_header) == 24);
static_assert(offsetof(resv_status_header, regctl) == 5);
static_assert(offsetof(resv_status_header, ptpls) == 9);
constexpr size_t resv_status_ext_header_size = 64;

// Registered Controller data structure (24 bytes, 64-bit host identifier).
struct registered_ctrlr {
    uint16_t cntlid;
    uint8_t rcsts;  // bit 0: holds the reservation
    uint8_t reserved3[5];
    uint8_t hostid[8];
    uint64_t rkey;
};
static_assert(sizeof(registered_ctrlr) == 24);
static_assert(offsetof(registered_ctrlr, hostid) == 8);
static_assert(offsetof(registered_ctrlr, rkey) == 16);

// Registered Controller extended data structure (64 bytes, 128-bit host identifier).
struct registered_ctrlr_ext {
    uint16_t cntlid;
    uint8_t rcsts;
    uint8_t reserved3[5];
    uint64_t rkey;
    uint8_t hostid[16];
    uint8_t reserved32[32];
};
static_assert(sizeof(registered_ctrlr_ext) == 64);
static_assert(offsetof(registered_ctrlr_ext, rkey) == 8);
static_assert(offsetof(registered_ctrlr_ext, hostid) == 16);

// Reservation Notification log page (80h), 64 bytes.
struct resv_notification_log {
    uint64_t log_page_count;
    uint8_t type;
    uint8_t num_avail;  // further pages available
    uint8_t reserved10[2];
    uint32_t nsid;
    uint8_t reserved16[48];
};
static_assert(sizeof(resv_notification_log) == 64);
static_assert(offsetof(resv_notification_log, type) == 8);
static_assert(offsetof(resv_notification_log, nsid) == 12);

// Reservation Notification log page types, and the Reservation Notification
// Mask feature bits (82h cdw11) that suppress them.
namespace resv_notice {
constexpr uint8_t empty = 0;
constexpr uint8_t registration_preempted = 1;
constexpr uint8_t reservation_released = 2;
constexpr uint8_t reservation_preempted = 3;
constexpr uint32_t mask_of(uint8_t type) { return 1u << type; }  // REGPRE bit 1, RESREL 2, RESPRE 3
constexpr uint32_t mask_all = mask_of(1) | mask_of(2) | mask_of(3);
}  // namespace resv_notice

// Asynchronous event information for the I/O command specific status type.
namespace aer {
constexpr uint8_t io_reservation_log_available = 0x00;
}

// Identify Namespace RESCAP.
namespace rescap {
constexpr uint8_t ptpl = 1u << 0;
constexpr uint8_t write_exclusive = 1u << 1;
constexpr uint8_t exclusive_access = 1u << 2;
constexpr uint8_t write_exclusive_reg_only = 1u << 3;
constexpr uint8_t exclusive_access_reg_only = 1u << 4;
constexpr uint8_t write_exclusive_all_regs = 1u << 5;
constexpr uint8_t exclusive_access_all_regs = 1u << 6;
// IEKEY as defined from revision 1.3 on: ignored by Register only.
constexpr uint8_t iek_13 = 1u << 7;
constexpr uint8_t all_types = 0x7e;
}  // namespace rescap

// Reservation Persistence feature (83h) cdw11 / cdw0.
constexpr uint32_t feat_ptpl = 1u << 0;

}  // namespace nvmf::spec
