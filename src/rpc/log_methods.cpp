// SPDK's log_* methods (lib/event/log_rpc.c): the two log levels, mapped
// onto our logger by util/log_levels.hpp, and the debug log flags. SPDK's
// flags turn on the SPDK_DEBUGLOG lines of one component; this target has
// no such per-component debug logs (one logger, its level), so it has no
// flags: log_get_flags lists none, and log_set_flag / log_clear_flag are
// not offered (rpc.py then says the method does not exist).
#include <string>

#include "rpc/handlers.hpp"
#include "rpc/params.hpp"
#include "util/log.hpp"
#include "util/log_levels.hpp"

namespace nvmf::rpc {

namespace {

result<log::spdk_level> level_param(const json& j) {
    params p(j, false);
    std::string name;
    p.str("level", name, true, 32);
    if (auto r = p.finish(); !r) return r.err();
    auto l = log::parse_spdk_level(name);
    if (!l) {
        return invalid_params("parameter 'level': '" + name +
                              "' is not one of ERROR, WARNING, NOTICE, INFO, DEBUG");
    }
    return *l;
}

}  // namespace

result<json> log_set_level(context&, const json& j) {
    auto l = level_param(j);
    if (!l) return l.err();
    log::set_level(*l);
    log::info("log level set to {}", log::spdk_level_name(*l));
    return json(true);
}

result<json> log_get_level(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    return json(log::spdk_level_name(log::get_level()));
}

result<json> log_set_print_level(context&, const json& j) {
    auto l = level_param(j);
    if (!l) return l.err();
    log::set_print_level(*l);
    log::info("log print level set to {}", log::spdk_level_name(*l));
    return json(true);
}

result<json> log_get_print_level(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    return json(log::spdk_level_name(log::get_print_level()));
}

result<json> log_get_flags(context&, const json& j) {
    params p(j);
    if (auto r = p.finish(); !r) return r.err();
    return json::object();
}

}  // namespace nvmf::rpc
