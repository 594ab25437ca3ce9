// Fuzzes a whole NVMe/TCP connection: arbitrary bytes, split at arbitrary
// points, go into a real tcp_qpair through a socketpair, with a RAM
// namespace behind it. Whatever the host sends, the target must answer or
// terminate that connection: no crash, no leak, no hang.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_target_env.hpp"
#include "transport/tcp/tcp_qpair.hpp"
#include "transport/tcp/tcp_transport.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto& env = nvmf::fuzz::target_env::get();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
    auto& group = env.tcp->group(0);
    nvmf::transport_id peer{"TCP", "IPv4", "127.0.0.2", "50000"};
    {
        auto q =
            std::make_shared<nvmf::tcp::tcp_qpair>(*env.tcp, group, sv[0], env.listen_trid, peer);
        group.conns.emplace(q.get(), q);
        q->start();
    }
    // The first byte of each chunk says how long the chunk is: fragmentation is fuzzed too.
    size_t off = 0;
    char sink[65536];
    while (off < size) {
        size_t chunk = static_cast<size_t>(data[off++]) * 8 + 1;
        if (chunk > size - off) chunk = size - off;
        // send, not write: a target that closed already must not raise SIGPIPE here.
        if (chunk > 0 && send(sv[1], data + off, chunk, MSG_NOSIGNAL) < 0) break;
        off += chunk;
        env.r->poll_once(0);
        while (read(sv[1], sink, sizeof(sink)) > 0) {
        }
    }
    close(sv[1]);
    for (int i = 0; i < 8 && !group.conns.empty(); ++i) {
        env.r->poll_once(0);
        while (read(sv[1], sink, sizeof(sink)) > 0) {
        }
    }
    // A connection still open (waiting on a timer) is closed by the target itself.
    std::vector<std::shared_ptr<nvmf::tcp::tcp_qpair>> left;
    for (auto& [_, q] : group.conns) left.push_back(q);
    for (auto& q : left) q->disconnect();
    for (int i = 0; i < 4 && !group.conns.empty(); ++i) env.r->poll_once(0);
    if (!group.conns.empty()) __builtin_trap();  // a connection that never goes away is a leak
    env.reset_controllers();
    return 0;
}
