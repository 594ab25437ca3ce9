// Identify (CNS 00h namespace, 01h controller, 02h active NSID list, 03h
// namespace identification descriptors, 06h the NVM Command Set's controller
// data). The data comes from the pure
// builders in identify_builder.cpp; this file only gathers their inputs.
#include "nvme/spec/identify.hpp"

#include <algorithm>
#include <vector>

#include "nvme/spec/nvme.hpp"
#include "nvmf/cmd/handlers.hpp"
#include "nvmf/cmd/identify_builder.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/subsystem.hpp"

#ifndef NVMF_VERSION
#define NVMF_VERSION "0.0.0"
#endif

namespace nvmf::cmd {

namespace {

constexpr uint32_t nsid_broadcast = 0xffffffffu;

spec::status invalid_field() {
    return spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);
}
spec::status invalid_namespace() {
    return spec::make_status(spec::sct::generic, spec::sc::invalid_namespace_or_format, true);
}

// Sends size bytes of data, truncated to the command's buffer; a longer
// buffer gets zeroes after the data.
void reply(request& req, const void* data, size_t size) {
    if (req.length > size) req.zero_buffer();
    req.copy_to_buffer(data, std::min<size_t>(size, req.length));
    complete_ok(req);
}

identify_ns_input ns_input(const ns& n, bool ana_reporting) {
    identify_ns_input in;
    in.num_blocks = n.dev->num_blocks();
    in.block_size = n.dev->block_size();
    in.shared = true;
    const bool unmap = n.dev->supports(bdev::io_type::unmap);
    in.deallocated_reads_zero = unmap;
    in.write_zeroes_deallocates = unmap && n.dev->supports(bdev::io_type::write_zeroes);
    in.anagrpid = ana_reporting ? n.anagrpid : 0;
    in.nguid = n.nguid.data();
    in.eui64 = n.has_eui64 ? n.eui64.data() : nullptr;
    in.uuid = n.uuid.data();
    in.ids_never_reused = n.ids_never_reused;
    in.ptpl_capable = !n.resv->ptpl_file.empty();
    return in;
}

void identify_ctrlr_cmd(request& req, controller& c) {
    const subsystem& s = *c.subsys;
    const subsystem_params p = s.params();
    const ns_table& table = s.ns_for(*req.qp);
    bool vwc = false;
    for (const auto& n : table.slots) vwc = vwc || (n && n->dev->volatile_write_cache());

    identify_ctrlr_input in;
    in.serial_number = p.serial_number;
    in.model_number = p.model_number;
    in.firmware_revision = NVMF_VERSION;
    in.subnqn = s.nqn;
    in.cntlid = c.cntlid;
    in.ver = c.vs;
    in.discovery = c.is_discovery();
    in.max_io_size = c.limits.max_io_size;
    in.in_capsule_data_size = c.limits.in_capsule_data_size;
    in.max_queue_depth = c.limits.max_queue_depth;
    in.sgls = c.limits.sgls;
    in.max_namespaces = table.max_nsid();
    in.volatile_write_cache = vwc;
    in.aer_limit = static_cast<uint8_t>(aer_limit);
    in.error_log_entries = static_cast<uint8_t>(error_log_entries);
    in.kas = 1;
    in.ana_reporting = c.ana_reporting;
    in.anagrpmax = table.max_nsid();
    const spec::identify_ctrlr id = build_identify_ctrlr(in);
    reply(req, &id, sizeof(id));
}

void identify_ns_cmd(request& req, controller& c) {
    const uint32_t nsid = req.cmd.nsid;
    const ns_table& table = c.subsys->ns_for(*req.qp);
    // No Namespace Management, so the broadcast NSID has nothing to describe.
    if (nsid == 0 || nsid == nsid_broadcast || nsid > table.max_nsid()) {
        complete(req, invalid_namespace());
        return;
    }
    const auto& n = table.find(nsid);
    if (!n) {
        // An allocated-but-inactive NSID reads as zeroes.
        const spec::identify_ns zero{};
        reply(req, &zero, sizeof(zero));
        return;
    }
    const spec::identify_ns id = build_identify_ns(ns_input(*n, c.ana_reporting));
    reply(req, &id, sizeof(id));
}

void active_ns_list_cmd(request& req, controller& c) {
    const uint32_t after = req.cmd.nsid;
    if (after >= 0xfffffffeu) {
        complete(req, invalid_namespace());
        return;
    }
    const ns_table& table = c.subsys->ns_for(*req.qp);
    std::vector<uint32_t> active;
    for (const auto& n : table.slots) {
        if (n) active.push_back(n->nsid);
    }
    std::sort(active.begin(), active.end());
    const spec::ns_list list = build_active_ns_list(active, after);
    reply(req, &list, sizeof(list));
}

void ns_descriptors_cmd(request& req, controller& c) {
    const ns_table& table = c.subsys->ns_for(*req.qp);
    const auto& n = table.find(req.cmd.nsid);
    if (!n) {
        complete(req, invalid_namespace());
        return;
    }
    const auto list = build_ns_id_descriptors(ns_input(*n, c.ana_reporting));
    reply(req, list.data(), list.size());
}

// Hosts ask for it whatever VS says (spdk_nvme_identify does); the NVM
// Command Set is the only one we have. Its limits are the subsystem's
// (nvmf_create_subsystem dmrsl, wzsl, as SPDK reports them).
void io_command_set_ctrlr_cmd(request& req, controller& c) {
    const auto csi = static_cast<uint8_t>(req.cmd.cdw11 >> 24);
    if (csi != spec::csi_nvm) {
        complete(req, invalid_field());
        return;
    }
    const auto p = c.subsys->params();
    spec::identify_ctrlr_nvm id{};
    id.wzsl = p.wzsl;
    id.dmrsl = p.dmrsl;
    reply(req, &id, sizeof(id));
}

}  // namespace

void identify(request& req) {
    controller& c = *req.qp->ctrlr;
    const auto cns = static_cast<uint8_t>(req.cmd.cdw10 & 0xff);
    if (c.is_discovery() && cns != spec::cns::ctrlr) {
        complete(req, invalid_field());
        return;
    }
    switch (cns) {
    case spec::cns::ns:
        identify_ns_cmd(req, c);
        return;
    case spec::cns::ctrlr:
        identify_ctrlr_cmd(req, c);
        return;
    case spec::cns::active_ns_list:
        active_ns_list_cmd(req, c);
        return;
    case spec::cns::ns_id_descriptor_list:
        ns_descriptors_cmd(req, c);
        return;
    case spec::cns::io_command_set_ctrlr:
        io_command_set_ctrlr_cmd(req, c);
        return;
    default:
        complete(req, invalid_field());
        return;
    }
}

}  // namespace nvmf::cmd
