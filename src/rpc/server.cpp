#include "rpc/server.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <memory>
#include <vector>

#include "rpc/jsonrpc.hpp"
#include "rpc/params.hpp"
#include "util/log.hpp"

namespace nvmf::rpc {

namespace {

constexpr size_t max_clients = 64;
// A client that does not read its responses stops being read from.
constexpr size_t max_pending_output = 16u << 20;

struct client {
    int fd = -1;
    stream_splitter in;
    json parked;  // a framework_wait_init waiting for framework_start_init
    std::string out;
    size_t out_off = 0;
    bool closing = false;  // close once out is flushed
    bool eof = false;

    ~client() {
        if (fd >= 0) ::close(fd);
    }
    size_t pending() const { return out.size() - out_off; }
};

bool make_addr(const std::string& path, sockaddr_un* a) {
    std::memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(a->sun_path)) return false;
    std::memcpy(a->sun_path, path.c_str(), path.size() + 1);
    return true;
}

// True when a process accepts connections on path.
bool someone_listens(const sockaddr_un& a) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
}

void queue_response(client& c, const json& resp) {
    if (resp.is_null()) return;
    c.out += resp.dump(-1, ' ', false, json::error_handler_t::replace);
    c.out += '\n';
}

// True for a framework_wait_init request (not in a batch).
bool waits_for_init(const json& msg) {
    if (!msg.is_object()) return false;
    auto m = msg.find("method");
    return m != msg.end() && *m == "framework_wait_init";
}

// Answers the client's complete requests in order, up to one that must wait
// for framework_start_init.
void serve(context& ctx, client& c) {
    std::string text, why;
    while (!c.closing) {
        json msg;
        if (!c.parked.is_null()) {
            if (ctx.state() != state_runtime) return;
            msg = std::move(c.parked);
            c.parked = nullptr;
        } else {
            const auto st = c.in.next(&text, &why);
            if (st == stream_splitter::status::need_more) return;
            if (st == stream_splitter::status::error) {
                const int code = why.rfind("Parse", 0) == 0 ? err_parse : err_invalid_request;
                queue_response(c, make_error_response(nullptr, code, why));
                c.closing = true;
                return;
            }
            msg = json::parse(text, nullptr, false);
            if (msg.is_discarded()) {
                queue_response(
                    c, make_error_response(nullptr, err_parse, "Parse error: invalid JSON"));
                c.closing = true;  // the stream cannot be trusted past bad JSON
                return;
            }
            if (waits_for_init(msg) && ctx.state() != state_runtime) {
                c.parked = std::move(msg);
                return;
            }
        }
        queue_response(c, handle_message(ctx, msg));
    }
}

}  // namespace

server::server(target& tgt, std::string path, framework* fw)
    : ctx_(tgt, fw), path_(std::move(path)) {}

server::~server() { stop(); }

result<void> server::start() {
    sockaddr_un a;
    if (!make_addr(path_, &a)) {
        return make_error(-ENAMETOOLONG, "RPC socket path '" + path_ +
                                             "' is empty or longer than " +
                                             std::to_string(sizeof(a.sun_path) - 1) + " bytes");
    }
    struct stat st;
    if (lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            return make_error(-EEXIST, "RPC socket path " + path_ + " exists and is not a socket");
        }
        if (someone_listens(a)) {
            return make_error(-EADDRINUSE, "RPC socket " + path_ +
                                               " is in use: another nvmf-target is running? "
                                               "(choose another with -r)");
        }
        ::unlink(path_.c_str());  // stale: its process is gone
    }
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0)
        return make_error(-errno, std::string("RPC socket: ") + std::strerror(errno));
    // The socket is created 0600 from the start: the umask covers bind().
    const mode_t old = umask(0177);
    const int rc = bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    const int bind_errno = errno;
    umask(old);
    if (rc != 0 || ::listen(listen_fd_, 16) != 0) {
        const int e = rc != 0 ? bind_errno : errno;
        ::close(listen_fd_);
        listen_fd_ = -1;
        return make_error(-e, "cannot listen on RPC socket " + path_ + ": " + std::strerror(e));
    }
    ::chmod(path_.c_str(), 0600);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        const int e = errno;
        ::close(listen_fd_);
        listen_fd_ = -1;
        ::unlink(path_.c_str());
        return make_error(-e, std::string("eventfd: ") + std::strerror(e));
    }
    stop_ = false;
    thread_ = std::thread([this] { run(); });
    log::info("RPC server listening on {}", path_);
    return {};
}

