// The --metrics endpoint of the running daemon: after a known I/O run with
// our initiator (1000 4 KiB writes, 500 4 KiB reads, one read past the end)
// the scraped series hold exactly those numbers, per namespace and per host,
// agree with nvmf_get_stats, and pass Prometheus's own checker (`promtool
// check metrics`). Bad HTTP gets a 4xx or a closed connection while I/O
// goes on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "daemon_fixture.hpp"
#include "temp_files.hpp"

namespace nvmf::test {
namespace {

using namespace std::chrono_literals;

// A TCP port nothing listens on now (the kernel's pick).
uint16_t free_tcp_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
        port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
}

int connect_to(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Everything the server sends until it closes (or timeout: then "TIMEOUT").
std::string read_all(int fd, std::chrono::milliseconds timeout = 10s) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return out + "TIMEOUT";
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[8192];
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

// Sends request whole, returns the whole answer.
std::string http(uint16_t port, const std::string& request) {
    const int fd = connect_to(port);
    if (fd < 0) return "CONNECT FAILED";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string out = read_all(fd);
    ::close(fd);
    return out;
}

std::string body_of(const std::string& response) {
    const size_t p = response.find("\r\n\r\n");
    return p == std::string::npos ? "" : response.substr(p + 4);
}

// The samples of an exposition: "name{labels}" -> value.
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        const std::string line = text.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.empty() || line[0] == '#') continue;
        const size_t sp = line.rfind(' ');
        out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
}

class metrics_test : public ::testing::Test {
protected:
    void SetUp() override {
        metrics_port_ = free_tcp_port();
        ASSERT_NE(metrics_port_, 0);
        const std::string port = std::to_string(pick_port());
        ASSERT_TRUE(tgt_.start_json(to_json(daemon_config::simple(512, 16ull << 20), port), port,
                                    {"--metrics", "127.0.0.1:" + std::to_string(metrics_port_)}));
        auto o = tgt_.ctrlr_opts();
        o.num_io_queues = 2;
        o.hostnqn = host_nqn;
        auto c = host::controller::create(o);
        ASSERT_TRUE(c) << c.err().message << "\n" << tgt_.log_tail();
        ctrlr_ = std::move(*c);
    }
    void TearDown() override {
        ctrlr_.reset();
        EXPECT_TRUE(tgt_.stop());
    }

