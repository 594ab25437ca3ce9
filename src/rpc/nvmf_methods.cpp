// nvmf_* methods: transports, subsystems, listeners, namespaces, hosts,
// controllers and queue pairs.
#include <strings.h>

#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "keyring/tls_psk.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/stats.hpp"
#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"
#include "transport/transport.hpp"

namespace nvmf::rpc {

namespace {

constexpr uint32_t ns_limit = 1024;  // the most namespaces the core allows per subsystem

result<std::shared_ptr<subsystem>> lookup(context& ctx, const std::string& nqn) {
    auto s = ctx.tgt.find_subsystem(nqn);
    if (!s) return invalid_params("Unable to find subsystem with NQN " + nqn);
    return s;
}

// Reads {"nqn": ..., "tgt_name": ...}: the parameters every subsystem method has.
void nqn_param(params& p, std::string& nqn) {
    p.str("nqn", nqn, true, spec::nqn_max_len);
    p.ignore("tgt_name");  // one target per process
}

result<transport_id> read_trid(const json& j) {
    params p(j, false);
    transport_id t;
    std::string adrfam;
    p.str("trtype", t.trtype, true, 16);
    if (p.str("adrfam", adrfam, false, 16)) t.adrfam = adrfam;
    p.str("traddr", t.traddr, true, 256);
    p.str("trsvcid", t.trsvcid, false, 32);
    if (auto r = p.finish(); !r) return invalid_params("listen_address: " + r.err().message);
    auto n = normalize_trid(t);
    if (!n) return invalid_params("listen_address: " + n.err().message);
    return *n;
}

// Reads an "ana_state" parameter (SPDK's names, plus persistent_loss and change).
void ana_state_param(params& p, ana_state& out, bool required) {
    std::string name;
    if (!p.str("ana_state", name, required, 32)) return;
    if (auto st = ana_state_from_string(name)) {
        out = *st;
    } else {
        p.fail(
            "parameter 'ana_state' must be optimized, non_optimized, inaccessible, "
            "persistent_loss or change, got '" +
            name + "'");
    }
}

// nvmf_subsystem_add_listener / _remove_listener: the address, and for adding
// the listener's options (SPDK's): the ANA state every group starts in on
// it, whether it is a secure channel (TLS: secure_channel, or SPDK's
// sock_impl "ssl"), and numa_id, which asks for nothing here. Ours:
// secure_concat, a TLS listener that also takes plain admin queues for
// secure channel concatenation (SPDK has no such listener).
result<transport_id> listener_params(const json& j, std::string& nqn, ana_state* initial,
                                     listener_security* secure) {
    params p(j, false);
    nqn_param(p, nqn);
    const json* addr = p.object("listen_address", true);
    bool secure_channel = false;
    p.boolean("secure_channel", secure_channel, false);
    bool secure_concat = false;
    p.boolean("secure_concat", secure_concat, false);
    std::string sock_impl;
    if (p.str("sock_impl", sock_impl, false, 64)) {
        if (sock_impl == "ssl") {
            secure_channel = true;
        } else if (secure_channel || sock_impl != "posix") {
            p.fail("parameter 'sock_impl': '" + sock_impl +
                   "' is not a socket implementation here (posix, or ssl for TLS)");
        }
    }
    if (initial) {
        ana_state_param(p, *initial, false);
        // SPDK uses numa_id for VFIO-USER listeners only; any value means
        // nothing for TCP and RDMA, there as here.
        int64_t numa = -1;
        p.i64("numa_id", numa, false, -1, std::numeric_limits<int32_t>::max());
    }
    if (auto r = p.finish(); !r) return r.err();
    if (secure) {
        *secure = secure_concat    ? listener_security::concat
                  : secure_channel ? listener_security::tls
                                   : listener_security::plain;
    }
    return read_trid(*addr);
}

// SPDK's codes for a core failure: a namespace or listener change that the
// core refuses is -32602 "Invalid parameters"; a duplicate subsystem,
// transport or host, or removing a host that is not there, is -32603
// "Internal error". The message stays ours: it says what is wrong.
error spdk_invalid(const error& e) { return invalid_params(e.message); }
error spdk_internal(const error& e) { return make_error(err_internal, e.message); }

std::string subtype_of(const subsystem& s) { return s.is_discovery() ? "Discovery" : "NVMe"; }

}  // namespace

json trid_to_json(const transport_id& t) {
    return json{
        {"trtype", t.trtype}, {"adrfam", t.adrfam}, {"traddr", t.traddr}, {"trsvcid", t.trsvcid}};
}

json ns_to_json(const ns& n, bool ana_reporting) {
    // Every identifier in use, so that a saved config pins them.
    json j{{"nsid", n.nsid},
           {"bdev_name", n.dev->name()},
           {"uuid", bdev::uuid_to_string(n.uuid)},
           {"nguid", hex_upper(n.nguid.data(), n.nguid.size())}};
    if (n.has_eui64) j["eui64"] = hex_upper(n.eui64.data(), n.eui64.size());
    // SPDK writes the group with ANA reporting; ours is also kept when it is
    // not the default (the NSID), so that it survives a save and load.
    if (ana_reporting || n.anagrpid != n.nsid) j["anagrpid"] = n.anagrpid;
    return j;
}

json ana_states_to_json(const subsystem& s, const transport_id& listener) {
    // As SPDK: every group from 1 to ANAGRPMAX, in order, so that
    // ana_states[g - 1] is group g.
    json out = json::array();
    auto ana = s.listener_ana(listener);
    if (!ana || s.is_discovery()) return out;
    for (uint32_t g = 1; g <= ana->groups(); ++g) {
        out.push_back({{"ana_group", g}, {"ana_state", to_string(ana->get(g))}});
    }
    return out;
}

json subsystem_to_json(const subsystem& s) {
    // SPDK's dump_nvmf_subsystem (lib/nvmf/nvmf_rpc.c), plus ana_reporting.
    const auto prm = s.params();
    json listeners = json::array();
    for (auto& l : s.listeners()) listeners.push_back(trid_to_json(l));
    json hosts = json::array();
    for (auto& h : s.hosts()) {
        json e{{"nqn", h}};
        host_keys_to_json(s.keys_of(h), e);
        if (auto k = s.host_psk(h)) e["psk"] = k->key_name;  // the key's name, never its bytes
        hosts.push_back(std::move(e));
    }
    json j{{"nqn", s.nqn},
           {"subtype", subtype_of(s)},
           {"listen_addresses", listeners},
           {"allow_any_host", prm.allow_any_host},
           {"hosts", hosts}};
    if (s.is_discovery()) return j;
    j["serial_number"] = prm.serial_number;
    j["model_number"] = prm.model_number;
    j["max_namespaces"] = prm.max_namespaces;
    j["passthrough"] = false;
    j["min_cntlid"] = prm.min_cntlid;
    j["max_cntlid"] = prm.max_cntlid;
    j["dmrsl"] = prm.dmrsl;
    j["wzsl"] = prm.wzsl;
    j["ana_reporting"] = prm.ana_reporting;
    json nss = json::array();
    auto table = s.ns_snapshot();
    for (auto& n : table->slots) {
        if (!n) continue;
        json e = ns_to_json(*n, prm.ana_reporting);
        e["name"] = n->dev->name();  // SPDK's older name for bdev_name
        nss.push_back(std::move(e));
    }
    j["namespaces"] = nss;
    return j;
}

result<json> nvmf_create_transport(context& ctx, const json& j) {
    if (!j.is_object())
        return invalid_params("params must be a JSON object with at least 'trtype'");
    json opts = j;
    if (auto it = opts.find("tgt_name"); it != opts.end()) {
        if (!it->is_string()) return invalid_params("parameter 'tgt_name' must be a string");
        opts.erase(it);
    }
    auto o = transport_options::from_json(opts);
    if (!o) return invalid_params(o.err().message);
    if (ctx.tgt.find_transport(o->trtype)) {
        return make_error(err_internal, "Transport type '" + o->trtype + "' already exists");
    }
    auto t = create_transport(ctx.tgt, *o);
    if (!t) return from_core(t.err());
    if (auto r = ctx.tgt.add_transport(std::move(*t)); !r) return from_core(r.err());
    return json(true);
}

result<json> nvmf_get_transports(context& ctx, const json& j) {
    params p(j);
    std::string trtype;
    const bool one = p.str("trtype", trtype, false, 16);
    p.ignore("tgt_name");
    if (auto r = p.finish(); !r) return r.err();
    json out = json::array();
    for (auto* t : ctx.tgt.transports()) {
        if (one && strcasecmp(t->trtype().c_str(), trtype.c_str()) != 0) continue;
        out.push_back(t->options().to_json());
    }
    if (one && out.empty()) {
        // SPDK answers -ENODEV here.
        return make_error(-ENODEV, "transport '" + trtype + "' has not been created");
    }
    return out;
}

result<json> nvmf_create_subsystem(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    subsystem_params sp;
    nqn_param(p, nqn);
    p.str("serial_number", sp.serial_number, false, 20);
    p.str("model_number", sp.model_number, false, 40);
    p.boolean("allow_any_host", sp.allow_any_host, false);
    // SPDK: 0 means "no limit"; here that is the core's ceiling.
    if (p.u32("max_namespaces", sp.max_namespaces, false, 0, ns_limit) && sp.max_namespaces == 0) {
        sp.max_namespaces = ns_limit;
    }
    p.u16("min_cntlid", sp.min_cntlid, false, spec::cntlid_min, spec::cntlid_max);
    p.u16("max_cntlid", sp.max_cntlid, false, spec::cntlid_min, spec::cntlid_max);
    p.boolean("ana_reporting", sp.ana_reporting, false);
    // Kept and printed back; not reported to hosts (see docs/rpc.md).
    p.u32("dmrsl", sp.dmrsl, false);
    uint32_t wzsl = sp.wzsl;
    if (p.u32("wzsl", wzsl, false, 0, 0xff)) sp.wzsl = static_cast<uint8_t>(wzsl);
    bool passthrough = false, nssr = false;
    if (p.boolean("passthrough", passthrough, false) && passthrough) {
        p.fail("parameter 'passthrough': NVMe passthrough is not supported (no NVMe bdevs here)");
    }
    if (p.boolean("enable_nssr", nssr, false) && nssr) {
        p.fail("parameter 'enable_nssr': NVM Subsystem Reset is not supported");
    }
    std::string label;
    if (p.str("admin_label", label, false, 256)) {
        p.fail("parameter 'admin_label': extended discovery log entries are not supported");
    }
    if (!p.failed() && sp.min_cntlid > sp.max_cntlid) {
        p.fail("min_cntlid (" + std::to_string(sp.min_cntlid) + ") is above max_cntlid (" +
               std::to_string(sp.max_cntlid) + ")");
    }
    if (auto r = p.finish(); !r) return r.err();
    if (ctx.tgt.find_subsystem(nqn)) {
        return make_error(err_internal,
                          "Unable to create subsystem " + nqn + ": it already exists");
    }
    auto s = ctx.tgt.create_subsystem(nqn, sp);
    if (!s) {
        const int code = s.err().code;
        if (code == -EEXIST || code == -ENOSPC) {
            return make_error(err_internal,
                              "Unable to create subsystem " + nqn + ": " + s.err().message);
        }
        return from_core(s.err());
    }
    if (ctx.deferred_start) {
        ctx.deferred_start->push_back(nqn);
    } else if (auto r = ctx.tgt.start_subsystem(nqn); !r) {
        return from_core(r.err());
    }
    return json(true);
}

result<json> nvmf_delete_subsystem(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    nqn_param(p, nqn);
    if (auto r = p.finish(); !r) return r.err();
    if (auto s = lookup(ctx, nqn); !s) return s.err();
    if (auto r = ctx.tgt.delete_subsystem(nqn); !r) return spdk_invalid(r.err());
    return json(true);
}

result<json> nvmf_get_subsystems(context& ctx, const json& j) {
    params p(j);
    std::string nqn;
    const bool one = p.str("nqn", nqn, false, spec::nqn_max_len);
    p.ignore("tgt_name");
    if (auto r = p.finish(); !r) return r.err();
    json out = json::array();
    if (one) {
        auto s = lookup(ctx, nqn);
        if (!s) return s.err();
        out.push_back(subsystem_to_json(**s));
        return out;
    }
    for (auto& s : ctx.tgt.subsystems()) out.push_back(subsystem_to_json(*s));
    return out;
}

result<json> nvmf_subsystem_add_listener(context& ctx, const json& j) {
    std::string nqn;
    ana_state initial = ana_state::optimized;
    listener_security secure = listener_security::plain;
    auto trid = listener_params(j, nqn, &initial, &secure);
    if (!trid) return trid.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    if (initial != ana_state::optimized && !(*s)->params().ana_reporting) {
        return invalid_params("parameter 'ana_state': ANA reporting is not enabled on " + nqn +
                              " (nvmf_create_subsystem ana_reporting)");
    }
    // SPDK's rule: a secure channel is for the hosts that hold a PSK (or
    // for secure_concat a DH-HMAC-CHAP key to generate one).
    if (secure != listener_security::plain && (*s)->params().allow_any_host) {
        return make_error(err_internal,
                          "Cannot establish secure channel, when 'allow_any_host' is set");
    }
    if (auto r = ctx.tgt.add_listener(nqn, *trid, initial, secure); !r)
        return spdk_invalid(r.err());
    return json(true);
}

result<json> nvmf_subsystem_remove_listener(context& ctx, const json& j) {
    std::string nqn;
    auto trid = listener_params(j, nqn, nullptr, nullptr);
    if (!trid) return trid.err();
    if (auto s = lookup(ctx, nqn); !s) return s.err();
    if (auto r = ctx.tgt.remove_listener(nqn, *trid); !r) return spdk_invalid(r.err());
    return json(true);
}

result<json> nvmf_subsystem_get_listeners(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    nqn_param(p, nqn);
    if (auto r = p.finish(); !r) return r.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    json out = json::array();
    for (auto& l : (*s)->listeners()) {
        const listener_security sec = (*s)->listener_security_of(l);
        json e{{"address", trid_to_json(l)}, {"secure_channel", takes_tls(sec)}};
        if (sec == listener_security::concat) e["secure_concat"] = true;
        // As SPDK: the states only where the subsystem reports ANA.
        if ((*s)->params().ana_reporting) e["ana_states"] = ana_states_to_json(**s, l);
        out.push_back(std::move(e));
    }
    return out;
}

result<json> nvmf_subsystem_listener_set_ana_state(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    nqn_param(p, nqn);
    const json* addr = p.object("listen_address", true);
    ana_state state = ana_state::optimized;
    ana_state_param(p, state, true);
    uint32_t anagrpid = 0;
    p.u32("anagrpid", anagrpid, false, 1, 0xfffffffe);
    if (auto r = p.finish(); !r) return r.err();
    auto trid = read_trid(*addr);
    if (!trid) return trid.err();
    if (auto s = lookup(ctx, nqn); !s) return s.err();
    if (auto r = ctx.tgt.set_ana_state(nqn, *trid, anagrpid, state); !r) {
        return spdk_invalid(r.err());
    }
    return json(true);
}

result<json> nvmf_subsystem_add_ns(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    nqn_param(p, nqn);
    const json* nsj = p.object("namespace", true);
    if (auto r = p.finish(); !r) return r.err();

    params q(*nsj, false);
    std::string bdev_name, uuid_s, nguid_s, eui_s, ptpl;
    ns_params np;
    q.str("bdev_name", bdev_name, true, 255);
    q.u32("nsid", np.nsid, false, 0, 0xfffffffe);
    if (q.str("uuid", uuid_s, false, 64)) {
        bdev::uuid_t u;
        if (bdev::uuid_from_string(uuid_s, &u)) {
            np.uuid = u;
        } else {
            q.fail("parameter 'uuid' is not a UUID: '" + uuid_s + "'");
        }
    }
    if (q.str("nguid", nguid_s, false, 64)) {
        std::array<uint8_t, 16> g{};
        if (parse_hex_bytes(nguid_s, g.data(), g.size())) {
            np.nguid = g;
        } else {
            q.fail("parameter 'nguid' must be 32 hexadecimal digits, got '" + nguid_s + "'");
        }
    }
    if (q.str("eui64", eui_s, false, 32)) {
        std::array<uint8_t, 8> e{};
        if (parse_hex_bytes(eui_s, e.data(), e.size())) {
            np.eui64 = e;
        } else {
            q.fail("parameter 'eui64' must be 16 hexadecimal digits, got '" + eui_s + "'");
        }
    }
    q.u32("anagrpid", np.anagrpid, false, 0, 0xfffffffe);
    // Reservations persist through power loss in this file (SPDK's format):
    // loaded by add_ns, written atomically at every change while PTPL is on.
    if (q.str("ptpl_file", ptpl, false, 4096)) np.ptpl_file = ptpl;
    // Masking: active only for the hosts nvmf_ns_add_host names.
    q.boolean("no_auto_visible", np.no_auto_visible, false);
    bool hide_metadata = false;
    // No bdev here has metadata (md_size is always 0), so there is never any
    // to hide: either value gives the same namespace.
    q.boolean("hide_metadata", hide_metadata, false);
    if (auto r = q.finish(); !r) return invalid_params("namespace: " + r.err().message);

    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    auto dev = ctx.tgt.bdevs.find(bdev_name);
    if (!dev) return invalid_params("bdev '" + bdev_name + "' does not exist");
    // A bdev a delay bdev is built on is claimed by it, as in SPDK.
    if (const std::string by = ctx.tgt.bdevs.claimer(*dev); !by.empty()) {
        return invalid_params("bdev '" + bdev_name + "' is claimed by bdev '" + by +
                              "': unable to add it as a namespace");
    }
    const auto before = (*s)->ns_snapshot();
    auto nsid = (*s)->add_ns(dev, np);
    if (!nsid) return spdk_invalid(nsid.err());
    (*s)->announce_ns_change(*nsid, *before);
    return json(*nsid);
}

result<json> nvmf_subsystem_remove_ns(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    uint32_t nsid = 0;
    nqn_param(p, nqn);
    p.u32("nsid", nsid, true, 1, 0xfffffffe);
    if (auto r = p.finish(); !r) return r.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    const auto before = (*s)->ns_snapshot();
    if (auto r = (*s)->remove_ns(nsid); !r) return spdk_invalid(r.err());
    (*s)->announce_ns_change(nsid, *before);
    return json(true);
}

namespace {
// nvmf_ns_add_host / nvmf_ns_remove_host {nqn, nsid, host, tgt_name}. SPDK
// answers -32602 for every refusal of the core (bad host NQN, NSID out of
// range or inactive, a namespace visible to all); the message says which.
result<json> ns_host_method(context& ctx, const json& j, bool add) {
    params p(j, false);
    std::string nqn, host;
    uint32_t nsid = 0;
    nqn_param(p, nqn);
    p.u32("nsid", nsid, true);
    p.str("host", host, true, spec::nqn_max_len);
    if (auto r = p.finish(); !r) return r.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    const auto before = (*s)->ns_snapshot();
    auto r = add ? (*s)->add_ns_host(nsid, host) : (*s)->remove_ns_host(nsid, host);
    if (!r) return spdk_invalid(r.err());
    (*s)->announce_ns_change(nsid, *before);
    return json(true);
}
}  // namespace

result<json> nvmf_ns_add_host(context& ctx, const json& j) { return ns_host_method(ctx, j, true); }

result<json> nvmf_ns_remove_host(context& ctx, const json& j) {
    return ns_host_method(ctx, j, false);
}

result<json> nvmf_subsystem_add_host(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn, host, psk_name;
    nqn_param(p, nqn);
    p.str("host", host, true, spec::nqn_max_len);
    p.str("psk", psk_name, false, 255);
    auto keys = read_host_keys(ctx, p);
    if (auto r = p.finish(); !r) return r.err();
    if (!keys) return keys.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    if (keys->dhchap_ctrlr_key && !keys->dhchap_key) {
        // SPDK: -32603 for a controller key without a host key.
        return make_error(err_internal, "DH-HMAC-CHAP controller key requires host key to be set");
    }
    // The TLS PSK: a keyring key in the interchange format; what is kept is
    // the retained PSK for this host (SPDK's transport does the same).
    std::shared_ptr<const keyring::host_psk> psk;
    if (!psk_name.empty()) {
        if ((*s)->is_discovery()) {
            return invalid_params("parameter 'psk': the discovery subsystem takes no PSK");
        }
        const keyring::key_ptr k = ctx.tgt.keys.find(psk_name);
        if (!k || !k->usable()) {
            return invalid_params("parameter 'psk': Key '" + psk_name + "' does not exist");
        }
        const auto text = k->data();
        auto hp = keyring::make_host_psk(
            psk_name, {reinterpret_cast<const char*>(text.data()), text.size()}, host);
        if (!hp) return invalid_params("parameter 'psk': " + hp.err().message);
        psk = std::make_shared<const keyring::host_psk>(std::move(*hp));
    }
    if (auto r = (*s)->add_host(host, *keys); !r) {
        return r.err().code == -EEXIST ? spdk_internal(r.err()) : from_core(r.err());
    }
    if (psk) (*s)->set_host_psk(host, std::move(psk));
    ctx.tgt.discovery_changed();
    return json(true);
}

result<json> nvmf_subsystem_remove_host(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn, host;
    uint64_t timeout_ms = 0;
    nqn_param(p, nqn);
    p.str("host", host, true, spec::nqn_max_len);
    // SPDK waits up to this long for the host's I/O before it disconnects;
    // here the controllers go at once and their queues finish what they
    // started, so there is nothing to wait for.
    p.u64("timeout_ms", timeout_ms, false);
    if (auto r = p.finish(); !r) return r.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    if (auto r = (*s)->remove_host(host); !r) return spdk_internal(r.err());
    // As SPDK does: a host that is no longer allowed loses its controllers.
    if (!(*s)->host_allowed(host)) {
        for (auto& c : (*s)->controllers()) {
            if (c->hostnqn == host) c->destroy("host removed");
        }
    }
    ctx.tgt.discovery_changed();
    return json(true);
}

result<json> nvmf_subsystem_allow_any_host(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    bool allow = false;
    nqn_param(p, nqn);
    p.boolean("allow_any_host", allow, true);
    if (auto r = p.finish(); !r) return r.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    (*s)->set_allow_any_host(allow);
    ctx.tgt.discovery_changed();
    return json(true);
}

result<json> nvmf_subsystem_get_controllers(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    nqn_param(p, nqn);
    if (auto r = p.finish(); !r) return r.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    json out = json::array();
    for (auto& c : (*s)->controllers()) {
        if (c->destroyed()) continue;
        out.push_back({{"cntlid", c->cntlid},
                       {"cntrltype", c->is_discovery() ? "discovery" : "io"},
                       {"hostnqn", c->hostnqn},
                       {"hostid", bdev::uuid_to_string(c->hostid)},
                       {"num_io_qpairs", c->io_qpair_count()}});
    }
    return out;
}

result<json> nvmf_subsystem_get_qpairs(context& ctx, const json& j) {
    params p(j, false);
    std::string nqn;
    nqn_param(p, nqn);
    if (auto r = p.finish(); !r) return r.err();
    auto s = lookup(ctx, nqn);
    if (!s) return s.err();
    json out = json::array();
    for (auto& c : (*s)->controllers()) {
        if (c->destroyed()) continue;
        for (auto& q : c->qpairs()) {
            // SPDK's qpair states: "enabled" once its Connect succeeded.
            json e{{"cntlid", c->cntlid},
                   {"qid", q->qid},
                   {"state", q->connected ? "enabled" : "connecting"},
                   {"hostnqn", c->hostnqn},
                   {"listen_address", trid_to_json(q->listen_trid())},
                   {"peer_address", trid_to_json(q->peer_trid())}};
            // As SPDK: the DH-HMAC-CHAP state of queues that authenticate.
            if (auto a = cmd::auth_info_of(*q); a.state) {
                e["auth"] = {{"state", a.state},
                             {"digest", a.digest ? a.digest : "unknown"},
                             {"dhgroup", a.dhgroup ? a.dhgroup : "unknown"}};
            }
            if (q->owner) e["thread"] = poll_group_name(q->owner->index());
            out.push_back(std::move(e));
        }
    }
    return out;
}

result<json> nvmf_set_max_subsystems(context& ctx, const json& j) {
    params p(j, false);
    uint32_t n = 0;
    p.u32("max_subsystems", n, true, 1);
    if (auto r = p.finish(); !r) return r.err();
    if (auto r = ctx.tgt.set_max_subsystems(n); !r) return from_core(r.err());
    return json(true);
}

result<json> nvmf_get_stats(context& ctx, const json& j) {
    params p(j);
    p.ignore("tgt_name");
    if (auto r = p.finish(); !r) return r.err();
    // Transport counters per reactor, keyed by the transports' "reactor" index.
    std::map<unsigned, json> transport_groups;
    for (auto* t : ctx.tgt.transports()) {
        const json st = t->stats();
        const auto groups = st.find("poll_groups");
        if (groups == st.end() || !groups->is_array()) continue;
        for (const auto& g : *groups) {
            json e = g;
            const unsigned idx = e.value("reactor", 0u);
            e.erase("reactor");
            e["trtype"] = t->trtype();
            transport_groups[idx].push_back(std::move(e));
        }
    }
    json groups = json::array();
    for (size_t i = 0; i < ctx.tgt.reactors.size(); ++i) {
        reactor& r = ctx.tgt.reactors.at(i);
        poll_group_stats s;
        // Read on the owning reactor: the counters are plain, written only there.
        r.run_sync([&] { s = ctx.tgt.group_stats(r); });
        auto tg = transport_groups.find(r.index());
        const json transports = tg == transport_groups.end() ? json::array() : tg->second;
        // SPDK's current_unassociated_qpairs: connections on this reactor
        // whose Connect has not made them a controller's queue yet.
        uint64_t connections = 0;
        for (const auto& t : transports) connections += t.value("current_connections", 0ull);
        const uint64_t associated = s.current_admin_qpairs + s.current_io_qpairs;
        groups.push_back({{"name", poll_group_name(r.index())},
                          {"admin_qpairs", s.admin_qpairs},
                          {"io_qpairs", s.io_qpairs},
                          {"current_admin_qpairs", s.current_admin_qpairs},
                          {"current_io_qpairs", s.current_io_qpairs},
                          {"current_unassociated_qpairs",
                           connections > associated ? connections - associated : 0},
                          {"pending_bdev_io", s.pending_bdev_io},
                          {"completed_nvme_io", s.completed_nvme_io},
                          {"transports", transports}});
    }
    // Ticks are nanoseconds of the steady clock.
    return json{{"tick_rate", 1000000000ull}, {"poll_groups", std::move(groups)}};
}

}  // namespace nvmf::rpc
