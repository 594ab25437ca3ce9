// The transport contract. A transport is global: created once with its
// options, added to the target, and shared by every subsystem and listener.
// It accepts connections, turns wire traffic into nvmf::request objects, hands
// them to nvmf::execute(), and sends what complete() gives back. Nothing
// above this layer knows which transport a request came from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nvmf/listener_security.hpp"
#include "nvmf/transport_id.hpp"
#include "util/result.hpp"

namespace nvmf {

class target;
struct controller_limits;

// SPDK's nvmf_create_transport options, with SPDK's names and TCP defaults
// (defaults_for() gives a transport type's own: RDMA differs in a few).
struct transport_options {
    std::string trtype = "TCP";
    uint32_t max_queue_depth = 128;
    uint32_t max_io_qpairs_per_ctrlr = 127;
    uint32_t in_capsule_data_size = 4096;
    uint32_t max_io_size = 131072;
    uint32_t io_unit_size = 131072;
    uint32_t max_aq_depth = 128;
    uint32_t num_shared_buffers = 511;
    uint32_t buf_cache_size = 32;
    // SPDK's per-poll-group iobuf caches (UINT32_MAX: sized automatically).
    uint32_t iobuf_small_cache_size = 0xffffffff;
    uint32_t iobuf_large_cache_size = 0xffffffff;
    bool dif_insert_or_strip = false;
    bool c2h_success = true;
    uint32_t sock_priority = 0;
    uint32_t abort_timeout_sec = 1;
    bool zcopy = false;
    uint32_t control_msg_num = 32;
    uint32_t ack_timeout = 0;
    uint32_t data_wr_pool_size = 0;
    uint32_t acceptor_poll_rate = 10000;
    bool disable_command_passthru = false;
    // SPDK's keep-alive options: Identify KAS in 100 ms units and the least
    // KATO a host gets. Kept and printed; this target reports KAS 1 and uses
    // the host's KATO (docs/transport-options.md).
    uint32_t kas = 100;
    uint32_t min_kato = 10000;
    // RDMA only (SPDK's rdma transport_specific options).
    uint32_t max_srq_depth = 4096;
    bool no_srq = false;
    uint32_t acceptor_backlog = 100;
    bool no_wr_batching = false;
    uint32_t num_cqe = 4096;

    // SPDK's defaults for trtype ("TCP" or "RDMA", any case; others get TCP's).
    static transport_options defaults_for(const std::string& trtype);

    nlohmann::json to_json() const;
    // Reads SPDK parameter names; unknown names and out-of-range values are errors.
    static result<transport_options> from_json(const nlohmann::json& params);
    result<void> validate() const;
};

class transport {
public:
    explicit transport(target& tgt, transport_options opts) : tgt_(tgt), opts_(std::move(opts)) {}
    virtual ~transport() = default;

    const transport_options& options() const { return opts_; }
    const std::string& trtype() const { return opts_.trtype; }
    target& tgt() { return tgt_; }

    // Opens the socket for trid (idempotent per address).
    virtual result<void> listen(const transport_id& trid) = 0;
    // The same for a secure channel listener (TLS before anything else, or
    // for secure_concat a plain admin queue generating the PSK): only
    // transports with one (TCP) accept it. An address is the same kind for
    // every subsystem on it.
    virtual result<void> listen(const transport_id& trid, listener_security sec) {
        if (sec != listener_security::plain) {
            return make_error(-EOPNOTSUPP, std::string(to_string(sec)) + ": transport " + trtype() +
                                               " has no secure channel");
        }
        return listen(trid);
    }
    // Closes the listening socket; established connections stay.
    virtual result<void> stop_listen(const transport_id& trid) = 0;
    virtual std::vector<transport_id> listening() const = 0;
    // Closes every socket and connection. Called once at shutdown.
    virtual void shutdown() = 0;
    virtual nlohmann::json stats() const { return nlohmann::json::object(); }

protected:
    target& tgt_;
    transport_options opts_;
};

// What a controller created on a queue of a transport with these options may
// offer (MDTS, in-capsule size, queue depths and count); SGL descriptor types
// stay at the TCP default for the transport to adjust.
controller_limits limits_from_options(const transport_options& o);

// Factory for the transports this build knows ("TCP", "LOOP", and "RDMA" when
// built with rdma-core).
result<std::unique_ptr<transport>> create_transport(target& tgt, const transport_options& opts);

}  // namespace nvmf
