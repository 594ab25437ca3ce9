// Command line of the nvmf-target daemon.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace nvmf::app {

struct options {
    std::string json_config;  // --json FILE; empty: the built-in default
    std::string cpumask = "0x1";
    std::string rpc_socket;  // default: rpc::default_socket_path
    std::string log_level = "info";
    // Polling after work before a reactor sleeps; 0: interrupt-driven only.
    unsigned busy_poll_us = 100;
    // -s/--mem-size: MiB that RAM disks may use in all (0: what the machine has free).
    uint64_t mem_size_mb = 0;
    // -w/--wait-for-rpc (SPDK's): start in the RPC STARTUP state; --json's
    // STARTUP methods apply now, the rest (or nothing, without --json: no
    // built-in default then) at framework_start_init.
    bool wait_for_rpc = false;
    // --metrics ADDR:PORT: the Prometheus endpoint (empty: none).
    std::string metrics;
};

// Parses argv. Returns the exit code when the process should stop now
// (--help, --version, a usage error), or nullopt to run.
std::optional<int> parse_options(int argc, char** argv, options* out);

}  // namespace nvmf::app
