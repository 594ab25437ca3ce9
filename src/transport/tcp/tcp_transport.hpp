// The NVMe/TCP transport: listeners, connection placement on reactors, and
// the per-reactor state (buffer pool, connections) every connection uses.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "mem/buffer_pool.hpp"
#include "nvmf/qpair.hpp"
#include "reactor/reactor.hpp"
#include "transport/transport.hpp"

namespace nvmf::tcp {

class tcp_qpair;
struct tcp_request;
class tls_accept;
class tls_channel;
class tls_context;

// Per reactor state of the TCP transport: touched only by that reactor.
struct poll_group {
    // Out of line: the members' destructors need tls_accept complete.
    poll_group(reactor& r, size_t buf_size, size_t max_bufs);
    ~poll_group();
    reactor& owner;
    mem::buffer_pool pool;
    // Requests waiting for a pool buffer, oldest first.
    std::deque<tcp_request*> buffer_waiters;
    std::unordered_map<tcp_qpair*, std::shared_ptr<tcp_qpair>> conns;
    // Connections on secure channel listeners still in their TLS handshake.
    std::unordered_map<tls_accept*, std::unique_ptr<tls_accept>> handshakes;
    uint64_t accepted = 0;
    uint64_t closed = 0;
    uint64_t tls_handshakes = 0;  // completed
    uint64_t tls_kernel = 0;      // of those, with both directions in kTLS
    uint64_t tls_failures = 0;    // refused or broken handshakes
    uint64_t tls_timeouts = 0;    // handshakes that did not finish in time

    void* get_buffer() { return pool.get(); }
    // Gives the buffer to the oldest waiter, or back to the pool.
    void put_buffer(void* buf);
    void forget_waiters_of(const tcp_qpair* q);
};

class tcp_transport final : public transport {
public:
    tcp_transport(target& tgt, transport_options opts);
    ~tcp_transport() override;

    result<void> listen(const transport_id& trid) override;
    result<void> listen(const transport_id& trid, listener_security sec) override;
    result<void> stop_listen(const transport_id& trid) override;
    std::vector<transport_id> listening() const override;
    void shutdown() override;
    nlohmann::json stats() const override;

    poll_group& group(unsigned reactor_index) { return *groups_[reactor_index]; }
    // Called on the listener's reactor for every accepted socket.
    void place_connection(int fd, const transport_id& listen_trid, listener_security sec);
    // On g's reactor: a queue pair for an accepted socket, over TLS when
    // channel is set (info: its PSK identity; or a plain connection of a
    // secure_concat listener).
    void start_connection(poll_group& g, int fd, const transport_id& listen_trid,
                          const transport_id& peer, std::unique_ptr<tls_channel> channel,
                          channel_info info);
    // The TLS server context of secure channel listeners.
    const tls_context& tls_server() const { return *tls_server_; }

private:
    struct listener;
    mutable std::mutex mtx_;
    std::vector<std::unique_ptr<listener>> listeners_;
    std::vector<std::unique_ptr<poll_group>> groups_;
    std::unique_ptr<tls_context> tls_server_;  // set by the constructor, then read-only
    // Written under mtx_; also read by connections being placed on a reactor,
    // which do not take mtx_.
    std::atomic<bool> shut_down_ = false;
};

}  // namespace nvmf::tcp
