// The gateway group's lease loop (see gateway_group.hpp and
// docs/gateway-group.md). One control thread per group: RADOS lock calls
// block, and reactors must never wait for an OSD.
#include "ha/gateway_group.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "bdev/rbd_cluster.hpp"
#include "nvmf/target.hpp"
#include "util/log.hpp"

namespace nvmf::ha {

namespace {

using clock = std::chrono::steady_clock;
constexpr size_t max_groups = 32;
constexpr size_t max_id = 255;
constexpr uint32_t max_anagrpid = 1024;  // ANAGRPMAX is at most the namespace limit

std::vector<std::string> split_words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::string lease_oid(const gateway_group_options& o, uint32_t anagrpid) {
    return "nvmf_gateway_group." + o.name + ".ana_group." + std::to_string(anagrpid);
}

result<void> check(const gateway_group_options& o) {
    auto printable = [](const std::string& s) {
        return !s.empty() && s.size() <= max_id &&
               std::all_of(s.begin(), s.end(),
                           [](unsigned char c) { return c > 0x20 && c < 0x7f; });
    };
    if (!printable(o.name)) return error{-EINVAL, "'name' must be 1-255 printable characters"};
    if (!printable(o.gateway_id)) {
        return error{-EINVAL, "'gateway_id' must be 1-255 printable characters"};
    }
    if (o.pool_name.empty()) return error{-EINVAL, "'pool_name' must not be empty"};
    if (o.ana_groups.empty() || o.ana_groups.size() > max_groups) {
        return error{-EINVAL, "'ana_groups' must list 1 to 32 ANA group IDs"};
    }
    std::set<uint32_t> seen;
    for (uint32_t g : o.ana_groups) {
        if (g == 0 || g > max_anagrpid) {
            return error{-EINVAL, "ANA group ID " + std::to_string(g) + " is out of range"};
        }
        if (!seen.insert(g).second) {
            return error{-EINVAL, "ANA group " + std::to_string(g) + " is listed twice"};
        }
    }
    if (seen.count(o.home_ana_group) == 0) {
        return error{-EINVAL, "'home_ana_group' must be one of 'ana_groups'"};
    }
    if (o.lease < std::chrono::milliseconds(1000) || o.lease > std::chrono::milliseconds(600000)) {
        return error{-EINVAL, "'lease_ms' must be 1000 to 600000"};
    }
    return {};
}

}  // namespace

gateway_group::gateway_group(target& tgt, std::shared_ptr<bdev::rbd_cluster> cluster,
                             gateway_group_options opts)
    : tgt_(tgt), cluster_(std::move(cluster)), opts_(std::move(opts)) {}

result<std::unique_ptr<gateway_group>> gateway_group::join(
    target& tgt, std::shared_ptr<bdev::rbd_cluster> cluster, gateway_group_options opts) {
    if (auto r = check(opts); !r) return r.err();
    std::unique_ptr<gateway_group> gg(new gateway_group(tgt, std::move(cluster), std::move(opts)));
    const auto& co = bdev::rbd_cluster_opts(*gg->cluster_);
    bdev::rbd_config conf = co.config_param;
    const auto timeout_s = std::to_string(std::max<int64_t>(1, gg->tick().count() / 1000));
    conf.emplace_back("rados_osd_op_timeout", timeout_s);
    conf.emplace_back("rados_mon_op_timeout", timeout_s);
    auto conn = bdev::rados_connection::connect(co.user_id, co.config_file, co.key_file, conf);
    if (!conn) return conn.err();
    gg->lease_conn_ = std::make_unique<bdev::rados_connection>(std::move(*conn));
    auto io_addr = client_address(gg->cluster_->conn.handle());
    if (!io_addr) return io_addr.err();
    auto lease_addr = client_address(gg->lease_conn_->handle());
    if (!lease_addr) return lease_addr.err();
    gg->my_addrs_ = *io_addr + " " + *lease_addr;
    for (uint32_t g : gg->opts_.ana_groups) {
        auto open = [&](const char* lock) {
            return rados_lease::open(gg->lease_conn_->handle(), gg->opts_.pool_name,
                                     lease_oid(gg->opts_, g), lock, gg->opts_.gateway_id,
                                     gg->opts_.lease);
        };
        auto l = open("nvmf_gateway_lease");
        if (!l) return l.err();
        auto p = open("nvmf_gateway_home");
        if (!p) return p.err();
        gg->groups_.push_back(group{g, std::move(*l), std::move(*p)});
    }
    // Nothing is served before a lease is held.
    for (const auto& g : gg->groups_) gg->apply(g.anagrpid, ana_state::inaccessible);
    log::info("gateway group {}: gateway {} (RADOS {}) joined, home ANA group {}, lease {} ms",
              gg->opts_.name, gg->opts_.gateway_id, gg->my_addrs_, gg->opts_.home_ana_group,
              gg->opts_.lease.count());
    gg->loop_ = std::thread([p = gg.get()] { p->run(); });
    gg->renewer_ = std::thread([p = gg.get()] { p->renew_loop(); });
    return gg;
}

gateway_group::~gateway_group() {
    {
        std::lock_guard lk(mtx_);
        stop_ = true;
    }
    cv_.notify_all();
    if (loop_.joinable()) loop_.join();
    if (renewer_.joinable()) renewer_.join();
    for (auto& g : groups_) {
        if (g.present) g.presence.release();
        if (!g.held) continue;
        drop(g, "this gateway leaves the group");
        // owner_addr stays: the next holder fences this client, so nothing
        // still in flight here can land after its writes.
        g.lease.release();
    }
    log::info("gateway group {}: gateway {} left", opts_.name, opts_.gateway_id);
}

bool gateway_group::wait_tick() {
    std::unique_lock lk(mtx_);
    cv_.wait_for(lk, tick(), [this] { return stop_; });
    return !stop_;
}

// Takes over groups nobody holds. Fencing waits for a new OSD map (a second
// or two), which is why renewals have a thread of their own.
void gateway_group::run() {
    do {
        for (auto& g : groups_) {
            if (fenced_) break;
            if (g.anagrpid == opts_.home_ana_group && !g.present) keep_presence(g);
            if (!is_held(g)) step(g);
        }
        // Listeners added since the last round get the groups' states.
        for (auto& g : groups_) {
            std::lock_guard lk(apply_mtx_);
            apply(g.anagrpid, g.held ? ana_state::optimized : ana_state::inaccessible);
        }
    } while (wait_tick());
}

// Only the loop takes presence and only the renewer renews it (present is
// set before the renewer can see it and cleared by it when lost).
void gateway_group::keep_presence(group& g) {
    auto r = g.presence.acquire("");
    if (r) {
        g.present = true;
        return;
    }
    if (r.err().code == -EBUSY) {
        log::warn(
            "gateway group {}: another gateway runs with home ANA group {}: two gateways "
            "with one home, or this gateway's previous run (its lock runs out)",
            opts_.name, g.anagrpid);
    } else {
        log::warn("gateway group {}: {}", opts_.name, r.err().message);
    }
}

bool gateway_group::is_held(const group& g) const {
    std::lock_guard lk(apply_mtx_);
    return g.held;
}

void gateway_group::renew_loop() {
    while (wait_tick()) {
        for (auto& g : groups_) {
            if (g.present && !fenced_ && !g.presence.renew()) g.present = false;
            if (fenced_ || !is_held(g)) continue;
            const auto now = clock::now();
            auto r = g.lease.renew();
            if (r) {
                g.valid_until = now + opts_.lease * 3 / 4;
                continue;
            }
            if (r.err().code == err_blocklisted) {
                log::error(
                    "gateway group {}: this gateway was fenced (blocklisted) by another; "
                    "it serves nothing until restarted",
                    opts_.name);
                fenced_ = true;
                for (auto& o : groups_) drop(o, "fenced");
                break;
            }
            if (r.err().code == -ENOENT || r.err().code == -EBUSY) {
                drop(g, "its lease ran out before it was renewed");
            } else if (clock::now() >= g.valid_until) {
                drop(g, "its lease could not be renewed in time");
            } else {
                log::warn("gateway group {}: renewing ANA group {}: {}", opts_.name, g.anagrpid,
                          r.err().message);
            }
        }
    }
}

bool gateway_group::step(group& g) {
    const auto now = clock::now();
    auto h = g.lease.holder();
    if (!h) {
        log::warn("gateway group {}: ANA group {}: {}", opts_.name, g.anagrpid, h.err().message);
        return false;
    }
    if (h->has_value()) {
        std::lock_guard lk(apply_mtx_);
        g.holder = (*h)->cookie;
        g.seen_held = true;
        g.free_seen = false;
        return false;
    }
    {
        std::lock_guard lk(apply_mtx_);
        g.holder.clear();
    }
    // A group seen held whose lease ran out lost its gateway: take it now.
    // One never seen held is left to its home gateway while that runs, and
    // for two leases after we first see it free, so gateways starting
    // together each get their own.
    if (g.anagrpid != opts_.home_ana_group && !g.seen_held) {
        auto home = g.presence.holder();
        if (!home || home->has_value()) {
            g.free_seen = false;
            return false;
        }
        if (!g.free_seen) {
            g.free_seen = true;
            g.free_since = now;
            return false;
        }
        if (now - g.free_since < 2 * opts_.lease) return false;
    }
    return take(g);
}

bool gateway_group::take(group& g) {
    const auto t0 = clock::now();
    auto last = g.lease.last_owner();
    if (!last) {
        log::warn("gateway group {}: ANA group {}: {}", opts_.name, g.anagrpid, last.err().message);
        return false;
    }
    const auto mine = split_words(my_addrs_);
    std::string fenced;
    for (const auto& a : split_words(*last)) {
        if (std::find(mine.begin(), mine.end(), a) != mine.end() || fenced_addrs_.count(a) != 0) {
            continue;
        }
        // The images' connection waits for the new map: its writes then
        // reach OSDs that already refuse the old holder's.
        if (auto r = fence(cluster_->conn.handle(), a, opts_.blocklist_expire_s); !r) {
            log::warn("gateway group {}: ANA group {}: {}", opts_.name, g.anagrpid,
                      r.err().message);
            return false;
        }
        fenced_addrs_.insert(a);
        fenced += (fenced.empty() ? "" : " ") + a;
    }
    const auto t_lock = clock::now();
    if (auto r = g.lease.acquire(my_addrs_); !r) {
        if (r.err().code != -EBUSY) {
            log::warn("gateway group {}: ANA group {}: {}", opts_.name, g.anagrpid,
                      r.err().message);
        }
        return false;
    }
    g.valid_until = t_lock + opts_.lease * 3 / 4;
    g.seen_held = false;
    g.free_seen = false;
    {
        // Paths first, then what info() reports: once it says held, I/O flows.
        std::lock_guard lk(apply_mtx_);
        apply(g.anagrpid, ana_state::optimized);
        g.held = true;
        g.holder = opts_.gateway_id;
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0).count();
    log::info("gateway group {}: gateway {} holds ANA group {} ({}; {} ms)", opts_.name,
              opts_.gateway_id, g.anagrpid,
              fenced.empty() ? std::string("nothing to fence") : "fenced " + fenced, ms);
    return true;
}

void gateway_group::drop(group& g, const char* why) {
    {
        std::lock_guard lk(apply_mtx_);
        if (!g.held) return;
        g.held = false;
        g.holder.clear();
        apply(g.anagrpid, ana_state::inaccessible);
    }
    log::warn("gateway group {}: gateway {} gives up ANA group {}: {}", opts_.name,
              opts_.gateway_id, g.anagrpid, why);
}

void gateway_group::apply(uint32_t anagrpid, ana_state s) {
    for (const auto& sub : tgt_.subsystems()) {
        if (sub->is_discovery() || !sub->params().ana_reporting) continue;
        if (anagrpid > sub->anagrpmax()) continue;
        for (const auto& trid : sub->listeners()) {
            // Only fails when the subsystem or listener went away meanwhile.
            (void)tgt_.set_ana_state(sub->nqn, trid, anagrpid, s);
        }
    }
}

nlohmann::json gateway_group::info() const {
    std::lock_guard lk(apply_mtx_);
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : groups_) {
        nlohmann::json j{
            {"anagrpid", g.anagrpid},
            {"object", g.lease.oid()},
            {"held", g.held},
            {"home", g.anagrpid == opts_.home_ana_group},
            {"ana_state", to_string(g.held ? ana_state::optimized : ana_state::inaccessible)}};
        if (!g.holder.empty()) j["holder"] = g.holder;
        groups.push_back(std::move(j));
    }
    return {{"name", opts_.name},
            {"gateway_id", opts_.gateway_id},
            {"cluster_name", opts_.cluster_name},
            {"pool_name", opts_.pool_name},
            {"home_ana_group", opts_.home_ana_group},
            {"lease_ms", opts_.lease.count()},
            {"rados_addrs", split_words(my_addrs_)},
            {"fenced", fenced_.load()},
            {"ana_groups", std::move(groups)}};
}

}  // namespace nvmf::ha
