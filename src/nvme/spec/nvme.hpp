// NVMe base wire structures: submission/completion queue entries, SGL
// descriptors, opcodes and status codes (NVM Express Base Specification 2.0).
// Every struct here is byte-exact; offsets are asserted below.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nvmf::spec {

// SGL descriptor (Base spec 4.1.8). type byte: bits 7:4 type, 3:0 subtype.
struct sgl_descriptor {
    uint64_t address;
    uint32_t length;
    uint8_t keyed_length_hi[3];  // keyed SGL: bytes 8..10 are length, 11..14 key
    uint8_t type;
};
static_assert(sizeof(sgl_descriptor) == 16);

enum class sgl_type : uint8_t {
    data_block = 0x0,
    bit_bucket = 0x1,
    segment = 0x2,
    last_segment = 0x3,
    keyed_data_block = 0x4,
    transport_data_block = 0x5,
};
enum class sgl_subtype : uint8_t {
    address = 0x0,
    offset = 0x1,
    transport = 0xA,
};
constexpr uint8_t sgl_type_byte(sgl_type t, sgl_subtype s) {
    return static_cast<uint8_t>((static_cast<uint8_t>(t) << 4) | static_cast<uint8_t>(s));
}

// Submission queue entry (64 bytes).
struct sqe {
    uint8_t opc;
    uint8_t flags;  // bits 1:0 FUSE, 7:6 PSDT
    uint16_t cid;
    uint32_t nsid;
    uint32_t cdw2;
    uint32_t cdw3;
    uint64_t mptr;
    sgl_descriptor sgl1;  // DPTR; fabrics always uses SGLs
    uint32_t cdw10;
    uint32_t cdw11;
    uint32_t cdw12;
    uint32_t cdw13;
    uint32_t cdw14;
    uint32_t cdw15;
};
static_assert(sizeof(sqe) == 64);
static_assert(offsetof(sqe, nsid) == 4);
static_assert(offsetof(sqe, sgl1) == 24);
static_assert(offsetof(sqe, cdw10) == 40);
static_assert(offsetof(sqe, cdw15) == 60);

constexpr uint8_t sqe_psdt(const sqe& s) { return static_cast<uint8_t>(s.flags >> 6); }
constexpr uint8_t sqe_fuse(const sqe& s) { return static_cast<uint8_t>(s.flags & 0x3); }
// FUSE values (CDW0 bits 9:8): a fused Compare and Write is a first (Compare)
// and, adjacent in the same SQ, a second (Write) command.
namespace fuse {
constexpr uint8_t none = 0;
constexpr uint8_t first = 1;
constexpr uint8_t second = 2;
}  // namespace fuse
constexpr uint8_t psdt_sgl_mptr_contig = 1;  // PSDT 01b: SGLs, MPTR one contiguous buffer

// Completion queue entry (16 bytes).
struct cqe {
    uint32_t cdw0;
    uint32_t cdw1;
    uint16_t sqhd;
    uint16_t sqid;
    uint16_t cid;
    uint16_t status;  // bit 0 phase, 8:1 SC, 11:9 SCT, 13:12 CRD, 14 M, 15 DNR
};
static_assert(sizeof(cqe) == 16);
static_assert(offsetof(cqe, sqhd) == 8);
static_assert(offsetof(cqe, status) == 14);

// Status code types.
enum class sct : uint8_t {
    generic = 0x0,
    command_specific = 0x1,
    media_error = 0x2,
    path = 0x3,
    vendor = 0x7,
};

// A status as it sits in cqe::status with phase 0. 0 means success.
using status = uint16_t;

constexpr status make_status(sct t, uint8_t sc, bool dnr = false) {
    return static_cast<status>((static_cast<unsigned>(sc) << 1) | (static_cast<unsigned>(t) << 9) |
                               (dnr ? 0x8000u : 0u));
}
constexpr uint8_t status_sc(status s) { return static_cast<uint8_t>((s >> 1) & 0xff); }
constexpr sct status_sct(status s) { return static_cast<sct>((s >> 9) & 0x7); }
constexpr bool status_dnr(status s) { return (s & 0x8000) != 0; }
constexpr bool status_ok(status s) { return (s & 0xfffe) == 0; }

// NSID FFFFFFFFh: every namespace (for a log page: the controller's).
constexpr uint32_t nsid_all = 0xffffffffu;

