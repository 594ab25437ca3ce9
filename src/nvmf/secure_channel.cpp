#include "nvmf/secure_channel.hpp"

#include <cstddef>

#include "nvme/spec/fabrics.hpp"
#include "nvmf/qpair.hpp"

namespace nvmf {

std::optional<connect_refusal> secure_channel_refusal(const qpair& q, const std::string& hostnqn,
                                                      const std::string& subnqn) {
    if (q.tls_hostnqn.empty()) return std::nullopt;
    if (hostnqn != q.tls_hostnqn) {
        return connect_refusal{spec::sc_cmd::connect_invalid_host,
                               offsetof(spec::connect_data, hostnqn),
                               "the TLS PSK identity is for host " + q.tls_hostnqn};
    }
    if (subnqn != q.tls_subnqn && subnqn != spec::discovery_nqn) {
        return connect_refusal{spec::sc_cmd::connect_invalid_parameters,
                               offsetof(spec::connect_data, subnqn),
                               "the TLS PSK identity is for subsystem " + q.tls_subnqn};
    }
    return std::nullopt;
}

}  // namespace nvmf
