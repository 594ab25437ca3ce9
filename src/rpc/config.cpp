#include "rpc/config.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "nvmf/target.hpp"
#include "rpc/methods.hpp"
#include "util/log.hpp"

namespace nvmf::rpc {

namespace {

// Sections this target applies, in this order: keys and socket options
// before the listeners and hosts that use them.
constexpr const char* applied[] = {"keyring", "sock", "bdev", "nvmf"};

error config_error(std::string msg) { return make_error(-EINVAL, "config: " + std::move(msg)); }

result<void> apply_section(context& ctx, const std::string& name, const json& config) {
    if (config.is_null()) return {};
    if (!config.is_array())
        return config_error("subsystem '" + name + "': 'config' must be an array");
    for (size_t i = 0; i < config.size(); ++i) {
        const json& e = config[i];
        const std::string where = "subsystem '" + name + "' entry " + std::to_string(i);
        if (!e.is_object())
            return config_error(where + ": must be an object with 'method' and 'params'");
        auto m = e.find("method");
        if (m == e.end() || !m->is_string())
            return config_error(where + ": missing 'method' string");
        const std::string method = m->get<std::string>();
        auto p = e.find("params");
        const json params = p == e.end() ? json(nullptr) : *p;
        auto r = call(ctx, method, params);
        if (!r) {
            error err = r.err();
            err.message = "config: " + where + ": " + method + ": " + err.message;
            return err;
        }
        log::debug("config: {} applied", method);
    }
    return {};
}

}  // namespace

result<void> load_config(target& tgt, const json& cfg) {
    if (!cfg.is_object()) return config_error("the top level must be a JSON object");
    auto subs = cfg.find("subsystems");
    if (subs == cfg.end() || !subs->is_array()) return config_error("missing 'subsystems' array");
    for (size_t i = 0; i < subs->size(); ++i) {
        const json& s = (*subs)[i];
        if (!s.is_object() || !s.contains("subsystem") || !s["subsystem"].is_string()) {
            return config_error("subsystems[" + std::to_string(i) + "] needs a 'subsystem' name");
        }
        const std::string name = s["subsystem"].get<std::string>();
        bool known = false;
        for (const char* a : applied) known = known || name == a;
        const auto c = s.find("config");
        if (!known && c != s.end() && c->is_array() && !c->empty()) {
            log::warn("config: subsystem '{}' is not supported here; its {} entries are ignored",
                      name, c->size());
        }
    }

    // Subsystems start, and sockets open, once everything is configured: a
    // host that connects during start-up finds nothing listening yet (and
    // retries) rather than a subsystem without its namespaces or hosts.
    std::vector<std::string> to_start;
    context ctx(tgt);
    ctx.deferred_start = &to_start;
    tgt.hold_listen(true);
    auto applied_all = [&]() -> result<void> {
        for (const char* section : applied) {
            for (const json& s : *subs) {
                if (s["subsystem"].get<std::string>() != section) continue;
                auto c = s.find("config");
                if (auto r = apply_section(ctx, section, c == s.end() ? json(nullptr) : *c); !r)
                    return r;
            }
        }
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

result<void> load_config_file(target& tgt, const std::string& path) {
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
    auto r = load_config(tgt, cfg);
    if (!r) return make_error(r.err().code, path + ": " + r.err().message);
    return {};
}

}  // namespace nvmf::rpc
