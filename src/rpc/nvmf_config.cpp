// framework_get_config "nvmf": the method calls that recreate the target's
// transports, subsystems, listeners, hosts, namespaces and ANA states, with
// the parameters SPDK's own save_config writes (lib/nvmf/nvmf.c), so that
// either target loads what the other saved.
#include <algorithm>

#include "ha/gateway_group.hpp"
#include "keyring/tls_psk.hpp"
#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "transport/transport.hpp"

namespace nvmf::rpc {

json nvmf_subsystem_config(target& tgt) {
    json nvmf = json::array();
    auto entry = [&](const char* m, json p) {
        nvmf.push_back({{"method", m}, {"params", std::move(p)}});
    };
    // First, as SPDK writes it; allowed at run time here, so it loads live.
    nvmf.push_back(nvmf_config_entry(tgt));
    // A STARTUP method: written only when it says something, so that most
    // saved configs load into a running target without skipped entries.
    if (const uint32_t max = tgt.max_subsystems(); max != target::default_max_subsystems) {
        entry("nvmf_set_max_subsystems", {{"max_subsystems", max}});
    }
    std::vector<uint32_t> group_ids;
    if (auto g = tgt.gateway_group()) group_ids = g->options().ana_groups;
    auto managed = [&](uint32_t g) {
        return std::find(group_ids.begin(), group_ids.end(), g) != group_ids.end();
    };
    for (auto* t : tgt.transports()) entry("nvmf_create_transport", t->options().to_json());
    for (auto& s : tgt.subsystems()) {
        if (!s->is_discovery()) {
            const auto p = s->params();
            entry("nvmf_create_subsystem", {{"nqn", s->nqn},
                                            {"serial_number", p.serial_number},
                                            {"model_number", p.model_number},
                                            {"allow_any_host", p.allow_any_host},
                                            {"max_namespaces", p.max_namespaces},
                                            {"min_cntlid", p.min_cntlid},
                                            {"max_cntlid", p.max_cntlid},
                                            {"ana_reporting", p.ana_reporting},
                                            {"dmrsl", p.dmrsl},
                                            {"wzsl", p.wzsl},
                                            {"passthrough", false},
                                            {"enable_nssr", false}});
        }
        for (auto& l : s->listeners()) {
            const listener_security sec = s->listener_security_of(l);
            json p{{"nqn", s->nqn},
                   {"listen_address", trid_to_json(l)},
                   {"secure_channel", takes_tls(sec)}};
            // Ours only, so written only where it is set: SPDK loads the rest.
            if (sec == listener_security::concat) p["secure_concat"] = true;
            entry("nvmf_subsystem_add_listener", std::move(p));
        }
        if (s->is_discovery()) continue;
        for (auto& h : s->hosts()) {
            json p{{"nqn", s->nqn}, {"host", h}};
            host_keys_to_json(s->keys_of(h), p);  // key names, never key material
            if (auto k = s->host_psk(h)) p["psk"] = k->key_name;
            entry("nvmf_subsystem_add_host", std::move(p));
        }
        const bool ana_reporting = s->params().ana_reporting;
        auto table = s->ns_snapshot();
        for (auto& n : table->slots) {
            if (!n) continue;
            json ns = ns_to_json(*n, ana_reporting);
            ns["no_auto_visible"] = n->no_auto_visible;
            if (!n->resv->ptpl_file.empty()) ns["ptpl_file"] = n->resv->ptpl_file;
            entry("nvmf_subsystem_add_ns", {{"nqn", s->nqn}, {"namespace", std::move(ns)}});
        }
        // After the namespaces, as SPDK writes them.
        for (auto& n : table->slots) {
            if (!n) continue;
            for (auto& h : s->ns_hosts_of(n->nsid)) {
                entry("nvmf_ns_add_host", {{"nqn", s->nqn}, {"nsid", n->nsid}, {"host", h}});
            }
        }
        // Listener ANA states that differ from the default (optimized), per
        // group; a gateway group's groups follow their leases instead.
        for (auto& l : s->listeners()) {
            auto ana = s->listener_ana(l);
            for (uint32_t g = 1; ana && g <= ana->groups(); ++g) {
                if (ana->get(g) == ana_state::optimized || managed(g)) continue;
                entry("nvmf_subsystem_listener_set_ana_state",
                      {{"nqn", s->nqn},
                       {"listen_address", trid_to_json(l)},
                       {"ana_state", to_string(ana->get(g))},
                       {"anagrpid", g}});
            }
        }
    }
    // Last: it starts managing the states of listeners made above.
    if (json e = gateway_group_config_entry(tgt); !e.is_null()) nvmf.push_back(std::move(e));
    return nvmf;
}

}  // namespace nvmf::rpc
