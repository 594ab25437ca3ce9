// A subsystem: an NQN with its namespaces, allowed hosts, listeners it may
// be reached on, and its controllers. Configuration is changed on the
// control path under mtx; I/O queues see namespaces through ns_table
// snapshots and the generation counter.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "keyring/keyring.hpp"
#include "nvmf/ana.hpp"
#include "nvmf/generated_psks.hpp"
#include "nvmf/io_metrics.hpp"
#include "nvmf/listener_security.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/transport_id.hpp"
#include "util/result.hpp"

namespace nvmf {
namespace keyring {
struct host_psk;
}

class controller;
class target;

enum class subsystem_type { nvme, discovery };
enum class subsystem_state { inactive, active, paused };
const char* to_string(subsystem_state s);

struct subsystem_params {
    std::string serial_number = "00000000000000000000";
    std::string model_number = "nvmf-target";
    uint32_t max_namespaces = 32;
    bool allow_any_host = false;
    uint16_t min_cntlid = 1;
    uint16_t max_cntlid = 0xffef;
    bool ana_reporting = false;
    // SPDK's Dataset Management Range Size Limit (logical blocks) and Write
    // Zeroes Size Limit (2^wzsl pages), with SPDK's defaults. Reported in the
    // NVM Command Set's Identify Controller (CNS 06h), as SPDK does; hosts
    // keep within them, commands beyond them are not refused.
    uint32_t dmrsl = 2097152;
    uint8_t wzsl = 12;
};

struct ns_params {
    uint32_t nsid = 0;  // 0: lowest free
    std::optional<bdev::uuid_t> uuid;
    std::optional<std::array<uint8_t, 16>> nguid;
    std::optional<std::array<uint8_t, 8>> eui64;
    uint32_t anagrpid = 0;
    // PTPL file (SPDK's ptpl_file): reservations persist through power loss
    // there; loaded now, an unreadable or corrupt one refuses the namespace.
    std::string ptpl_file;
    // SPDK's no_auto_visible: the namespace is active only for the hosts
    // added to it (add_ns_host); for every other controller it is inactive.
    bool no_auto_visible = false;
};

// The keys an allowed host is configured with (nvmf_subsystem_add_host
// --dhchap-key/--dhchap-ctrlr-key, nvmf_subsystem_set_keys), from the keyring.
// A host with a DH-HMAC-CHAP key must authenticate every queue.
struct host_keys {
    keyring::key_ptr dhchap_key;
    keyring::key_ptr dhchap_ctrlr_key;  // only with dhchap_key: two-way authentication
};

// Checks an NQN per Base spec 4.5: "nqn.yyyy-mm.reverse-domain:..." or
// "nqn.2014-08.org.nvmexpress:uuid:<uuid>", at most 223 bytes.
result<void> validate_nqn(const std::string& nqn);

class subsystem : public std::enable_shared_from_this<subsystem> {
public:
    subsystem(target& tgt, std::string nqn, subsystem_type type, subsystem_params params);

    target& tgt;
    const std::string nqn;
    const subsystem_type type;

    bool is_discovery() const { return type == subsystem_type::discovery; }

    // Everything below takes mtx itself.
    subsystem_params params() const;
    void set_params(const subsystem_params& p);
    subsystem_state state() const;
    void set_state(subsystem_state s);

    result<uint32_t> add_ns(std::shared_ptr<bdev::block_device> dev, const ns_params& p);
    result<void> remove_ns(uint32_t nsid);
    std::shared_ptr<const ns_table> ns_snapshot() const;
    // The metrics endpoint's I/O counters of the commands of hostnqn's
    // controllers (made on first use, kept while the subsystem lives, so a
    // host that reconnects keeps counting up), and all of them for a scrape.
    static constexpr size_t max_metrics_hosts = 128;
    std::shared_ptr<io_metrics> host_metrics(const std::string& hostnqn);
    std::map<std::string, std::shared_ptr<const io_metrics>> all_host_metrics() const;
    // Namespace masking (SPDK's nvmf_ns_add_host / nvmf_ns_remove_host):
    // makes a no_auto_visible namespace active, or inactive again, for the
    // controllers of hostnqn. Adding a host twice or removing one not added
    // does nothing. -EINVAL: bad NQN or NSID out of range; -ENOENT: NSID not
    // active; -EPERM: the namespace is visible to every host. Callers then
    // announce_ns_change with the table from before.
    result<void> add_ns_host(uint32_t nsid, const std::string& hostnqn);
    result<void> remove_ns_host(uint32_t nsid, const std::string& hostnqn);
    // The hosts a no_auto_visible namespace is active for (empty otherwise).
    ns_hosts ns_hosts_of(uint32_t nsid) const;
    // The Namespace Attribute Changed event and Changed Namespace List entry
    // for nsid, to each live controller whose view of it differs from
    // `before` (ns_view_changed), on its admin reactor.
    void announce_ns_change(uint32_t nsid, const ns_table& before);
    // The same event for a namespace whose attributes changed in place (its
    // bdev grew: bdev_rbd_resize), to each live controller that sees it.
    void announce_ns_resized(uint32_t nsid);
    // Publishes a namespace's reservation state to the I/O queues (a new
    // table; they pick it up at their next command). Nothing when n is no
    // longer in the table. Called under n's reservation mutex.
    void publish_resv(const std::shared_ptr<ns>& n, std::shared_ptr<const resv_state> s);
    uint64_t ns_generation() const { return ns_gen_.load(std::memory_order_acquire); }

