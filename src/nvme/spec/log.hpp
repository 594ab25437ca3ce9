// Log pages (NVM Express Base Specification 2.0, 5.16.1): Error Information,
// SMART / Health Information, Firmware Slot Information, Commands Supported
// and Effects, Changed Namespace List, Asymmetric Namespace Access. The discovery log page lives in
// fabrics.hpp. Every struct is byte-exact; offsets are asserted below.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nvmf::spec {

// Get Log Page command fields (cdw10..cdw13).
namespace glp {
constexpr uint32_t lid_mask = 0xff;
constexpr uint32_t lsp_shift = 8, lsp_mask = 0x7fu << 8;
constexpr uint32_t rae = 1u << 15;
constexpr uint32_t numdl_shift = 16;
constexpr uint32_t numdu_mask = 0xffff;
}  // namespace glp

// Error Information Log entry (64 bytes).
struct error_log_entry {
    uint64_t error_count;
    uint16_t sqid;
    uint16_t cid;
    uint16_t status;  // bit 0 phase tag, 15:1 status field
    uint16_t parm_error_location;
    uint64_t lba;
    uint32_t nsid;
    uint8_t vs;
    uint8_t trtype;
    uint8_t reserved30[2];
    uint64_t csi;  // command specific information
    uint16_t trtype_specific;
    uint8_t reserved42[22];
};
static_assert(sizeof(error_log_entry) == 64);
static_assert(offsetof(error_log_entry, sqid) == 8);
static_assert(offsetof(error_log_entry, cid) == 10);
static_assert(offsetof(error_log_entry, status) == 12);
static_assert(offsetof(error_log_entry, parm_error_location) == 14);
static_assert(offsetof(error_log_entry, lba) == 16);
static_assert(offsetof(error_log_entry, nsid) == 24);
static_assert(offsetof(error_log_entry, trtype) == 29);
static_assert(offsetof(error_log_entry, csi) == 32);
static_assert(offsetof(error_log_entry, trtype_specific) == 40);

// SMART / Health Information Critical Warning bits.
namespace critical_warning {
constexpr uint8_t spare_below_threshold = 1u << 0;
constexpr uint8_t temperature = 1u << 1;
constexpr uint8_t reliability_degraded = 1u << 2;  // significant media related errors
constexpr uint8_t read_only = 1u << 3;             // media placed in read only mode
constexpr uint8_t volatile_backup_failed = 1u << 4;
}  // namespace critical_warning

// Error Information entry: Parameter Error Location, bits 7:0 the byte of
// the command, 10:8 the bit; FFFFh when it is not reported.
constexpr uint16_t parm_error_location_none = 0xffff;

// SMART / Health Information (512 bytes). The composite temperature sits at
// an odd offset, so it is kept as bytes (little endian) to stay unpacked.
struct smart_health_log {
    uint8_t critical_warning;
    uint8_t composite_temperature[2];  // Kelvin
    uint8_t available_spare;           // percent
    uint8_t available_spare_threshold;
    uint8_t percentage_used;
    uint8_t endurance_group_critical_warning;
    uint8_t reserved7[25];
    // 128-bit little-endian counters.
    uint8_t data_units_read[16];  // thousands of 512-byte units, rounded up
    uint8_t data_units_written[16];
    uint8_t host_read_commands[16];
    uint8_t host_write_commands[16];
    uint8_t controller_busy_time[16];
    uint8_t power_cycles[16];
    uint8_t power_on_hours[16];
    uint8_t unsafe_shutdowns[16];
    uint8_t media_errors[16];
    uint8_t num_error_log_entries[16];
    uint32_t warning_temp_time;
    uint32_t critical_temp_time;
    uint16_t temp_sensor[8];
    uint32_t thm_temp1_trans_count;
    uint32_t thm_temp2_trans_count;
    uint32_t thm_temp1_total_time;
    uint32_t thm_temp2_total_time;
    uint8_t reserved232[280];
};
static_assert(sizeof(smart_health_log) == 512);
static_assert(offsetof(smart_health_log, composite_temperature) == 1);
static_assert(offsetof(smart_health_log, available_spare) == 3);
static_assert(offsetof(smart_health_log, available_spare_threshold) == 4);
static_assert(offsetof(smart_health_log, percentage_used) == 5);
static_assert(offsetof(smart_health_log, data_units_read) == 32);
static_assert(offsetof(smart_health_log, data_units_written) == 48);
static_assert(offsetof(smart_health_log, host_read_commands) == 64);
static_assert(offsetof(smart_health_log, host_write_commands) == 80);
static_assert(offsetof(smart_health_log, controller_busy_time) == 96);
static_assert(offsetof(smart_health_log, power_cycles) == 112);
static_assert(offsetof(smart_health_log, power_on_hours) == 128);
static_assert(offsetof(smart_health_log, unsafe_shutdowns) == 144);
static_assert(offsetof(smart_health_log, media_errors) == 160);
static_assert(offsetof(smart_health_log, num_error_log_entries) == 176);
static_assert(offsetof(smart_health_log, warning_temp_time) == 192);
static_assert(offsetof(smart_health_log, temp_sensor) == 200);
static_assert(offsetof(smart_health_log, thm_temp1_trans_count) == 216);

