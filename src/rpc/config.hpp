// JSON config files in SPDK's format:
//   {"subsystems": [{"subsystem": "bdev", "config": [{"method": ..., "params": ...}]},
//                   {"subsystem": "nvmf", "config": [...]}]}
// Methods run through the RPC method table as SPDK's loader runs them
// (lib/init/json_config.c): first every STARTUP method (options), then, the
// framework being initialized, every RUNTIME one; a method allowed in both
// runs once, in the first pass. Sections with no configuration subsystem
// here go first, then bdev before nvmf whatever the file order, each
// section's entries in file order; batches (arrays of calls) run call by
// call. A method unknown here is skipped when its section is a subsystem
// this target does not have (nbd, vhost...), and an error otherwise.
// Subsystems created by the file are started, and their sockets opened, once
// everything is applied. save_config() (methods.hpp) writes this format.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace nvmf {
class target;
}

namespace nvmf::rpc {

class framework;

// Errors name the section, the entry index and the method, then the reason.
// fw (may be null) is the daemon's framework, seen by methods that read the
// RPC state; the passes run in their own state whatever fw's is.
result<void> load_config(target& tgt, const nlohmann::json& config, framework* fw = nullptr);
// The two passes alone: --wait-for-rpc applies the STARTUP one at start-up
// and the RUNTIME one at framework_start_init.
result<void> load_config_startup(target& tgt, const nlohmann::json& config, framework* fw);
result<void> load_config_runtime(target& tgt, const nlohmann::json& config, framework* fw);

// Reads and parses path (JSON syntax errors give the line/column).
result<nlohmann::json> read_config_file(const std::string& path);
result<void> load_config_file(target& tgt, const std::string& path, framework* fw = nullptr);

}  // namespace nvmf::rpc
