// Fuzzes NVMe/TCP on a secure channel listener: the target's TLS accept
// path and the PDU stream inside TLS. The first byte picks the mode:
//   0  raw bytes where a ClientHello belongs (record and handshake parsing,
//      the PSK identity lookup, a handshake cut short);
//   1  a real TLS 1.3 handshake by an in-process host (NVMe0R or NVMe1R
//      identity, either cipher suite), then the rest as the PDU stream,
//      encrypted: whatever the host says inside TLS, the target must answer
//      or terminate that connection;
//   2  the same handshake, then the rest as raw bytes (forged records);
//   3  the rest as a PSK identity and as an interchange key (pure parsers).
// A real tls_accept / tcp_qpair pair runs over a socketpair on the fuzz
// reactor. Nothing may crash, leak or hang, and every connection must end.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_target_env.hpp"
#include "keyring/tls_psk.hpp"
#include "transport/tcp/tcp_qpair.hpp"
#include "transport/tcp/tcp_transport.hpp"
#include "transport/tcp/tls.hpp"
#include "transport/tcp/tls_accept.hpp"

namespace {

namespace kr = nvmf::keyring;
using nvmf::tcp::tls_channel;

constexpr const char* tls_nqn = "nqn.2026-11.io.nvmf-target:fuzz-tls";
// One host per key: fuzz-host holds the 32-byte key, fuzz-host2 the 48-byte one.
const char* tls_hosts[2] = {"nqn.2026-11.io.nvmf-target:fuzz-host",
                            "nqn.2026-11.io.nvmf-target:fuzz-host2"};
const char* keys[2] = {
    "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:",
    "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:"};

// The shared fuzz target plus a subsystem on a secure listener, with a host
// for each key size (so each cipher suite).
struct tls_env {
    nvmf::fuzz::target_env& env = nvmf::fuzz::target_env::get();
    nvmf::transport_id trid{"TCP", "IPv4", "127.0.0.1", "0"};
    std::shared_ptr<nvmf::subsystem> sub;
    std::unique_ptr<nvmf::tcp::tls_context> client_ctx[2];
    kr::configured_psk psk[2];

    static tls_env& get() {
        static tls_env e;
        return e;
    }

private:
    tls_env() {
        // Port 0: a secure listener that sets up the TLS server context and
        // never gets a connection; the fuzzer hands sockets over itself.
        (void)env.tcp->listen(trid, true);
        nvmf::subsystem_params p;
        sub = *env.tgt->create_subsystem(tls_nqn, p);
        (void)sub->add_ns(env.tgt->bdevs.find("Malloc0"), {});
        (void)sub->add_listener(trid, nvmf::ana_state::optimized, true);
        for (int i = 0; i < 2; ++i) {
            psk[i] = *kr::parse_interchange(keys[i]);
            (void)sub->add_host(tls_hosts[i]);
            auto host_key = kr::make_host_psk("fuzz", keys[i], tls_hosts[i]);
            sub->set_host_psk(tls_hosts[i],
                              std::make_shared<const kr::host_psk>(std::move(*host_key)));
        }
        sub->set_state(nvmf::subsystem_state::active);
        client_ctx[0] =
            std::move(*nvmf::tcp::tls_context::client(kr::tls_cipher::aes_128_gcm_sha256));
        client_ctx[1] =
            std::move(*nvmf::tcp::tls_context::client(kr::tls_cipher::aes_256_gcm_sha384));
    }
};

void drain(int fd) {
    char sink[65536];
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
}

// Runs the client's handshake against the target, polling the reactor.
bool client_handshake(tls_env& e, tls_channel& c) {
    for (int i = 0; i < 200; ++i) {
        const auto st = c.handshake();
        if (st == tls_channel::step::done) return true;
        if (st == tls_channel::step::failed) return false;
        e.env.r->poll_once(0);
    }
    return false;
}

void send_chunks(tls_env& e, const uint8_t* data, size_t size, int fd, tls_channel* tls) {
    size_t off = 0;
    uint8_t sink[65536];
    while (off < size) {
        size_t chunk = static_cast<size_t>(data[off++]) * 8 + 1;
        if (chunk > size - off) chunk = size - off;
        size_t sent = 0;
        for (int spins = 0; sent < chunk && spins < 64; ++spins) {
            iovec v{const_cast<uint8_t*>(data + off + sent), chunk - sent};
            const ssize_t n =
                tls ? tls->send(&v, 1) : ::send(fd, v.iov_base, v.iov_len, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<size_t>(n);
            } else if (n < 0 && errno != EAGAIN) {
                return;  // the target closed: nothing more to say
            }
            e.env.r->poll_once(0);
        }
        off += chunk;
        e.env.r->poll_once(0);
        if (tls) {
            iovec v{sink, sizeof(sink)};
            while (tls->recv(&v, 1) > 0) {
            }
        } else {
            drain(fd);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    auto& e = tls_env::get();
    const uint8_t mode = data[0] % 4;
    ++data;
    --size;
    if (mode == 3) {
        if (size == 0) return 0;
        const std::string_view s(reinterpret_cast<const char*>(data), size);
        if (auto id = kr::parse_psk_identity(s)) {
            // Whatever parses must derive without trouble.
            (void)kr::target_tls_psk(*id, s, *e.sub->host_psk(tls_hosts[data[0] & 1]));
        }
        (void)kr::parse_interchange(s);
        return 0;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
    auto& group = e.env.tcp->group(0);
    nvmf::transport_id peer{"TCP", "IPv4", "127.0.0.2", "50000"};
    {
        ++group.accepted;
        auto a = std::make_unique<nvmf::tcp::tls_accept>(*e.env.tcp, group, sv[0], e.trid, peer);
        auto* p = a.get();
        group.handshakes.emplace(p, std::move(a));
        p->start();
    }
    std::unique_ptr<tls_channel> client;
    kr::tls_credentials creds;
    if (mode == 0) {
        send_chunks(e, data, size, sv[1], nullptr);
    } else if (size >= 1) {
        // Option byte: key (cipher suite), identity version, a foreign host.
        const uint8_t opt = data[0];
        ++data;
        --size;
        const int k = opt & 1;
        const char* host = (opt & 4) ? "nqn.2026-11.io.nvmf-target:stranger" : tls_hosts[k];
        creds = *kr::host_credentials(e.psk[k], host, tls_nqn, (opt >> 1) & 1);
        client = std::move(*tls_channel::connect(*e.client_ctx[k], sv[1], creds));
        const bool up = client_handshake(e, *client);
        if (up) client->finish(false);
        send_chunks(e, data, size, sv[1], up && mode == 1 ? client.get() : nullptr);
    }
    client.reset();
    close(sv[1]);
    for (int i = 0; i < 8 && (!group.conns.empty() || !group.handshakes.empty()); ++i) {
        e.env.r->poll_once(0);
    }
    // What is still open (waiting on a timer) is closed by the target itself.
    std::vector<nvmf::tcp::tls_accept*> pending;
    for (auto& [p, _] : group.handshakes) pending.push_back(p);
    for (auto* p : pending) p->abort("fuzz input done");
    std::vector<std::shared_ptr<nvmf::tcp::tcp_qpair>> left;
    for (auto& [_, q] : group.conns) left.push_back(q);
    for (auto& q : left) q->disconnect();
    for (int i = 0; i < 4 && (!group.conns.empty() || !group.handshakes.empty()); ++i) {
        e.env.r->poll_once(0);
    }
    if (!group.conns.empty() || !group.handshakes.empty()) __builtin_trap();  // a leak
    e.env.reset_controllers();
    return 0;
}
