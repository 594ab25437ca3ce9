#include "nvmf/reservation.hpp"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

namespace nvmf {

namespace {

using spec::rtype;

spec::status invalid_field() {
    return spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);
}

resv_outcome fail(spec::status st) {
    resv_outcome o;
    o.status = st;
    return o;
}

// Removes h's registration. A reservation of types 1-4 it held is released;
// one of types 5-6 lasts while a registrant is left (the holder field moves
// to the first one). Returns the type of a reservation this released.
rtype drop(resv_state& s, const host_id& h) {
    auto it = std::find_if(s.regs.begin(), s.regs.end(),
                           [&](const resv_registrant& r) { return r.hostid == h; });
    if (it == s.regs.end()) return rtype::none;
    s.regs.erase(it);
    if (s.type == rtype::none) return rtype::none;
    if (spec::rtype_all_regs(s.type)) {
        if (s.regs.empty()) {
            const rtype was = s.type;
            s.type = rtype::none;
            s.holder = {};
            return was;
        }
        if (s.holder == h) s.holder = s.regs.front().hostid;
        return rtype::none;
    }
    if (s.holder != h) return rtype::none;
    const rtype was = s.type;
    s.type = rtype::none;
    s.holder = {};
    return was;
}

// "Reservation released" goes to the other registrants when a reservation of
// a registrants-only or all-registrants type ends or changes type (types 1
// and 2 concern only their holder).
void notify_released(const resv_state& s, const host_id& me, rtype was, resv_outcome& o) {
    if (was == rtype::write_exclusive || was == rtype::exclusive_access || was == rtype::none) {
        return;
    }
    for (const auto& r : s.regs) {
        if (r.hostid != me)
            o.notices.push_back({r.hostid, spec::resv_notice::reservation_released});
    }
}

// Unregisters every registrant whose key is prkey (except `except`, when
// set), telling each that its registration was preempted. Returns how many.
size_t preempt_key(resv_state& s, const host_id& me, uint64_t prkey, bool keep_me,
                   resv_outcome& o) {
    std::vector<host_id> victims;
    for (const auto& r : s.regs) {
        if (r.rkey == prkey && !(keep_me && r.hostid == me)) victims.push_back(r.hostid);
    }
    for (const auto& h : victims) {
        drop(s, h);
        if (h != me) {
            o.notices.push_back({h, spec::resv_notice::registration_preempted});
            o.preempted.push_back(h);
        }
    }
    return victims.size();
}

bool key_ok(const resv_state& s, const host_id& me, uint64_t crkey) {
    const resv_registrant* r = s.find(me);
    return r != nullptr && r->rkey == crkey;
}

}  // namespace

const resv_registrant* resv_state::find(const host_id& h) const {
    for (const auto& r : regs) {
        if (r.hostid == h) return &r;
    }
    return nullptr;
}

bool resv_state::holds(const host_id& h) const {
    if (type == rtype::none) return false;
    return spec::rtype_all_regs(type) ? registered(h) : holder == h;
}

resv_outcome resv_register(resv_state& s, const host_id& me, uint32_t cdw10,
                           const spec::resv_register_data& d, bool ptpl_capable) {
    const uint8_t rrega = cdw10 & spec::resv::action_mask;
    const bool iekey = cdw10 & spec::resv::iekey;
    const uint8_t cptpl = static_cast<uint8_t>(cdw10 >> spec::resv::cptpl_shift);
    if (cptpl == 1) return fail(invalid_field());  // reserved
    if (cptpl == spec::resv::cptpl_set && !ptpl_capable) return fail(invalid_field());
    const resv_state before = s;
    resv_outcome o;
    resv_registrant* mine = nullptr;
    for (auto& r : s.regs) {
        if (r.hostid == me) mine = &r;
    }
    switch (rrega) {
    case spec::resv::rrega_register:
        // A zero key would make Preempt's "PRKEY 0" ambiguous; SPDK refuses it too.
        if (d.nrkey == 0) return fail(invalid_field());
        if (mine) {
            // Registering again with the same key is not an error.
            if (mine->rkey != d.nrkey) return fail(resv_conflict());
            break;
        }
        if (s.regs.size() >= resv_max_registrants) {
            return fail(
                spec::make_status(spec::sct::generic, spec::sc::internal_device_error, true));
        }
        s.regs.push_back({me, d.nrkey});
        break;
    case spec::resv::rrega_unregister: {
        if (!mine || (!iekey && mine->rkey != d.crkey)) return fail(resv_conflict());
        const rtype was = drop(s, me);
        if (spec::rtype_reg_only(was)) notify_released(s, me, was, o);
        break;
    }
    case spec::resv::rrega_replace:
        if (d.nrkey == 0) return fail(invalid_field());
        if (mine) {
            if (!iekey && mine->rkey != d.crkey) return fail(resv_conflict());
            mine->rkey = d.nrkey;
        } else if (iekey) {
            if (s.regs.size() >= resv_max_registrants) {
                return fail(
                    spec::make_status(spec::sct::generic, spec::sc::internal_device_error, true));
            }
            s.regs.push_back({me, d.nrkey});
        } else {
            return fail(resv_conflict());
        }
        break;
    default:
        return fail(invalid_field());
    }
    if (cptpl == spec::resv::cptpl_clear) s.ptpl = false;
    if (cptpl == spec::resv::cptpl_set) s.ptpl = true;
    ++s.generation;
    o.changed = !(s == before);
    return o;
}

