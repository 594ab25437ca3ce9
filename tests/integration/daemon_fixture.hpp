// Shared integration test fixture: starts the real nvmf-target daemon as a
// child process with an SPDK-format JSON config in a temp dir, on 127.0.0.1
// at a port free for this test process, waits until it accepts connections,
// and stops it with SIGTERM at the end (it must exit 0, not crash).
//
// NVMF_TEST_LOG_LEVEL in the environment is passed as --log-level;
// NVMF_TEST_CPUMASK as -m (default 0x1: one reactor; scripts/tsan uses 0x3);
// NVMF_TEST_KEEP_LOGS keeps the temp dir (config + daemon log).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/controller.hpp"
#include "host/discovery.hpp"
#include "host/queue.hpp"
#include "nvme/spec/fabrics.hpp"

namespace nvmf::test {

constexpr const char* default_nqn = "nqn.2016-06.io.spdk:cnode1";

struct bdev_cfg {
    std::string name;
    uint64_t num_blocks;
    uint32_t block_size;
};

struct ns_cfg {
    std::string bdev_name;
    uint32_t nsid;
};

struct subsystem_cfg {
    std::string nqn;
    bool allow_any_host = true;
    std::vector<std::string> hosts;
    std::string serial_number = "SPDK001";
    std::string model_number = "nvmf-target test";
    std::vector<ns_cfg> namespaces;
    bool listen = true;  // a listener on the test address and port
};

struct daemon_config {
    std::vector<bdev_cfg> bdevs;
    // More bdev section entries ({"method", "params"}), after the malloc bdevs.
    nlohmann::json extra_bdevs = nlohmann::json::array();
    std::vector<subsystem_cfg> subsystems;
    bool discovery_listener = true;
    nlohmann::json transport = {{"trtype", "TCP"}};

