// Get Features / Set Features. Nothing is saveable: SEL "saved" answers the
// default, SV=1 is refused. Discovery controllers have only the Keep Alive
// Timer and Asynchronous Event Configuration features.
#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "nvme/spec/nvme.hpp"
#include "nvme/spec/reservation.hpp"
#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/subsystem.hpp"

namespace nvmf::cmd {

namespace {

// cdw10 fields.
constexpr uint32_t fid_mask = 0xff;
constexpr uint32_t sel_shift = 8, sel_mask = 0x7;
constexpr uint32_t save_bit = 1u << 31;
enum class sel : uint8_t { current = 0, default_value = 1, saved = 2, supported_capabilities = 3 };
// Supported capabilities (SEL 3) in cdw0.
constexpr uint32_t cap_ns_specific = 1u << 1;
constexpr uint32_t cap_changeable = 1u << 2;
constexpr uint32_t all_namespaces = 0xffffffffu;

// Temperature Threshold cdw11.
constexpr uint32_t tmpsel_shift = 16, tmpsel_mask = 0xf;
constexpr uint32_t thsel_shift = 20, thsel_mask = 0x3;
constexpr uint32_t tmpsel_composite = 0, tmpsel_all = 0xf;
constexpr uint32_t thsel_over = 0, thsel_under = 1;

constexpr uint32_t error_recovery_dulbe = 1u << 16;
constexpr uint32_t power_state_mask = 0x1f;
constexpr uint32_t exhid = 1u << 0;
constexpr uint32_t kato_granularity_ms = 100;  // Identify KAS = 1

// KATO is rounded up to the KAS granularity Identify reports; 0 stays 0 (disabled).
uint32_t round_up_kato(uint32_t ms) {
    const uint64_t up = (uint64_t{ms} + kato_granularity_ms - 1) / kato_granularity_ms;
    return static_cast<uint32_t>(std::min<uint64_t>(
        up * kato_granularity_ms, 0xffffffffu / kato_granularity_ms * kato_granularity_ms));
}

spec::status invalid_field() {
    return spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);
}

spec::status invalid_ns() {
    return spec::make_status(spec::sct::generic, spec::sc::invalid_namespace_or_format, true);
}

// The active namespace a namespace-specific feature names (null: none).
std::shared_ptr<ns> feature_ns(request& req, const controller& c) {
    return c.subsys->ns_for(*req.qp).find(req.cmd.nsid);
}

bool vwc_present(request& req, const controller& c) {
    const ns_table& table = c.subsys->ns_for(*req.qp);
    return std::any_of(table.slots.begin(), table.slots.end(),
                       [](const auto& n) { return n && n->dev->volatile_write_cache(); });
}

uint32_t supported_aec(const controller& c) {
    // SMART critical warning bits are accepted although no SMART event is
    // ever raised; hosts commonly set them.
    if (c.is_discovery()) return spec::aer::cfg_discovery_log_change_notice;
    // ANA change notices exist only where Identify OAES reports them.
    return 0xffu | spec::aer::cfg_ns_attr_notice |
           (c.ana_reporting ? spec::aer::cfg_ana_change_notice : 0u);
}

bool allowed_on_discovery(uint8_t fid) {
    return fid == spec::feat::keep_alive_timer || fid == spec::feat::async_event_configuration;
}

uint32_t default_number_of_queues(const controller& c) {
    const uint32_t n = c.limits.max_io_qpairs ? c.limits.max_io_qpairs - 1u : 0u;
    return (n << 16) | n;
}

// Answers a Get for fid with the selected value. false: not a feature we have.
bool feature_value(request& req, controller& c, uint8_t fid, sel s, uint32_t* value,
                   spec::status* st) {
    const feature_values defaults;
    const feature_values& cur = s == sel::current ? c.features : defaults;
    *st = 0;
    switch (fid) {
    case spec::feat::arbitration:
        *value = cur.arbitration;
        return true;
    case spec::feat::power_management:
        *value = cur.power_management;
        return true;
    case spec::feat::temperature_threshold: {
        const uint32_t tmpsel = (req.cmd.cdw11 >> tmpsel_shift) & tmpsel_mask;
        const uint32_t thsel = (req.cmd.cdw11 >> thsel_shift) & thsel_mask;
        if (tmpsel != tmpsel_composite || (thsel != thsel_over && thsel != thsel_under)) {
            *st = invalid_field();
            return true;
        }
        *value = thsel == thsel_over ? cur.temperature_threshold : cur.under_temperature_threshold;
        return true;
    }
    case spec::feat::error_recovery:
        *value = cur.error_recovery;
        return true;
    case spec::feat::volatile_write_cache:
        // Without a cache there is nothing to enable (WCE reads 0).
        *value = vwc_present(req, c) && (s != sel::current ||
                                         c.write_cache_enabled.load(std::memory_order_relaxed))
                     ? 1
                     : 0;
        return true;
    case spec::feat::number_of_queues:
        *value = s == sel::current ? c.features.number_of_queues : default_number_of_queues(c);
        return true;
    case spec::feat::async_event_configuration:
        *value = cur.async_event_config;
        return true;
    case spec::feat::keep_alive_timer:
        // The default is what Connect asked for; it is not kept apart.
        *value = c.kato_ms;
        return true;
    case spec::feat::host_identifier:
        if (!(req.cmd.cdw11 & exhid)) {
            *st = invalid_field();  // fabrics host identifiers are 128-bit
            return true;
        }
        *value = 0;
        return true;
    case spec::feat::reservation_notification_mask:
    case spec::feat::reservation_persistence: {
        const auto n = feature_ns(req, c);
        if (!n) {
            *st = invalid_ns();
            return true;
        }
        if (s != sel::current) {
            *value = 0;
        } else if (fid == spec::feat::reservation_notification_mask) {
            *value = c.resv_notice_mask(n->nsid);
        } else {
            std::lock_guard lk(n->resv->mtx);
            *value = n->resv->state.ptpl ? spec::feat_ptpl : 0;
        }
        return true;
    }
    default:
        return false;
    }
}

uint32_t capabilities(request& req, const controller& c, uint8_t fid) {
    switch (fid) {
    case spec::feat::host_identifier:
        return 0;  // set by Connect
    case spec::feat::volatile_write_cache:
        return vwc_present(req, c) ? cap_changeable : 0;
    case spec::feat::reservation_notification_mask:
    case spec::feat::reservation_persistence:
        return cap_changeable | cap_ns_specific;
    default:
        return cap_changeable;
    }
}

}  // namespace