resv_outcome resv_acquire(resv_state& s, const host_id& me, uint32_t cdw10,
                          const spec::resv_acquire_data& d) {
    const uint8_t racqa = cdw10 & spec::resv::action_mask;
    const uint8_t t = static_cast<uint8_t>((cdw10 & spec::resv::rtype_mask) >> 8);
    // RESCAP IEK_13: IEKEY is for Register only.
    if ((cdw10 & spec::resv::iekey) || !spec::rtype_valid(t) ||
        racqa > spec::resv::racqa_preempt_abort) {
        return fail(invalid_field());
    }
    if (!key_ok(s, me, d.crkey)) return fail(resv_conflict());
    const rtype want = static_cast<rtype>(t);
    const resv_state before = s;
    resv_outcome o;
    if (racqa == spec::resv::racqa_acquire) {
        if (s.type != rtype::none) {
            // Acquiring what one holds already is a no-op; anything else conflicts.
            if (s.holds(me) && s.type == want) return o;
            return fail(resv_conflict());
        }
        s.type = want;
        s.holder = me;
        o.changed = true;
        return o;
    }
    // Preempt, Preempt and Abort.
    if (s.type == rtype::none) {
        if (preempt_key(s, me, d.prkey, false, o) == 0) return fail(resv_conflict());
    } else if (spec::rtype_all_regs(s.type)) {
        if (d.prkey == 0) {
            // Everyone else goes; a new reservation is ours.
            std::vector<host_id> others;
            for (const auto& r : s.regs) {
                if (r.hostid != me) others.push_back(r.hostid);
            }
            s.type = want;
            s.holder = me;
            for (const auto& h : others) {
                drop(s, h);
                o.notices.push_back({h, spec::resv_notice::registration_preempted});
                o.preempted.push_back(h);
            }
        } else if (preempt_key(s, me, d.prkey, false, o) == 0) {
            return fail(resv_conflict());
        }
    } else if (s.holder == me) {
        const rtype was = s.type;
        s.type = want;
        if (was != want) notify_released(s, me, was, o);
    } else if (const resv_registrant* h = s.find(s.holder); h && d.prkey == h->rkey) {
        const rtype was = s.type;
        s.type = want;
        s.holder = me;  // before the old holder goes, so drop() does not end it
        preempt_key(s, me, d.prkey, true, o);
        if (was != want) notify_released(s, me, was, o);
    } else if (d.prkey != 0) {
        if (preempt_key(s, me, d.prkey, false, o) == 0) return fail(resv_conflict());
    } else {
        return fail(invalid_field());
    }
    ++s.generation;
    o.changed = !(s == before);
    return o;
}

