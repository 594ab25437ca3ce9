// The configuration used when the daemon starts without --json: a 256 MiB RAM
// disk exported as namespace 1 of one subsystem over TCP on 127.0.0.1:4420.
#pragma once

#include <nlohmann/json.hpp>

namespace nvmf::app {

constexpr const char* default_nqn = "nqn.2026-11.io.nvmf-target:default";
constexpr const char* default_traddr = "127.0.0.1";
constexpr const char* default_trsvcid = "4420";

nlohmann::json default_config();

}  // namespace nvmf::app
