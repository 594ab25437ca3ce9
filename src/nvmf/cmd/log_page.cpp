// Get Log Page: builds the whole image of the asked log (they are small),
// then returns the (offset, length) window of it. Reading a log with RAE=0
// re-arms its asynchronous event.
#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "nvme/spec/log.hpp"
#include "nvme/spec/nvme.hpp"
#include "nvmf/cmd/handlers.hpp"
#include "nvmf/cmd/log_builder.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/subsystem.hpp"
#include "nvmf/target.hpp"

#ifndef NVMF_VERSION
#define NVMF_VERSION "0.0.0"
#endif

namespace nvmf::cmd {

namespace {

template <typename T>
std::vector<uint8_t> as_bytes(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    return {p, p + sizeof(v)};
}

// The NVM command set opcodes io.cpp implements, and what they change.
constexpr command_effect io_effects[] = {
    {spec::io_opc::flush, 0},
    {spec::io_opc::write, spec::cmd_effect::lbcc},
    {spec::io_opc::read, 0},
    {spec::io_opc::compare, 0},
    {spec::io_opc::write_zeroes, spec::cmd_effect::lbcc},
    {spec::io_opc::dataset_management, spec::cmd_effect::lbcc},
    {spec::io_opc::reservation_register, 0},
    {spec::io_opc::reservation_report, 0},
    {spec::io_opc::reservation_acquire, 0},
    {spec::io_opc::reservation_release, 0},
};

std::vector<uint8_t> error_log_image(const controller& c) {
    std::vector<error_info> errs;
    for (const auto& e : c.error_log()) {
        errs.push_back(
            {e.error_count, e.sqid, e.cid, e.status, e.nsid, e.lba, e.parm_error_location});
    }
    return build_error_log(errs, error_log_entries);
}

// SMART / Health log (LPA bit 0: per namespace too). NSID FFFFFFFFh (or 0)
// asks for the controller: the counters of every namespace it has, as the
// Linux target sums its namespaces; an active NSID, that namespace's. The
// counters are the namespace's (every host's I/O since it was added); the
// rest is the controller's in both. Returns empty with *st set for an NSID
// that is not active.
std::vector<uint8_t> health_log_image(request& req, controller& c, spec::status* st) {
    const uint32_t nsid = req.cmd.nsid;
    const ns_table& table = c.subsys->ns_for(*req.qp);
    std::vector<const ns*> of;
    if (nsid == 0 || nsid == spec::nsid_all) {
        for (const auto& n : table.slots) {
            if (n) of.push_back(n.get());
        }
    } else if (const auto& n = table.find(nsid)) {
        of.push_back(n.get());
    } else {
        *st = spec::make_status(spec::sct::generic, spec::sc::invalid_namespace_or_format, true);
        return {};
    }
    health_input in;
    io_totals t;
    for (const ns* n : of) {
        t += n->counters.sum();
        if (n->dev->read_only()) in.critical_warning |= spec::critical_warning::read_only;
        // Each file bdev is a drive: the controller's are its drives' added up.
        in.power_cycles += n->dev->power_cycles();
        in.unsafe_shutdowns += n->dev->unsafe_shutdowns();
    }
    // A backend that failed commands itself (I/O errors, not the command's
    // fault): media errors, and the reliability of the subsystem is degraded.
    if (t.backend_errors) in.critical_warning |= spec::critical_warning::reliability_degraded;
    in.data_units_read = data_units_from_bytes(t.read_bytes);
    in.data_units_written = data_units_from_bytes(t.write_bytes);
    in.host_read_commands = t.read_commands;
    in.host_write_commands = t.write_commands;
    in.media_errors = t.backend_errors;
    const auto up = std::chrono::steady_clock::now() - c.subsys->tgt.started_at;
    in.power_on_hours =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::hours>(up).count());
    // Summed over the I/O queues, so with several busy at once it can pass
    // the wall-clock time; never beyond the time since power on.
    const auto busy = std::chrono::nanoseconds(static_cast<int64_t>(std::min<uint64_t>(
        c.busy_ns(),
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(up).count()))));
    in.controller_busy_minutes =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::minutes>(busy).count());
    in.num_error_log_entries = c.error_count;
    return as_bytes(build_health_log(in));
}

std::vector<uint8_t> effects_log_image() {
    std::vector<command_effect> admin_cmds;
    for (unsigned opc = 0; opc < 256; ++opc) {
        if (admin_opcode_supported(static_cast<uint8_t>(opc), false)) {
            admin_cmds.push_back({static_cast<uint8_t>(opc), 0});
        }
    }
    return as_bytes(build_commands_effects_log(admin_cmds, io_effects));
}

