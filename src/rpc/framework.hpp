// SPDK's application framework as its RPC clients see it: the RPC state
// (STARTUP until framework_start_init, then RUNTIME; each method says in which
// states it may run) and the list of "subsystems" whose configuration
// save_config and framework_get_config write. rpc.py's load_config and
// save_config are built on exactly these (rpc_get_methods current=true,
// framework_start_init, framework_get_subsystems, framework_get_config).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace nvmf {
class target;
}

namespace nvmf::rpc {

// SPDK_RPC_STARTUP and SPDK_RPC_RUNTIME: a method's allowed states are a mask.
constexpr uint8_t state_startup = 0x1;
constexpr uint8_t state_runtime = 0x2;
constexpr uint8_t state_any = state_startup | state_runtime;

// SPDK_JSONRPC_ERROR_INVALID_STATE: a method called in a state it does not run in.
constexpr int err_invalid_state = -1;

// One per daemon. Without --wait-for-rpc it starts in RUNTIME (as SPDK's
// nvmf_tgt without -w); with it, in STARTUP until framework_start_init.
class framework {
public:
    explicit framework(uint8_t initial = state_runtime) : state_(initial) {}
    framework(const framework&) = delete;
    framework& operator=(const framework&) = delete;

    uint8_t state() const { return state_.load(); }

    // Runs once at framework_start_init, after the state became RUNTIME: the
    // daemon applies the RUNTIME half of its --json there.
    using init_hook = result<void> (*)(void* arg);
    void set_init_hook(init_hook fn, void* arg);

    // STARTUP -> RUNTIME, then the hook. An error when already RUNTIME.
    result<void> start_init();

private:
    std::atomic<uint8_t> state_;
    std::mutex mtx_;
    init_hook hook_ = nullptr;
    void* hook_arg_ = nullptr;
};

// A configuration "subsystem" (SPDK's word; not an NVMe subsystem): a name,
// the ones initialised before it, and the method calls that recreate its
// current state (framework_get_config), in the order they must run.
struct config_subsystem {
    std::string_view name;
    std::span<const std::string_view> depends_on;
    nlohmann::json (*config)(target& tgt);
};

// In initialisation order (framework_get_subsystems).
std::span<const config_subsystem> config_subsystems();
const config_subsystem* find_config_subsystem(std::string_view name);

}  // namespace nvmf::rpc
