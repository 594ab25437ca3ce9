// Method handlers, grouped by file (bdev_methods.cpp, nvmf_methods.cpp,
// methods.cpp), and the JSON shapes they share with save_config.
#pragma once

#include <memory>

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
result<json> bdev_get_bdevs(context& ctx, const json& p);
result<json> bdev_wait_for_examine(context& ctx, const json& p);

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
result<json> nvmf_subsystem_add_host(context& ctx, const json& p);
result<json> nvmf_subsystem_remove_host(context& ctx, const json& p);
result<json> nvmf_subsystem_allow_any_host(context& ctx, const json& p);
result<json> nvmf_subsystem_get_controllers(context& ctx, const json& p);
result<json> nvmf_subsystem_get_qpairs(context& ctx, const json& p);
result<json> nvmf_get_stats(context& ctx, const json& p);

// sock_* (sock_methods.cpp): SPDK's "ssl" options for TLS listeners.
result<json> sock_impl_set_options(context& ctx, const json& p);
result<json> sock_impl_get_options(context& ctx, const json& p);
result<json> sock_set_default_impl(context& ctx, const json& p);
json sock_config_entries(target& tgt);  // save_config "sock" section

// keyring_* (keyring_interim.cpp, until the keyring lands).
result<json> keyring_file_add_key(context& ctx, const json& p);
result<json> keyring_file_remove_key(context& ctx, const json& p);
result<json> keyring_get_keys(context& ctx, const json& p);
json keyring_config_entries();  // save_config "keyring" section

// Shapes.
json bdev_to_json(const bdev::block_device& dev);
// The save_config entry that recreates dev, or null for a bdev type that has none.
json bdev_config_entry(const bdev::block_device& dev);
json file_bdev_config_entry(const bdev::block_device& dev);  // uring and aio
json trid_to_json(const transport_id& t);
json subsystem_to_json(const subsystem& s);
json ns_to_json(const ns& n);  // nvmf_subsystem_add_ns "namespace" object
// nvmf_subsystem_get_listeners "ana_states": the groups that hold namespaces.
json ana_states_to_json(const subsystem& s, const transport_id& listener);

}  // namespace nvmf::rpc