// Firmware Slot Information (512 bytes).
struct firmware_slot_log {
    uint8_t afi;  // bits 2:0 active slot, bits 6:4 slot active at next reset
    uint8_t reserved1[7];
    char frs[7][8];  // firmware revision per slot 1..7
    uint8_t reserved64[448];
};
static_assert(sizeof(firmware_slot_log) == 512);
static_assert(offsetof(firmware_slot_log, frs) == 8);
static_assert(offsetof(firmware_slot_log, reserved64) == 64);

// Commands Supported and Effects (4096 bytes): one dword per opcode.
struct commands_effects_log {
    uint32_t acs[256];   // admin commands
    uint32_t iocs[256];  // I/O commands
    uint8_t reserved[2048];
};
static_assert(sizeof(commands_effects_log) == 4096);
static_assert(offsetof(commands_effects_log, iocs) == 1024);

namespace cmd_effect {
constexpr uint32_t csupp = 1u << 0;  // command supported
constexpr uint32_t lbcc = 1u << 1;   // logical block content change
constexpr uint32_t ncc = 1u << 2;    // namespace capability change
constexpr uint32_t nic = 1u << 3;    // namespace inventory change
constexpr uint32_t ccc = 1u << 4;    // controller capability change
constexpr uint32_t cse_shift = 16;   // bits 18:16 command submission and execution
constexpr uint32_t cse_single_ns = 1u << 16;
constexpr uint32_t cse_all_ns = 2u << 16;
}  // namespace cmd_effect

// Changed Namespace List (4096 bytes): up to 1024 NSIDs; first entry
// FFFFFFFFh when more than 1024 changed.
constexpr size_t changed_ns_list_entries = 1024;
constexpr uint32_t changed_ns_overflow = 0xffffffffu;
struct changed_ns_list_log {
    uint32_t nsid[changed_ns_list_entries];
};
static_assert(sizeof(changed_ns_list_log) == 4096);

// Asymmetric Namespace Access log (Base 2.0, 5.16.1.12): a header, then per
// ANA group a descriptor followed by its NSIDs (none with RGO).
namespace ana_lsp {
constexpr uint8_t rgo = 1u << 0;  // Return Groups Only
}  // namespace ana_lsp

struct ana_log_header {
    uint64_t chgcnt;
    uint16_t ngrps;
    uint8_t reserved10[6];
};
static_assert(sizeof(ana_log_header) == 16);
static_assert(offsetof(ana_log_header, ngrps) == 8);

struct ana_group_descriptor {
    uint32_t anagrpid;
    uint32_t nnsids;
    uint64_t chgcnt;
    uint8_t state;  // bits 3:0, ana_state codes
    uint8_t reserved17[15];
    // uint32_t nsid[nnsids] follows
};
static_assert(sizeof(ana_group_descriptor) == 32);
static_assert(offsetof(ana_group_descriptor, nnsids) == 4);
static_assert(offsetof(ana_group_descriptor, chgcnt) == 8);
static_assert(offsetof(ana_group_descriptor, state) == 16);

}  // namespace nvmf::spec
