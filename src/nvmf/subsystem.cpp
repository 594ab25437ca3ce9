#include "nvmf/subsystem.hpp"

#include <algorithm>
#include <cctype>

#include "keyring/tls_psk.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/ptpl_file.hpp"
#include "util/log.hpp"

namespace nvmf {

const char* to_string(subsystem_state s) {
    switch (s) {
    case subsystem_state::inactive:
        return "inactive";
    case subsystem_state::active:
        return "active";
    case subsystem_state::paused:
        return "paused";
    }
    return "unknown";
}

result<void> validate_nqn(const std::string& nqn) {
    if (nqn.size() > spec::nqn_max_len) {
        return make_error(-EINVAL, "NQN is longer than 223 bytes");
    }
    if (nqn == spec::discovery_nqn) return {};
    const std::string uuid_prefix = "nqn.2014-08.org.nvmexpress:uuid:";
    if (nqn.rfind(uuid_prefix, 0) == 0) {
        bdev::uuid_t u;
        if (!bdev::uuid_from_string(nqn.substr(uuid_prefix.size()), &u)) {
            return make_error(-EINVAL, "NQN '" + nqn + "' has an invalid UUID");
        }
        return {};
    }
    // nqn.yyyy-mm.<reverse domain>[:<anything>]
    auto bad = [&](const char* why) {
        return make_error(-EINVAL, "invalid NQN '" + nqn + "': " + why);
    };
    if (nqn.size() < 12 || nqn.compare(0, 4, "nqn.") != 0)
        return bad("must start with nqn.yyyy-mm.");
    for (int i : {4, 5, 6, 7, 9, 10}) {
        if (!std::isdigit(static_cast<unsigned char>(nqn[i])))
            return bad("bad date (nqn.yyyy-mm.)");
    }
    if (nqn[8] != '-' || nqn[11] != '.') return bad("bad date (nqn.yyyy-mm.)");
    const int month = (nqn[9] - '0') * 10 + (nqn[10] - '0');
    if (month < 1 || month > 12) return bad("bad month");
    const size_t colon = nqn.find(':', 12);
    const std::string domain =
        nqn.substr(12, colon == std::string::npos ? std::string::npos : colon - 12);
    if (domain.empty()) return bad("missing reverse domain name");
    for (size_t i = 0; i < domain.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(domain[i]);
        if (!std::isalnum(c) && c != '-' && c != '.') return bad("bad character in domain name");
        if (c == '.' && (i == 0 || domain[i - 1] == '.')) return bad("empty domain label");
    }
    if (domain.back() == '.') return bad("domain ends with '.'");
    for (unsigned char c : nqn) {
        if (c < 0x20 || c >= 0x7f) return bad("non-printable character");
    }
    return {};
}

subsystem::subsystem(target& t, std::string n, subsystem_type ty, subsystem_params p)
    : tgt(t), nqn(std::move(n)), type(ty), params_(std::move(p)),
      ns_(std::make_shared<ns_table>(ty == subsystem_type::discovery ? 0 : params_.max_namespaces)),
      next_cntlid_(params_.min_cntlid) {}

subsystem_params subsystem::params() const {
    std::lock_guard lk(mtx_);
    return params_;
}

void subsystem::set_params(const subsystem_params& p) {
    std::lock_guard lk(mtx_);
    params_ = p;
}

subsystem_state subsystem::state() const {
    std::lock_guard lk(mtx_);
    return state_;
}

void subsystem::set_state(subsystem_state s) {
    std::lock_guard lk(mtx_);
    state_ = s;
}

namespace {
// Where a new namespace's identifiers come from, and whether they last.
void log_identity(const ns& n, const std::string& nqn, bool uuid_set, bool nguid_set) {
    const bdev::block_device& d = *n.dev;
    std::string from = "derived from bdev " + d.name() + "'s UUID";
    if (uuid_set && nguid_set) {
        from = "configured";
    } else if (uuid_set) {
        from = "configured UUID, NGUID from it";
    } else if (nguid_set) {
        from = "configured NGUID, UUID " + from;
    }
    std::string nguid;  // as nvme-cli prints it
    for (uint8_t b : n.nguid) nguid += fmt::format("{:02x}", b);
    log::info("{} nsid {}: UUID {}, NGUID {} ({})", nqn, n.nsid, bdev::uuid_to_string(n.uuid),
              nguid, from);
    if (uuid_set) return;  // the NGUID is configured or follows the UUID
    if (d.uuid_origin() == bdev::id_origin::random) {
        log::info(
            "{} nsid {}: bdev {} has a random UUID: this namespace's identifiers change at every "
            "start (give the bdev or the namespace a uuid to keep them)",
            nqn, n.nsid, d.name());
    }
}
}  // namespace

result<uint32_t> subsystem::add_ns(std::shared_ptr<bdev::block_device> dev, const ns_params& p) {
    std::lock_guard lk(mtx_);
    if (is_discovery()) return make_error(-EINVAL, "the discovery subsystem has no namespaces");
    const uint32_t max = ns_->max_nsid();
    uint32_t nsid = p.nsid;
    if (nsid == 0) {
        for (uint32_t i = 1; i <= max; ++i) {
            if (!ns_->find(i)) {
                nsid = i;
                break;
            }
        }
        if (nsid == 0) return make_error(-ENOSPC, "subsystem " + nqn + " has no free NSID");
    } else if (nsid > max) {
        return make_error(-EINVAL, "NSID " + std::to_string(nsid) + " is above max_namespaces (" +
                                       std::to_string(max) + ")");
    } else if (ns_->find(nsid)) {
        return make_error(-EEXIST, "NSID " + std::to_string(nsid) + " is already in use in " + nqn);
    }
    if (p.anagrpid > max) {
        return make_error(-EINVAL, "ANA group " + std::to_string(p.anagrpid) +
                                       " is above ANAGRPMAX (max_namespaces, " +
                                       std::to_string(max) + ")");
    }
    for (const auto& n : ns_->slots) {
        if (n && n->dev == dev) {
            return make_error(-EEXIST, "bdev " + dev->name() + " is already a namespace of " + nqn);
        }
    }
    auto n = std::make_shared<ns>(nsid, dev);
    // Configured identifiers win (all-zero ones count as absent, as in SPDK);
    // the others derive from the bdev's UUID, so that a host reconnecting
    // after a restart finds the namespace it knew (Linux fails all I/O on
    // one whose identifiers changed). NGUID: the UUID's bytes (SPDK, too, fills
    // an absent NGUID from a UUID).
    const bool uuid_set = p.uuid && !bdev::uuid_is_null(*p.uuid);
    const bool nguid_set = p.nguid && !bdev::uuid_is_null(*p.nguid);
    if (uuid_set) {
        n->uuid = *p.uuid;
    } else {
        auto u = derive_ns_uuid(dev->uuid(), nqn, nsid);
        if (!u) return u.err();
        n->uuid = *u;
    }
    n->nguid = nguid_set ? *p.nguid : n->uuid;
    if (p.eui64 && *p.eui64 != std::array<uint8_t, 8>{}) {
        n->eui64 = *p.eui64;
        n->has_eui64 = true;
    }
    n->ids_never_reused = nguid_set || uuid_set || dev->uuid_origin() != bdev::id_origin::path;
    log_identity(*n, nqn, uuid_set, nguid_set);
    n->anagrpid = p.anagrpid ? p.anagrpid : nsid;
    if (!p.ptpl_file.empty()) {
        auto st = load_ptpl_file(p.ptpl_file, dev->uuid());
        if (!st) return st.err();
        n->resv->ptpl_file = p.ptpl_file;
        n->resv->state = std::move(*st);
        if (n->resv->state.ptpl) {
            log::info("{} nsid {}: reservations restored from {}: {} registrant(s), type {}", nqn,
                      nsid, p.ptpl_file, n->resv->state.regs.size(),
                      static_cast<int>(n->resv->state.type));
        }
    }
    n->no_auto_visible = p.no_auto_visible;
    auto next = std::make_shared<ns_table>(*ns_);
    next->slots[nsid - 1] = n;
    next->resv[nsid - 1] = std::make_shared<const resv_state>(n->resv->state);
    if (p.no_auto_visible) next->visible_to[nsid - 1] = std::make_shared<const ns_hosts>();
    next->update_masked();
    ns_ = std::move(next);
    ns_gen_.fetch_add(1, std::memory_order_release);
    ana_chgcnt_.fetch_add(1, std::memory_order_relaxed);  // a group's NSID list changed
    ++dev->claims;
    return nsid;
}

result<void> subsystem::remove_ns(uint32_t nsid) {
    std::lock_guard lk(mtx_);
    if (!ns_->find(nsid)) {
        return make_error(-ENOENT, "NSID " + std::to_string(nsid) + " is not active in " + nqn);
    }
    auto next = std::make_shared<ns_table>(*ns_);
    --next->slots[nsid - 1]->dev->claims;
    next->slots[nsid - 1].reset();
    next->resv[nsid - 1].reset();
    next->visible_to[nsid - 1].reset();  // its hosts go with it, as in SPDK
    next->update_masked();
    ns_ = std::move(next);
    ns_gen_.fetch_add(1, std::memory_order_release);
    ana_chgcnt_.fetch_add(1, std::memory_order_relaxed);
    return {};
}

void subsystem::publish_resv(const std::shared_ptr<ns>& n, std::shared_ptr<const resv_state> s) {
    std::lock_guard lk(mtx_);
    if (ns_->find(n->nsid) != n) return;
    auto next = std::make_shared<ns_table>(*ns_);
    next->resv[n->nsid - 1] = std::move(s);
    ns_ = std::move(next);
    ns_gen_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const ns_table> subsystem::ns_snapshot() const {
    std::lock_guard lk(mtx_);
    return ns_;
}

std::shared_ptr<io_metrics> subsystem::host_metrics(const std::string& hostnqn) {
    std::lock_guard lk(mtx_);
    // A host NQN is whatever a host sent: past max_metrics_hosts distinct
    // ones (an allow-any-host subsystem probed with made-up NQNs), the rest
    // count together under "" rather than grow this without bound.
    const bool known = host_metrics_.contains(hostnqn);
    auto& m = host_metrics_[known || host_metrics_.size() < max_metrics_hosts ? hostnqn : ""];
    if (!m) m = std::make_shared<io_metrics>();
    return m;
}

std::map<std::string, std::shared_ptr<const io_metrics>> subsystem::all_host_metrics() const {
    std::lock_guard lk(mtx_);
    return {host_metrics_.begin(), host_metrics_.end()};
}

result<void> subsystem::add_ns_host(uint32_t nsid, const std::string& hostnqn) {
    return set_ns_host(nsid, hostnqn, true);
}

result<void> subsystem::remove_ns_host(uint32_t nsid, const std::string& hostnqn) {
    return set_ns_host(nsid, hostnqn, false);
}

result<void> subsystem::set_ns_host(uint32_t nsid, const std::string& hostnqn, bool visible) {
    if (auto r = validate_nqn(hostnqn); !r) return r;
    std::lock_guard lk(mtx_);
    if (nsid == 0 || nsid > ns_->max_nsid()) {
        return make_error(-EINVAL, "NSID " + std::to_string(nsid) + " is out of range for " + nqn);
    }
    if (!ns_->find(nsid)) {
        return make_error(-ENOENT, "NSID " + std::to_string(nsid) + " is not active in " + nqn);
    }
    const auto& hosts = ns_->visible_to[nsid - 1];
    if (!hosts) {
        return make_error(-EPERM, "namespace " + std::to_string(nsid) + " of " + nqn +
                                      " is visible to every host (add it with no_auto_visible)");
    }
    if ((hosts->count(hostnqn) != 0) == visible) return {};
    auto changed = std::make_shared<ns_hosts>(*hosts);
    if (visible) {
        changed->insert(hostnqn);
    } else {
        changed->erase(hostnqn);
    }
    auto next = std::make_shared<ns_table>(*ns_);
    next->visible_to[nsid - 1] = std::move(changed);
    ns_ = std::move(next);
    ns_gen_.fetch_add(1, std::memory_order_release);
    // The ANA log lists the groups' active NSIDs: for this host, one changed.
    ana_chgcnt_.fetch_add(1, std::memory_order_relaxed);
    return {};
}

ns_hosts subsystem::ns_hosts_of(uint32_t nsid) const {
    std::lock_guard lk(mtx_);
    if (nsid == 0 || nsid > ns_->max_nsid() || !ns_->visible_to[nsid - 1]) return {};
    return *ns_->visible_to[nsid - 1];
}

void subsystem::announce_ns_change(uint32_t nsid, const ns_table& before) {
    const auto after = ns_snapshot();
    for (auto& c : controllers()) {
        if (c->is_discovery() || !ns_view_changed(before, *after, nsid, c->hostnqn)) continue;
        std::weak_ptr<controller> w = c;
        c->admin_reactor->post([w, nsid] {
            if (auto c = w.lock(); c && !c->destroyed()) c->note_ns_changed(nsid);
        });
    }
}

void subsystem::announce_ns_resized(uint32_t nsid) {
    const auto table = ns_snapshot();
    for (auto& c : controllers()) {
        if (c->is_discovery() || !table->visible(nsid, c->hostnqn)) continue;
        std::weak_ptr<controller> w = c;
        c->admin_reactor->post([w, nsid] {
            if (auto c = w.lock(); c && !c->destroyed()) c->note_ns_changed(nsid);
        });
    }
}

namespace {
result<void> check_keys(const host_keys& k) {
    if (k.dhchap_ctrlr_key && !k.dhchap_key) {
        return make_error(-EINVAL, "a DH-HMAC-CHAP controller key requires a host key");
    }
    return {};
}
}  // namespace

result<void> subsystem::add_host(const std::string& hostnqn, host_keys keys) {
    if (auto r = validate_nqn(hostnqn); !r) return r;
    if (auto r = check_keys(keys); !r) return r;
    std::lock_guard lk(mtx_);
    if (!hosts_.insert(hostnqn).second) {
        return make_error(-EEXIST, "host " + hostnqn + " is already allowed on " + nqn);
    }
    if (keys.dhchap_key) host_keys_[hostnqn] = std::move(keys);
    return {};
}

result<void> subsystem::set_host_keys(const std::string& hostnqn, host_keys keys) {
    if (auto r = check_keys(keys); !r) return r;
    std::lock_guard lk(mtx_);
    if (hosts_.count(hostnqn) == 0) {
        return make_error(-ENOENT, "host " + hostnqn + " is not allowed on " + nqn);
    }
    if (keys.dhchap_key) {
        host_keys_[hostnqn] = std::move(keys);
    } else {
        host_keys_.erase(hostnqn);
    }
    // PSKs generated under the old keys go with them: a rotation is often
    // the answer to a leaked key.
    generated_.drop(hostnqn);
    return {};
}

host_keys subsystem::keys_of(const std::string& hostnqn) const {
    std::lock_guard lk(mtx_);
    auto it = host_keys_.find(hostnqn);
    return it == host_keys_.end() ? host_keys{} : it->second;
}

result<void> subsystem::remove_host(const std::string& hostnqn) {
    std::lock_guard lk(mtx_);
    if (hosts_.erase(hostnqn) == 0) {
        return make_error(-ENOENT, "host " + hostnqn + " is not allowed on " + nqn);
    }
    host_keys_.erase(hostnqn);
    host_psks_.erase(hostnqn);
    generated_.drop(hostnqn);
    return {};
}

void subsystem::set_host_psk(const std::string& hostnqn,
                             std::shared_ptr<const keyring::host_psk> psk) {
    std::lock_guard lk(mtx_);
    if (psk) {
        host_psks_[hostnqn] = std::move(psk);
    } else {
        host_psks_.erase(hostnqn);
    }
}

std::shared_ptr<const keyring::host_psk> subsystem::host_psk(const std::string& hostnqn) const {
    std::lock_guard lk(mtx_);
    auto it = host_psks_.find(hostnqn);
    return it == host_psks_.end() ? nullptr : it->second;
}

std::set<std::string> subsystem::hosts() const {
    std::lock_guard lk(mtx_);
    return hosts_;
}

void subsystem::set_allow_any_host(bool allow) {
    std::lock_guard lk(mtx_);
    params_.allow_any_host = allow;
}

bool subsystem::host_allowed(const std::string& hostnqn) const {
    std::lock_guard lk(mtx_);
    // An empty HOSTNQN is let in only where any host is: it names nobody.
    return params_.allow_any_host || (!hostnqn.empty() && hosts_.count(hostnqn) != 0);
}

result<void> subsystem::add_listener(const transport_id& trid, ana_state initial,
                                     listener_security sec) {
    std::lock_guard lk(mtx_);
    auto same = [&](const listener& l) { return l.trid == trid; };
    if (std::any_of(listeners_.begin(), listeners_.end(), same)) {
        return make_error(-EEXIST, "listener " + trid.to_string() + " already exists on " + nqn);
    }
    listeners_.push_back(
        {trid, std::make_shared<ana_states>(params_.max_namespaces, initial), sec});
    return {};
}

result<void> subsystem::remove_listener(const transport_id& trid) {
    std::lock_guard lk(mtx_);
    auto it = std::find_if(listeners_.begin(), listeners_.end(),
                           [&](const listener& l) { return l.trid == trid; });
    if (it == listeners_.end()) {
        return make_error(-ENOENT, "listener " + trid.to_string() + " does not exist on " + nqn);
    }
    listeners_.erase(it);
    return {};
}

std::vector<transport_id> subsystem::listeners() const {
    std::lock_guard lk(mtx_);
    std::vector<transport_id> out;
    for (const auto& l : listeners_) out.push_back(l.trid);
    return out;
}

bool subsystem::listener_allowed(const transport_id& trid) const {
    return listener_ana(trid) != nullptr;
}

bool subsystem::listener_secure(const transport_id& trid) const {
    return nvmf::takes_tls(listener_security_of(trid));
}

listener_security subsystem::listener_security_of(const transport_id& trid) const {
    std::lock_guard lk(mtx_);
    for (const auto& l : listeners_) {
        if (l.trid == trid) return l.sec;
    }
    return listener_security::plain;
}

bool subsystem::takes_tls() const {
    std::lock_guard lk(mtx_);
    return std::any_of(listeners_.begin(), listeners_.end(),
                       [](const listener& l) { return nvmf::takes_tls(l.sec); });
}

uint32_t subsystem::anagrpmax() const {
    std::lock_guard lk(mtx_);
    return params_.max_namespaces;
}

std::shared_ptr<const ana_states> subsystem::listener_ana(const transport_id& trid) const {
    std::lock_guard lk(mtx_);
    for (const auto& l : listeners_) {
        if (l.trid == trid) return l.ana;
    }
    return nullptr;
}

result<bool> subsystem::set_ana_state(const transport_id& trid, uint32_t anagrpid, ana_state s) {
    std::lock_guard lk(mtx_);
    if (anagrpid > params_.max_namespaces) {
        return make_error(-EINVAL, "ANA group " + std::to_string(anagrpid) +
                                       " is above ANAGRPMAX (" +
                                       std::to_string(params_.max_namespaces) + ") of " + nqn);
    }
    for (auto& l : listeners_) {
        if (!(l.trid == trid)) continue;
        const bool changed = l.ana->set(anagrpid, s);
        if (changed) ana_chgcnt_.fetch_add(1, std::memory_order_relaxed);
        return changed;
    }
    return make_error(-ENOENT, "listener " + trid.to_string() + " does not exist on " + nqn);
}

result<uint16_t> subsystem::allocate_cntlid() {
    std::lock_guard lk(mtx_);
    const uint32_t span = static_cast<uint32_t>(params_.max_cntlid - params_.min_cntlid) + 1;
    for (uint32_t i = 0; i < span; ++i) {
        uint16_t id = next_cntlid_;
        next_cntlid_ =
            id >= params_.max_cntlid ? params_.min_cntlid : static_cast<uint16_t>(id + 1);
        auto it = ctrlrs_.find(id);
        if (it == ctrlrs_.end() || it->second.expired()) {
            ctrlrs_[id];  // reserve
            return id;
        }
    }
    return make_error(-EBUSY, "no free controller ID in " + nqn);
}

void subsystem::add_controller(const std::shared_ptr<controller>& c) {
    std::lock_guard lk(mtx_);
    ctrlrs_[c->cntlid] = c;
}

void subsystem::remove_controller(uint16_t cntlid) {
    std::lock_guard lk(mtx_);
    ctrlrs_.erase(cntlid);
}

std::shared_ptr<controller> subsystem::find_controller(uint16_t cntlid) const {
    std::lock_guard lk(mtx_);
    auto it = ctrlrs_.find(cntlid);
    return it == ctrlrs_.end() ? nullptr : it->second.lock();
}

std::vector<std::shared_ptr<controller>> subsystem::controllers() const {
    std::lock_guard lk(mtx_);
    std::vector<std::shared_ptr<controller>> out;
    for (auto& [_, w] : ctrlrs_) {
        if (auto c = w.lock()) out.push_back(std::move(c));
    }
    return out;
}

}  // namespace nvmf
