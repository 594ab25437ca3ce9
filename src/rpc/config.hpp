// JSON config files in SPDK's format:
//   {"subsystems": [{"subsystem": "bdev", "config": [{"method": ..., "params": ...}]},
//                   {"subsystem": "nvmf", "config": [...]}]}
// Methods run through the RPC method table, bdev before nvmf whatever the file
// order, each section in file order. Subsystems created by the file are started
// once everything is applied. save_config() (methods.hpp) writes this format.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace nvmf {
class target;
}

namespace nvmf::rpc {

// Errors name the section, the entry index and the method, then the reason.
result<void> load_config(target& tgt, const nlohmann::json& config);
// Reads and parses path first (JSON syntax errors give the line/column).
result<void> load_config_file(target& tgt, const std::string& path);

}  // namespace nvmf::rpc
