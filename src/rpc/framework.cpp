#include "rpc/framework.hpp"

#include "rpc/handlers.hpp"

namespace nvmf::rpc {

void framework::set_init_hook(init_hook fn, void* arg) {
    std::lock_guard lk(mtx_);
    hook_ = fn;
    hook_arg_ = arg;
}

result<void> framework::start_init() {
    std::lock_guard lk(mtx_);
    uint8_t expected = state_startup;
    if (!state_.compare_exchange_strong(expected, state_runtime)) {
        return make_error(err_invalid_state, "the framework is already initialized");
    }
    if (hook_ == nullptr) return {};
    const init_hook fn = hook_;
    hook_ = nullptr;
    return fn(hook_arg_);
}

namespace {

// SPDK's dependencies among the subsystems this target has (SPDK's bdev
// and nvmf also depend on accel and iobuf, which have no configuration of
// their own here). The table is in dependency order: the order sections
// are applied and saved.
constexpr std::string_view bdev_deps[] = {"keyring", "sock"};
constexpr std::string_view nvmf_deps[] = {"bdev", "keyring", "sock"};

constexpr config_subsystem table[] = {
    {"keyring", {}, keyring_config},
    {"sock", {}, sock_config},
    {"bdev", bdev_deps, bdev_subsystem_config},
    {"nvmf", nvmf_deps, nvmf_subsystem_config},
};

}  // namespace

std::span<const config_subsystem> config_subsystems() { return table; }

const config_subsystem* find_config_subsystem(std::string_view name) {
    for (const auto& s : table) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

}  // namespace nvmf::rpc
