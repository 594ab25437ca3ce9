#include "app/options.hpp"

#include <cstdio>

#include <CLI/CLI.hpp>

#include "rpc/server.hpp"

namespace nvmf::app {

std::optional<int> parse_options(int argc, char** argv, options* out) {
    CLI::App cli{"nvmf-target: a userspace NVMe over Fabrics (NVMe/TCP) target"};
    out->rpc_socket = rpc::default_socket_path;
    bool version = false;
    cli.add_option("--json", out->json_config,
                   "JSON config file (SPDK format); without it a RAM disk is exported on "
                   "127.0.0.1:4420")
        ->check(CLI::ExistingFile);
    cli.add_option("-m,--cpumask", out->cpumask, "cores for reactors, e.g. 0x3 or [0,2-3]")
        ->capture_default_str();
    cli.add_option("-r,--rpc-socket", out->rpc_socket, "JSON-RPC Unix socket path")
        ->capture_default_str();
    cli.add_option("--log-level", out->log_level, "log level")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    cli.add_option("--busy-poll-us", out->busy_poll_us,
                   "microseconds a reactor keeps polling after work before it sleeps "
                   "(0: always sleep when idle)")
        ->check(CLI::Range(0u, 1000000u))
        ->capture_default_str();
    cli.add_option("-s,--mem-size", out->mem_size_mb,
                   "MiB that RAM disks (bdev_malloc_create) may use in all; 0: any size that "
                   "fits the memory available")
        ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40))
        ->capture_default_str();
    cli.add_flag("-w,--wait-for-rpc", out->wait_for_rpc,
                 "wait for framework_start_init before configuring (SPDK's -w): only STARTUP "
                 "methods (options) run until then; without --json nothing is configured");
    cli.add_option("--metrics", out->metrics,
                   "serve Prometheus metrics over HTTP at ADDR:PORT (GET /metrics), e.g. "
                   "127.0.0.1:9101 or [::1]:9101; off without it");
    cli.add_flag("--version", version, "print the version and exit");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    if (version) {
        std::printf("nvmf-target %s\n", NVMF_VERSION);
        return 0;
    }
    return std::nullopt;
}

}  // namespace nvmf::app
