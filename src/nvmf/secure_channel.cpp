#include "nvmf/secure_channel.hpp"

#include <cstddef>

#include "nvme/spec/fabrics.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/subsystem.hpp"

namespace nvmf {

std::optional<connect_refusal> secure_channel_refusal(const qpair& q, const std::string& hostnqn,
                                                      const std::string& subnqn) {
    const channel_info& c = q.channel;
    if (!c.tls()) return std::nullopt;
    if (hostnqn != c.tls_hostnqn) {
        return connect_refusal{spec::sc_cmd::connect_invalid_host,
                               offsetof(spec::connect_data, hostnqn),
                               "the TLS PSK identity is for host " + c.tls_hostnqn};
    }
    if (subnqn != c.tls_subnqn && subnqn != spec::discovery_nqn) {
        return connect_refusal{spec::sc_cmd::connect_invalid_parameters,
                               offsetof(spec::connect_data, subnqn),
                               "the TLS PSK identity is for subsystem " + c.tls_subnqn};
    }
    return std::nullopt;
}

std::optional<connect_refusal> concat_refusal(const qpair& q, uint16_t qid, const subsystem& sub,
                                              const std::string& hostnqn) {
    if (!q.channel.concat_only || sub.is_discovery()) return std::nullopt;
    if (qid != 0) {
        return connect_refusal{spec::sc_cmd::connect_invalid_parameters,
                               offsetof(spec::connect_cmd, qid),
                               "an I/O queue in plain TCP on a secure_concat listener: I/O "
                               "queues go over TLS",
                               false};
    }
    if (!sub.keys_of(hostnqn).dhchap_key) {
        return connect_refusal{spec::sc_cmd::connect_invalid_host,
                               offsetof(spec::connect_data, hostnqn),
                               "plain TCP on a secure_concat listener is for secure channel "
                               "concatenation, and the host has no DH-HMAC-CHAP key"};
    }
    return std::nullopt;
}

}  // namespace nvmf