resv_outcome resv_release(resv_state& s, const host_id& me, uint32_t cdw10,
                          const spec::resv_release_data& d) {
    const uint8_t rrela = cdw10 & spec::resv::action_mask;
    const uint8_t t = static_cast<uint8_t>((cdw10 & spec::resv::rtype_mask) >> 8);
    if ((cdw10 & spec::resv::iekey) || rrela > spec::resv::rrela_clear) {
        return fail(invalid_field());
    }
    if (!key_ok(s, me, d.crkey)) return fail(resv_conflict());
    resv_outcome o;
    if (rrela == spec::resv::rrela_clear) {
        for (const auto& r : s.regs) {
            if (r.hostid != me) {
                o.notices.push_back({r.hostid, spec::resv_notice::reservation_preempted});
            }
        }
        s.regs.clear();
        s.type = rtype::none;
        s.holder = {};
        ++s.generation;
        o.changed = true;
        return o;
    }
    // Releasing with no reservation, or one held by another host, does nothing.
    if (!s.holds(me)) return o;
    if (t != static_cast<uint8_t>(s.type)) return fail(invalid_field());
    const rtype was = s.type;
    s.type = rtype::none;
    s.holder = {};
    notify_released(s, me, was, o);
    o.changed = true;
    return o;
}

spec::status resv_access(const resv_state& s, const host_id& me, uint8_t opc) {
    if (s.type == rtype::none || s.holds(me)) return 0;
    bool read_group = false;
    switch (opc) {
    case spec::io_opc::read:
    case spec::io_opc::compare:
    case spec::io_opc::verify:
        read_group = true;
        break;
    case spec::io_opc::write:
    case spec::io_opc::write_uncorrectable:
    case spec::io_opc::write_zeroes:
    case spec::io_opc::dataset_management:
    case spec::io_opc::flush:
        break;
    default:
        return 0;
    }
    switch (s.type) {
    case rtype::write_exclusive:
        return read_group ? 0 : resv_conflict();
    case rtype::exclusive_access:
        return resv_conflict();
    case rtype::write_exclusive_reg_only:
    case rtype::write_exclusive_all_regs:
        return read_group || s.registered(me) ? 0 : resv_conflict();
    case rtype::exclusive_access_reg_only:
    case rtype::exclusive_access_all_regs:
        return s.registered(me) ? 0 : resv_conflict();
    default:
        return 0;
    }
}

std::vector<uint8_t> build_resv_report(const resv_state& s, bool eds) {
    spec::resv_status_header h{};
    h.gen = s.generation;
    h.rtype = static_cast<uint8_t>(s.type);
    h.regctl = static_cast<uint16_t>(s.regs.size());
    h.ptpls = s.ptpl ? 1 : 0;
    const size_t head = eds ? spec::resv_status_ext_header_size : sizeof(h);
    const size_t entry = eds ? sizeof(spec::registered_ctrlr_ext) : sizeof(spec::registered_ctrlr);
    std::vector<uint8_t> out(head + entry * s.regs.size(), 0);
    std::memcpy(out.data(), &h, sizeof(h));
    size_t pos = head;
    for (const auto& r : s.regs) {
        const uint8_t rcsts = s.holds(r.hostid) ? 1 : 0;
        if (eds) {
            spec::registered_ctrlr_ext e{};
            e.cntlid = 0xffff;
            e.rcsts = rcsts;
            e.rkey = r.rkey;
            std::memcpy(e.hostid, r.hostid.data(), sizeof(e.hostid));
            std::memcpy(out.data() + pos, &e, sizeof(e));
        } else {
            spec::registered_ctrlr e{};
            e.cntlid = 0xffff;
            e.rcsts = rcsts;
            e.rkey = r.rkey;
            std::memcpy(e.hostid, r.hostid.data(), sizeof(e.hostid));
            std::memcpy(out.data() + pos, &e, sizeof(e));
        }
        pos += entry;
    }
    return out;
}

std::string host_id_to_string(const host_id& h) { return bdev::uuid_to_string(h); }

std::string resv_to_ptpl_json(const resv_state& s, const bdev::uuid_t& bdev_uuid) {
    nlohmann::ordered_json j;
    j["ptpl"] = s.ptpl;
    j["rtype"] = static_cast<unsigned>(s.type);
    const resv_registrant* holder = s.type == rtype::none ? nullptr : s.find(s.holder);
    j["crkey"] = holder ? holder->rkey : 0;
    j["bdev_uuid"] = bdev::uuid_to_string(bdev_uuid);
    if (holder) j["holder_uuid"] = host_id_to_string(holder->hostid);
    auto regs = nlohmann::ordered_json::array();
    for (const auto& r : s.regs) {
        regs.push_back({{"rkey", r.rkey}, {"host_uuid", host_id_to_string(r.hostid)}});
    }
    j["registrants"] = std::move(regs);
    return j.dump(2) + "\n";
}

