// SPDK's two log levels (log_set_level / log_set_print_level) over our one
// spdlog logger. SPDK sends a message to syslog when it is within "level"
// and prints it to stderr when within "print_level"; our only output is
// stderr (journald under systemd), so a message goes out when either level
// lets it: the logger's level is the more verbose of the two. SPDK's NOTICE
// has no spdlog counterpart and logs as INFO does.
#pragma once

#include <optional>
#include <string_view>

namespace nvmf::log {

enum class spdk_level { error, warning, notice, info, debug };

// "ERROR", "WARNING" (or "WARN"), "NOTICE", "INFO", "DEBUG"; any case, as SPDK.
std::optional<spdk_level> parse_spdk_level(std::string_view name);
const char* spdk_level_name(spdk_level l);

// Both levels from the daemon's --log-level (trace, debug, info, warn,
// error), without touching the logger it already set.
void init_spdk_levels(std::string_view log_level);

spdk_level get_level();
spdk_level get_print_level();
// Set one level and apply the pair to the logger. Control path (RPC thread).
void set_level(spdk_level l);
void set_print_level(spdk_level l);

}  // namespace nvmf::log
