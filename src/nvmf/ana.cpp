#include "nvmf/ana.hpp"

namespace nvmf {

namespace {
struct state_name {
    ana_state state;
    const char* name;
};
constexpr state_name names[] = {
    {ana_state::optimized, "optimized"},
    {ana_state::non_optimized, "non_optimized"},
    {ana_state::inaccessible, "inaccessible"},
    {ana_state::persistent_loss, "persistent_loss"},
    {ana_state::change, "change"},
};
}  // namespace

const char* to_string(ana_state s) {
    for (const auto& n : names) {
        if (n.state == s) return n.name;
    }
    return "unknown";
}

std::optional<ana_state> ana_state_from_string(std::string_view s) {
    for (const auto& n : names) {
        if (s == n.name) return n.state;
    }
    return std::nullopt;
}

spec::status ana_io_status(ana_state s) {
    switch (s) {
    case ana_state::optimized:
    case ana_state::non_optimized:
        return 0;
    case ana_state::inaccessible:
        return spec::make_status(spec::sct::path, spec::sc_path::ana_inaccessible);
    case ana_state::persistent_loss:
        return spec::make_status(spec::sct::path, spec::sc_path::ana_persistent_loss);
    case ana_state::change:
        return spec::make_status(spec::sct::path, spec::sc_path::ana_transition);
    }
    return spec::make_status(spec::sct::path, spec::sc_path::internal_path_error);
}

ana_states::ana_states(uint32_t groups, ana_state initial)
    : groups_(groups), states_(std::make_unique<std::atomic<uint8_t>[]>(groups)) {
    for (uint32_t i = 0; i < groups_; ++i) {
        states_[i].store(static_cast<uint8_t>(initial), std::memory_order_relaxed);
    }
}

bool ana_states::set(uint32_t anagrpid, ana_state s) {
    const auto v = static_cast<uint8_t>(s);
    bool changed = false;
    for (uint32_t i = 0; i < groups_; ++i) {
        if (anagrpid != 0 && i != anagrpid - 1) continue;
        changed = states_[i].exchange(v, std::memory_order_relaxed) != v || changed;
    }
    return changed;
}

}  // namespace nvmf
