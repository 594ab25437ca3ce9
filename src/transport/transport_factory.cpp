#include <strings.h>

#include "transport/tcp/tcp_transport.hpp"
#include "transport/transport.hpp"

namespace nvmf {

result<std::unique_ptr<transport>> create_transport(target& tgt, const transport_options& opts) {
    if (auto v = opts.validate(); !v) return v.err();
    if (strcasecmp(opts.trtype.c_str(), "TCP") == 0) {
        transport_options o = opts;
        o.trtype = "TCP";
        return std::unique_ptr<transport>(std::make_unique<tcp::tcp_transport>(tgt, o));
    }
    return make_error(-EPROTONOSUPPORT,
                      "transport type '" + opts.trtype + "' is not supported by this build");
}

}  // namespace nvmf
