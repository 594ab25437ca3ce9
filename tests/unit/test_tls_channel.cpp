// The TLS layer under NVMe/TCP (transport/tcp/tls): PSK handshakes over a
// loopback TCP connection, both cipher suites, both record layers (OpenSSL's
// and, where this kernel has it, kTLS), and the refusals: a wrong key, an
// identity the target does not know, bytes that are not TLS.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <numeric>

#include <gtest/gtest.h>

#include "keyring/tls_psk.hpp"
#include "transport/tcp/tls.hpp"

namespace kr = nvmf::keyring;
using nvmf::tcp::tls_channel;
using nvmf::tcp::tls_context;
using nvmf::tcp::tls_psk_match;

namespace {

const char* key32 = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";
const char* key48 =
    "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:";
const char* other32 = "NVMeTLSkey-1:01:Vqpuh/pRESuNG9/2yUBuJemPNr1mCf6whRGWlMd3wsyylNYi:";
const char* hostnqn = "nqn.2016-06.io.spdk:host1";
const char* subnqn = "nqn.2016-06.io.spdk:cnode1";

// A connected pair of non-blocking loopback TCP sockets (kTLS needs TCP).
struct tcp_pair {
    int a = -1, b = -1;
    tcp_pair() {
        const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof(addr);
        EXPECT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        EXPECT_EQ(::listen(l, 1), 0);
        EXPECT_EQ(::getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len), 0);
        a = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        EXPECT_EQ(::connect(a, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        b = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
        ::close(l);
        for (int fd : {a, b}) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
    }
    ~tcp_pair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
};

// The target's key table for these tests: one host, one subsystem, one key.
struct server_keys {
    kr::configured_psk psk;
    int lookups = 0;
};

nvmf::result<tls_psk_match> lookup(void* ctx, std::string_view identity) {
    auto* k = static_cast<server_keys*>(ctx);
    ++k->lookups;
    auto id = kr::parse_psk_identity(identity);
    if (!id) return id.err();
    if (id->hostnqn != hostnqn || id->subnqn != subnqn) {
        return nvmf::make_error(-ENOKEY, "no PSK for this host and subsystem");
    }
    auto retained = kr::derive_retained_psk(k->psk, id->hostnqn);
    if (!retained) return retained.err();
    if (id->version == 1) {
        auto d = kr::psk_digest(id->cipher, retained->span(), id->hostnqn, id->subnqn);
        if (!d || *d != id->digest) return nvmf::make_error(-ENOKEY, "digest mismatch");
    }
    auto tls = kr::derive_tls_psk(*id, identity, retained->span());
    if (!tls) return tls.err();
    return tls_psk_match{std::move(*tls), id->cipher};
}

struct handshake_result {
    tls_channel::step server = tls_channel::step::want_read;
    tls_channel::step client = tls_channel::step::want_read;
};

// Drives both ends until each is done or failed (2 s at most).
handshake_result run_handshake(tls_channel& server, tls_channel& client) {
    handshake_result r;
    auto active = [](tls_channel::step s) {
        return s == tls_channel::step::want_read || s == tls_channel::step::want_write;
    };
    for (int i = 0; i < 2000 && (active(r.server) || active(r.client)); ++i) {
        if (active(r.client)) r.client = client.handshake();
        if (active(r.server)) r.server = server.handshake();
        if (active(r.server) || active(r.client)) ::usleep(1000);
    }
    return r;
}

// Sends all of data through from and reads it back at to (both non-blocking).
std::vector<uint8_t> transfer(tls_channel& from, tls_channel& to, const std::vector<uint8_t>& data,
                              size_t piece) {
    std::vector<uint8_t> got(data.size());
    size_t sent = 0, recvd = 0;
    for (int spins = 0; recvd < data.size() && spins < 200000; ++spins) {
        if (sent < data.size()) {
            // Several iovecs per call, as the queue pair sends PDUs.
            iovec v[3];
            int cnt = 0;
            size_t off = sent;
            for (; cnt < 3 && off < data.size(); ++cnt) {
                const size_t n = std::min(piece, data.size() - off);
                v[cnt] = {const_cast<uint8_t*>(data.data()) + off, n};
                off += n;
            }
            const ssize_t n = from.send(v, cnt);
            if (n > 0) {
                sent += static_cast<size_t>(n);
            } else {
                EXPECT_TRUE(n < 0 && errno == EAGAIN) << "send: " << std::strerror(errno);
                if (!(n < 0 && errno == EAGAIN)) break;
            }
        }
        iovec r[2];
        const size_t left = data.size() - recvd;
        const size_t first = std::min(left, piece / 2 + 1);
        r[0] = {got.data() + recvd, first};
        r[1] = {got.data() + recvd + first, left - first};
        const ssize_t n = to.recv(r, left > first ? 2 : 1);
        if (n > 0) {
            recvd += static_cast<size_t>(n);
        } else {
            EXPECT_TRUE(n < 0 && errno == EAGAIN)
                << "recv " << n << ": " << std::strerror(errno) << " " << to.failure();
            if (!(n < 0 && errno == EAGAIN)) break;
        }
    }
    got.resize(recvd);
    return got;
}

struct session {
    tcp_pair sockets;
    server_keys keys;
    std::unique_ptr<tls_context> sctx, cctx;
    kr::tls_credentials creds;
    std::unique_ptr<tls_channel> server, client;

