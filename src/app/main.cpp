// nvmf-target: the daemon. Reactors per the cpumask, a target configured from
// --json (or the built-in default), a JSON-RPC server, then it waits for
// SIGINT/SIGTERM and shuts down cleanly.
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "app/default_config.hpp"
#include "app/options.hpp"
#include "metrics/server.hpp"
#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/config.hpp"
#include "rpc/framework.hpp"
#include "rpc/server.hpp"
#include "util/log.hpp"
#include "util/log_levels.hpp"

namespace {

using namespace nvmf;

// Cores in the mask that this process may not run on.
std::string unavailable_cores(const std::vector<int>& cpus) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return {};
    std::string bad;
    for (int c : cpus) {
        if (c >= CPU_SETSIZE || !CPU_ISSET(c, &allowed))
            bad += (bad.empty() ? "" : ", ") + std::to_string(c);
    }
    return bad;
}

std::string listening_summary(target& tgt) {
    std::string s;
    for (auto* t : tgt.transports()) {
        for (auto& l : t->listening()) s += (s.empty() ? "" : ", ") + l.to_string();
    }
    return s.empty() ? "no listeners" : "listening on " + s;
}

// --wait-for-rpc: the RUNTIME half of the config, applied at framework_start_init.
struct deferred_config {
    target* tgt;
    rpc::framework* fw;
    nlohmann::json cfg;
};

result<void> apply_deferred(void* arg) {
    auto* d = static_cast<deferred_config*>(arg);
    auto r = rpc::load_config_runtime(*d->tgt, d->cfg, d->fw);
    if (!r) {
        log::error("framework_start_init: configuration failed: {}", r.err().message);
        return r;
    }
    log::info("nvmf-target initialized: {}", listening_summary(*d->tgt));
    return {};
}

int run(const app::options& o) {
    std::string why;
    const std::vector<int> cpus = parse_cpumask(o.cpumask, &why);
    if (cpus.empty()) {
        log::error("{}", why);
        return 2;
    }
    if (auto bad = unavailable_cores(cpus); !bad.empty()) {
        log::error("cpumask {}: core(s) {} not available to this process", o.cpumask, bad);
        return 2;
    }

    reactor_group reactors(cpus);
    for (size_t i = 0; i < reactors.size(); ++i) {
        reactors.at(i).set_busy_poll(std::chrono::microseconds(o.busy_poll_us));
    }
    target tgt(reactors);
    tgt.bdevs.set_ram_limit(o.mem_size_mb << 20);
    reactors.start();
    rpc::framework fw(o.wait_for_rpc ? rpc::state_startup : rpc::state_runtime);
    deferred_config deferred{&tgt, &fw,
                             nlohmann::json::object({{"subsystems", nlohmann::json::array()}})};
    rpc::server rpc_server(tgt, o.rpc_socket, &fw);
    metrics::server metrics_server(tgt, o.metrics);
    auto fail = [&](const std::string& msg) {
        log::error("{}", msg);
        metrics_server.stop();
        rpc_server.stop();
        tgt.shutdown();
        reactors.stop();
        return 1;
    };

    const bool builtin = o.json_config.empty() && !o.wait_for_rpc;
    if (o.wait_for_rpc) {
        // The STARTUP half before any client can call framework_start_init.
        if (!o.json_config.empty()) {
            auto cfg = rpc::read_config_file(o.json_config);
            if (!cfg) return fail("configuration failed: " + cfg.err().message);
            deferred.cfg = std::move(*cfg);
            if (auto r = rpc::load_config_startup(tgt, deferred.cfg, &fw); !r) {
                return fail("configuration failed: " + o.json_config + ": " + r.err().message);
            }
        }
        fw.set_init_hook(apply_deferred, &deferred);
    }
    if (auto r = rpc_server.start(); !r) return fail(r.err().message);
    if (!o.metrics.empty()) {
        if (auto r = metrics_server.start(); !r) return fail(r.err().message);
    }
    if (!o.wait_for_rpc) {
        auto loaded = builtin ? rpc::load_config(tgt, app::default_config(), &fw)
                              : rpc::load_config_file(tgt, o.json_config, &fw);
        if (!loaded) return fail("configuration failed: " + loaded.err().message);
    }

    if (o.wait_for_rpc) {
        log::info("nvmf-target waiting for framework_start_init: {} reactor(s); RPC on {}",
                  reactors.size(), rpc_server.path());
    } else {
        log::info("nvmf-target ready: {} reactor(s), {}; RPC on {}", reactors.size(),
                  listening_summary(tgt), rpc_server.path());
    }
    if (builtin) {
        std::printf(
            "Exporting a 256 MiB RAM disk as %s.\n"
            "Connect with nvme-cli:\n"
            "  nvme discover -t tcp -a %s -s %s\n"
            "  nvme connect -t tcp -a %s -s %s -n %s\n",
            app::default_nqn, app::default_traddr, app::default_trsvcid, app::default_traddr,
            app::default_trsvcid, app::default_nqn);
        std::fflush(stdout);
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    log::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    metrics_server.stop();
    rpc_server.stop();
    tgt.shutdown();
    reactors.stop();
    log::info("nvmf-target stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    app::options o;
    if (auto rc = app::parse_options(argc, argv, &o)) return *rc;
    spdlog::set_level(spdlog::level::from_str(o.log_level));
    nvmf::log::init_spdk_levels(o.log_level);

    // Blocked before any thread starts, so every thread inherits the mask and
    // only sigwait() in run() sees them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    return run(o);
}
