// Pure builders for Identify data: plain inputs in, byte-exact structures
// out. They know nothing of targets, controllers or requests, so unit tests
// (and tools) can call them directly; identify.cpp fills the inputs.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "nvme/spec/identify.hpp"

namespace nvmf::cmd {

struct identify_ctrlr_input {
    std::string_view serial_number;      // space padded to 20
    std::string_view model_number;       // space padded to 40
    std::string_view firmware_revision;  // first 8 characters, space padded
    std::string_view subnqn;
    uint16_t cntlid = 0;
    uint32_t ver = 0;  // the VS property, so Identify and Property Get agree
    bool discovery = false;
    uint32_t max_io_size = 131072;  // bytes; MDTS in units of CAP.MPSMIN (4 KiB)
    uint32_t in_capsule_data_size = 4096;
    uint16_t max_queue_depth = 128;
    // SGLS without SGL Offset (added when in_capsule_data_size is not 0).
    uint32_t sgls = spec::sgls::supported_no_alignment | spec::sgls::transport_data_block;
    uint32_t max_namespaces = 0;        // NN
    bool volatile_write_cache = false;  // any namespace's bdev has one
    uint8_t aer_limit = 4;              // outstanding AERs (1's based)
    uint8_t error_log_entries = 8;      // (1's based)
    uint8_t cmic = spec::cmic::multi_port | spec::cmic::multi_ctrlr;
    uint16_t kas = 1;  // keep-alive granularity in 100 ms units
    // ANA reporting (subsystem ana_reporting): CMIC bit 3, ANATT, ANACAP and
    // the group counts, and the ANA change notice in OAES.
    bool ana_reporting = false;
    uint32_t anagrpmax = 0;  // groups are 1..anagrpmax (the subsystem's max_namespaces)
};

// ANA Transition Time we report (seconds): how long a group may stay in the
// change state. We never hold it there ourselves; it bounds an operator's
// "change" before the host resets the controller.
constexpr uint8_t ana_transition_time_s = 10;

spec::identify_ctrlr build_identify_ctrlr(const identify_ctrlr_input& in);

struct identify_ns_input {
    uint64_t num_blocks = 0;
    uint32_t block_size = 512;
    bool shared = true;  // NMIC: may be attached to more than one controller
    bool deallocated_reads_zero = false;
    bool write_zeroes_deallocates = false;
    uint32_t anagrpid = 0;
    const uint8_t* nguid = nullptr;  // 16 bytes or null
    const uint8_t* eui64 = nullptr;  // 8 bytes or null
    const uint8_t* uuid = nullptr;   // 16 bytes or null (all zero counts as none)
    // NSFEAT UIDREUSE when there is an NGUID or EUI-64: no other namespace
    // will ever report them.
    bool ids_never_reused = true;
    // RESCAP: every reservation type; PTPL only with a PTPL file.
    bool ptpl_capable = false;
};

spec::identify_ns build_identify_ns(const identify_ns_input& in);

// Namespace Identification Descriptor list (CNS 03h), 4096 bytes.
std::array<uint8_t, spec::identify_data_size> build_ns_id_descriptors(const identify_ns_input& in);

// Active NSID list (CNS 02h): the active NSIDs greater than `after`, in
// increasing order, at most 1024. `active` must be sorted.
spec::ns_list build_active_ns_list(std::span<const uint32_t> active, uint32_t after);

// Copies s into dst of n bytes, padded with pad (no terminator).
void pad_copy(char* dst, size_t n, std::string_view s, char pad);

// Floor of log2(v), 0 for v <= 1.
uint8_t log2_floor(uint64_t v);

}  // namespace nvmf::cmd