    session(const char* server_key, const char* client_key, int version = 0,
            const char* host = hostnqn) {
        keys.psk = *kr::parse_interchange(server_key);
        auto cpsk = *kr::parse_interchange(client_key);
        creds = *kr::host_credentials(cpsk, host, subnqn, version);
        sctx = std::move(*tls_context::server());
        cctx = std::move(*tls_context::client(creds.cipher));
        server = std::move(*tls_channel::accept(*sctx, sockets.b, lookup, &keys));
        client = std::move(*tls_channel::connect(*cctx, sockets.a, creds));
    }
};

std::vector<uint8_t> pattern(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 131 + (i >> 9));
    return v;
}

void exchange(session& s, bool kernel) {
    s.server->finish(kernel);
    s.client->finish(kernel);
    if (kernel && nvmf::tcp::kernel_tls_available()) {
        EXPECT_TRUE(s.server->kernel_tx() && s.server->kernel_rx()) << s.server->kernel_note();
        EXPECT_TRUE(s.client->kernel_tx() && s.client->kernel_rx()) << s.client->kernel_note();
    } else {
        EXPECT_FALSE(s.server->kernel_tx() || s.server->kernel_rx());
        EXPECT_FALSE(s.client->kernel_tx() || s.client->kernel_rx());
        EXPECT_FALSE(s.server->kernel_note().empty());
    }
    const auto small = pattern(72);  // an ICReq and a bit
    EXPECT_EQ(transfer(*s.client, *s.server, small, 72), small);
    const auto big = pattern(3 << 20);  // larger than records and socket buffers
    EXPECT_EQ(transfer(*s.server, *s.client, big, 128 * 1024 + 24), big);
    EXPECT_EQ(transfer(*s.client, *s.server, big, 4096 + 72), big);
    // close_notify reads as end of stream.
    s.client->close_notify();
    uint8_t b[16];
    iovec v{b, sizeof(b)};
    ssize_t n = -1;
    for (int i = 0; i < 1000; ++i) {
        n = s.server->recv(&v, 1);
        if (!(n < 0 && errno == EAGAIN)) break;
        ::usleep(1000);
    }
    EXPECT_EQ(n, 0) << s.server->failure();
}

}  // namespace

class tls_channel_param : public ::testing::TestWithParam<std::tuple<const char*, bool, int>> {};

TEST_P(tls_channel_param, HandshakeAndDataBothWays) {
    const auto [key, kernel, version] = GetParam();
    session s(key, key, version);
    auto r = run_handshake(*s.server, *s.client);
    ASSERT_EQ(r.server, tls_channel::step::done) << s.server->failure();
    ASSERT_EQ(r.client, tls_channel::step::done) << s.client->failure();
    EXPECT_EQ(s.keys.lookups, 1);
    EXPECT_EQ(s.server->identity(), s.creds.identity);
    EXPECT_EQ(s.server->cipher(), s.creds.cipher);
    EXPECT_EQ(s.client->cipher(), s.creds.cipher);
    exchange(s, kernel);
}