    std::string scrape() {
        const std::string r = http(metrics_port_, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r.substr(0, 200);
        EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
        return body_of(r);
    }

    // The known load: 1000 writes and 500 reads of 4 KiB over both queues,
    // then one read past the namespace's end (LBA Out of Range).
    void known_io() {
        std::vector<uint8_t> buf(4096, 0x5a);
        for (uint32_t i = 0; i < 1000; ++i) {
            auto w = ctrlr_->write(1, (i % 4000) * 8, 8, buf, i % 2);
            ASSERT_TRUE(w && w->ok()) << (w ? st(*w) : w.err().message);
        }
        for (uint32_t i = 0; i < 500; ++i) {
            auto r = ctrlr_->read(1, i * 8, 8, buf, i % 2);
            ASSERT_TRUE(r && r->ok()) << (r ? st(*r) : r.err().message);
        }
        const uint64_t nsze = (16ull << 20) / 512;
        auto bad = ctrlr_->read(1, nsze, 8, buf, 0);
        ASSERT_TRUE(bad);
        EXPECT_EQ(spec::status_sc(bad->status()), 0x80);  // LBA Out of Range
    }

    static constexpr const char* host_nqn = "nqn.2014-08.io.test:metrics-host.1";
    daemon tgt_;
    uint16_t metrics_port_ = 0;
    std::unique_ptr<host::controller> ctrlr_;
};

TEST_F(metrics_test, CountersMatchTheKnownLoadAndNvmfGetStats) {
    known_io();
    const std::string text = scrape();
    auto s = samples(text);
    const std::string ns = std::string("{subsystem=\"") + default_nqn + "\",nsid=\"1\",kind=\"";
    const std::string host =
        std::string("{subsystem=\"") + default_nqn + "\",hostnqn=\"" + host_nqn + "\",kind=\"";
    for (const std::string& scope : {std::string("namespace"), std::string("host")}) {
        const std::string l = scope == "namespace" ? ns : host;
        SCOPED_TRACE(scope);
        EXPECT_EQ(s["nvmf_" + scope + "_commands_total" + l + "write\"}"], 1000);
        EXPECT_EQ(s["nvmf_" + scope + "_commands_total" + l + "read\"}"], 501);
        EXPECT_EQ(s["nvmf_" + scope + "_commands_total" + l + "other\"}"], 0);
        EXPECT_EQ(s["nvmf_" + scope + "_bytes_total" + l + "write\"}"], 1000 * 4096);
        EXPECT_EQ(s["nvmf_" + scope + "_bytes_total" + l + "read\"}"], 500 * 4096);
        EXPECT_EQ(s["nvmf_" + scope + "_latency_seconds_count" + l + "write\"}"], 1000);
        EXPECT_EQ(s["nvmf_" + scope + "_latency_seconds_bucket" + l + "write\",le=\"+Inf\"}"],
                  1000);
        EXPECT_GT(s["nvmf_" + scope + "_latency_seconds_sum" + l + "write\"}"], 0);
        EXPECT_EQ(s["nvmf_" + scope + "_errors_total" + l.substr(0, l.size() - 6) +
                    "sct=\"0x0\",sc=\"0x80\"}"],
                  1)
            << text.substr(0, 3000);
    }
    EXPECT_EQ(s[std::string("nvmf_subsystem_namespaces{subsystem=\"") + default_nqn + "\"}"], 1);
    EXPECT_EQ(s[std::string("nvmf_subsystem_controllers{subsystem=\"") + default_nqn + "\"}"], 1);

    // nvmf_get_stats's poll groups against the reactor series.
    const auto stats = tgt_.rpc("nvmf_get_stats");
    ASSERT_TRUE(stats.contains("result")) << stats.dump();
    uint64_t completed = 0, io_qpairs = 0, admin_qpairs = 0, connections = 0;
    double scraped_completed = 0, scraped_io = 0, scraped_admin = 0, scraped_conns = 0;
    for (const auto& g : stats["result"]["poll_groups"]) {
        const std::string idx = g["name"].get<std::string>().substr(20);  // nvmf_tgt_poll_group_NNN
        const std::string r = std::to_string(std::stoul(idx));
        completed += g["completed_nvme_io"].get<uint64_t>();
        io_qpairs += g["current_io_qpairs"].get<uint64_t>();
        admin_qpairs += g["current_admin_qpairs"].get<uint64_t>();
        EXPECT_EQ(s["nvmf_reactor_completed_io_total{reactor=\"" + r + "\"}"],
                  g["completed_nvme_io"].get<double>());
        scraped_completed += s["nvmf_reactor_completed_io_total{reactor=\"" + r + "\"}"];
        scraped_io += s["nvmf_reactor_qpairs{reactor=\"" + r + "\",type=\"io\"}"];
        scraped_admin += s["nvmf_reactor_qpairs{reactor=\"" + r + "\",type=\"admin\"}"];
        for (const auto& t : g["transports"]) {
            connections += t["current_connections"].get<uint64_t>();
        }
        scraped_conns += s["nvmf_transport_connections{transport=\"TCP\",reactor=\"" + r + "\"}"];
        EXPECT_GT(s["nvmf_reactor_busy_seconds_total{reactor=\"" + r + "\"}"], 0);
        EXPECT_GT(s["nvmf_reactor_idle_seconds_total{reactor=\"" + r + "\"}"], 0);
    }
    EXPECT_EQ(completed, 1501u);  // every I/O queue command hit namespace 1
    EXPECT_EQ(scraped_completed, 1501);
    EXPECT_EQ(io_qpairs, 2u);
    EXPECT_EQ(scraped_io, 2);
    EXPECT_EQ(admin_qpairs, 1u);
    EXPECT_EQ(scraped_admin, 1);
    EXPECT_EQ(connections, 3u);
    EXPECT_EQ(scraped_conns, 3);
}

TEST_F(metrics_test, PromtoolChecksTheScrape) {
    known_io();
    temp_dir d("/tmp/nvmf-metrics");
    const std::string path = d.file("scrape.txt");
    {
        std::ofstream o(path);
        o << scrape();
    }
    // promtool comes with Debian's prometheus package (scripts/lib.sh
    // installs it); a machine without it fails here rather than skip.
    int rc = 0;
    const std::string out = run_command("promtool check metrics < " + path + " 2>&1", &rc);
    EXPECT_EQ(rc, 0) << out;
    // It warns about nothing either (it prints lint problems even at exit 0).
    EXPECT_EQ(out, "") << out;
}

TEST_F(metrics_test, BadHttpGets4xxOrAClosedConnection) {
    auto status_line = [](const std::string& r) { return r.substr(0, r.find("\r\n")); };
    EXPECT_EQ(status_line(http(metrics_port_, "POST /metrics HTTP/1.1\r\n\r\n")),
              "HTTP/1.1 405 Method Not Allowed");
    EXPECT_EQ(status_line(http(metrics_port_, "GET / HTTP/1.1\r\n\r\n")), "HTTP/1.1 404 Not Found");
    EXPECT_EQ(status_line(http(metrics_port_, "GET /metrics HTTP/1.1\r\nX: " +
                                                  std::string(20000, 'a') + "\r\n\r\n")),
              "HTTP/1.1 431 Request Header Fields Too Large");
    EXPECT_EQ(
        status_line(http(metrics_port_, "\x16\x03\x01\x02\x05\x01\x01\x01\xfc\x03\x03\r\n\r\n")),
        "HTTP/1.1 400 Bad Request");
    // Pipelined: one answer, then the connection closes.
    const std::string two =
        http(metrics_port_, "GET /metrics HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(two.rfind("HTTP/1.1 200 OK", 0), 0u);
    EXPECT_EQ(two.find("HTTP/1.1", 1), std::string::npos);
    EXPECT_EQ(two.find("TIMEOUT"), std::string::npos);

    // Slowloris: a head sent a byte at a time, never finished. I/O and other
    // scrapes go on meanwhile; the server cuts it off at its deadline (5 s).
    const int slow = connect_to(metrics_port_);
    ASSERT_GE(slow, 0);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<uint8_t> buf(4096, 1);
    for (int i = 0; i < 20; ++i) {
        ::send(slow, "G", 1, MSG_NOSIGNAL);
        auto w = ctrlr_->write(1, 0, 8, buf, 0);
        ASSERT_TRUE(w && w->ok());
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_FALSE(scrape().empty());
    const std::string cut = read_all(slow, 10s);
    const auto waited = std::chrono::steady_clock::now() - t0;
    ::close(slow);
    EXPECT_EQ(cut, "");  // closed without an answer
    EXPECT_GE(waited, 4500ms);
    EXPECT_LT(waited, 9s);

    // A client that connects and closes at once, one that half-sends and
    // resets: the endpoint still answers.
    for (int i = 0; i < 50; ++i) {
        const int fd = connect_to(metrics_port_);
        if (i % 2) ::send(fd, "GET /met", 8, MSG_NOSIGNAL);
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        ::close(fd);
    }
    // The endpoint answers again once it has dropped them (a burst past
    // max_clients is closed at accept, so the first try may be refused).
    bool answered = false;
    for (int i = 0; i < 50 && !answered; ++i) {
        answered =
            http(metrics_port_, "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0;
        if (!answered) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(answered);
}

TEST(metrics_daemon, RefusesABadAddress) {
    daemon tgt;
    const std::string port = std::to_string(pick_port());
    EXPECT_FALSE(tgt.start_json(to_json(daemon_config::simple(), port), port,
                                {"--metrics", "no-port-here"}));
    EXPECT_NE(tgt.log_tail().find("expected HOST:PORT"), std::string::npos) << tgt.log_tail();
}

}  // namespace
}  // namespace nvmf::test
