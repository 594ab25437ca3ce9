// rpc_get_methods, spdk_get_version, framework_* and save_config: the methods
// SPDK's application framework has, in the shapes rpc.py's save_config and
// load_config rely on (SPDK lib/rpc/rpc.c, lib/init/subsystem_rpc.c,
// lib/event/app_rpc.c).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {

result<json> rpc_get_methods(context& ctx, const json& j) {
    params p(j);
    bool current = false, aliases = false;
    p.boolean("current", current, false);
    // This target registers no deprecated aliases: nothing to include.
    p.boolean("include_aliases", aliases, false);
    if (auto r = p.finish(); !r) return r.err();
    const uint8_t now = ctx.state();
    json out = json::array();
    for (const auto& m : method_table()) {
        if (current && (m.states & now) != now) continue;
        out.push_back(std::string(m.name));
    }
    return out;
}

result<json> spdk_get_version(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    static const std::string version = NVMF_VERSION;
    unsigned major = 0, minor = 0, patch = 0;
    std::sscanf(version.c_str(), "%u.%u.%u", &major, &minor, &patch);
    // SPDK's shape: "version" for people, "fields" for programs ("commit" is
    // only there when SPDK was built from git; we have no such field).
    return json{{"version", "nvmf-target v" + version},
                {"fields", {{"major", major}, {"minor", minor}, {"patch", patch}, {"suffix", ""}}}};
}

result<json> framework_start_init(context& ctx, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    // call() lets this run only in STARTUP, which needs a framework.
    if (ctx.fw == nullptr) {
        return make_error(err_invalid_state, "the framework is already initialized");
    }
    if (auto r = ctx.fw->start_init(); !r) return r.err();
    return json(true);
}

result<json> framework_wait_init(context& ctx, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    // The server holds this request back until framework_start_init (see
    // server.cpp); called any other way before that, it says so.
    if (ctx.state() != state_runtime) {
        return make_error(err_invalid_state,
                          "the framework is not initialized yet (framework_start_init)");
    }
    return json(true);
}

result<json> framework_get_subsystems(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    json out = json::array();
    for (const auto& s : config_subsystems()) {
        json deps = json::array();
        for (auto d : s.depends_on) deps.push_back(std::string(d));
        out.push_back({{"subsystem", std::string(s.name)}, {"depends_on", std::move(deps)}});
    }
    return out;
}

result<json> framework_get_config(context& ctx, const json& j) {
    params p(j, false);
    std::string name;
    bool with_batches = false;
    p.str("name", name, true, 128);
    // Our configurations have no batch arrays, so there is nothing to flatten.
    p.boolean("with_batches", with_batches, false);
    if (auto r = p.finish(); !r) return r.err();
    const config_subsystem* s = find_config_subsystem(name);
    if (s == nullptr) return invalid_params("Subsystem '" + name + "' not found");
    return s->config(ctx.tgt);
}

result<json> framework_set_scheduler(context&, const json& j) {
    params p(j, false);
    std::string name, mappings;
    uint64_t period = 0;
    uint32_t limit = 0;
    p.str("name", name, true, 64);
    // Each reactor runs the connections placed on it for their whole life:
    // that is SPDK's "static" scheduler, the only one here.
    if (!p.failed() && name != "static") {
        p.fail(
            "parameter 'name': only the 'static' scheduler exists here (each connection stays "
            "on the reactor it was placed on), not '" +
            name + "'");
    }
    p.u64("period", period, false);
    p.u32("load_limit", limit, false, 0, 100);
    p.u32("core_limit", limit, false, 0, 100);
    p.u32("core_busy", limit, false, 0, 100);
    if (p.str("mappings", mappings, false) && !mappings.empty()) {
        p.fail("parameter 'mappings': threads cannot be moved to other cores here");
    }
    if (auto r = p.finish(); !r) return r.err();
    return json(true);
}

result<json> framework_get_reactors(context& ctx, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    const auto elapsed =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  std::chrono::steady_clock::now() - ctx.tgt.started_at)
                                  .count());
    json reactors = json::array();
    for (size_t i = 0; i < ctx.tgt.reactors.size(); ++i) {
        const reactor& r = ctx.tgt.reactors.at(i);
        const int cpu = r.cpu();
        // SPDK's shape, ticks being nanoseconds (tick_rate). A reactor that
        // never busy-polls sleeps in epoll_wait whenever idle: SPDK's
        // interrupt mode. Its one lightweight thread is its poll group.
        json mask =
            cpu >= 0 && cpu < 64 ? json(fmt::format("0x{:x}", uint64_t{1} << cpu)) : json("");
        reactors.push_back({{"lcore", cpu >= 0 ? cpu : 0},
                            {"busy", r.busy_ns()},
                            {"idle", r.idle_ns()},
                            {"in_interrupt", r.busy_poll().count() == 0},
                            {"lw_threads", json::array({{{"name", poll_group_name(r.index())},
                                                         {"id", r.index() + 1},
                                                         {"cpumask", std::move(mask)},
                                                         {"elapsed", elapsed}}})}});
    }
    return json{{"tick_rate", 1000000000ull},
                {"pid", static_cast<uint64_t>(getpid())},
                {"reactors", std::move(reactors)}};
}

result<json> save_config_method(context& ctx, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    return save_config(ctx.tgt);
}

}  // namespace nvmf::rpc
