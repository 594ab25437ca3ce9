// Connect on a connection that came through a TLS secure channel: the PSK
// identity named a host and a subsystem, and the host may be only that host
// there (or ask the discovery subsystem). Without this check a host holding
// a PSK could open the channel as itself and Connect as another host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace nvmf {

class qpair;

struct connect_refusal {
    uint8_t sc;           // Connect status (command specific)
    uint16_t offset;      // IPO: the field in the Connect data
    std::string message;  // for the log
};

// Nothing when the Connect may go on (a plain connection always may).
std::optional<connect_refusal> secure_channel_refusal(const qpair& q, const std::string& hostnqn,
                                                      const std::string& subnqn);

}  // namespace nvmf
