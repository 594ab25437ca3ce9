// Identify data builders: field values and the spec rules behind them.
#include "nvmf/cmd/identify_builder.hpp"

#include <algorithm>
#include <cstring>

#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/nvme.hpp"
#include "nvme/spec/reservation.hpp"

namespace nvmf::cmd {

namespace {
// CAP.MPSMIN is 4 KiB: MDTS counts in those units.
constexpr uint32_t min_page_size = 4096;
constexpr uint8_t frmw_slot1_read_only = 1u << 0;
constexpr uint8_t frmw_one_slot = 1u << 1;  // bits 3:1: number of slots

bool all_zero(const uint8_t* p, size_t n) {
    return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}
}  // namespace

void pad_copy(char* dst, size_t n, std::string_view s, char pad) {
    const size_t len = std::min(n, s.size());
    std::memcpy(dst, s.data(), len);
    std::memset(dst + len, pad, n - len);
}

uint8_t log2_floor(uint64_t v) {
    uint8_t r = 0;
    while (v > 1) {
        v >>= 1;
        ++r;
    }
    return r;
}

spec::identify_ctrlr build_identify_ctrlr(const identify_ctrlr_input& in) {
    spec::identify_ctrlr id{};
    pad_copy(id.sn, sizeof(id.sn), in.serial_number, ' ');
    pad_copy(id.mn, sizeof(id.mn), in.model_number, ' ');
    pad_copy(id.fr, sizeof(id.fr), in.firmware_revision, ' ');
    id.cmic = in.discovery ? 0 : in.cmic;
    id.mdts = log2_floor(in.max_io_size / min_page_size);
    id.cntlid = in.cntlid;
    id.ver = in.ver;
    id.oaes =
        in.discovery ? spec::aer::cfg_discovery_log_change_notice : spec::aer::cfg_ns_attr_notice;
    id.cntrltype = in.discovery ? spec::cntrltype::discovery : spec::cntrltype::io;

    id.acl = 3;
    id.aerl = static_cast<uint8_t>(in.aer_limit ? in.aer_limit - 1 : 0);
    id.frmw = frmw_slot1_read_only | frmw_one_slot;
    // A discovery controller has no Commands Supported and Effects log (as
    // SPDK's); claiming it makes hosts ask and fail.
    // SMART / Health per namespace as well as for the controller (log_page.cpp).
    id.lpa = in.discovery ? spec::lpa::extended_data
                          : static_cast<uint8_t>(spec::lpa::smart_per_ns | spec::lpa::cmd_effects |
                                                 spec::lpa::extended_data);
    id.elpe = static_cast<uint8_t>(in.error_log_entries ? in.error_log_entries - 1 : 0);
    id.kas = in.kas;

    id.sqes = spec::sqes_64;
    id.cqes = spec::cqes_16;
    id.maxcmd = in.max_queue_depth;
    // SGLs without alignment needs, with the descriptor types of the transport
    // (TCP: Transport SGL Data Block for data that follows by R2T/C2HData;
    // RDMA: Keyed SGL Data Block) and address-as-offset for in-capsule data.
    id.sgls = in.sgls;
    if (in.in_capsule_data_size) id.sgls |= spec::sgls::address_as_offset;
    pad_copy(id.subnqn, sizeof(id.subnqn), in.subnqn.substr(0, spec::nqn_max_len), '\0');

    if (!in.discovery) {
        id.nn = in.max_namespaces;
        // Save/Select: Get Features honours SEL (nothing is saveable, SV is refused).
        id.oncs = spec::oncs::compare | spec::oncs::dataset_management | spec::oncs::write_zeroes |
                  spec::oncs::save_select | spec::oncs::reservations;
        // Fused Compare and Write (cmd/fused.cpp), atomic over the whole
        // command; ACWU (0's based) promises one block, as SPDK does.
        id.fuses = spec::fuses::compare_and_write;
        id.acwu = 0;
        id.vwc = in.volatile_write_cache ? 1 : 0;
        id.ioccsz = (sizeof(spec::sqe) + in.in_capsule_data_size) / 16;
        id.iorcsz = sizeof(spec::cqe) / 16;
        id.icdoff = 0;
        id.fcatt = 0;  // dynamic controller model
        id.msdbd = 1;
        // Linux requires 0 < MNAN <= NN before it uses ANA: every NSID may be attached.
        id.mnan = in.max_namespaces;
        if (in.ana_reporting) {
            id.cmic |= spec::cmic::ana_reporting;
            id.oaes |= spec::aer::cfg_ana_change_notice;
            id.anatt = ana_transition_time_s;
            id.anacap = spec::anacap::optimized | spec::anacap::non_optimized |
                        spec::anacap::inaccessible | spec::anacap::persistent_loss |
                        spec::anacap::change | spec::anacap::grpid_fixed_while_attached;
            id.anagrpmax = in.anagrpmax;
            id.nanagrpid = in.anagrpmax;
        }
    }
    return id;
}

spec::identify_ns build_identify_ns(const identify_ns_input& in) {
    spec::identify_ns id{};
    id.nsze = in.num_blocks;
    id.ncap = in.num_blocks;
    id.nuse = in.num_blocks;
    id.nlbaf = 0;
    id.flbas = 0;
    id.lbaf[0].lbads = log2_floor(in.block_size);
    id.nmic = in.shared ? spec::nmic_shared : 0;
    id.rescap =
        spec::rescap::all_types | spec::rescap::iek_13 | (in.ptpl_capable ? spec::rescap::ptpl : 0);
    if (in.deallocated_reads_zero) id.dlfeat |= spec::dlfeat::read_zeroes;
    if (in.write_zeroes_deallocates) id.dlfeat |= spec::dlfeat::write_zeroes_deallocate;
    id.anagrpid = in.anagrpid;
    if (in.nguid) std::memcpy(id.nguid, in.nguid, sizeof(id.nguid));
    if (in.eui64) std::memcpy(id.eui64, in.eui64, sizeof(id.eui64));
    // UIDREUSE promises that no namespace created later reports this NGUID
    // or EUI-64: true of configured ones (the operator's word) and of those
    // derived from a UUID kept with the data or random, not of one derived
    // from a path another file may take. The bit must be 0 without either.
    if (in.ids_never_reused &&
        ((in.nguid && !all_zero(in.nguid, 16)) || (in.eui64 && !all_zero(in.eui64, 8)))) {
        id.nsfeat |= spec::nsfeat::uidreuse;
    }
    return id;
}

std::array<uint8_t, spec::identify_data_size> build_ns_id_descriptors(const identify_ns_input& in) {
    std::array<uint8_t, spec::identify_data_size> out{};
    size_t pos = 0;
    auto add = [&](uint8_t type, uint8_t len, const uint8_t* nid) {
        if (!nid || all_zero(nid, len)) return;
        spec::ns_id_descriptor_header h{type, len, {0, 0}};
        std::memcpy(out.data() + pos, &h, sizeof(h));
        std::memcpy(out.data() + pos + sizeof(h), nid, len);
        pos += sizeof(h) + len;
    };
    add(spec::nidt::eui64, spec::nidl::eui64, in.eui64);
    add(spec::nidt::nguid, spec::nidl::nguid, in.nguid);
    add(spec::nidt::uuid, spec::nidl::uuid, in.uuid);
    return out;
}

spec::ns_list build_active_ns_list(std::span<const uint32_t> active, uint32_t after) {
    spec::ns_list list{};
    size_t n = 0;
    for (uint32_t nsid : active) {
        if (nsid <= after || nsid == 0) continue;
        if (n == spec::ns_list_max) break;
        list.nsid[n++] = nsid;
    }
    return list;
}

}  // namespace nvmf::cmd
