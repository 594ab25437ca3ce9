// The JSON-RPC 2.0 server: a Unix stream socket served by one thread of its
// own (never a reactor: methods block while reactors do the work). Clients
// are served concurrently, each client's requests in order, one at a time
// for the whole process, so methods never race each other. A
// framework_wait_init sent before framework_start_init is answered when
// that comes (its client's later requests wait behind it), as in SPDK.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "rpc/methods.hpp"
#include "util/result.hpp"

namespace nvmf::rpc {

constexpr const char* default_socket_path = "/var/tmp/nvmf-target.sock";

class server {
public:
    // fw: the daemon's RPC state (null: always RUNTIME).
    server(target& tgt, std::string path, framework* fw = nullptr);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Creates the socket (mode 0600). A stale socket file is replaced only
    // when nothing answers on it; any other existing file is an error.
    result<void> start();
    // Closes every connection, removes the socket file, joins the thread.
    void stop();
    const std::string& path() const { return path_; }

private:
    void run();

    context ctx_;
    std::string path_;
    int listen_fd_ = -1;
    int wake_fd_ = -1;  // eventfd: stop() wakes poll()
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace nvmf::rpc
