#include "rpc/methods.hpp"

#include <cstdio>
#include <exception>

#include "keyring/tls_psk.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"
#include "util/log.hpp"

namespace nvmf::rpc {

namespace {

result<json> rpc_get_methods(context&, const json& j) {
    params p(j);
    bool b = false;
    p.boolean("current", b, false);  // every method is allowed at every stage here
    p.boolean("include_aliases", b, false);
    if (auto r = p.finish(); !r) return r.err();
    json out = json::array();
    for (const auto& m : method_table()) out.push_back(std::string(m.name));
    return out;
}

result<json> spdk_get_version(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    static const std::string version = NVMF_VERSION;
    unsigned major = 0, minor = 0, patch = 0;
    std::sscanf(version.c_str(), "%u.%u.%u", &major, &minor, &patch);
    return json{{"version", "nvmf-target v" + version},
                {"fields", {{"major", major}, {"minor", minor}, {"patch", patch}, {"suffix", ""}}}};
}

result<json> save_config_method(context& ctx, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    return save_config(ctx.tgt);
}

result<json> framework_start_init(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    return json(true);  // the framework is up before any config is applied
}

constexpr method table[] = {
    {"bdev_malloc_create", bdev_malloc_create},
    {"bdev_malloc_delete", bdev_malloc_delete},
    {"bdev_null_create", bdev_null_create},
    {"bdev_null_delete", bdev_null_delete},
    {"bdev_uring_create", bdev_uring_create},
    {"bdev_uring_delete", bdev_uring_delete},
    {"bdev_aio_create", bdev_aio_create},
    {"bdev_aio_delete", bdev_aio_delete},
    {"bdev_get_bdevs", bdev_get_bdevs},
    {"bdev_wait_for_examine", bdev_wait_for_examine},
    {"nvmf_create_transport", nvmf_create_transport},
    {"nvmf_get_transports", nvmf_get_transports},
    {"nvmf_create_subsystem", nvmf_create_subsystem},
    {"nvmf_delete_subsystem", nvmf_delete_subsystem},
    {"nvmf_get_subsystems", nvmf_get_subsystems},
    {"nvmf_subsystem_add_listener", nvmf_subsystem_add_listener},
    {"nvmf_subsystem_remove_listener", nvmf_subsystem_remove_listener},
    {"nvmf_subsystem_get_listeners", nvmf_subsystem_get_listeners},
    {"nvmf_subsystem_listener_set_ana_state", nvmf_subsystem_listener_set_ana_state},
    {"nvmf_subsystem_add_ns", nvmf_subsystem_add_ns},
    {"nvmf_subsystem_remove_ns", nvmf_subsystem_remove_ns},
    {"nvmf_subsystem_add_host", nvmf_subsystem_add_host},
    {"nvmf_subsystem_remove_host", nvmf_subsystem_remove_host},
    {"nvmf_subsystem_allow_any_host", nvmf_subsystem_allow_any_host},
    {"nvmf_subsystem_get_controllers", nvmf_subsystem_get_controllers},
    {"nvmf_subsystem_get_qpairs", nvmf_subsystem_get_qpairs},
    {"nvmf_get_stats", nvmf_get_stats},
    {"rpc_get_methods", rpc_get_methods},
    {"spdk_get_version", spdk_get_version},
    {"save_config", save_config_method},
    {"framework_start_init", framework_start_init},
    {"sock_impl_set_options", sock_impl_set_options},
    {"sock_impl_get_options", sock_impl_get_options},
    {"sock_set_default_impl", sock_set_default_impl},
    // Interim (keyring_interim.cpp): replaced by the keyring's own at merge.
    {"keyring_file_add_key", keyring_file_add_key},
    {"keyring_file_remove_key", keyring_file_remove_key},
    {"keyring_get_keys", keyring_get_keys},
};

}  // namespace

std::span<const method> method_table() { return table; }

const method* find_method(std::string_view name) {
    for (const auto& m : table) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

result<json> call(context& ctx, std::string_view name, const json& params) {
    const method* m = find_method(name);
    if (!m) return make_error(err_method_not_found, "Method not found: " + std::string(name));
    try {
        return m->fn(ctx, params);
    } catch (const std::exception& e) {
        log::error("rpc {}: {}", name, e.what());
        return make_error(err_internal, std::string("Internal error: ") + e.what());
    }
}

json save_config(target& tgt) {
    json bdevs = json::array();
    for (auto& dev : tgt.bdevs.list()) {
        json e = bdev_config_entry(*dev);
        if (e.is_null()) {
            log::warn("save_config: bdev {} ({}) cannot be saved", dev->name(),
                      dev->product_name());
            continue;
        }
        bdevs.push_back(std::move(e));
    }

    json nvmf = json::array();
    auto entry = [&](const char* m, json p) {
        nvmf.push_back({{"method", m}, {"params", std::move(p)}});
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
                                            {"ana_reporting", p.ana_reporting}});
        }
        for (auto& l : s->listeners()) {
            json p = {{"nqn", s->nqn}, {"listen_address", trid_to_json(l)}};
            if (s->listener_secure(l)) p["secure_channel"] = true;
            entry("nvmf_subsystem_add_listener", std::move(p));
        }
        if (s->is_discovery()) continue;
        for (auto& h : s->hosts()) {
            json p = {{"nqn", s->nqn}, {"host", h}};
            if (auto k = s->host_psk(h)) p["psk"] = k->key_name;
            entry("nvmf_subsystem_add_host", std::move(p));
        }
        auto table = s->ns_snapshot();
        for (auto& n : table->slots) {
            if (n) entry("nvmf_subsystem_add_ns", {{"nqn", s->nqn}, {"namespace", ns_to_json(*n)}});
        }
        // Listener ANA states that differ from the default (optimized), per group.
        for (auto& l : s->listeners()) {
            auto ana = s->listener_ana(l);
            for (uint32_t g = 1; ana && g <= ana->groups(); ++g) {
                if (ana->get(g) == ana_state::optimized) continue;
                entry("nvmf_subsystem_listener_set_ana_state",
                      {{"nqn", s->nqn},
                       {"listen_address", trid_to_json(l)},
                       {"ana_state", to_string(ana->get(g))},
                       {"anagrpid", g}});
            }
        }
    }
    json sections = json::array();
    // Keys and socket options before the listeners and hosts that use them.
    if (json keys = keyring_config_entries(); !keys.empty()) {
        sections.push_back({{"subsystem", "keyring"}, {"config", std::move(keys)}});
    }
    if (json sock = sock_config_entries(tgt); !sock.empty()) {
        sections.push_back({{"subsystem", "sock"}, {"config", std::move(sock)}});
    }
    sections.push_back({{"subsystem", "bdev"}, {"config", bdevs}});
    sections.push_back({{"subsystem", "nvmf"}, {"config", nvmf}});
    return json{{"subsystems", std::move(sections)}};
}

}  // namespace nvmf::rpc