// Generic command status (SCT 0).
namespace sc {
constexpr uint8_t success = 0x00;
constexpr uint8_t invalid_opcode = 0x01;
constexpr uint8_t invalid_field = 0x02;
constexpr uint8_t command_id_conflict = 0x03;
constexpr uint8_t data_transfer_error = 0x04;
constexpr uint8_t aborted_power_loss = 0x05;
constexpr uint8_t internal_device_error = 0x06;
constexpr uint8_t aborted_by_request = 0x07;
constexpr uint8_t aborted_sq_deletion = 0x08;
constexpr uint8_t aborted_failed_fused = 0x09;
constexpr uint8_t aborted_missing_fused = 0x0a;
constexpr uint8_t invalid_namespace_or_format = 0x0b;
constexpr uint8_t command_sequence_error = 0x0c;
constexpr uint8_t invalid_sgl_segment_descriptor = 0x0d;
constexpr uint8_t invalid_number_of_sgl_descriptors = 0x0e;
constexpr uint8_t data_sgl_length_invalid = 0x0f;
constexpr uint8_t metadata_sgl_length_invalid = 0x10;
constexpr uint8_t sgl_descriptor_type_invalid = 0x11;
constexpr uint8_t invalid_controller_memory_buffer = 0x12;
constexpr uint8_t invalid_prp_offset = 0x13;
constexpr uint8_t atomic_write_unit_exceeded = 0x14;
constexpr uint8_t operation_denied = 0x15;
constexpr uint8_t invalid_sgl_offset = 0x16;
constexpr uint8_t host_id_inconsistent_format = 0x18;
constexpr uint8_t keep_alive_expired = 0x19;
constexpr uint8_t keep_alive_invalid = 0x1a;
constexpr uint8_t aborted_preempt = 0x1b;
constexpr uint8_t sanitize_failed = 0x1c;
constexpr uint8_t sanitize_in_progress = 0x1d;
constexpr uint8_t sgl_data_block_granularity_invalid = 0x1e;
constexpr uint8_t command_invalid_in_cmb = 0x1f;
constexpr uint8_t namespace_is_write_protected = 0x20;
constexpr uint8_t command_interrupted = 0x21;
constexpr uint8_t transient_transport_error = 0x22;
// NVM command set specific generic values.
constexpr uint8_t lba_out_of_range = 0x80;
constexpr uint8_t capacity_exceeded = 0x81;
constexpr uint8_t namespace_not_ready = 0x82;
constexpr uint8_t reservation_conflict = 0x83;
}  // namespace sc

// Command specific status (SCT 1).
namespace sc_cmd {
constexpr uint8_t completion_queue_invalid = 0x00;
constexpr uint8_t invalid_queue_identifier = 0x01;
constexpr uint8_t invalid_queue_size = 0x02;
constexpr uint8_t abort_command_limit_exceeded = 0x03;
constexpr uint8_t async_event_request_limit_exceeded = 0x05;
constexpr uint8_t invalid_firmware_slot = 0x06;
constexpr uint8_t invalid_log_page = 0x09;
constexpr uint8_t invalid_format = 0x0a;
constexpr uint8_t feature_id_not_saveable = 0x0d;
constexpr uint8_t feature_not_changeable = 0x0e;
constexpr uint8_t feature_not_namespace_specific = 0x0f;
constexpr uint8_t invalid_controller_id = 0x1f;
constexpr uint8_t conflicting_attributes = 0x80;  // NVM: Dataset Management etc.
constexpr uint8_t invalid_protection_info = 0x81;
constexpr uint8_t attempted_write_to_ro_range = 0x82;
// Fabrics (NVMe-oF 1.1 / Base 2.0 3.3).
constexpr uint8_t incompatible_format = 0x80;
constexpr uint8_t controller_busy = 0x81;
constexpr uint8_t connect_invalid_parameters = 0x82;
constexpr uint8_t connect_restart_discovery = 0x83;
constexpr uint8_t connect_invalid_host = 0x84;
constexpr uint8_t invalid_queue_type = 0x85;
constexpr uint8_t discover_restart = 0x90;
constexpr uint8_t auth_required = 0x91;
}  // namespace sc_cmd

// Path related status (SCT 3): ANA states a host fails over on.
namespace sc_path {
constexpr uint8_t internal_path_error = 0x00;
constexpr uint8_t ana_persistent_loss = 0x01;
constexpr uint8_t ana_inaccessible = 0x02;
constexpr uint8_t ana_transition = 0x03;
}  // namespace sc_path

// Media and data integrity errors (SCT 2).
namespace sc_media {
constexpr uint8_t write_fault = 0x80;
constexpr uint8_t unrecovered_read_error = 0x81;
constexpr uint8_t compare_failure = 0x85;
constexpr uint8_t access_denied = 0x86;
}  // namespace sc_media

// Admin command opcodes.
namespace admin_opc {
constexpr uint8_t delete_io_sq = 0x00;
constexpr uint8_t create_io_sq = 0x01;
constexpr uint8_t get_log_page = 0x02;
constexpr uint8_t delete_io_cq = 0x04;
constexpr uint8_t create_io_cq = 0x05;
constexpr uint8_t identify = 0x06;
constexpr uint8_t abort = 0x08;
constexpr uint8_t set_features = 0x09;
constexpr uint8_t get_features = 0x0a;
constexpr uint8_t async_event_request = 0x0c;
constexpr uint8_t namespace_management = 0x0d;
constexpr uint8_t firmware_commit = 0x10;
constexpr uint8_t firmware_image_download = 0x11;
constexpr uint8_t device_self_test = 0x14;
constexpr uint8_t namespace_attachment = 0x15;
constexpr uint8_t keep_alive = 0x18;
constexpr uint8_t directive_send = 0x19;
constexpr uint8_t directive_receive = 0x1a;
constexpr uint8_t virtualization_management = 0x1c;
constexpr uint8_t nvme_mi_send = 0x1d;
constexpr uint8_t nvme_mi_receive = 0x1e;
constexpr uint8_t doorbell_buffer_config = 0x7c;
constexpr uint8_t fabrics = 0x7f;
constexpr uint8_t format_nvm = 0x80;
constexpr uint8_t security_send = 0x81;
constexpr uint8_t security_receive = 0x82;
constexpr uint8_t sanitize = 0x84;
}  // namespace admin_opc

