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
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace nvmf {
class target;
}

namespace nvmf::rpc {

using json = nlohmann::json;

struct context {
    explicit context(target& t) : tgt(t) {}
    target& tgt;
    // Set while a config file is applied: nvmf_create_subsystem then leaves the
    // subsystem INACTIVE and records it here; the loader starts them all at the
    // end, as SPDK does at framework init. Otherwise subsystems start at once.
    std::vector<std::string>* deferred_start = nullptr;
};

using handler = result<json> (*)(context& ctx, const json& params);

struct method {
    std::string_view name;
    handler fn;
};

std::span<const method> method_table();
const method* find_method(std::string_view name);

// Runs a method. Unknown names give -32601; exceptions from the core become
// -32603 Internal error.
result<json> call(context& ctx, std::string_view name, const json& params);

// The current configuration in SPDK's JSON config format (save_config).
json save_config(target& tgt);

}  // namespace nvmf::rpc
