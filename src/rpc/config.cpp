#include "rpc/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "nvmf/target.hpp"
#include "rpc/methods.hpp"
#include "rpc/params.hpp"
#include "util/log.hpp"

namespace nvmf::rpc {

namespace {

error config_error(std::string msg) { return make_error(-EINVAL, "config: " + std::move(msg)); }

// The sections in the order they are applied: those with no configuration
// subsystem here (settings such as iobuf or sock) first, then bdev before
// nvmf whatever the file order, each section's entries in file order.
result<std::vector<const json*>> ordered_sections(const json& cfg) {
    if (!cfg.is_object()) return config_error("the top level must be a JSON object");
    auto subs = cfg.find("subsystems");
    if (subs == cfg.end() || !subs->is_array()) return config_error("missing 'subsystems' array");
    std::vector<std::pair<size_t, const json*>> ranked;
    for (size_t i = 0; i < subs->size(); ++i) {
        const json& s = (*subs)[i];
        if (!s.is_object() || !s.contains("subsystem") || !s["subsystem"].is_string()) {
            return config_error("subsystems[" + std::to_string(i) + "] needs a 'subsystem' name");
        }
        const auto c = s.find("config");
        if (c != s.end() && !c->is_null() && !c->is_array()) {
            return config_error("subsystem '" + s["subsystem"].get<std::string>() +
                                "': 'config' must be an array");
        }
        size_t rank = 0;
        const auto all = config_subsystems();
        for (size_t k = 0; k < all.size(); ++k) {
            if (all[k].name == s["subsystem"].get<std::string>()) rank = k + 1;
        }
        ranked.emplace_back(rank, &s);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<const json*> out;
    out.reserve(ranked.size());
    for (auto& [rank, s] : ranked) out.push_back(s);
    return out;
}

// Runs one {"method", "params"} entry if it belongs to this pass (SPDK's
// json_config.c): STARTUP methods in the STARTUP pass, the others in the
// RUNTIME pass, a method allowed in both only once, in STARTUP.
result<void> apply_entry(context& ctx, const std::string& section, const std::string& where,
                         const json& e, uint8_t pass) {
    if (!e.is_object())
        return config_error(where + ": must be an object with 'method' and 'params'");
    auto m = e.find("method");
    if (m == e.end() || !m->is_string()) return config_error(where + ": missing 'method' string");
    const std::string name = m->get<std::string>();
    // The loader initializes the framework itself, between its two passes.
    if (name == "framework_start_init") return {};
    const method* meth = find_method(name);
    if (meth == nullptr) {
        // As SPDK: a method of a subsystem this target does not have is
        // skipped (configs are shared between applications); one of a
        // subsystem it has is an error.
        if (find_config_subsystem(section) == nullptr) {
            if (pass == state_startup) {
                log::warn("config: skipping {} of subsystem '{}', which this target does not have",
                          name, section);
            }
            return {};
        }
        return make_error(err_method_not_found, "config: " + where + ": Method not found: " + name);
    }
    const bool in_startup = (meth->states & state_startup) != 0;
    if (pass == state_startup ? !in_startup : in_startup) return {};
    auto p = e.find("params");
    const json params = p == e.end() ? json(nullptr) : *p;
    ctx.state_override = pass;
    auto r = call(ctx, name, params);
    ctx.state_override = 0;
    if (!r) {
        error err = r.err();
        err.message = "config: " + where + ": " + name + ": " + err.message;
        return err;
    }
    log::debug("config: {} applied", name);
    return {};
}

result<void> apply_pass(context& ctx, const std::vector<const json*>& sections, uint8_t pass) {
    for (const json* s : sections) {
        const std::string name = (*s)["subsystem"].get<std::string>();
        const auto c = s->find("config");
        if (c == s->end() || c->is_null()) continue;
        for (size_t i = 0; i < c->size(); ++i) {
            const json& e = (*c)[i];
            const std::string where = "subsystem '" + name + "' entry " + std::to_string(i);
            // A batch (SPDK writes some entries as arrays of calls): each call
            // in order, as if it stood alone.
            if (e.is_array()) {
                for (size_t k = 0; k < e.size(); ++k) {
                    if (auto r = apply_entry(ctx, name, where + "[" + std::to_string(k) + "]", e[k],
                                             pass);
                        !r) {
                        return r;
                    }
                }
                continue;
            }
            if (auto r = apply_entry(ctx, name, where, e, pass); !r) return r;
        }
    }
    return {};
}

}  // namespace

result<void> load_config_startup(target& tgt, const json& cfg, framework* fw) {
    auto sections = ordered_sections(cfg);
    if (!sections) return sections.err();
    context ctx(tgt, fw);
    return apply_pass(ctx, *sections, state_startup);
}

result<void> load_config_runtime(target& tgt, const json& cfg, framework* fw) {
    auto sections = ordered_sections(cfg);
    if (!sections) return sections.err();
    // Subsystems start, and sockets open, once everything is configured: a
    // host that connects during start-up finds nothing listening yet (and
    // retries) rather than a subsystem without its namespaces or hosts.
    std::vector<std::string> to_start;
    context ctx(tgt, fw);
    ctx.deferred_start = &to_start;
    tgt.hold_listen(true);
    auto applied_all = [&]() -> result<void> {
        if (auto r = apply_pass(ctx, *sections, state_runtime); !r) return r;
        for (const auto& nqn : to_start) {
            if (auto r = tgt.start_subsystem(nqn); !r) {
                return config_error("starting subsystem " + nqn + ": " + r.err().message);
            }
        }
        return {};
    }();
    tgt.hold_listen(false);
    if (!applied_all) return applied_all;
    if (auto r = tgt.listen_all(); !r) return config_error(r.err().message);
    return {};
}

result<void> load_config(target& tgt, const json& cfg, framework* fw) {
    if (auto r = load_config_startup(tgt, cfg, fw); !r) return r;
    return load_config_runtime(tgt, cfg, fw);
}

result<json> read_config_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return make_error(-errno, "cannot open config file " + path + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    json cfg = json::parse(ss.str(), nullptr, false);
    if (cfg.is_discarded()) {
        // Parse again with exceptions for the position of the error.
        try {
            const json again = json::parse(ss.str());
            (void)again;
        } catch (const json::parse_error& e) {
            return make_error(-EINVAL, "config file " + path + " is not valid JSON: " + e.what());
        }
        return make_error(-EINVAL, "config file " + path + " is not valid JSON");
    }
    return cfg;
}

result<void> load_config_file(target& tgt, const std::string& path, framework* fw) {
    auto cfg = read_config_file(path);
    if (!cfg) return cfg.err();
    auto r = load_config(tgt, *cfg, fw);
    if (!r) return make_error(r.err().code, path + ": " + r.err().message);
    return {};
}

}  // namespace nvmf::rpc