// NVM command set I/O opcodes.
namespace io_opc {
constexpr uint8_t flush = 0x00;
constexpr uint8_t write = 0x01;
constexpr uint8_t read = 0x02;
constexpr uint8_t write_uncorrectable = 0x04;
constexpr uint8_t compare = 0x05;
constexpr uint8_t write_zeroes = 0x08;
constexpr uint8_t dataset_management = 0x09;
constexpr uint8_t verify = 0x0c;
constexpr uint8_t reservation_register = 0x0d;
constexpr uint8_t reservation_report = 0x0e;
constexpr uint8_t reservation_acquire = 0x11;
constexpr uint8_t reservation_release = 0x15;
}  // namespace io_opc

// Data transfer direction implied by opcode bits 1:0 (Base spec 5.x).
enum class xfer : uint8_t {
    none = 0,
    host_to_controller = 1,
    controller_to_host = 2,
    bidirectional = 3,
};
constexpr xfer opcode_xfer(uint8_t opc) { return static_cast<xfer>(opc & 0x3); }

// Feature identifiers.
namespace feat {
constexpr uint8_t arbitration = 0x01;
constexpr uint8_t power_management = 0x02;
constexpr uint8_t lba_range_type = 0x03;
constexpr uint8_t temperature_threshold = 0x04;
constexpr uint8_t error_recovery = 0x05;
constexpr uint8_t volatile_write_cache = 0x06;
constexpr uint8_t number_of_queues = 0x07;
constexpr uint8_t interrupt_coalescing = 0x08;
constexpr uint8_t interrupt_vector_configuration = 0x09;
constexpr uint8_t write_atomicity = 0x0a;
constexpr uint8_t async_event_configuration = 0x0b;
constexpr uint8_t keep_alive_timer = 0x0f;
constexpr uint8_t host_identifier = 0x81;
constexpr uint8_t reservation_notification_mask = 0x82;
constexpr uint8_t reservation_persistence = 0x83;
}  // namespace feat

// Log page identifiers.
namespace lid {
constexpr uint8_t supported_log_pages = 0x00;
constexpr uint8_t error = 0x01;
constexpr uint8_t smart_health = 0x02;
constexpr uint8_t firmware_slot = 0x03;
constexpr uint8_t changed_ns_list = 0x04;
constexpr uint8_t commands_supported_effects = 0x05;
constexpr uint8_t ana = 0x0c;
constexpr uint8_t discovery = 0x70;
constexpr uint8_t reservation_notification = 0x80;
}  // namespace lid

// Identify CNS values.
namespace cns {
constexpr uint8_t ns = 0x00;
constexpr uint8_t ctrlr = 0x01;
constexpr uint8_t active_ns_list = 0x02;
constexpr uint8_t ns_id_descriptor_list = 0x03;
constexpr uint8_t io_command_set_ns = 0x05;
constexpr uint8_t io_command_set_ctrlr = 0x06;
constexpr uint8_t io_command_set_active_ns_list = 0x07;
constexpr uint8_t allocated_ns_list = 0x10;
constexpr uint8_t io_command_set = 0x1c;
}  // namespace cns

// Asynchronous event types / information (completion dword 0).
namespace aer {
constexpr uint8_t type_error = 0x0;
constexpr uint8_t type_smart = 0x1;
constexpr uint8_t type_notice = 0x2;
constexpr uint8_t type_io = 0x6;
constexpr uint8_t notice_ns_attr_changed = 0x00;
constexpr uint8_t notice_fw_activation_starting = 0x01;
constexpr uint8_t notice_telemetry_log_changed = 0x02;
constexpr uint8_t notice_ana_change = 0x03;
constexpr uint8_t notice_discovery_log_changed = 0xf0;
// Async Event Configuration feature bits (cdw11).
constexpr uint32_t cfg_ns_attr_notice = 1u << 8;
constexpr uint32_t cfg_fw_activation_notice = 1u << 9;
constexpr uint32_t cfg_ana_change_notice = 1u << 11;
constexpr uint32_t cfg_discovery_log_change_notice = 1u << 31;
constexpr uint32_t make_cdw0(uint8_t type, uint8_t info, uint8_t log_page) {
    return static_cast<uint32_t>(type) | (static_cast<uint32_t>(info) << 8) |
           (static_cast<uint32_t>(log_page) << 16);
}
}  // namespace aer

}  // namespace nvmf::spec