void get_features(request& req) {
    controller& c = *req.qp->ctrlr;
    const auto fid = static_cast<uint8_t>(req.cmd.cdw10 & fid_mask);
    const auto s = static_cast<sel>((req.cmd.cdw10 >> sel_shift) & sel_mask);
    if (c.is_discovery() && !allowed_on_discovery(fid)) {
        complete(req, invalid_field());
        return;
    }
    if (s > sel::supported_capabilities) {
        complete(req, invalid_field());
        return;
    }
    uint32_t value = 0;
    spec::status st = 0;
    // Nothing is saveable, so the saved value is the default.
    const sel which = s == sel::saved ? sel::default_value : s;
    if (!feature_value(req, c, fid, which == sel::supported_capabilities ? sel::current : which,
                       &value, &st)) {
        complete(req, invalid_field());
        return;
    }
    if (st != 0) {
        complete(req, st);
        return;
    }
    if (s == sel::supported_capabilities) {
        req.rsp.cdw0 = capabilities(req, c, fid);
        complete_ok(req);
        return;
    }
    req.rsp.cdw0 = value;
    if (fid == spec::feat::host_identifier) {
        if (req.length > c.hostid.size()) req.zero_buffer();
        req.copy_to_buffer(c.hostid.data(), std::min<size_t>(c.hostid.size(), req.length));
    }
    complete_ok(req);
}