result<resv_state> resv_from_ptpl_json(std::string_view text, const bdev::uuid_t& bdev_uuid) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return resv_state{};
    const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded()) return make_error(-EINVAL, "not valid JSON (truncated or corrupt)");
    if (!j.is_object()) return make_error(-EINVAL, "not a JSON object");
    for (const auto& [k, _] : j.items()) {
        if (k != "ptpl" && k != "rtype" && k != "crkey" && k != "bdev_uuid" && k != "holder_uuid" &&
            k != "registrants") {
            return make_error(-EINVAL, "unknown key '" + k + "'");
        }
    }
    auto uuid_of = [](const nlohmann::json& v, bdev::uuid_t* out) {
        return v.is_string() && bdev::uuid_from_string(v.get<std::string>(), out);
    };
    resv_state s;
    if (j.contains("ptpl")) {
        if (!j["ptpl"].is_boolean()) return make_error(-EINVAL, "'ptpl' is not a boolean");
        s.ptpl = j["ptpl"].get<bool>();
    }
    uint64_t t = 0, crkey = 0;
    if (j.contains("rtype")) {
        if (!j["rtype"].is_number_unsigned() || (t = j["rtype"].get<uint64_t>()) > 6) {
            return make_error(-EINVAL, "'rtype' is not a reservation type (0-6)");
        }
    }
    if (j.contains("crkey")) {
        if (!j["crkey"].is_number_unsigned()) {
            return make_error(-EINVAL, "'crkey' is not an unsigned 64-bit number");
        }
        crkey = j["crkey"].get<uint64_t>();
    }
    bdev::uuid_t file_bdev{};
    if (!j.contains("bdev_uuid") || !uuid_of(j["bdev_uuid"], &file_bdev)) {
        return make_error(-EINVAL, "'bdev_uuid' is missing or not a UUID");
    }
    if (file_bdev != bdev_uuid) {
        return make_error(-EINVAL, "it belongs to bdev UUID " + bdev::uuid_to_string(file_bdev) +
                                       ", this namespace's bdev is " +
                                       bdev::uuid_to_string(bdev_uuid));
    }
    if (!j.contains("registrants") || !j["registrants"].is_array()) {
        return make_error(-EINVAL, "'registrants' is missing or not an array");
    }
    const auto& regs = j["registrants"];
    if (regs.size() > resv_max_registrants) {
        return make_error(-ERANGE,
                          "more than " + std::to_string(resv_max_registrants) + " registrants");
    }
    for (const auto& r : regs) {
        if (!r.is_object() || r.size() != 2 || !r.contains("rkey") ||
            !r["rkey"].is_number_unsigned() || !r.contains("host_uuid")) {
            return make_error(-EINVAL, "a registrant is not {\"rkey\": N, \"host_uuid\": \"...\"}");
        }
        resv_registrant reg;
        if (!uuid_of(r["host_uuid"], &reg.hostid)) {
            return make_error(-EINVAL, "a registrant's host_uuid is not a UUID");
        }
        reg.rkey = r["rkey"].get<uint64_t>();
        if (s.registered(reg.hostid)) {
            return make_error(-EINVAL,
                              "host " + host_id_to_string(reg.hostid) + " is registered twice");
        }
        s.regs.push_back(reg);
    }
    if (t != 0) {
        s.type = static_cast<rtype>(t);
        host_id holder{};
        const bool has_holder = j.contains("holder_uuid");
        if (has_holder && !uuid_of(j["holder_uuid"], &holder)) {
            return make_error(-EINVAL, "'holder_uuid' is not a UUID");
        }
        if (s.regs.empty()) return make_error(-EINVAL, "a reservation without registrants");
        if (has_holder) {
            const resv_registrant* h = s.find(holder);
            if (!h) return make_error(-EINVAL, "the holder is not a registrant");
            if (h->rkey != crkey) return make_error(-EINVAL, "'crkey' is not the holder's key");
            s.holder = holder;
        } else if (spec::rtype_all_regs(s.type)) {
            s.holder = s.regs.front().hostid;
        } else {
            return make_error(
                -EINVAL, "a reservation of type " + std::to_string(t) + " without 'holder_uuid'");
        }
    }
    // As SPDK: without PTPL the file holds no state worth restoring.
    if (!s.ptpl) return resv_state{};
    return s;
}

}  // namespace nvmf
