// The public, asynchronous C++ API for embedding an NVMe-oF target in a
// program. A target_handle owns the reactors and the target. Every operation
// runs on the handle's control thread and reports through its callback, which
// is always invoked on that thread (never the caller's, never a reactor).
// Operations run in the order they were issued. Each has a std::future form.
//
// The usual flow (examples/embed_target.cpp):
//   create_transport(opts) -> add_transport(t) -> create_subsystem(nqn)
//   -> create_malloc_bdev(name) -> add_namespace(nqn, name) -> add_listener(nqn, trid)
//   -> listen(trid) -> start_subsystem(nqn); undo with the remove/stop calls.
//
// (Named api.hpp, not target.hpp: include/ is searched before src/, so a public
// nvmf/target.hpp would hide the core's src/nvmf/target.hpp.)
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "nvmf/subsystem.hpp"
#include "nvmf/transport_id.hpp"
#include "transport/transport.hpp"
#include "util/result.hpp"

namespace nvmf {
class target;
class reactor_group;
}  // namespace nvmf

namespace nvmf::api {

struct target_options {
    // Cores for the reactors: "0x3", "3", "[0,2-3]". Empty: one unpinned reactor.
    std::string cpumask;
};

template <typename T>
using callback = std::function<void(result<T>)>;

using transport_ptr = std::unique_ptr<nvmf::transport>;

class target_handle {
public:
    // Starts the reactors and the control thread.
    static result<std::unique_ptr<target_handle>> create(const target_options& opts = {});
    // Shuts down (closes sockets, stops reactors) if shutdown() was not called.
    ~target_handle();
    target_handle(const target_handle&) = delete;
    target_handle& operator=(const target_handle&) = delete;

    // Transports. create_transport builds one from options (not yet in use);
    // add_transport gives it to the target. A transport can be added once.
    void create_transport(const transport_options& opts, callback<transport_ptr> cb);
    void add_transport(transport_ptr t, callback<void> cb);

    // Subsystems.
    void create_subsystem(const std::string& nqn, const subsystem_params& params,
                          callback<void> cb);
    void delete_subsystem(const std::string& nqn, callback<void> cb);
    void start_subsystem(const std::string& nqn, callback<void> cb);
    void stop_subsystem(const std::string& nqn, callback<void> cb);
    void add_host(const std::string& nqn, const std::string& hostnqn, callback<void> cb);
    void remove_host(const std::string& nqn, const std::string& hostnqn, callback<void> cb);
    void allow_any_host(const std::string& nqn, bool allow, callback<void> cb);

    // Block devices and namespaces. nsid 0 takes the lowest free NSID; the
    // callback receives the NSID used.
    void create_malloc_bdev(const std::string& name, uint64_t num_blocks, uint32_t block_size,
                            callback<void> cb);
    void create_null_bdev(const std::string& name, uint64_t num_blocks, uint32_t block_size,
                          callback<void> cb);
    void delete_bdev(const std::string& name, callback<void> cb);
    void add_namespace(const std::string& nqn, const std::string& bdev_name, uint32_t nsid,
                       callback<uint32_t> cb);
    void remove_namespace(const std::string& nqn, uint32_t nsid, callback<void> cb);
    // Namespace masking (SPDK's --no-auto-visible, nvmf_ns_add_host,
    // nvmf_ns_remove_host): a masked namespace is active only for the
    // controllers of the hosts added to it; each controller whose view
    // changes gets the Namespace Attribute Changed event.
    void add_masked_namespace(const std::string& nqn, const std::string& bdev_name, uint32_t nsid,
                              callback<uint32_t> cb);
    void add_namespace_host(const std::string& nqn, uint32_t nsid, const std::string& hostnqn,
                            callback<void> cb);
    void remove_namespace_host(const std::string& nqn, uint32_t nsid, const std::string& hostnqn,
                               callback<void> cb);

    // Listeners: add_listener allows the subsystem on trid (and opens the
    // socket); listen opens the socket only; remove_listener undoes add_listener.
    void add_listener(const std::string& nqn, const transport_id& trid, callback<void> cb);
    void remove_listener(const std::string& nqn, const transport_id& trid, callback<void> cb);
    void listen(const transport_id& trid, callback<void> cb);

    // A JSON-RPC method by SPDK name (see docs), e.g. "nvmf_get_subsystems".
    void rpc(const std::string& method, const nlohmann::json& params, callback<nlohmann::json> cb);

    // Closes every connection and socket and stops the reactors. Idempotent;
    // operations issued afterwards fail with -ESHUTDOWN.
    void shutdown(callback<void> cb);

    // Future forms of the above.
    std::future<result<transport_ptr>> create_transport(const transport_options& opts);
    std::future<result<void>> add_transport(transport_ptr t);
    std::future<result<void>> create_subsystem(const std::string& nqn,
                                               const subsystem_params& params);
    std::future<result<void>> delete_subsystem(const std::string& nqn);
    std::future<result<void>> start_subsystem(const std::string& nqn);
    std::future<result<void>> stop_subsystem(const std::string& nqn);
    std::future<result<void>> add_host(const std::string& nqn, const std::string& hostnqn);
    std::future<result<void>> remove_host(const std::string& nqn, const std::string& hostnqn);
    std::future<result<void>> allow_any_host(const std::string& nqn, bool allow);
    std::future<result<void>> create_malloc_bdev(const std::string& name, uint64_t num_blocks,
                                                 uint32_t block_size);
    std::future<result<void>> create_null_bdev(const std::string& name, uint64_t num_blocks,
                                               uint32_t block_size);
    std::future<result<void>> delete_bdev(const std::string& name);
    std::future<result<uint32_t>> add_namespace(const std::string& nqn,
                                                const std::string& bdev_name, uint32_t nsid = 0);
    std::future<result<void>> remove_namespace(const std::string& nqn, uint32_t nsid);
    std::future<result<uint32_t>> add_masked_namespace(const std::string& nqn,
                                                       const std::string& bdev_name,
                                                       uint32_t nsid = 0);
    std::future<result<void>> add_namespace_host(const std::string& nqn, uint32_t nsid,
                                                 const std::string& hostnqn);
    std::future<result<void>> remove_namespace_host(const std::string& nqn, uint32_t nsid,
                                                    const std::string& hostnqn);
    std::future<result<void>> add_listener(const std::string& nqn, const transport_id& trid);
    std::future<result<void>> remove_listener(const std::string& nqn, const transport_id& trid);
    std::future<result<void>> listen(const transport_id& trid);
    std::future<result<nlohmann::json>> rpc(const std::string& method,
                                            const nlohmann::json& params);
    std::future<result<void>> shutdown();

    // The synchronous core, for what the API does not cover. Thread-safe.
    nvmf::target& core();

    struct impl;

private:
    explicit target_handle(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace nvmf::api
