// Pure builders for log page images and the windowed read every Get Log
// Page does (offset, length). They take plain inputs so unit tests can call
// them without a target; log_page.cpp fills the inputs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/log.hpp"
#include "nvme/spec/nvme.hpp"

namespace nvmf::cmd {

// One error, newest first in the input of build_error_log.
struct error_info {
    uint64_t error_count = 0;
    uint16_t sqid = 0;
    uint16_t cid = 0;
    uint16_t status = 0;  // as in cqe::status (phase bit 0 ignored)
    uint32_t nsid = 0;
    uint64_t lba = 0;  // the command's first LBA, where it has one
    uint16_t parm_error_location = spec::parm_error_location_none;
};

// The error log entry of a command completed with status st on queue sqid
// (error_count left 0): its NSID, its first LBA when it is an NVM command
// with one, and the Parameter Error Location where the status names the
// field at fault (opcode, NSID, CID, SLBA, the SGL), else FFFFh.
error_info describe_error(uint16_t sqid, const spec::sqe& cmd, uint16_t st);

// Error Information log: `entries` 64-byte entries, unused ones zero.
std::vector<uint8_t> build_error_log(std::span<const error_info> errors, size_t entries);

struct health_input {
    uint8_t critical_warning = 0;  // spec::critical_warning bits
    uint64_t data_units_read = 0;  // already in log units (1000 x 512 bytes)
    uint64_t data_units_written = 0;
    uint64_t host_read_commands = 0;
    uint64_t host_write_commands = 0;
    uint64_t controller_busy_minutes = 0;
    uint64_t power_cycles = 0;
    uint64_t power_on_hours = 0;
    uint64_t unsafe_shutdowns = 0;
    uint64_t media_errors = 0;
    uint64_t num_error_log_entries = 0;
    uint16_t temperature_k = 0x0141;  // 321 K
    uint8_t available_spare = 100;
    uint8_t available_spare_threshold = 10;
};

spec::smart_health_log build_health_log(const health_input& in);

// Firmware Slot log: slot 1 active, holding revision fr.
spec::firmware_slot_log build_firmware_slot_log(std::string_view fr);

struct command_effect {
    uint8_t opc;
    uint32_t effects;  // spec::cmd_effect bits; CSUPP is added
};

spec::commands_effects_log build_commands_effects_log(std::span<const command_effect> admin,
                                                      std::span<const command_effect> io);

// Changed Namespace List: the NSIDs (at most 1024), zero padded.
spec::changed_ns_list_log build_changed_ns_list_log(std::span<const uint32_t> nsids);

// One ANA group as a controller reports it: its state on the controller's
// path and its active NSIDs in increasing order.
struct ana_group {
    uint32_t anagrpid = 0;
    uint8_t state = 0;  // ana_state code
    std::vector<uint32_t> nsids;
};

// ANA log image: header with chgcnt and one descriptor per group (each with
// chgcnt), NSID lists left out when rgo (Return Groups Only) is set.
std::vector<uint8_t> build_ana_log(std::span<const ana_group> groups, uint64_t chgcnt, bool rgo);

// Discovery log page image: header (genctr, numrec, recfmt 0) then entries.
std::vector<uint8_t> build_discovery_log(std::span<const spec::discovery_log_entry> entries,
                                         uint64_t genctr);

// Whether a Get Log Page offset is acceptable for an image of log_size
// bytes: dword aligned and not past the end.
bool log_offset_valid(uint64_t log_size, uint64_t offset);

// Copies image[offset, offset + out.size()) into out, zero-filling what lies
// past the end of the image. Returns the bytes taken from the image.
size_t read_log_window(std::span<const uint8_t> image, uint64_t offset, std::span<uint8_t> out);

// SMART "data units": thousands of 512-byte units, rounded up.
constexpr uint64_t data_units_from_bytes(uint64_t bytes) { return (bytes + 511999) / 512000; }

// Little-endian 128-bit counter from a 64-bit value.
void put_u128(uint8_t (&dst)[16], uint64_t v);

}  // namespace nvmf::cmd
