// Asynchronous events, the Changed Namespace List and the Error Information
// log of a controller. Everything here runs on the controller's admin
// reactor, so none of it locks.
#include <algorithm>

#include "nvme/spec/log.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/request.hpp"

namespace nvmf {

namespace {
// Whether the Asynchronous Event Configuration lets this event through.
// Error and I/O command set events cannot be masked by the feature.
bool event_enabled(uint32_t config, uint8_t type, uint8_t info) {
    switch (type) {
    case spec::aer::type_smart:
        return (config & 0xffu) != 0;  // bits 7:0: SMART critical warnings
    case spec::aer::type_notice:
        switch (info) {
        case spec::aer::notice_ns_attr_changed:
            return config & spec::aer::cfg_ns_attr_notice;
        case spec::aer::notice_fw_activation_starting:
            return config & spec::aer::cfg_fw_activation_notice;
        case spec::aer::notice_ana_change:
            return config & spec::aer::cfg_ana_change_notice;
        case spec::aer::notice_discovery_log_changed:
            return config & spec::aer::cfg_discovery_log_change_notice;
        default:
            return false;
        }
    default:
        return true;
    }
}
}  // namespace

spec::status controller::queue_aer(request& req) {
    if (!pending_events_.empty()) {
        req.rsp.cdw0 = pending_events_.front();
        pending_events_.pop_front();
        complete_ok(req);
        return 0;
    }
    if (aers_.size() >= static_cast<size_t>(aer_limit)) {
        return spec::make_status(spec::sct::command_specific,
                                 spec::sc_cmd::async_event_request_limit_exceeded, true);
    }
    aers_.push_back(&req);
    return 0;
}

void controller::raise_event(uint8_t type, uint8_t info, uint8_t log_page) {
    if (!event_enabled(features.async_event_config, type, info)) return;
    // One report per log page until the host reads it: a burst of changes
    // becomes one event.
    if (aen_masked_.test(log_page)) return;
    aen_masked_.set(log_page);
    const uint32_t cdw0 = spec::aer::make_cdw0(type, info, log_page);
    if (aers_.empty()) {
        pending_events_.push_back(cdw0);
        return;
    }
    request* r = aers_.front();
    aers_.erase(aers_.begin());
    r->rsp.cdw0 = cdw0;
    complete_ok(*r);
}

void controller::clear_aen_mask(uint8_t log_page) { aen_masked_.reset(log_page); }

bool controller::abort_aer(uint16_t cid) {
    auto it =
        std::find_if(aers_.begin(), aers_.end(), [cid](request* r) { return r->cmd.cid == cid; });
    if (it == aers_.end()) return false;
    request* r = *it;
    aers_.erase(it);
    complete(*r, spec::make_status(spec::sct::generic, spec::sc::aborted_by_request));
    return true;
}

void controller::note_ns_changed(uint32_t nsid) {
    if (!changed_ns_overflow_ && nsid != 0) {
        auto it = std::lower_bound(changed_ns_.begin(), changed_ns_.end(), nsid);
        if (it == changed_ns_.end() || *it != nsid) {
            if (changed_ns_.size() >= changed_ns_list_max) {
                changed_ns_overflow_ = true;
                changed_ns_.clear();
            } else {
                changed_ns_.insert(it, nsid);
            }
        }
    }
    raise_event(spec::aer::type_notice, spec::aer::notice_ns_attr_changed,
                spec::lid::changed_ns_list);
}

std::vector<uint32_t> controller::peek_changed_ns_list() const {
    if (changed_ns_overflow_) return {spec::changed_ns_overflow};
    return changed_ns_;
}

std::vector<uint32_t> controller::take_changed_ns_list() {
    std::vector<uint32_t> out = peek_changed_ns_list();
    changed_ns_.clear();
    changed_ns_overflow_ = false;
    return out;
}

void controller::add_resv_notice(uint8_t type, uint32_t nsid) {
    if (resv_notice_mask(nsid) & spec::resv_notice::mask_of(type)) return;
    // The count is never 0 once a page exists (it wraps to 1).
    if (++resv_log_count_ == 0) resv_log_count_ = 1;
    if (resv_log_.size() >= 255) return;  // lost: the next page's count shows the gap
    spec::resv_notification_log e{};
    e.log_page_count = resv_log_count_;
    e.type = type;
    e.nsid = nsid;
    resv_log_.push_back(e);
    raise_event(spec::aer::type_io, spec::aer::io_reservation_log_available,
                spec::lid::reservation_notification);
}

spec::resv_notification_log controller::take_resv_notice() {
    spec::resv_notification_log e{};
    if (resv_log_.empty()) return e;
    e = resv_log_.front();
    resv_log_.pop_front();
    e.num_avail = static_cast<uint8_t>(resv_log_.size());
    return e;
}

uint32_t controller::resv_notice_mask(uint32_t nsid) const {
    auto it = resv_masks_.find(nsid);
    return it == resv_masks_.end() ? resv_mask_all_ : it->second;
}

void controller::set_resv_notice_mask(uint32_t nsid, uint32_t mask) {
    if (nsid == 0xffffffffu) {
        resv_masks_.clear();
        resv_mask_all_ = mask;
        return;
    }
    resv_masks_[nsid] = mask;
}

void controller::record_error(error_entry e) {
    e.error_count = ++error_count;
    errors_.push_front(e);
    while (errors_.size() > error_log_entries) errors_.pop_back();
}

std::vector<controller::error_entry> controller::error_log() const {
    return {errors_.begin(), errors_.end()};
}

}  // namespace nvmf