    result<void> add_host(const std::string& hostnqn, host_keys keys = {});
    // Replaces a host's keys; queues already connected stay, the next
    // (re-)authentication uses the new ones. -ENOENT for a host not added.
    result<void> set_host_keys(const std::string& hostnqn, host_keys keys);
    host_keys keys_of(const std::string& hostnqn) const;
    result<void> remove_host(const std::string& hostnqn);
    std::set<std::string> hosts() const;
    void set_allow_any_host(bool allow);
    bool host_allowed(const std::string& hostnqn) const;
    // The TLS PSK of an allowed host (nvmf_subsystem_add_host --psk); it goes
    // with the host (remove_host drops it). Null: none.
    void set_host_psk(const std::string& hostnqn, std::shared_ptr<const keyring::host_psk> psk);
    std::shared_ptr<const keyring::host_psk> host_psk(const std::string& hostnqn) const;

    // A listener starts with every ANA group in `initial`. A secure channel
    // listener takes only TLS connections (NVMe/TCP); a secure_concat one
    // also plain admin queues that generate their TLS PSK.
    result<void> add_listener(const transport_id& trid, ana_state initial = ana_state::optimized,
                              listener_security sec = listener_security::plain);
    result<void> remove_listener(const transport_id& trid);
    std::vector<transport_id> listeners() const;
    bool listener_allowed(const transport_id& trid) const;
    // Whether trid is a listener of this subsystem that takes TLS.
    bool listener_secure(const transport_id& trid) const;
    // The kind of listener trid is (plain when it is none).
    listener_security listener_security_of(const transport_id& trid) const;
    // Whether any listener of this subsystem takes TLS: where a PSK
    // generated by secure channel concatenation can be used.
    bool takes_tls() const;

    // TLS PSKs generated by secure channel concatenation, by host. remove_host
    // and set_host_keys drop a host's.
    generated_psks& generated() { return generated_; }

    // ANA. Groups are 1..anagrpmax() (ANAGRPMAX = NANAGRPID = max_namespaces).
    uint32_t anagrpmax() const;
    // The states a controller created on trid reports; null when trid is not
    // a listener of this subsystem.
    std::shared_ptr<const ana_states> listener_ana(const transport_id& trid) const;
    // Sets the state of one group (anagrpid 1..anagrpmax) or of every group
    // (0) on a listener. Returns whether anything changed; the ANA change
    // count moves when it did.
    result<bool> set_ana_state(const transport_id& trid, uint32_t anagrpid, ana_state s);
    // CHGCNT of the ANA log page: bumped by every change of a state or of
    // the groups' namespaces.
    uint64_t ana_change_count() const { return ana_chgcnt_.load(std::memory_order_relaxed); }

    // Controllers. The cntlid allocator cycles through [min_cntlid, max_cntlid].
    result<uint16_t> allocate_cntlid();
    void add_controller(const std::shared_ptr<controller>& c);
    void remove_controller(uint16_t cntlid);
    std::shared_ptr<controller> find_controller(uint16_t cntlid) const;
    std::vector<std::shared_ptr<controller>> controllers() const;

    // Refreshes q's namespace snapshot when the table changed. Reactor thread.
    // With no_auto_visible namespaces the snapshot is the view of q's host
    // (those hidden from it are inactive), built once per table change; the
    // usual table, with none, is shared as it is.
    template <typename Q>
    const ns_table& ns_for(Q& q) const {
        const uint64_t gen = ns_generation();
        if (q.ns_cache_gen != gen) {
            auto t = ns_snapshot();
            if (t->masked && q.ctrlr) t = t->view_for(q.ctrlr->hostnqn);
            q.ns_cache = std::move(t);
            q.ns_cache_gen = gen;
        }
        return *q.ns_cache;
    }

private:
    result<void> set_ns_host(uint32_t nsid, const std::string& hostnqn, bool visible);

    mutable std::mutex mtx_;
    subsystem_params params_;
    subsystem_state state_ = subsystem_state::inactive;
    std::shared_ptr<const ns_table> ns_;
    std::atomic<uint64_t> ns_gen_{0};
    std::set<std::string> hosts_;
    std::map<std::string, host_keys> host_keys_;  // hosts that have keys
    std::map<std::string, std::shared_ptr<const keyring::host_psk>> host_psks_;
    std::map<std::string, std::shared_ptr<io_metrics>> host_metrics_;
    struct listener {
        transport_id trid;
        std::shared_ptr<ana_states> ana;
        listener_security sec = listener_security::plain;
    };
    std::vector<listener> listeners_;
    std::atomic<uint64_t> ana_chgcnt_{0};
    std::map<uint16_t, std::weak_ptr<controller>> ctrlrs_;
    generated_psks generated_;
    uint16_t next_cntlid_ = 1;
};

}  // namespace nvmf