void set_features(request& req) {
    controller& c = *req.qp->ctrlr;
    const uint32_t cdw10 = req.cmd.cdw10;
    const uint32_t cdw11 = req.cmd.cdw11;
    const auto fid = static_cast<uint8_t>(cdw10 & fid_mask);
    if (c.is_discovery() && !allowed_on_discovery(fid)) {
        complete(req, invalid_field());
        return;
    }
    if (cdw10 & save_bit) {
        complete(req, spec::make_status(spec::sct::command_specific,
                                        spec::sc_cmd::feature_id_not_saveable, true));
        return;
    }
    feature_values& f = c.features;
    switch (fid) {
    case spec::feat::arbitration:
        f.arbitration = cdw11;
        break;
    case spec::feat::power_management:
        if ((cdw11 & power_state_mask) != 0) {  // only power state 0 exists
            complete(req, invalid_field());
            return;
        }
        f.power_management = cdw11 & 0xff;
        break;
    case spec::feat::temperature_threshold: {
        const uint32_t tmpsel = (cdw11 >> tmpsel_shift) & tmpsel_mask;
        const uint32_t thsel = (cdw11 >> thsel_shift) & thsel_mask;
        if ((tmpsel != tmpsel_composite && tmpsel != tmpsel_all) ||
            (thsel != thsel_over && thsel != thsel_under)) {
            complete(req, invalid_field());
            return;
        }
        const auto tmpth = static_cast<uint16_t>(cdw11 & 0xffff);
        (thsel == thsel_over ? f.temperature_threshold : f.under_temperature_threshold) = tmpth;
        break;
    }
    case spec::feat::error_recovery:
        if (cdw11 & error_recovery_dulbe) {  // not advertised in Identify Namespace
            complete(req, invalid_field());
            return;
        }
        f.error_recovery = cdw11 & 0xffff;
        break;
    case spec::feat::volatile_write_cache:
        if (!vwc_present(req, c)) {
            complete(req, invalid_field());
            return;
        }
        c.write_cache_enabled.store((cdw11 & 1) != 0, std::memory_order_relaxed);
        break;
    case spec::feat::number_of_queues: {
        const uint32_t nsqr = cdw11 & 0xffff;
        const uint32_t ncqr = cdw11 >> 16;
        if (nsqr == 0xffff || ncqr == 0xffff) {
            complete(req, invalid_field());
            return;
        }
        if (c.io_qpair_count() > 0) {
            complete(req,
                     spec::make_status(spec::sct::generic, spec::sc::command_sequence_error, true));
            return;
        }
        const uint32_t max = c.limits.max_io_qpairs ? c.limits.max_io_qpairs : 1u;
        const uint32_t nsqa = std::min(nsqr + 1, max) - 1;
        const uint32_t ncqa = std::min(ncqr + 1, max) - 1;
        f.number_of_queues = (ncqa << 16) | nsqa;
        req.rsp.cdw0 = f.number_of_queues;
        break;
    }
    case spec::feat::async_event_configuration:
        f.async_event_config = cdw11 & supported_aec(c);
        break;
    case spec::feat::keep_alive_timer:
        c.kato_ms = round_up_kato(cdw11);
        c.start_keep_alive_timer();
        break;
    case spec::feat::host_identifier:
        // A fabrics host identifier comes with Connect and cannot change.
        complete(req,
                 spec::make_status(spec::sct::generic, spec::sc::command_sequence_error, true));
        return;
    case spec::feat::reservation_notification_mask:
        if (cdw11 & ~spec::resv_notice::mask_all) {
            complete(req, invalid_field());
            return;
        }
        if (req.cmd.nsid != all_namespaces && !feature_ns(req, c)) {
            complete(req, invalid_ns());
            return;
        }
        c.set_resv_notice_mask(req.cmd.nsid, cdw11);
        break;
    case spec::feat::reservation_persistence: {
        const bool ptpl = cdw11 & spec::feat_ptpl;
        std::vector<std::shared_ptr<ns>> targets;
        if (req.cmd.nsid == all_namespaces) {
            for (const auto& n : c.subsys->ns_for(*req.qp).slots) {
                if (n && (!ptpl || !n->resv->ptpl_file.empty())) targets.push_back(n);
            }
        } else if (auto n = feature_ns(req, c)) {
            // PTPL needs somewhere to persist to (RESCAP PTPL is clear).
            if (ptpl && n->resv->ptpl_file.empty()) {
                complete(req, invalid_field());
                return;
            }
            targets.push_back(std::move(n));
        } else {
            complete(req, invalid_ns());
            return;
        }
        for (const auto& n : targets) {
            if (const spec::status st = resv_set_ptpl(c, n, ptpl); st != 0) {
                complete(req, st);
                return;
            }
        }
        break;
    }
    default:
        complete(req, invalid_field());
        return;
    }
    complete_ok(req);
}

}  // namespace nvmf::cmd