void server::stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_fd_);
    listen_fd_ = wake_fd_ = -1;
    ::unlink(path_.c_str());
}

void server::run() {
    std::list<std::unique_ptr<client>> clients;
    std::vector<pollfd> fds;
    std::vector<client*> owners;
    std::vector<char> buf(64 * 1024);
    // Out of descriptors, a pending connection stays readable and poll() would
    // return at once forever: stop watching the socket for a while instead.
    using clock = std::chrono::steady_clock;
    clock::time_point accept_resume{};
    bool fd_limit_logged = false;

    while (!stop_) {
        fds.clear();
        owners.clear();
        const bool accept_paused = clock::now() < accept_resume;
        fds.push_back({wake_fd_, POLLIN, 0});
        fds.push_back({listen_fd_, static_cast<short>(accept_paused ? 0 : POLLIN), 0});
        for (auto& c : clients) {
            short ev = 0;
            if (!c->closing && !c->eof && c->pending() < max_pending_output) ev |= POLLIN;
            if (c->pending()) ev |= POLLOUT;
            fds.push_back({c->fd, ev, 0});
            owners.push_back(c.get());
        }
        if (::poll(fds.data(), fds.size(), accept_paused ? 100 : -1) < 0) {
            if (errno == EINTR) continue;
            log::error("RPC server: poll: {}", std::strerror(errno));
            break;
        }
        if (fds[1].revents & POLLIN) {
            for (;;) {
                const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                        accept_resume = clock::now() + std::chrono::milliseconds(100);
                        if (!fd_limit_logged) {
                            log::warn("RPC server: cannot accept ({}); retrying every 100 ms",
                                      std::strerror(errno));
                            fd_limit_logged = true;
                        }
                    }
                    break;
                }
                fd_limit_logged = false;
                if (clients.size() >= max_clients) {
                    log::warn("RPC server: more than {} clients, refusing one", max_clients);
                    ::close(fd);
                    continue;
                }
                auto c = std::make_unique<client>();
                c->fd = fd;
                clients.push_back(std::move(c));
            }
        }
        for (size_t i = 0; i < owners.size(); ++i) {
            client& c = *owners[i];
            const short re = fds[i + 2].revents;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                const ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
                if (n > 0) {
                    c.in.append(std::string_view(buf.data(), static_cast<size_t>(n)));
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    c.eof = true;
                }
                // Every complete request now, in order.
                serve(ctx_, c);
            }
            if (c.pending()) {
                const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.pending(), MSG_NOSIGNAL);
                if (n > 0) {
                    c.out_off += static_cast<size_t>(n);
                    if (c.out_off == c.out.size()) {
                        c.out.clear();
                        c.out_off = 0;
                    }
                } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    c.eof = true;
                    c.out.clear();
                    c.out_off = 0;
                }
            }
        }
        // A framework_start_init just answered releases the parked
        // framework_wait_init requests (their answers go out next round).
        if (ctx_.state() == state_runtime) {
            for (auto& c : clients) {
                if (!c->parked.is_null()) serve(ctx_, *c);
            }
        }
        clients.remove_if([](const std::unique_ptr<client>& c) {
            return (c->eof || c->closing) && c->pending() == 0;
        });
    }
}

}  // namespace nvmf::rpc
