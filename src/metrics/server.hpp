// The --metrics endpoint: plain HTTP/1.1 GET /metrics on a TCP address,
// served by one thread of its own at low priority, never by a reactor, so a
// slow or hostile client can cost a scrape, never I/O. No HTTP library:
// Debian's (cpp-httplib, civetweb, libmicrohttpd) bring threads pools,
// keep-alive and request bodies to handle, where this serves one short GET
// per connection; the whole protocol here is http_request.cpp.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "util/result.hpp"

namespace nvmf {
class target;
}

namespace nvmf::metrics {

// Connections served at once; one more is closed when accepted.
constexpr int max_clients = 16;
// A client gets this long from its connection to the end of the response
// (slowloris: a head sent a byte at a time is cut off here).
constexpr int client_deadline_ms = 5000;

class server {
public:
    // address: "HOST:PORT", an IPv6 host in brackets ("[::1]:9100").
    server(target& tgt, std::string address);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    result<void> start();
    void stop();
    // The port bound (the one asked for, or the kernel's pick for port 0).
    unsigned port() const { return port_; }

private:
    void run();

    target& tgt_;
    std::string address_;
    unsigned port_ = 0;
    int listen_fd_ = -1;
    int wake_fd_ = -1;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace nvmf::metrics