// The groups that hold at least one active namespace, in increasing ANAGRPID,
// each with the state of this controller's path. The image is never cut short:
// at most max_namespaces groups and NSIDs, which the host sized its buffer for
// (NANAGRPID and MNAN).
std::vector<uint8_t> ana_log_image(request& req, controller& c, bool rgo) {
    const uint64_t chgcnt = c.subsys->ana_change_count();
    const ns_table& table = c.subsys->ns_for(*req.qp);
    std::map<uint32_t, std::vector<uint32_t>> members;
    for (const auto& n : table.slots) {
        if (n) members[n->anagrpid].push_back(n->nsid);
    }
    std::vector<ana_group> groups;
    for (auto& [anagrpid, nsids] : members) {
        std::sort(nsids.begin(), nsids.end());
        groups.push_back(
            {anagrpid, static_cast<uint8_t>(c.ana_state_of(anagrpid)), std::move(nsids)});
    }
    return build_ana_log(groups, chgcnt, rgo);
}

std::vector<uint8_t> discovery_log_image(request& req, controller& c) {
    target& tgt = c.subsys->tgt;
    // Generation first: a change racing with this read then shows up as a
    // newer genctr on the host's next read instead of being lost.
    const uint64_t genctr = tgt.discovery_genctr();
    const auto entries = tgt.discovery_log(c.hostnqn, req.qp->listen_trid());
    c.discovery_genctr_seen = genctr;
    return build_discovery_log(entries, genctr);
}

}  // namespace

void get_log_page(request& req) {
    controller& c = *req.qp->ctrlr;
    const uint32_t cdw10 = req.cmd.cdw10;
    const auto lid = static_cast<uint8_t>(cdw10 & spec::glp::lid_mask);
    const bool rae = cdw10 & spec::glp::rae;
    const auto lsp = static_cast<uint8_t>((cdw10 & spec::glp::lsp_mask) >> spec::glp::lsp_shift);
    const uint64_t numdu = req.cmd.cdw11 & spec::glp::numdu_mask;
    const uint64_t numdl = cdw10 >> spec::glp::numdl_shift;
    const uint64_t want = ((numdu << 16 | numdl) + 1) * 4;  // NUMD is 0's based, in dwords
    const uint64_t offset = (static_cast<uint64_t>(req.cmd.cdw13) << 32) | req.cmd.cdw12;
    const auto invalid_field = spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);
    const auto invalid_log =
        spec::make_status(spec::sct::command_specific, spec::sc_cmd::invalid_log_page, true);
    if (offset & 3) {
        complete(req, invalid_field);
        return;
    }

    const bool disc = c.is_discovery();
    std::vector<uint8_t> image;
    switch (lid) {
    case spec::lid::error:
        image = error_log_image(c);
        break;
    case spec::lid::smart_health: {
        if (disc) break;
        spec::status st = 0;
        image = health_log_image(req, c, &st);
        if (st != 0) {
            complete(req, st);
            return;
        }
        break;
    }
    case spec::lid::firmware_slot:
        if (disc) break;
        image = as_bytes(build_firmware_slot_log(NVMF_VERSION));
        break;
    case spec::lid::changed_ns_list:
        if (disc) break;
        image = as_bytes(
            build_changed_ns_list_log(rae ? c.peek_changed_ns_list() : c.take_changed_ns_list()));
        break;
    case spec::lid::commands_supported_effects:
        if (disc) break;
        image = effects_log_image();
        break;
    case spec::lid::ana:
        if (disc || !c.ana_reporting) break;
        image = ana_log_image(req, c, lsp & spec::ana_lsp::rgo);
        break;
    case spec::lid::reservation_notification:
        if (disc) break;
        image = as_bytes(c.take_resv_notice());
        break;
    case spec::lid::discovery:
        if (!disc) break;
        image = discovery_log_image(req, c);
        break;
    default:
        break;
    }
    if (image.empty()) {
        complete(req, invalid_log);
        return;
    }
    if (!log_offset_valid(image.size(), offset)) {
        complete(req, invalid_field);
        return;
    }

    // A buffer shorter than NUMD gets the prefix; a longer one, zeroes after it.
    std::vector<uint8_t> out(req.length, 0);
    read_log_window(image, offset,
                    std::span<uint8_t>(out).first(std::min<uint64_t>(want, out.size())));
    req.copy_to_buffer(out.data(), out.size());
    if (!rae) c.clear_aen_mask(lid);
    complete_ok(req);
    // Pages still waiting get an event of their own once the host reads one.
    if (!rae && lid == spec::lid::reservation_notification && c.resv_notices_pending() > 0) {
        c.raise_event(spec::aer::type_io, spec::aer::io_reservation_log_available,
                      spec::lid::reservation_notification);
    }
}

}  // namespace nvmf::cmd