INSTANTIATE_TEST_SUITE_P(TlsChannel, tls_channel_param,
                         ::testing::Combine(::testing::Values(key32, key48),
                                            ::testing::Values(false, true),
                                            ::testing::Values(0, 1)));

// A server that sends session tickets after the handshake (SPDK's target
// does): the host's receive side skips them, in the kernel (kTLS hands them
// up as handshake records) as in OpenSSL, and the data that follows is intact.
TEST(TlsChannelTickets, HostSkipsSessionTickets) {
    for (bool kernel : {false, true}) {
        session s(key32, key32);
        s.sctx = std::move(*tls_context::server(true));
        s.server = std::move(*tls_channel::accept(*s.sctx, s.sockets.b, lookup, &s.keys));
        auto r = run_handshake(*s.server, *s.client);
        ASSERT_EQ(r.server, tls_channel::step::done) << s.server->failure();
        ASSERT_EQ(r.client, tls_channel::step::done) << s.client->failure();
        s.server->finish(false);  // its tickets used record numbers the kernel would not know
        s.client->finish(kernel);
        EXPECT_EQ(s.client->kernel_rx(), kernel && nvmf::tcp::kernel_tls_available());
        const auto data = pattern(300000);
        EXPECT_EQ(transfer(*s.server, *s.client, data, 65536), data) << s.client->failure();
        EXPECT_EQ(transfer(*s.client, *s.server, data, 65536), data) << s.server->failure();
    }
}

TEST(TlsChannelRefusals, WrongKeyFailsBothEnds) {
    session s(key32, other32);
    auto r = run_handshake(*s.server, *s.client);
    EXPECT_EQ(r.server, tls_channel::step::failed);
    EXPECT_EQ(r.client, tls_channel::step::failed);
    EXPECT_FALSE(s.server->failure().empty());
}

TEST(TlsChannelRefusals, UnknownIdentityIsRefused) {
    session s(key32, key32, 0, "nqn.2016-06.io.spdk:stranger");
    auto r = run_handshake(*s.server, *s.client);
    EXPECT_EQ(r.server, tls_channel::step::failed);
    EXPECT_EQ(r.client, tls_channel::step::failed);
    EXPECT_NE(s.server->failure().find("refused"), std::string::npos) << s.server->failure();
    EXPECT_NE(s.server->failure().find("stranger"), std::string::npos) << s.server->failure();
}

TEST(TlsChannelRefusals, DigestMismatchIsRefused) {
    // An NVMe1R identity whose digest was made with another key.
    session s(key32, other32, 1);
    auto r = run_handshake(*s.server, *s.client);
    EXPECT_EQ(r.server, tls_channel::step::failed);
    EXPECT_NE(s.server->failure().find("digest"), std::string::npos) << s.server->failure();
}

TEST(TlsChannelRefusals, PlainNvmeTcpIsNotAHandshake) {
    session s(key32, key32);
    // An ICReq where a ClientHello should be.
    uint8_t icreq[128] = {0x00, 0x00, 128, 0, 128, 0, 0, 0};
    ASSERT_EQ(::send(s.sockets.a, icreq, sizeof(icreq), 0), 128);
    tls_channel::step st = tls_channel::step::want_read;
    for (int i = 0; i < 500 && st == tls_channel::step::want_read; ++i) {
        st = s.server->handshake();
        if (st == tls_channel::step::want_read) ::usleep(1000);
    }
    EXPECT_EQ(st, tls_channel::step::failed);
    EXPECT_EQ(s.keys.lookups, 0);
}

TEST(TlsChannelRefusals, PeerClosingMidHandshakeFails) {
    session s(key32, key32);
    EXPECT_EQ(s.client->handshake(), tls_channel::step::want_read);  // ClientHello sent
    ::shutdown(s.sockets.a, SHUT_RDWR);
    tls_channel::step st = tls_channel::step::want_read;
    for (int i = 0; i < 500 && st != tls_channel::step::failed; ++i) {
        st = s.server->handshake();
        if (st != tls_channel::step::failed) ::usleep(1000);
    }
    EXPECT_EQ(st, tls_channel::step::failed);
}
