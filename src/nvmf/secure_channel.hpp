// Connect on a connection that came through a TLS secure channel: the PSK
// identity named a host and a subsystem, and the host may be only that host
// there (or ask the discovery subsystem). Without this check a host holding
// a PSK could open the channel as itself and Connect as another host.
//
// And Connect on a plain connection of a secure_concat listener: it exists
// for one thing, an admin queue whose host authenticates with DH-HMAC-CHAP
// and generates the TLS PSK of its other queues (secure channel
// concatenation), so only an admin queue of a host with a DH-HMAC-CHAP key
// (or a discovery queue, as Linux nvmet's "not required" allows) gets in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace nvmf {

class qpair;
class subsystem;

struct connect_refusal {
    uint8_t sc;           // Connect status (command specific)
    uint16_t offset;      // IPO: the field pointed at
    std::string message;  // for the log
    bool in_data = true;  // the field is in the Connect data (else in the SQE)
};

// Nothing when the Connect may go on (a plain connection always may).
std::optional<connect_refusal> secure_channel_refusal(const qpair& q, const std::string& hostnqn,
                                                      const std::string& subnqn);

// The secure_concat rules, once the subsystem is known and the host allowed
// on it. Nothing on any other connection.
std::optional<connect_refusal> concat_refusal(const qpair& q, uint16_t qid, const subsystem& sub,
                                              const std::string& hostnqn);

}  // namespace nvmf
