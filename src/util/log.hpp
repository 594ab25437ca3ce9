// Logging: spdlog with one default logger. The daemon sets the level from
// its options; libraries only log, they never configure.
#pragma once

#include <spdlog/spdlog.h>

namespace nvmf::log {
using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::trace;
using spdlog::warn;
}  // namespace nvmf::log
