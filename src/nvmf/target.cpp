#include "nvmf/target.hpp"

#include <algorithm>
#include <cstring>

#include "ha/gateway_group.hpp"
#include "nvme/spec/rdma.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "util/log.hpp"

namespace nvmf {

namespace {
// Closes the transport's socket on trid when no subsystem allows it any more.
void stop_listen_if_unused(target& tgt, const transport_id& trid) {
    for (auto& other : tgt.subsystems()) {
        if (other->listener_allowed(trid)) return;
    }
    if (transport* t = tgt.find_transport(trid.trtype)) (void)t->stop_listen(trid);
}
}  // namespace

target::target(reactor_group& r) : reactors(r), stats_(r.size()) {
    subsystem_params p;
    p.allow_any_host = true;
    p.max_namespaces = 0;
    discovery_ =
        std::make_shared<subsystem>(*this, spec::discovery_nqn, subsystem_type::discovery, p);
    discovery_->set_state(subsystem_state::active);
    subsystems_.emplace(discovery_->nqn, discovery_);
    bdevs.set_grow_listener(&target::bdev_grew, this);
}

// A bdev grew by itself (bdev_rbd_resize here, or the image resized by
// another client): every namespace on it tells its controllers.
void target::bdev_grew(void* arg, bdev::block_device& dev) {
    auto* tgt = static_cast<target*>(arg);
    for (const auto& s : tgt->subsystems()) {
        const auto table = s->ns_snapshot();
        if (!table) continue;
        for (const auto& n : table->slots) {
            if (n && n->dev.get() == &dev) s->announce_ns_resized(n->nsid);
        }
    }
}

target::~target() {
    shutdown();
    // No bdev may call back once the subsystems start going away.
    bdevs.set_grow_listener(nullptr, nullptr);
}

result<void> target::add_transport(std::unique_ptr<transport> t) {
    std::lock_guard lk(mtx_);
    for (auto& existing : transports_) {
        if (existing->trtype() == t->trtype()) {
            return make_error(-EEXIST, "transport " + t->trtype() + " already exists");
        }
    }
    transports_.push_back(std::move(t));
    return {};
}

transport* target::find_transport(const std::string& trtype) {
    std::lock_guard lk(mtx_);
    for (auto& t : transports_) {
        if (strcasecmp(t->trtype().c_str(), trtype.c_str()) == 0) return t.get();
    }
    return nullptr;
}

std::vector<transport*> target::transports() {
    std::lock_guard lk(mtx_);
    std::vector<transport*> out;
    for (auto& t : transports_) out.push_back(t.get());
    return out;
}

result<std::shared_ptr<subsystem>> target::create_subsystem(const std::string& nqn,
                                                            const subsystem_params& p) {
    if (auto r = validate_nqn(nqn); !r) return r.err();
    if (nqn == spec::discovery_nqn) {
        return make_error(-EEXIST, "the discovery subsystem always exists");
    }
    if (p.serial_number.size() > 20)
        return make_error(-EINVAL, "serial_number is longer than 20 bytes");
    if (p.model_number.size() > 40)
        return make_error(-EINVAL, "model_number is longer than 40 bytes");
    for (unsigned char c : p.serial_number + p.model_number) {
        if (c < 0x20 || c > 0x7e)
            return make_error(-EINVAL, "serial/model number must be printable ASCII");
    }
    if (p.min_cntlid < spec::cntlid_min || p.max_cntlid > spec::cntlid_max ||
        p.min_cntlid > p.max_cntlid) {
        return make_error(-EINVAL, "invalid cntlid range [" + std::to_string(p.min_cntlid) + ", " +
                                       std::to_string(p.max_cntlid) + "]");
    }
    if (p.max_namespaces == 0 || p.max_namespaces > 1024) {
        return make_error(-EINVAL, "max_namespaces must be 1..1024");
    }
    std::lock_guard lk(mtx_);
    if (subsystems_.count(nqn)) return make_error(-EEXIST, "subsystem " + nqn + " already exists");
    if (subsystems_.size() >= max_subsystems_) {
        return make_error(-ENOSPC, "the target has its maximum of " +
                                       std::to_string(max_subsystems_) +
                                       " subsystems (the discovery subsystem included; "
                                       "nvmf_set_max_subsystems)");
    }
    auto s = std::make_shared<subsystem>(*this, nqn, subsystem_type::nvme, p);
    subsystems_.emplace(nqn, s);
    return s;
}

result<void> target::delete_subsystem(const std::string& nqn) {
    std::shared_ptr<subsystem> s;
    {
        std::lock_guard lk(mtx_);
        auto it = subsystems_.find(nqn);
        if (it == subsystems_.end())
            return make_error(-ENOENT, "subsystem " + nqn + " does not exist");
        if (it->second->is_discovery())
            return make_error(-EPERM, "the discovery subsystem cannot be deleted");
        s = it->second;
        subsystems_.erase(it);
    }
    s->set_state(subsystem_state::inactive);
    for (auto& c : s->controllers()) c->destroy("subsystem deleted");
    auto table = s->ns_snapshot();
    for (uint32_t nsid = 1; nsid <= table->max_nsid(); ++nsid) {
        if (table->find(nsid)) (void)s->remove_ns(nsid);
    }
    // Its addresses close unless another subsystem (or discovery) still uses them.
    for (auto& l : s->listeners()) stop_listen_if_unused(*this, l);
    discovery_changed();
    return {};
}

std::shared_ptr<subsystem> target::find_subsystem(const std::string& nqn) {
    std::lock_guard lk(mtx_);
    auto it = subsystems_.find(nqn);
    return it == subsystems_.end() ? nullptr : it->second;
}

result<void> target::set_max_subsystems(uint32_t n) {
    std::lock_guard lk(mtx_);
    if (n < subsystems_.size()) {
        return make_error(-EINVAL, "max_subsystems " + std::to_string(n) + " is below the " +
                                       std::to_string(subsystems_.size()) +
                                       " subsystems that exist (the discovery subsystem included)");
    }
    max_subsystems_ = n;
    return {};
}

uint32_t target::max_subsystems() {
    std::lock_guard lk(mtx_);
    return max_subsystems_;
}

std::vector<std::shared_ptr<subsystem>> target::subsystems() {
    std::lock_guard lk(mtx_);
    std::vector<std::shared_ptr<subsystem>> out{discovery_};
    for (auto& [nqn, s] : subsystems_) {
        if (s != discovery_) out.push_back(s);
    }
    return out;
}

std::shared_ptr<subsystem> target::discovery() { return discovery_; }

result<void> target::listen(const transport_id& trid, listener_security sec) {
    transport* t = find_transport(trid.trtype);
    if (!t) return make_error(-EINVAL, "transport " + trid.trtype + " has not been created");
    return t->listen(trid, sec);
}

listener_security target::address_security(const transport_id& trid) {
    for (auto& s : subsystems()) {
        if (s->listener_allowed(trid)) return s->listener_security_of(trid);
    }
    return listener_security::plain;
}

result<void> target::add_listener(const std::string& nqn, const transport_id& raw,
                                  ana_state initial, listener_security sec) {
    auto trid = normalize_trid(raw);
    if (!trid) return trid.err();
    auto s = find_subsystem(nqn);
    if (!s) return make_error(-ENOENT, "subsystem " + nqn + " does not exist");
    if (!find_transport(trid->trtype)) {
        return make_error(-EINVAL, "transport " + trid->trtype + " has not been created");
    }
    // One socket per address: plain, secure_channel or secure_concat for
    // every subsystem on it.
    for (auto& other : subsystems()) {
        if (other != s && other->listener_allowed(*trid) &&
            other->listener_security_of(*trid) != sec) {
            return make_error(-EINVAL, trid->to_string() + " already serves " + other->nqn +
                                           " as " + to_string(other->listener_security_of(*trid)) +
                                           ", not " + to_string(sec) +
                                           ": an address is plain, a secure channel (TLS) or "
                                           "secure_concat for every subsystem on it");
        }
    }
    if (auto r = s->add_listener(*trid, initial, sec); !r) return r;
    if (listen_held_.load()) {
        discovery_changed();
        return {};
    }
    if (auto r = listen(*trid, sec); !r) {
        (void)s->remove_listener(*trid);
        return r;
    }
    discovery_changed();
    return {};
}

result<void> target::remove_listener(const std::string& nqn, const transport_id& raw) {
    auto trid = normalize_trid(raw);
    if (!trid) return trid.err();
    auto s = find_subsystem(nqn);
    if (!s) return make_error(-ENOENT, "subsystem " + nqn + " does not exist");
    if (auto r = s->remove_listener(*trid); !r) return r;
    // Connections that came in on this address lose their controllers.
    for (auto& c : s->controllers()) {
        if (c->listen_trid == *trid) c->destroy("listener removed");
    }
    stop_listen_if_unused(*this, *trid);
    discovery_changed();
    return {};
}

void target::hold_listen(bool held) { listen_held_.store(held); }

result<void> target::listen_all() {
    for (auto& s : subsystems()) {
        for (auto& l : s->listeners()) {
            if (auto r = listen(l, s->listener_security_of(l)); !r) {
                return make_error(r.err().code,
                                  "listening on " + l.to_string() + ": " + r.err().message);
            }
        }
    }
    return {};
}

result<void> target::set_ana_state(const std::string& nqn, const transport_id& raw,
                                   uint32_t anagrpid, ana_state state) {
    auto trid = normalize_trid(raw);
    if (!trid) return trid.err();
    auto s = find_subsystem(nqn);
    if (!s) return make_error(-ENOENT, "subsystem " + nqn + " does not exist");
    if (s->is_discovery() || !s->params().ana_reporting) {
        return make_error(-EINVAL, "ANA reporting is not enabled on " + nqn +
                                       " (nvmf_create_subsystem ana_reporting)");
    }
    auto changed = s->set_ana_state(*trid, anagrpid, state);
    if (!changed) return changed.err();
    if (!*changed) return {};
    log::info("{}: ANA group {} on {} is now {}", nqn,
              anagrpid ? std::to_string(anagrpid) : std::string("*"), trid->to_string(),
              to_string(state));
    for (auto& c : s->controllers()) {
        if (!(c->listen_trid == *trid)) continue;
        std::weak_ptr<controller> w = c;
        c->admin_reactor->post([w] {
            if (auto c = w.lock(); c && !c->destroyed()) {
                c->raise_event(spec::aer::type_notice, spec::aer::notice_ana_change,
                               spec::lid::ana);
            }
        });
    }
    return {};
}

result<void> target::start_subsystem(const std::string& nqn) {
    auto s = find_subsystem(nqn);
    if (!s) return make_error(-ENOENT, "subsystem " + nqn + " does not exist");
    s->set_state(subsystem_state::active);
    discovery_changed();
    return {};
}

result<void> target::stop_subsystem(const std::string& nqn) {
    auto s = find_subsystem(nqn);
    if (!s) return make_error(-ENOENT, "subsystem " + nqn + " does not exist");
    if (s->is_discovery()) return make_error(-EPERM, "the discovery subsystem cannot be stopped");
    s->set_state(subsystem_state::inactive);
    for (auto& c : s->controllers()) c->destroy("subsystem stopped");
    discovery_changed();
    return {};
}

namespace {
void copy_field(char* dst, size_t cap, const std::string& s) {
    std::memset(dst, 0, cap);
    // At most cap - 1 bytes into a zeroed field: the NUL stays.
    std::memcpy(dst, s.data(),  // NOLINT(bugprone-not-null-terminated-result)
                std::min(cap - 1, s.size()));
}

spec::discovery_log_entry make_entry(const std::string& nqn, uint8_t subtype, const transport_id& t,
                                     uint16_t portid, listener_security sec) {
    spec::discovery_log_entry e{};
    e.trtype = trtype_code(t.trtype);
    e.adrfam = adrfam_code(t.adrfam);
    e.subtype = subtype;
    // RDMA, as Linux nvmet: secure channel not specified (RDMA has none to offer).
    e.treq = static_cast<uint8_t>((t.trtype == "RDMA" ? spec::treq::secure_channel_not_specified
                                                      : spec::treq::secure_channel_not_required) |
                                  spec::treq::sq_flow_control_disable_supported);
    e.portid = portid;
    e.cntlid = spec::cntlid_dynamic;
    e.asqsz = 128;
    copy_field(e.trsvcid, sizeof(e.trsvcid), t.trsvcid);
    copy_field(e.subnqn, sizeof(e.subnqn), nqn);
    copy_field(e.traddr, sizeof(e.traddr), t.traddr);
    if (t.trtype == "TCP") e.tsas[0] = spec::tcp_sectype::none;
    if (sec == listener_security::tls) {
        // A TLS listener: TLS 1.3 required (NVMe/TCP TSAS SECTYPE, TREQ bits 1:0).
        e.treq = static_cast<uint8_t>(spec::treq::secure_channel_required |
                                      spec::treq::sq_flow_control_disable_supported);
        e.tsas[0] = spec::tcp_sectype::tls13;
    } else if (sec == listener_security::concat) {
        // TLS 1.3, "not required": Linux nvmet's port for secure channel
        // concatenation, and what makes libnvme connect with --concat.
        e.tsas[0] = spec::tcp_sectype::tls13;
    }
    if (t.trtype == "RDMA") {
        // Reliable connected QPs set up through the RDMA CM, any provider.
        spec::rdma::tsas r{};
        r.qptype = spec::rdma::qptype::reliable_connected;
        r.prtype = spec::rdma::prtype::not_specified;
        r.cms = spec::rdma::cms::rdma_cm;
        std::memcpy(e.tsas, &r, sizeof(r));
    }
    return e;
}
}  // namespace

std::vector<spec::discovery_log_entry> target::discovery_log(const std::string& hostnqn,
                                                             const transport_id& via) {
    // Port IDs are stable per distinct address: the index in first-seen order.
    std::vector<transport_id> ports;
    auto portid = [&](const transport_id& t) {
        auto it = std::find(ports.begin(), ports.end(), t);
        if (it == ports.end()) {
            ports.push_back(t);
            return static_cast<uint16_t>(ports.size() - 1);
        }
        return static_cast<uint16_t>(it - ports.begin());
    };
    std::vector<spec::discovery_log_entry> out;
    for (auto& s : subsystems()) {
        if (s->is_discovery()) continue;
        if (s->state() != subsystem_state::active || !s->host_allowed(hostnqn)) continue;
        for (auto& l : s->listeners())
            out.push_back(
                make_entry(s->nqn, spec::subtype::nvme, l, portid(l), s->listener_security_of(l)));
    }
    // The discovery controller describes itself on the address it was reached on.
    out.push_back(make_entry(spec::discovery_nqn, spec::subtype::discovery_current, via,
                             portid(via), address_security(via)));
    return out;
}

void target::discovery_changed() {
    genctr_.fetch_add(1);
    for (auto& c : discovery_->controllers()) {
        std::weak_ptr<controller> w = c;
        c->admin_reactor->post([w] {
            if (auto c = w.lock()) {
                c->raise_event(spec::aer::type_notice, spec::aer::notice_discovery_log_changed,
                               spec::lid::discovery);
            }
        });
    }
}

result<void> target::set_gateway_group(std::shared_ptr<ha::gateway_group> g) {
    std::lock_guard lk(mtx_);
    if (gateway_group_) {
        return make_error(
            -EEXIST, "this target is already in gateway group " + gateway_group_->options().name);
    }
    gateway_group_ = std::move(g);
    return {};
}

std::shared_ptr<ha::gateway_group> target::gateway_group() {
    std::lock_guard lk(mtx_);
    return gateway_group_;
}

std::shared_ptr<ha::gateway_group> target::take_gateway_group() {
    std::lock_guard lk(mtx_);
    return std::move(gateway_group_);
}

void target::shutdown() {
    // Leaving takes the lease loop's thread down, which calls back into
    // this target: not under mtx_.
    take_gateway_group().reset();
    std::vector<std::shared_ptr<subsystem>> subs;
    {
        std::lock_guard lk(mtx_);
        if (shut_down_) return;
        shut_down_ = true;
        for (auto& [_, s] : subsystems_) subs.push_back(s);
    }
    for (auto& s : subs) {
        for (auto& c : s->controllers()) c->destroy("target shutdown");
    }
    for (auto& t : transports()) t->shutdown();
}

}  // namespace nvmf
