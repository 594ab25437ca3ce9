// Transport address of a listener or a connection: SPDK's trid fields.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.hpp"

namespace nvmf {

struct transport_id {
    std::string trtype = "TCP";   // "TCP", "RDMA", "FC", "LOOP" (upper case, as SPDK prints them)
    std::string adrfam = "IPv4";  // "IPv4", "IPv6", "IB", "FC"
    std::string traddr;
    std::string trsvcid;

    bool operator==(const transport_id&) const = default;
    std::string to_string() const {
        return trtype + " " + traddr + (trsvcid.empty() ? "" : ":" + trsvcid);
    }
};

// Normalises case ("tcp" -> "TCP", "ipv4" -> "IPv4") and checks the fields.
result<transport_id> normalize_trid(transport_id trid);

uint8_t trtype_code(const std::string& trtype);
uint8_t adrfam_code(const std::string& adrfam);

}  // namespace nvmf
