#include "util/log_levels.hpp"

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "util/log.hpp"

namespace nvmf::log {

namespace {

std::atomic<spdk_level> current_level{spdk_level::info};
std::atomic<spdk_level> current_print_level{spdk_level::info};

spdlog::level::level_enum to_spdlog(spdk_level l) {
    switch (l) {
    case spdk_level::error:
        return spdlog::level::err;
    case spdk_level::warning:
        return spdlog::level::warn;
    case spdk_level::notice:
    case spdk_level::info:
        return spdlog::level::info;
    case spdk_level::debug:
        return spdlog::level::debug;
    }
    return spdlog::level::info;
}

void apply() {
    spdlog::set_level(to_spdlog(std::max(current_level.load(), current_print_level.load())));
}

}  // namespace

std::optional<spdk_level> parse_spdk_level(std::string_view name) {
    const std::string n(name);
    if (strcasecmp(n.c_str(), "ERROR") == 0) return spdk_level::error;
    if (strcasecmp(n.c_str(), "WARNING") == 0 || strcasecmp(n.c_str(), "WARN") == 0) {
        return spdk_level::warning;
    }
    if (strcasecmp(n.c_str(), "NOTICE") == 0) return spdk_level::notice;
    if (strcasecmp(n.c_str(), "INFO") == 0) return spdk_level::info;
    if (strcasecmp(n.c_str(), "DEBUG") == 0) return spdk_level::debug;
    return std::nullopt;
}

const char* spdk_level_name(spdk_level l) {
    switch (l) {
    case spdk_level::error:
        return "ERROR";
    case spdk_level::warning:
        return "WARNING";
    case spdk_level::notice:
        return "NOTICE";
    case spdk_level::info:
        return "INFO";
    case spdk_level::debug:
        return "DEBUG";
    }
    return "INFO";
}

void init_spdk_levels(std::string_view log_level) {
    spdk_level l = spdk_level::info;
    if (log_level == "trace" || log_level == "debug") {
        l = spdk_level::debug;
    } else if (log_level == "warn") {
        l = spdk_level::warning;
    } else if (log_level == "error") {
        l = spdk_level::error;
    }
    current_level = l;
    current_print_level = l;
}

spdk_level get_level() { return current_level.load(); }
spdk_level get_print_level() { return current_print_level.load(); }

void set_level(spdk_level l) {
    current_level = l;
    apply();
}

void set_print_level(spdk_level l) {
    current_print_level = l;
    apply();
}

}  // namespace nvmf::log
