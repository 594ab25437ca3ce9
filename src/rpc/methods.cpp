#include "rpc/methods.hpp"

#include <exception>

#include "rpc/handlers.hpp"
#include "rpc/params.hpp"
#include "util/log.hpp"

namespace nvmf::rpc {

namespace {

// SPDK's name and state mask for each method (SPDK_RPC_REGISTER): RUNTIME
// unless marked. STARTUP methods set options that SPDK applies when the
// framework initializes; with --wait-for-rpc they run before
// framework_start_init, like SPDK's.
constexpr method table[] = {
    {"bdev_malloc_create", bdev_malloc_create},
    {"bdev_malloc_delete", bdev_malloc_delete},
    {"bdev_null_create", bdev_null_create},
    {"bdev_null_delete", bdev_null_delete},
    {"bdev_uring_create", bdev_uring_create},
    {"bdev_uring_delete", bdev_uring_delete},
    {"bdev_aio_create", bdev_aio_create},
    {"bdev_aio_delete", bdev_aio_delete},
    {"bdev_rbd_register_cluster", bdev_rbd_register_cluster},
    {"bdev_rbd_unregister_cluster", bdev_rbd_unregister_cluster},
    {"bdev_rbd_get_clusters_info", bdev_rbd_get_clusters_info},
    {"bdev_rbd_create", bdev_rbd_create},
    {"bdev_rbd_delete", bdev_rbd_delete},
    {"bdev_rbd_resize", bdev_rbd_resize},
    {"gateway_group_join", gateway_group_join},
    {"gateway_group_leave", gateway_group_leave},
    {"gateway_group_get_info", gateway_group_get_info},
    {"bdev_get_bdevs", bdev_get_bdevs},
    {"bdev_wait_for_examine", bdev_wait_for_examine},
    {"bdev_delay_create", bdev_delay_create},
    {"bdev_delay_delete", bdev_delay_delete},
    {"bdev_delay_update_latency", bdev_delay_update_latency},
    {"keyring_file_add_key", keyring_file_add_key},
    {"keyring_file_remove_key", keyring_file_remove_key},
    {"keyring_get_keys", keyring_get_keys},
    {"bdev_set_options", bdev_set_options, state_startup},
    {"bdev_raid_set_options", bdev_raid_set_options, state_any},
    {"bdev_nvme_set_options", bdev_nvme_set_options, state_any},
    {"bdev_nvme_set_hotplug", bdev_nvme_set_hotplug},
    // SPDK takes it at start-up only; the DH-HMAC-CHAP sets it holds may
    // change live here (the next authentication uses them).
    {"nvmf_set_config", nvmf_set_config, state_any},
    {"nvmf_set_max_subsystems", nvmf_set_max_subsystems, state_startup},
    {"nvmf_set_crdt", nvmf_set_crdt, state_startup},
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
    {"nvmf_ns_add_host", nvmf_ns_add_host},
    {"nvmf_ns_remove_host", nvmf_ns_remove_host},
    {"nvmf_subsystem_add_host", nvmf_subsystem_add_host},
    {"nvmf_subsystem_remove_host", nvmf_subsystem_remove_host},
    {"nvmf_subsystem_allow_any_host", nvmf_subsystem_allow_any_host},
    {"nvmf_subsystem_get_controllers", nvmf_subsystem_get_controllers},
    {"nvmf_subsystem_get_qpairs", nvmf_subsystem_get_qpairs},
    {"nvmf_get_stats", nvmf_get_stats},
    {"nvmf_subsystem_set_keys", nvmf_subsystem_set_keys},
    {"iobuf_set_options", iobuf_set_options, state_startup},
    {"sock_set_default_impl", sock_set_default_impl, state_startup},
    // SPDK takes both at start-up only; the "ssl" options (TLS listeners) may
    // change live here and apply to the connections that come next.
    {"sock_impl_set_options", sock_impl_set_options, state_any},
    {"sock_impl_get_options", sock_impl_get_options, state_any},
    {"accel_set_options", accel_set_options, state_startup},
    {"framework_set_scheduler", framework_set_scheduler, state_any},
    {"rpc_get_methods", rpc_get_methods, state_any},
    {"spdk_get_version", spdk_get_version, state_any},
    {"framework_start_init", framework_start_init, state_startup},
    {"framework_wait_init", framework_wait_init, state_any},
    {"framework_get_subsystems", framework_get_subsystems},
    {"framework_get_config", framework_get_config},
    {"save_config", save_config_method},
    {"framework_get_reactors", framework_get_reactors},
    {"log_set_level", log_set_level, state_any},
    {"log_get_level", log_get_level, state_any},
    {"log_set_print_level", log_set_print_level, state_any},
    {"log_get_print_level", log_get_print_level, state_any},
    {"log_get_flags", log_get_flags, state_any},
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
    // SPDK's rule and messages (lib/rpc/rpc.c): the current state must be one
    // the method allows.
    const uint8_t now = ctx.state();
    if ((m->states & now) != now) {
        if (now == state_startup) {
            return make_error(err_invalid_state,
                              "Method may only be called after framework is initialized using "
                              "framework_start_init RPC.");
        }
        return make_error(err_invalid_state,
                          "Method may only be called before framework is initialized. Use "
                          "--wait-for-rpc command line parameter and then issue this RPC before "
                          "the framework_start_init RPC.");
    }
    try {
        return m->fn(ctx, params);
    } catch (const std::exception& e) {
        log::error("rpc {}: {}", name, e.what());
        return make_error(err_internal, std::string("Internal error: ") + e.what());
    }
}

json save_config(target& tgt) {
    json subsystems = json::array();
    for (const auto& s : config_subsystems()) {
        subsystems.push_back({{"subsystem", std::string(s.name)}, {"config", s.config(tgt)}});
    }
    return json{{"subsystems", std::move(subsystems)}};
}

}  // namespace nvmf::rpc
