#include "metrics/server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "metrics/collect.hpp"
#include "metrics/http_request.hpp"
#include "util/log.hpp"

namespace nvmf::metrics {

namespace {

using clock = std::chrono::steady_clock;

struct client {
    int fd = -1;
    clock::time_point deadline;
    std::string in;
    std::string out;  // the response, once there is one
    size_t sent = 0;
    bool draining = false;  // response sent: reading what is left until EOF
};

std::string response(int status, std::string_view reason, std::string_view content_type,
                     std::string_view body, bool allow_get = false) {
    return fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}",
        status, reason, content_type, body.size(), allow_get ? "Allow: GET\r\n" : "", body);
}

// Splits "HOST:PORT" / "[HOST]:PORT".
bool split_address(const std::string& a, std::string& host, std::string& port) {
    const size_t colon = a.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == a.size()) return false;
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') return false;
        host = host.substr(1, host.size() - 2);
    }
    return true;
}

void close_client(client& c) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
}

}  // namespace

server::server(target& tgt, std::string address) : tgt_(tgt), address_(std::move(address)) {}

server::~server() { stop(); }

result<void> server::start() {
    std::string host, port;
    if (!split_address(address_, host, port)) {
        return make_error(-EINVAL, "--metrics " + address_ + ": expected HOST:PORT");
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        return make_error(-EINVAL, "--metrics " + address_ + ": " + gai_strerror(rc));
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const bool ok = fd >= 0 && bind(fd, res->ai_addr, res->ai_addrlen) == 0 && listen(fd, 16) == 0;
    const int err = errno;
    freeaddrinfo(res);
    if (!ok) {
        if (fd >= 0) ::close(fd);
        return make_error(-err, "--metrics " + address_ + ": " + std::strerror(err));
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    listen_fd_ = fd;
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        const int e = errno;
        ::close(listen_fd_);
        listen_fd_ = -1;
        return make_error(-e, std::string("metrics: eventfd: ") + std::strerror(e));
    }
    stop_ = false;
    thread_ = std::thread([this] { run(); });
    log::info("metrics on http://{}/metrics", address_);
    return {};
}

void server::stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    uint64_t one = 1;
    ssize_t r = write(wake_fd_, &one, sizeof(one));
    (void)r;
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_fd_);
    listen_fd_ = wake_fd_ = -1;
}

void server::run() {
    pthread_setname_np(pthread_self(), "metrics");
    // Low priority: a scrape waits for the reactors' cores, never the reverse.
    sched_param none{};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);

    std::vector<client> clients;
    std::vector<pollfd> fds;
    while (!stop_.load()) {
        fds.clear();
        fds.push_back({wake_fd_, POLLIN, 0});
        fds.push_back({listen_fd_, POLLIN, 0});
        const auto now = clock::now();
        int timeout = -1;
        for (auto& c : clients) {
            const bool reading = c.out.empty() || c.draining;
            fds.push_back({c.fd, static_cast<short>(reading ? POLLIN : POLLOUT), 0});
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(c.deadline - now).count();
            const int ms = left < 0 ? 0 : static_cast<int>(left) + 1;
            if (timeout < 0 || ms < timeout) timeout = ms;
        }
        if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
            log::error("metrics: poll: {}", std::strerror(errno));
            break;
        }
        if (fds[0].revents != 0) continue;  // stop() (the loop condition ends it)
        for (size_t i = 0; i < clients.size(); ++i) {
            client& c = clients[i];
            const short ev = fds[i + 2].revents;
            if (c.draining && (ev & (POLLIN | POLLHUP | POLLERR))) {
                char buf[2048];
                const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    close_client(c);
                    continue;
                }
            } else if (c.out.empty() && (ev & (POLLIN | POLLHUP | POLLERR))) {
                char buf[2048];
                const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    close_client(c);
                    continue;
                }
                if (n > 0) c.in.append(buf, static_cast<size_t>(n));
                const http_verdict v = parse_request(c.in);
                if (v.what == http_verdict::kind::ok) {
                    c.out = response(200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                                     collect(tgt_));
                } else if (v.what == http_verdict::kind::error) {
                    c.out = response(v.status, v.reason, "text/plain; charset=utf-8",
                                     fmt::format("{} {}\n", v.status, v.reason), v.status == 405);
                }
                if (v.what != http_verdict::kind::incomplete) {
                    c.in.clear();
                    c.in.shrink_to_fit();
                }
            } else if (!c.out.empty() && (ev & (POLLOUT | POLLHUP | POLLERR))) {
                const ssize_t n =
                    send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    close_client(c);
                    continue;
                }
                if (n > 0) c.sent += static_cast<size_t>(n);
                if (c.sent == c.out.size()) {
                    // Connection: close. Whatever else the client sent (a
                    // pipelined request) is read and dropped until it closes
                    // too: closing with unread bytes would send a reset that
                    // may destroy the response before the client reads it.
                    shutdown(c.fd, SHUT_WR);
                    c.draining = true;
                    c.deadline = std::min(c.deadline, clock::now() + std::chrono::seconds(1));
                }
            }
            if (clock::now() >= c.deadline) close_client(c);
        }
        std::erase_if(clients, [](const client& c) { return c.fd < 0; });
        if (fds[1].revents & POLLIN) {
            for (;;) {
                const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) break;
                if (clients.size() >= static_cast<size_t>(max_clients)) {
                    ::close(fd);
                    continue;
                }
                clients.push_back(
                    {fd, clock::now() + std::chrono::milliseconds(client_deadline_ms), {}, {}, 0});
            }
        }
    }
    for (auto& c : clients) close_client(c);
}

}  // namespace nvmf::metrics
