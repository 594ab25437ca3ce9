// Discovery: reading the discovery log page consistently, printable names
// for its fields, and the SPDK-style transport ID string
// ("trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4420 subnqn:NQN").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/controller.hpp"
#include "nvme/spec/fabrics.hpp"
#include "util/result.hpp"

namespace nvmf::host {

struct discovery_log {
    uint64_t genctr = 0;
    uint16_t recfmt = 0;
    std::vector<spec::discovery_log_entry> entries;
};

// Reads the header, then the entries, then the header again; retries when
// GENCTR changed in between.
result<discovery_log> get_discovery_log(controller& c, int retries = 3);

const char* trtype_name(uint8_t trtype);
const char* adrfam_name(uint8_t adrfam);
const char* subtype_name(uint8_t subtype);
std::string treq_string(uint8_t treq);
// A fixed-size, space or NUL padded field as a trimmed string.
std::string field_string(const char* p, size_t n);

struct trid_string {
    std::string trtype = "TCP";
    std::string adrfam = "IPv4";
    std::string traddr = "127.0.0.1";
    std::string trsvcid = "4420";
    std::string subnqn = spec::discovery_nqn;
    std::string hostnqn;
};
result<trid_string> parse_trid(const std::string& s);

}  // namespace nvmf::host
