// A connection accepted on a secure channel listener, before it is a queue
// pair: the TLS handshake runs here, on the reactor the connection will live
// on, driven by its socket's events, bounded by a deadline. Success hands the
// socket and the TLS channel to a new tcp_qpair; anything else (no valid PSK
// identity, a wrong key, bytes that are not TLS, a peer that stalls) closes
// the socket and nothing else happens. The PDU path never sees a handshake.
#pragma once

#include <memory>
#include <string>

#include "reactor/reactor.hpp"
#include "transport/tcp/tls.hpp"
#include "transport/transport.hpp"

namespace nvmf::tcp {

struct poll_group;
class tcp_transport;

class tls_accept final : public event_handler {
public:
    tls_accept(tcp_transport& t, poll_group& g, int fd, transport_id listen, transport_id peer);
    ~tls_accept() override;
    tls_accept(const tls_accept&) = delete;
    tls_accept& operator=(const tls_accept&) = delete;

    void start();
    // Closes the socket (transport shutdown); the group drops this object.
    void abort(const char* why);
    void on_events(uint32_t events) override;

private:
    friend struct tls_accept_lookup;
    void advance();
    void fail(const std::string& why);
    void succeed();
    void done();

    tcp_transport& transport_;
    poll_group& group_;
    int fd_;
    transport_id listen_;
    transport_id peer_;
    std::unique_ptr<tls_channel> channel_;
    reactor::timer_id timer_ = 0;
    bool first_read_ = true;
    bool over_ = false;
    // From the PSK identity the handshake accepted.
    std::string hostnqn_;
    std::string subnqn_;
};

}  // namespace nvmf::tcp
