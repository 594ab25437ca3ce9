// Method handlers, grouped by file (bdev_methods.cpp, bdev_file_methods.cpp,
// nvmf_methods.cpp, framework_methods.cpp, spdk_options_methods.cpp), and the
// JSON shapes they share with save_config.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "bdev/bdev.hpp"
#include "nvmf/subsystem.hpp"
#include "nvmf/transport_id.hpp"
#include "rpc/methods.hpp"

namespace nvmf::rpc {

// bdev_*
result<json> bdev_malloc_create(context& ctx, const json& p);
result<json> bdev_null_create(context& ctx, const json& p);
result<json> bdev_malloc_delete(context& ctx, const json& p);
result<json> bdev_null_delete(context& ctx, const json& p);
result<json> bdev_uring_create(context& ctx, const json& p);
result<json> bdev_uring_delete(context& ctx, const json& p);
result<json> bdev_aio_create(context& ctx, const json& p);
result<json> bdev_aio_delete(context& ctx, const json& p);
result<json> bdev_rbd_register_cluster(context& ctx, const json& p);
result<json> bdev_rbd_unregister_cluster(context& ctx, const json& p);
result<json> bdev_rbd_get_clusters_info(context& ctx, const json& p);
result<json> bdev_rbd_create(context& ctx, const json& p);
result<json> bdev_rbd_delete(context& ctx, const json& p);
result<json> bdev_rbd_resize(context& ctx, const json& p);
result<json> gateway_group_join(context& ctx, const json& p);
result<json> gateway_group_leave(context& ctx, const json& p);
result<json> gateway_group_get_info(context& ctx, const json& p);
result<json> bdev_get_bdevs(context& ctx, const json& p);
// Every bdev_*_delete: the bdev named by "name", when is_kind says it is one
// of the method's ("a malloc bdev", ...); -ENODEV otherwise, -EBUSY in use.
result<json> delete_bdev(context& ctx, const json& p,
                         const std::function<bool(const bdev::block_device&)>& is_kind,
                         const std::string& kind);
result<json> bdev_wait_for_examine(context& ctx, const json& p);
result<json> bdev_delay_create(context& ctx, const json& p);
result<json> bdev_delay_delete(context& ctx, const json& p);
result<json> bdev_delay_update_latency(context& ctx, const json& p);

// keyring_*
result<json> keyring_file_add_key(context& ctx, const json& p);
result<json> keyring_file_remove_key(context& ctx, const json& p);
result<json> keyring_get_keys(context& ctx, const json& p);
// The "keyring" subsystem of save_config: names and paths, never key material.
json keyring_config(target& tgt);

// nvmf_*
result<json> nvmf_create_transport(context& ctx, const json& p);
result<json> nvmf_get_transports(context& ctx, const json& p);
result<json> nvmf_create_subsystem(context& ctx, const json& p);
result<json> nvmf_delete_subsystem(context& ctx, const json& p);
result<json> nvmf_get_subsystems(context& ctx, const json& p);
result<json> nvmf_subsystem_add_listener(context& ctx, const json& p);
result<json> nvmf_subsystem_remove_listener(context& ctx, const json& p);
result<json> nvmf_subsystem_get_listeners(context& ctx, const json& p);
result<json> nvmf_subsystem_listener_set_ana_state(context& ctx, const json& p);
result<json> nvmf_subsystem_add_ns(context& ctx, const json& p);
result<json> nvmf_subsystem_remove_ns(context& ctx, const json& p);
result<json> nvmf_ns_add_host(context& ctx, const json& p);
result<json> nvmf_ns_remove_host(context& ctx, const json& p);
result<json> nvmf_subsystem_add_host(context& ctx, const json& p);
result<json> nvmf_subsystem_remove_host(context& ctx, const json& p);
result<json> nvmf_subsystem_allow_any_host(context& ctx, const json& p);
result<json> nvmf_subsystem_get_controllers(context& ctx, const json& p);
result<json> nvmf_subsystem_get_qpairs(context& ctx, const json& p);
result<json> nvmf_get_stats(context& ctx, const json& p);
result<json> nvmf_subsystem_set_keys(context& ctx, const json& p);

// DH-HMAC-CHAP host keys (auth_methods.cpp): reads "dhchap_key" and
// "dhchap_ctrlr_key" (keyring names of DHHC-1 secrets) from p.
class params;
result<host_keys> read_host_keys(context& ctx, params& p);
// Adds the keys' names to a host object (nvmf_get_subsystems, save_config).
void host_keys_to_json(const host_keys& k, json& out);
// dhchap_digests / dhchap_dhgroups of nvmf_set_config, checked; applied to
// the target when apply is set (auth_methods.cpp).
void dhchap_settings(context& ctx, params& p, bool apply);
// The nvmf_set_config entry save_config writes first in the nvmf section.
json nvmf_config_entry(target& tgt);
result<json> nvmf_set_max_subsystems(context& ctx, const json& p);

// rpc_get_methods, spdk_get_version, framework_*, save_config
result<json> rpc_get_methods(context& ctx, const json& p);
result<json> spdk_get_version(context& ctx, const json& p);
result<json> framework_start_init(context& ctx, const json& p);
result<json> framework_wait_init(context& ctx, const json& p);
result<json> framework_get_subsystems(context& ctx, const json& p);
result<json> framework_get_config(context& ctx, const json& p);
result<json> framework_set_scheduler(context& ctx, const json& p);
result<json> save_config_method(context& ctx, const json& p);
result<json> framework_get_reactors(context& ctx, const json& p);

// SPDK names its poll groups (and their threads) after their index.
inline std::string poll_group_name(unsigned index) {
    char name[48];
    std::snprintf(name, sizeof(name), "nvmf_tgt_poll_group_%03u", index);
    return name;
}

// log_methods.cpp: SPDK's log_* methods.
result<json> log_set_level(context& ctx, const json& p);
result<json> log_get_level(context& ctx, const json& p);
result<json> log_set_print_level(context& ctx, const json& p);
result<json> log_get_print_level(context& ctx, const json& p);
result<json> log_get_flags(context& ctx, const json& p);

// Options of SPDK libraries and modules this target has no counterpart of:
// their defaults (what SPDK's save_config writes) are accepted, values that
// would ask for something this target does not do are refused
// (spdk_options_methods.cpp, docs/rpc.md).
result<json> iobuf_set_options(context& ctx, const json& p);
result<json> accel_set_options(context& ctx, const json& p);
result<json> bdev_set_options(context& ctx, const json& p);
result<json> bdev_raid_set_options(context& ctx, const json& p);
result<json> bdev_nvme_set_options(context& ctx, const json& p);
result<json> bdev_nvme_set_hotplug(context& ctx, const json& p);
result<json> nvmf_set_config(context& ctx, const json& p);
result<json> nvmf_set_crdt(context& ctx, const json& p);

// framework_get_config arrays of the config subsystems (framework.cpp).
json bdev_subsystem_config(target& tgt);
json nvmf_subsystem_config(target& tgt);

// sock_* (sock_methods.cpp): SPDK's "ssl" options for TLS listeners.
result<json> sock_impl_set_options(context& ctx, const json& p);
result<json> sock_impl_get_options(context& ctx, const json& p);
result<json> sock_set_default_impl(context& ctx, const json& p);
// The "sock" subsystem of save_config: the "ssl" options when not the defaults.
json sock_config(target& tgt);

// Shapes.
// claimer: the bdev layered on dev (registry::claimer), empty if none.
json bdev_to_json(const bdev::block_device& dev, const std::string& claimer = {});
// The save_config entry that recreates dev, or null for a bdev type that has none.
json bdev_config_entry(const bdev::block_device& dev);
json file_bdev_config_entry(const bdev::block_device& dev);  // uring and aio
json rbd_bdev_config_entry(const bdev::block_device& dev);   // null when not rbd
// bdev_rbd_register_cluster calls, which save_config puts before the bdevs.
json rbd_cluster_config(target& tgt);
// The gateway_group_join call that rejoins this target's group (null: none).
json gateway_group_config_entry(target& tgt);
json file_bdev_config_entry(const bdev::block_device& dev);   // uring and aio
json delay_bdev_config_entry(const bdev::block_device& dev);  // null: not a delay bdev
json trid_to_json(const transport_id& t);
json subsystem_to_json(const subsystem& s);
// nvmf_subsystem_add_ns "namespace" object, as save_config writes it.
json ns_to_json(const ns& n, bool ana_reporting);
// nvmf_subsystem_get_listeners "ana_states": the groups that hold namespaces.
json ana_states_to_json(const subsystem& s, const transport_id& listener);

}  // namespace nvmf::rpc
