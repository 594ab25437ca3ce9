// SPDK's socket layer methods, as far as this target has them: the "ssl"
// implementation is our TLS listeners (secure_channel), and its tls_version
// and enable_ktls options apply to them. The "posix" options and the other
// "ssl" ones tune SPDK's socket code and have no counterpart here: they are
// accepted with their SPDK types, so SPDK's saved configurations load, and
// have no effect. handshake_timeout_ms is ours (no SPDK counterpart).
#include "nvmf/target.hpp"
#include "rpc/handlers.hpp"
#include "rpc/params.hpp"

namespace nvmf::rpc {

namespace {

constexpr uint32_t default_handshake_timeout_ms = 10000;

// SPDK's sock_impl_set_options parameters that tune its own socket code:
// this target's sockets keep the kernel's defaults (docs/rpc.md).
void ignore_spdk_socket_tuning(params& p) {
    uint64_t u = 0;
    uint32_t placement = 0;
    bool b = false;
    p.u64("recv_buf_size", u, false);
    p.u64("send_buf_size", u, false);
    p.boolean("enable_recv_pipe", b, false);
    p.boolean("enable_quickack", b, false);
    if (p.u32("enable_placement_id", placement, false, 0, 2) && placement != 0) {
        p.fail(
            "parameter 'enable_placement_id': placing connections by NAPI ID or CPU is not "
            "supported (only 0)");
    }
    p.boolean("enable_zerocopy_send_server", b, false);
    p.boolean("enable_zerocopy_send_client", b, false);
    p.u64("zerocopy_threshold", u, false);
    p.boolean("enable_zerocopy_send", b, false);  // older SPDK name
}

// posix (plain TCP) and ssl (TLS); SPDK's uring implementation has no
// counterpart here.
bool known_impl(const std::string& name) { return name == "posix" || name == "ssl"; }

}  // namespace

result<json> sock_impl_set_options(context& ctx, const json& j) {
    params p(j, false);
    std::string impl;
    p.str("impl_name", impl, true, 64);
    ignore_spdk_socket_tuning(p);
    uint32_t tls_version = 0;
    const bool has_version = p.u32("tls_version", tls_version, false);
    bool ktls = false;
    const bool has_ktls = p.boolean("enable_ktls", ktls, false);
    uint32_t timeout_ms = 0;
    const bool has_timeout = p.u32("handshake_timeout_ms", timeout_ms, false, 100, 10 * 60 * 1000);
    if (auto r = p.finish(); !r) return r.err();
    if (!known_impl(impl)) {
        return invalid_params("parameter 'impl_name': unknown socket implementation '" + impl +
                              "' (posix and ssl are known)");
    }
    if (impl != "ssl") return json(true);  // posix and uring: SPDK's tuning only
    if (has_version) {
        if (tls_version != 0 && tls_version != 13) {
            return invalid_params(
                "parameter 'tls_version': NVMe/TCP uses TLS 1.3 (13, or 0 for any)");
        }
        ctx.tgt.tls_opts.tls_version.store(tls_version, std::memory_order_relaxed);
    }
    if (has_ktls) ctx.tgt.tls_opts.enable_ktls.store(ktls, std::memory_order_relaxed);
    if (has_timeout) {
        ctx.tgt.tls_opts.handshake_timeout_ms.store(timeout_ms, std::memory_order_relaxed);
    }
    return json(true);
}

result<json> sock_impl_get_options(context& ctx, const json& j) {
    params p(j, false);
    std::string impl;
    p.str("impl_name", impl, true, 64);
    if (auto r = p.finish(); !r) return r.err();
    if (!known_impl(impl)) return invalid_params("unknown socket implementation '" + impl + "'");
    json out = {{"tls_version", 0}, {"enable_ktls", false}};
    if (impl == "ssl") {
        const auto& o = ctx.tgt.tls_opts;
        out = {{"tls_version", o.tls_version.load(std::memory_order_relaxed)},
               {"enable_ktls", o.enable_ktls.load(std::memory_order_relaxed)},
               {"handshake_timeout_ms", o.handshake_timeout_ms.load(std::memory_order_relaxed)}};
    }
    return out;
}

result<json> sock_set_default_impl(context&, const json& j) {
    params p(j, false);
    std::string impl;
    p.str("impl_name", impl, true, 64);
    if (auto r = p.finish(); !r) return r.err();
    // Listeners are plain unless added with secure_channel (or sock_impl "ssl").
    if (impl != "posix") {
        return invalid_params(
            "only 'posix' can be the default here; a TLS listener is one added "
            "with secure_channel");
    }
    return json(true);
}

json sock_config(target& tgt) {
    json out = json::array();
    const auto& o = tgt.tls_opts;
    const bool ktls = o.enable_ktls.load(std::memory_order_relaxed);
    const uint32_t version = o.tls_version.load(std::memory_order_relaxed);
    const uint32_t timeout = o.handshake_timeout_ms.load(std::memory_order_relaxed);
    if (ktls && version == 0 && timeout == default_handshake_timeout_ms) return out;
    json params = {{"impl_name", "ssl"}, {"tls_version", version}, {"enable_ktls", ktls}};
    if (timeout != default_handshake_timeout_ms) params["handshake_timeout_ms"] = timeout;
    out.push_back({{"method", "sock_impl_set_options"}, {"params", params}});
    return out;
}

}  // namespace nvmf::rpc
