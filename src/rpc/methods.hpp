// The JSON-RPC method table, with SPDK's method and parameter names. The
// RPC server and the JSON config loader both go through call(), so a method
// behaves the same in a config file and on the socket.
//
// Errors follow SPDK's codes, with a message that names the problem:
// parameter problems (missing, unknown, wrong type, out of range, bad NQN or
// address) are -32602 Invalid params; so are an unknown subsystem NQN
// ("Unable to find subsystem with NQN ..."), an unknown bdev or a refused
// namespace or listener change (duplicate NSID, address in use). A duplicate
// subsystem, transport or host, and removing a host that is not there, are
// -32603 as in SPDK. The bdev_* methods keep a negative errno as the code
// (-17 already exists, -19 no such bdev, -16 bdev in use), as SPDK's do.
// A method called in an RPC state it does not run in is -1, SPDK's "invalid
// state", with SPDK's message.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rpc/framework.hpp"
#include "util/result.hpp"

namespace nvmf {
class target;
}

namespace nvmf::rpc {

using json = nlohmann::json;

struct context {
    explicit context(target& t, framework* f = nullptr) : tgt(t), fw(f) {}
    target& tgt;
    // The daemon's RPC state; null (the embedding API, tests) is always RUNTIME.
    framework* fw;
    // Set while a config file is applied: nvmf_create_subsystem then leaves the
    // subsystem INACTIVE and records it here; the loader starts them all at the
    // end, as SPDK does at framework init. Otherwise subsystems start at once.
    std::vector<std::string>* deferred_start = nullptr;
    // Set by the --json loader for its STARTUP pass: methods then run as if
    // the framework were not initialized yet, whatever the daemon's state.
    uint8_t state_override = 0;

    uint8_t state() const {
        if (state_override) return state_override;
        return fw ? fw->state() : state_runtime;
    }
};

using handler = result<json> (*)(context& ctx, const json& params);

struct method {
    std::string_view name;
    handler fn;
    uint8_t states = state_runtime;  // SPDK's state mask for this method
};

std::span<const method> method_table();
const method* find_method(std::string_view name);

// Runs a method. Unknown names give -32601, a method not allowed in the
// current state -1; exceptions from the core become -32603 Internal error.
result<json> call(context& ctx, std::string_view name, const json& params);

// The current configuration in SPDK's JSON config format (save_config): every
// config_subsystems() entry with its framework_get_config array, as rpc.py's
// save_config composes it.
json save_config(target& tgt);

}  // namespace nvmf::rpc