    // One malloc bdev exported as nsid 1 of default_nqn.
    static daemon_config simple(uint32_t block_size = 512, uint64_t bytes = 16ull << 20) {
        daemon_config c;
        c.bdevs.push_back({"Malloc0", bytes / block_size, block_size});
        subsystem_cfg s;
        s.nqn = default_nqn;
        s.namespaces.push_back({"Malloc0", 1});
        c.subsystems.push_back(s);
        return c;
    }
};

inline nlohmann::json listen_address(const std::string& port) {
    return {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"}, {"trsvcid", port}};
}

inline nlohmann::json to_json(const daemon_config& c, const std::string& port) {
    using nlohmann::json;
    json bdev = json::array();
    for (const auto& b : c.bdevs) {
        bdev.push_back(
            {{"method", "bdev_malloc_create"},
             {"params",
              {{"name", b.name}, {"num_blocks", b.num_blocks}, {"block_size", b.block_size}}}});
    }
    for (const auto& e : c.extra_bdevs) bdev.push_back(e);
    json nvmf = json::array();
    nvmf.push_back({{"method", "nvmf_create_transport"}, {"params", c.transport}});
    for (const auto& s : c.subsystems) {
        nvmf.push_back({{"method", "nvmf_create_subsystem"},
                        {"params",
                         {{"nqn", s.nqn},
                          {"allow_any_host", s.allow_any_host},
                          {"serial_number", s.serial_number},
                          {"model_number", s.model_number}}}});
        for (const auto& h : s.hosts) {
            nvmf.push_back(
                {{"method", "nvmf_subsystem_add_host"}, {"params", {{"nqn", s.nqn}, {"host", h}}}});
        }
        for (const auto& n : s.namespaces) {
            nvmf.push_back({{"method", "nvmf_subsystem_add_ns"},
                            {"params",
                             {{"nqn", s.nqn},
                              {"namespace", {{"bdev_name", n.bdev_name}, {"nsid", n.nsid}}}}}});
        }
        if (s.listen) {
            nvmf.push_back(
                {{"method", "nvmf_subsystem_add_listener"},
                 {"params", {{"nqn", s.nqn}, {"listen_address", listen_address(port)}}}});
        }
    }
    if (c.discovery_listener) {
        nvmf.push_back(
            {{"method", "nvmf_subsystem_add_listener"},
             {"params", {{"nqn", spec::discovery_nqn}, {"listen_address", listen_address(port)}}}});
    }
    return {{"subsystems", json::array({{{"subsystem", "bdev"}, {"config", bdev}},
                                        {{"subsystem", "nvmf"}, {"config", nvmf}}})}};
}

// The daemon's -m: NVMF_TEST_CPUMASK, or one reactor.
inline std::string test_cpumask() {
    const char* mask = std::getenv("NVMF_TEST_CPUMASK");
    return mask ? mask : "0x1";
}
inline size_t test_reactor_count() {
    return static_cast<size_t>(std::popcount(std::stoull(test_cpumask(), nullptr, 16)));
}

// nvmf_get_stats summed over its poll groups (one per reactor): the queues of
// a controller may be on any of them. current_connections is per transport.
inline nlohmann::json sum_poll_groups(const nlohmann::json& stats) {
    nlohmann::json total = {{"admin_qpairs", 0},         {"io_qpairs", 0},
                            {"current_admin_qpairs", 0}, {"current_io_qpairs", 0},
                            {"completed_nvme_io", 0},    {"pending_bdev_io", 0}};
    uint64_t connections = 0;
    for (const auto& g : stats["result"]["poll_groups"]) {
        for (auto& [k, v] : total.items()) v = v.get<uint64_t>() + g[k].get<uint64_t>();
        for (const auto& t : g["transports"])
            connections += t["current_connections"].get<uint64_t>();
    }
    total["current_connections"] = connections;
    return total;
}

inline bool port_free(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
}

inline bool port_accepts(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
}

// A port for this test process: derived from the pid so parallel test
// processes start apart, then probed.
inline uint16_t pick_port() {
    static uint16_t next = static_cast<uint16_t>(4420 + (::getpid() % 2000) * 2);
    for (int i = 0; i < 4000; ++i) {
        const uint16_t p = next;
        next = static_cast<uint16_t>(next + 1 > 60000 ? 4420 : next + 1);
        if (port_free(p)) return p;
    }
    return 0;
}

class daemon {
public:
    daemon() = default;
    daemon(const daemon&) = delete;
    daemon& operator=(const daemon&) = delete;
    ~daemon() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        cleanup();
    }

    // Starts the daemon and waits (up to 10 s) until the port accepts.
    ::testing::AssertionResult start(const daemon_config& cfg) {
        return start_with([&](const std::string& port) { return to_json(cfg, port); });
    }

    // Starts the daemon with the JSON config make(port) returns, port being the
    // one picked for it (the config must listen there).
    ::testing::AssertionResult start_with(
        const std::function<nlohmann::json(const std::string& port)>& make) {
        const uint16_t port = pick_port();
        if (port == 0) return ::testing::AssertionFailure() << "no free port";
        return start_json(make(std::to_string(port)), std::to_string(port));
    }

    // Starts the daemon with the caller's own config; port is an address on
    // 127.0.0.1 it listens on (start-up waits for it), or empty: start-up then
    // waits until the RPC socket accepts (a config that listens nowhere, or
    // --wait-for-rpc). A null config runs it without --json; extra_args go
    // after the others. A daemon that was stopped may be started again: it
    // gets a fresh directory.
    ::testing::AssertionResult start_json(const nlohmann::json& config, const std::string& port,
                                          const std::vector<std::string>& extra_args = {}) {
        cleanup();
        char tmpl[] = "/tmp/nvmf-it-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) return ::testing::AssertionFailure() << "mkdtemp failed";
        dir_ = tmpl;
        port_ = port;
        config_path_ = dir_ + "/config.json";
        rpc_path_ = dir_ + "/rpc.sock";
        log_path_ = dir_ + "/daemon.log";
        std::vector<std::string> args = {NVMF_TARGET_BIN, "-m", test_cpumask(), "-r", rpc_path_};
        if (!config.is_null()) {
            std::ofstream f(config_path_);
            f << config.dump(2);
            args.emplace_back("--json");
            args.push_back(config_path_);
        }
        if (const char* lvl = std::getenv("NVMF_TEST_LOG_LEVEL")) {
            args.emplace_back("--log-level");
            args.emplace_back(lvl);
        }
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        pid_ = ::fork();
        if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed";
        if (pid_ == 0) {
            const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            std::vector<char*> argv;
            argv.reserve(args.size() + 1);
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < end) {
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                return ::testing::AssertionFailure()
                       << "daemon exited during start-up (" << describe(st) << ")\n"
                       << log_tail();
            }
            // The port opens while the config is still being applied (its
            // subsystems start at the end): wait for the "ready" line too,
            // when the log level lets it through.
            const bool ready = !ready_line_logged() || log_has("nvmf-target ready") ||
                               log_has("waiting for framework_start_init");
            if (ready && (port_.empty() ? rpc_accepts()
                                        : port_accepts(static_cast<uint16_t>(std::stoi(port_))))) {
                return ::testing::AssertionSuccess();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return ::testing::AssertionFailure()
               << "daemon did not listen on " << (port_.empty() ? rpc_path_ : port_)
               << " within 10 s\n"
               << log_tail();
    }

    // True when the RPC socket accepts a connection.
    bool rpc_accepts() const {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, rpc_path_.c_str(), sizeof(a.sun_path) - 1);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
        ::close(fd);
        return ok;
    }

    // SIGTERM, then wait up to 10 s: the daemon must exit 0.
    ::testing::AssertionResult stop() {
        if (pid_ <= 0) return ::testing::AssertionFailure() << "daemon not running";
        if (int st = 0; ::waitpid(pid_, &st, WNOHANG) == pid_) {
            pid_ = -1;
            return ::testing::AssertionFailure()
                   << "daemon died before stop (" << describe(st) << ")\n"
                   << log_tail();
        }
        ::kill(pid_, SIGTERM);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int st = 0;
        while (std::chrono::steady_clock::now() < end) {
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return ::testing::AssertionSuccess();
                return ::testing::AssertionFailure()
                       << "daemon stopped badly (" << describe(st) << ")\n"
                       << log_tail();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        pid_ = -1;
        return ::testing::AssertionFailure() << "daemon ignored SIGTERM for 10 s\n" << log_tail();
    }

    // SIGKILL (a crash: nothing is flushed or closed by the daemon) and reap.
    void kill9() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    bool running() {
        if (pid_ <= 0) return false;
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            exit_status_ = st;
            pid_ = -1;
            return false;
        }
        return true;
    }

    // One JSON-RPC 2.0 call on the daemon's -r socket; returns the whole
    // response object (with "result" or "error"), or {"transport_error": why}.
    nlohmann::json rpc(const std::string& method, const nlohmann::json& params = nullptr) const {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, rpc_path_.c_str(), sizeof(a.sun_path) - 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
            ::close(fd);
            return {
                {"transport_error", std::string("connect ") + rpc_path_ + ": " + strerror(errno)}};
        }
        nlohmann::json req = {{"jsonrpc", "2.0"}, {"method", method}, {"id", 1}};
        if (!params.is_null()) req["params"] = params;
        const std::string out = req.dump();
        (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        std::string in;
        char buf[4096];
        timeval tv{10, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        for (;;) {
            const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) break;
            in.append(buf, static_cast<size_t>(n));
            if (nlohmann::json::accept(in)) break;
        }
        ::close(fd);
        if (!nlohmann::json::accept(in)) return {{"transport_error", "no JSON reply: " + in}};
        return nlohmann::json::parse(in);
    }

    const std::string& port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& rpc_path() const { return rpc_path_; }
    const std::string& dir() const { return dir_; }

    static bool ready_line_logged() {
        const char* lvl = std::getenv("NVMF_TEST_LOG_LEVEL");
        if (lvl == nullptr) return true;
        const std::string l = lvl;
        return l == "info" || l == "debug" || l == "trace";
    }

    bool log_has(const std::string& needle) const {
        std::ifstream f(log_path_);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str().find(needle) != std::string::npos;
    }

    // The daemon logs a refusal after it answered: the host can see the
    // failure before the line is written (a TLS alert goes out before
    // SSL_do_handshake returns), so a check that the line is there waits.
    bool log_shows(const std::string& needle,
                   std::chrono::milliseconds within = std::chrono::seconds(5)) const {
        const auto until = std::chrono::steady_clock::now() + within;
        while (!log_has(needle)) {
            if (std::chrono::steady_clock::now() >= until) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return true;
    }

    std::string log_tail(size_t max = 4000) const {
        std::ifstream f(log_path_);
        std::stringstream ss;
        ss << f.rdbuf();
        std::string s = ss.str();
        if (s.size() > max) s = "..." + s.substr(s.size() - max);
        return "--- daemon log ---\n" + s;
    }

    host::controller_options ctrlr_opts(const std::string& subnqn = default_nqn) const {
        host::controller_options o;
        o.traddr = "127.0.0.1";
        o.trsvcid = port_;
        o.subnqn = subnqn;
        o.timeout_ms = 10000;
        return o;
    }

    host::queue_options queue_opts() const {
        host::queue_options o;
        o.timeout_ms = 10000;
        return o;
    }

private:
    static std::string describe(int st) {
        if (WIFEXITED(st)) return "exit " + std::to_string(WEXITSTATUS(st));
        if (WIFSIGNALED(st)) return std::string("signal ") + strsignal(WTERMSIG(st));
        return "status " + std::to_string(st);
    }

    void cleanup() {
        if (!dir_.empty() && std::getenv("NVMF_TEST_KEEP_LOGS") == nullptr) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
        dir_.clear();
    }

    pid_t pid_ = -1;
    int exit_status_ = 0;
    std::string dir_;
    std::string port_;
    std::string config_path_;
    std::string rpc_path_;
    std::string log_path_;
};

// A test with its own daemon: config() says what to start.
class target_test : public ::testing::Test {
protected:
    virtual daemon_config config() { return daemon_config::simple(); }

    void SetUp() override { ASSERT_TRUE(tgt.start(config())); }

    void TearDown() override {
        ctrlr.reset();
        EXPECT_TRUE(tgt.stop());
    }

    // Connects a controller (admin + I/O queues) to subnqn.
    std::unique_ptr<host::controller> connect(const host::controller_options& o) {
        auto c = host::controller::create(o);
        EXPECT_TRUE(c) << c.err().message << "\n" << tgt.log_tail();
        if (!c) return nullptr;
        return std::move(*c);
    }
    std::unique_ptr<host::controller> connect(const std::string& subnqn = default_nqn) {
        return connect(tgt.ctrlr_opts(subnqn));
    }

    // Every test uses these names (they predate the naming rule).
    daemon tgt;                               // NOLINT(readability-identifier-naming)
    std::unique_ptr<host::controller> ctrlr;  // NOLINT(readability-identifier-naming)
};

inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
}

inline std::span<uint8_t> as_bytes(void* p, size_t n) { return {static_cast<uint8_t*>(p), n}; }

// Runs a shell command; returns its stdout (add 2>&1 for stderr) and sets *rc
// to its exit status (-1 when it could not run).
inline std::string run_command(const std::string& cmd, int* rc) {
    std::string out;
    *rc = -1;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    const int st = ::pclose(p);
    *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

// Pretty status for assertions.
inline std::string st(const host::completion& c) { return host::status_string(c.status()); }

}  // namespace nvmf::test
