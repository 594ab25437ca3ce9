#include "app/default_config.hpp"

#include "nvme/spec/fabrics.hpp"

namespace nvmf::app {

nlohmann::json default_config() {
    using json = nlohmann::json;
    const json addr{{"trtype", "TCP"},
                    {"adrfam", "IPv4"},
                    {"traddr", default_traddr},
                    {"trsvcid", default_trsvcid}};
    auto entry = [](const char* method, json params) {
        return json{{"method", method}, {"params", std::move(params)}};
    };
    json bdev = json::array({entry(
        "bdev_malloc_create", {{"name", "Malloc0"}, {"num_blocks", 65536}, {"block_size", 4096}})});
    json nvmf = json::array({
        entry("nvmf_create_transport", {{"trtype", "TCP"}}),
        entry("nvmf_create_subsystem", {{"nqn", default_nqn},
                                        {"allow_any_host", true},
                                        {"serial_number", "NVMFTGT00000000001"},
                                        {"model_number", "nvmf-target RAM disk"}}),
        entry("nvmf_subsystem_add_ns",
              {{"nqn", default_nqn}, {"namespace", {{"bdev_name", "Malloc0"}, {"nsid", 1}}}}),
        entry("nvmf_subsystem_add_listener", {{"nqn", default_nqn}, {"listen_address", addr}}),
        entry("nvmf_subsystem_add_listener",
              {{"nqn", spec::discovery_nqn}, {"listen_address", addr}}),
    });
    return json{{"subsystems", json::array({json{{"subsystem", "bdev"}, {"config", bdev}},
                                            json{{"subsystem", "nvmf"}, {"config", nvmf}}})}};
}

}  // namespace nvmf::app
