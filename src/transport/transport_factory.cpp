// Creates a transport by trtype (case-insensitive; the canonical spelling is
// stored back into its options).
#include <strings.h>

#include "transport/loop/loop_transport.hpp"
#include "transport/tcp/tcp_transport.hpp"
#include "transport/transport.hpp"
#ifdef NVMF_HAVE_RDMA
#include "transport/rdma/rdma_transport.hpp"
#endif

namespace nvmf {

result<std::unique_ptr<transport>> create_transport(target& tgt, const transport_options& opts) {
    if (auto v = opts.validate(); !v) return v.err();
    transport_options o = opts;
    if (strcasecmp(opts.trtype.c_str(), "TCP") == 0) {
        o.trtype = "TCP";
        return std::unique_ptr<transport>(std::make_unique<tcp::tcp_transport>(tgt, o));
    }
    if (strcasecmp(opts.trtype.c_str(), "RDMA") == 0) {
#ifdef NVMF_HAVE_RDMA
        o.trtype = "RDMA";
        return std::unique_ptr<transport>(std::make_unique<rdma::rdma_transport>(tgt, o));
#else
        return make_error(-EPROTONOSUPPORT,
                          "transport type 'RDMA' is not available: this build has no rdma-core "
                          "(install libibverbs-dev and librdmacm-dev and rebuild)");
#endif
    }
    if (strcasecmp(opts.trtype.c_str(), "LOOP") == 0) {
        o.trtype = "LOOP";
        return std::unique_ptr<transport>(std::make_unique<loop::loop_transport>(tgt, o));
    }
    return make_error(-EPROTONOSUPPORT,
                      "transport type '" + opts.trtype + "' is not supported by this build");
}

}  // namespace nvmf
