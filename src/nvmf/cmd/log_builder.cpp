// Log page image builders and the Get Log Page window.
#include "nvmf/cmd/log_builder.hpp"

#include <algorithm>
#include <cstring>

#include "nvmf/cmd/identify_builder.hpp"

namespace nvmf::cmd {

void put_u128(uint8_t (&dst)[16], uint64_t v) {
    std::memset(dst, 0, sizeof(dst));
    for (int i = 0; i < 8; ++i) dst[i] = static_cast<uint8_t>(v >> (8 * i));
}

error_info describe_error(uint16_t sqid, const spec::sqe& cmd, uint16_t st) {
    error_info e;
    e.sqid = sqid;
    e.cid = cmd.cid;
    e.status = st;
    e.nsid = cmd.nsid;
    const bool io = sqid != 0;
    if (io) {
        switch (cmd.opc) {
        case spec::io_opc::read:
        case spec::io_opc::write:
        case spec::io_opc::compare:
        case spec::io_opc::write_zeroes:
        case spec::io_opc::write_uncorrectable:
        case spec::io_opc::verify:
            e.lba = cmd.cdw10 | (static_cast<uint64_t>(cmd.cdw11) << 32);
            break;
        default:
            break;
        }
    }
    // Byte offsets in the 64-byte SQE (bit 0 of each): OPC 0, CID 2, NSID 4,
    // DPTR 24 (an SGL descriptor: length at 32, identifier at 39), CDW10 40.
    if (spec::status_sct(st) == spec::sct::generic) {
        switch (spec::status_sc(st)) {
        case spec::sc::invalid_opcode:
            e.parm_error_location = 0;
            break;
        case spec::sc::command_id_conflict:
            e.parm_error_location = 2;
            break;
        case spec::sc::invalid_namespace_or_format:
            e.parm_error_location = 4;
            break;
        case spec::sc::data_sgl_length_invalid:
            e.parm_error_location = 32;
            break;
        case spec::sc::sgl_descriptor_type_invalid:
            e.parm_error_location = 39;
            break;
        case spec::sc::lba_out_of_range:
            if (io) e.parm_error_location = 40;
            break;
        default:
            break;
        }
    }
    return e;
}

std::vector<uint8_t> build_error_log(std::span<const error_info> errors, size_t entries) {
    std::vector<uint8_t> out(entries * sizeof(spec::error_log_entry), 0);
    const size_t n = std::min(entries, errors.size());
    for (size_t i = 0; i < n; ++i) {
        spec::error_log_entry e{};
        e.error_count = errors[i].error_count;
        e.sqid = errors[i].sqid;
        e.cid = errors[i].cid;
        e.status = static_cast<uint16_t>(errors[i].status & 0xfffe);
        e.parm_error_location = errors[i].parm_error_location;
        e.lba = errors[i].lba;
        e.nsid = errors[i].nsid;
        std::memcpy(out.data() + i * sizeof(e), &e, sizeof(e));
    }
    return out;
}

spec::smart_health_log build_health_log(const health_input& in) {
    spec::smart_health_log log{};
    log.critical_warning = in.critical_warning;
    log.composite_temperature[0] = static_cast<uint8_t>(in.temperature_k & 0xff);
    log.composite_temperature[1] = static_cast<uint8_t>(in.temperature_k >> 8);
    log.available_spare = in.available_spare;
    log.available_spare_threshold = in.available_spare_threshold;
    put_u128(log.data_units_read, in.data_units_read);
    put_u128(log.data_units_written, in.data_units_written);
    put_u128(log.host_read_commands, in.host_read_commands);
    put_u128(log.host_write_commands, in.host_write_commands);
    put_u128(log.controller_busy_time, in.controller_busy_minutes);
    put_u128(log.power_cycles, in.power_cycles);
    put_u128(log.power_on_hours, in.power_on_hours);
    put_u128(log.unsafe_shutdowns, in.unsafe_shutdowns);
    put_u128(log.media_errors, in.media_errors);
    put_u128(log.num_error_log_entries, in.num_error_log_entries);
    return log;
}

spec::firmware_slot_log build_firmware_slot_log(std::string_view fr) {
    spec::firmware_slot_log log{};
    log.afi = 1;  // slot 1 active
    pad_copy(log.frs[0], sizeof(log.frs[0]), fr, ' ');
    return log;
}

spec::commands_effects_log build_commands_effects_log(std::span<const command_effect> admin,
                                                      std::span<const command_effect> io) {
    spec::commands_effects_log log{};
    for (const auto& c : admin) log.acs[c.opc] = c.effects | spec::cmd_effect::csupp;
    for (const auto& c : io) log.iocs[c.opc] = c.effects | spec::cmd_effect::csupp;
    return log;
}

spec::changed_ns_list_log build_changed_ns_list_log(std::span<const uint32_t> nsids) {
    spec::changed_ns_list_log log{};
    const size_t n = std::min(nsids.size(), spec::changed_ns_list_entries);
    std::copy_n(nsids.begin(), n, log.nsid);
    return log;
}

std::vector<uint8_t> build_discovery_log(std::span<const spec::discovery_log_entry> entries,
                                         uint64_t genctr) {
    std::vector<uint8_t> out(sizeof(spec::discovery_log_header) +
                             entries.size() * sizeof(spec::discovery_log_entry));
    spec::discovery_log_header h{};
    h.genctr = genctr;
    h.numrec = entries.size();
    h.recfmt = 0;
    std::memcpy(out.data(), &h, sizeof(h));
    if (!entries.empty()) {
        std::memcpy(out.data() + sizeof(h), entries.data(), entries.size_bytes());
    }
    return out;
}

std::vector<uint8_t> build_ana_log(std::span<const ana_group> groups, uint64_t chgcnt, bool rgo) {
    size_t size = sizeof(spec::ana_log_header);
    for (const auto& g : groups) {
        size += sizeof(spec::ana_group_descriptor) + (rgo ? 0 : g.nsids.size() * sizeof(uint32_t));
    }
    std::vector<uint8_t> out(size, 0);
    spec::ana_log_header h{};
    h.chgcnt = chgcnt;
    h.ngrps = static_cast<uint16_t>(groups.size());
    std::memcpy(out.data(), &h, sizeof(h));
    size_t pos = sizeof(h);
    for (const auto& g : groups) {
        spec::ana_group_descriptor d{};
        d.anagrpid = g.anagrpid;
        d.nnsids = rgo ? 0 : static_cast<uint32_t>(g.nsids.size());
        // One change count for the whole log (as Linux nvmet keeps it): a
        // group's count then moves whenever anything in the log did.
        d.chgcnt = chgcnt;
        d.state = g.state;
        std::memcpy(out.data() + pos, &d, sizeof(d));
        pos += sizeof(d);
        if (rgo || g.nsids.empty()) continue;
        std::memcpy(out.data() + pos, g.nsids.data(), g.nsids.size() * sizeof(uint32_t));
        pos += g.nsids.size() * sizeof(uint32_t);
    }
    return out;
}

bool log_offset_valid(uint64_t log_size, uint64_t offset) {
    return (offset & 3) == 0 && offset <= log_size;
}

size_t read_log_window(std::span<const uint8_t> image, uint64_t offset, std::span<uint8_t> out) {
    if (out.empty()) return 0;
    size_t taken = 0;
    if (offset < image.size()) {
        taken = std::min<uint64_t>(out.size(), image.size() - offset);
        if (taken > 0) std::memcpy(out.data(), image.data() + offset, taken);
    }
    if (out.size() > taken) std::memset(out.data() + taken, 0, out.size() - taken);
    return taken;
}

}  // namespace nvmf::cmd
