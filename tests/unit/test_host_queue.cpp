// host::queue against a scripted fake target on a socketpair: ICReq/ICResp,
// C2HData (split, SUCCESS), R2T/H2CData with MAXH2CDATA splitting, digests
// both ways, C2HTermReq.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "host/commands.hpp"
#include "host/pdu.hpp"
#include "host/queue.hpp"
#include "util/crc32c.hpp"

namespace {

using namespace nvmf;
namespace st = spec::tcp;

// The target side: blocking reads and writes on its end of the socketpair.
struct fake_target {
    int fd = -1;
    bool hdgst = false;
    bool ddgst = false;
    bool corrupt_ddgst = false;

    void read_exact(void* p, size_t n) {
        auto* b = static_cast<uint8_t*>(p);
        while (n > 0) {
            const ssize_t r = ::read(fd, b, n);
            ASSERT_GT(r, 0);
            b += r;
            n -= static_cast<size_t>(r);
        }
    }
    void write_all(const void* p, size_t n) {
        ASSERT_EQ(::write(fd, p, n), static_cast<ssize_t>(n));
    }

    // Reads one PDU; returns the header (with digest) and the data payload.
    void read_pdu(std::vector<uint8_t>& hdr, std::vector<uint8_t>& data) {
        st::common_header ch;
        read_exact(&ch, sizeof(ch));
        std::vector<uint8_t> all(ch.plen);
        std::memcpy(all.data(), &ch, sizeof(ch));
        read_exact(all.data() + 8, ch.plen - 8);
        const bool hd = (ch.flags & st::flag::hdgstf) != 0;
        const uint32_t hw = ch.hlen + (hd ? 4 : 0);
        if (hd) {
            EXPECT_TRUE(host::hdgst_ok(all.data(), ch.hlen));
        }
        hdr.assign(all.begin(), all.begin() + hw);
        data.clear();
        if (ch.plen > hw && ch.pdo != 0) {
            const bool dd = (ch.flags & st::flag::ddgstf) != 0;
            const uint32_t end = ch.plen - (dd ? 4 : 0);
            data.assign(all.begin() + ch.pdo, all.begin() + end);
            if (dd) {
                uint32_t got;
                std::memcpy(&got, all.data() + end, 4);
                EXPECT_EQ(got, util::crc32c(data.data(), data.size()));
            }
        }
    }

    // Reads one command capsule; returns its SQE.
    spec::sqe read_cmd() {
        std::vector<uint8_t> h, d;
        read_pdu(h, d);
        spec::sqe cmd{};
        if (h.size() >= 8 + sizeof(cmd)) std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
        return cmd;
    }

    void ic(uint32_t maxh2cdata = 4096, uint8_t cpda = 0) {
        st::ic_req req;
        read_exact(&req, sizeof(req));
        EXPECT_EQ(req.ch.pdu_type, 0);
        EXPECT_EQ(req.ch.plen, 128u);
        st::ic_resp resp{};
        resp.ch = {1, 0, 128, 0, 128};
        resp.dgst = req.dgst;
        resp.maxh2cdata = maxh2cdata;
        resp.cpda = cpda;
        hdgst = req.dgst & 1;
        ddgst = req.dgst & 2;
        write_all(&resp, sizeof(resp));
    }

    void send_header(uint8_t* h, uint32_t hlen, const void* data, uint32_t datal) {
        uint32_t pos = hlen;
        if (hdgst) {
            const uint32_t c = util::crc32c(h, hlen);
            std::memcpy(h + pos, &c, 4);
            pos += 4;
        }
        write_all(h, pos);
        if (datal > 0) {
            write_all(data, datal);
            if (ddgst) {
                const uint32_t c = util::crc32c(data, datal) ^ (corrupt_ddgst ? 1u : 0u);
                write_all(&c, 4);
            }
        }
    }

    void resp(uint16_t cid, uint16_t status = 0, uint32_t cdw0 = 0) {
        uint8_t h[28]{};
        st::capsule_resp r{};
        r.ch = {5, static_cast<uint8_t>(hdgst ? 1 : 0), 24, 0, hdgst ? 28u : 24u};
        r.rsp.cid = cid;
        r.rsp.status = status;
        r.rsp.cdw0 = cdw0;
        std::memcpy(h, &r, sizeof(r));
        send_header(h, 24, nullptr, 0);
    }

    void c2h(uint16_t cid, uint32_t datao, const uint8_t* data, uint32_t datal, uint8_t flags) {
        uint8_t h[28]{};
        st::c2h_data d{};
        const uint32_t hw = 24 + (hdgst ? 4 : 0);
        d.ch = {7, static_cast<uint8_t>(flags | (hdgst ? 1 : 0) | (ddgst ? 2 : 0)), 24,
                static_cast<uint8_t>(hw), hw + datal + (ddgst ? 4 : 0)};
        d.cccid = cid;
        d.datao = datao;
        d.datal = datal;
        std::memcpy(h, &d, sizeof(d));
        send_header(h, 24, data, datal);
    }

    void r2t(uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len) {
        uint8_t h[28]{};
        st::r2t r{};
        r.ch = {9, static_cast<uint8_t>(hdgst ? 1 : 0), 24, 0, hdgst ? 28u : 24u};
        r.cccid = cid;
        r.ttag = ttag;
        r.r2to = off;
        r.r2tl = len;
        std::memcpy(h, &r, sizeof(r));
        send_header(h, 24, nullptr, 0);
    }
};

struct pair_fixture : ::testing::TestWithParam<bool> {
    std::unique_ptr<host::queue> qp;
    fake_target t;
    std::thread th;

    host::queue& q() { return *qp; }
    static host::queue_options make_opts() {
        host::queue_options o;
        o.icd_size = 1024;
        o.timeout_ms = 5000;
        return o;
    }
    void start(host::queue_options o) {
        int sv[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        qp = std::make_unique<host::queue>(o);
        qp->attach(sv[0]);
        t.fd = sv[1];
    }
    void TearDown() override {
        if (th.joinable()) th.join();
        if (t.fd >= 0) ::close(t.fd);
    }
};

// Declared after the locals the peer thread reads, so it joins the thread before they die
// (TearDown runs too late for that).
struct joiner {
    std::thread& th;
    explicit joiner(std::thread& t) : th(t) {}
    joiner(const joiner&) = delete;
    joiner& operator=(const joiner&) = delete;
    ~joiner() {
        if (th.joinable()) th.join();
    }
};

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + seed);
    return v;
}

TEST_P(pair_fixture, ReadSplitC2HThenResp) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    const auto data = pattern(8192, 3);
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic();
        std::vector<uint8_t> h, d;
        t.read_pdu(h, d);
        spec::sqe cmd;
        std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
        EXPECT_EQ(cmd.opc, spec::io_opc::read);
        EXPECT_EQ(cmd.sgl1.type, 0x5a);
        EXPECT_EQ(cmd.sgl1.length, 8192u);
        EXPECT_EQ(cmd.flags >> 6, 1);
        t.c2h(cmd.cid, 0, data.data(), 4096, 0);
        t.c2h(cmd.cid, 4096, data.data() + 4096, 4096, st::flag::last_pdu);
        t.resp(cmd.cid);
    });
    ASSERT_TRUE(q().initialize());
    EXPECT_EQ(q().params().hdgst, GetParam());
    std::vector<uint8_t> buf(8192);
    auto c = q().execute(host::cmd::read(1, 0, 16), {}, buf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok());
    EXPECT_FALSE(c->c2h_success);
    EXPECT_EQ(c->data_len, 8192u);
    EXPECT_EQ(buf, data);
}

TEST_P(pair_fixture, ReadC2HSuccessEndsCommand) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    const auto data = pattern(512, 9);
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic();
        std::vector<uint8_t> h, d;
        t.read_pdu(h, d);
        spec::sqe cmd;
        std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
        t.c2h(cmd.cid, 0, data.data(), 512, st::flag::last_pdu | st::flag::success);
    });
    ASSERT_TRUE(q().initialize());
    std::vector<uint8_t> buf(512);
    auto c = q().execute(host::cmd::read(1, 0, 1), {}, buf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok());
    EXPECT_TRUE(c->c2h_success);
    EXPECT_EQ(buf, data);
}

TEST_P(pair_fixture, InCapsuleWrite) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    const auto data = pattern(1024, 1);
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic();
        std::vector<uint8_t> h, d;
        t.read_pdu(h, d);
        spec::sqe cmd;
        std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
        EXPECT_EQ(cmd.sgl1.type, 0x01);
        EXPECT_EQ(cmd.sgl1.address, 0u);
        EXPECT_EQ(cmd.sgl1.length, 1024u);
        EXPECT_EQ(d, data);
        t.resp(cmd.cid);
    });
    ASSERT_TRUE(q().initialize());
    auto c = q().execute(host::cmd::write(1, 0, 2), data);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok());
}

TEST_P(pair_fixture, R2TWriteSplitByMaxH2CData) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    const auto data = pattern(10000, 5);
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic(4096);
        std::vector<uint8_t> h, d;
        t.read_pdu(h, d);
        spec::sqe cmd;
        std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
        EXPECT_EQ(cmd.sgl1.type, 0x5a);
        EXPECT_EQ(cmd.sgl1.length, 10000u);
        EXPECT_TRUE(d.empty());
        std::vector<uint8_t> got(10000);
        // Two R2Ts: the first covers 6000 bytes, the second the rest.
        const uint32_t parts[2][2] = {{0, 6000}, {6000, 4000}};
        const uint32_t want_lens[2][2] = {{4096, 1904}, {4000, 0}};
        for (int r = 0; r < 2; ++r) {
            t.r2t(cmd.cid, static_cast<uint16_t>(0x10 + r), parts[r][0], parts[r][1]);
            uint32_t off = parts[r][0];
            for (int i = 0; i < 2 && want_lens[r][i] != 0; ++i) {
                t.read_pdu(h, d);
                st::h2c_data hd;
                std::memcpy(&hd, h.data(), sizeof(hd));
                EXPECT_EQ(hd.ch.pdu_type, 6);
                EXPECT_EQ(hd.cccid, cmd.cid);
                EXPECT_EQ(hd.ttag, 0x10 + r);
                EXPECT_EQ(hd.datao, off);
                EXPECT_EQ(hd.datal, want_lens[r][i]);
                const bool last = i == 1 || want_lens[r][1] == 0;
                EXPECT_EQ((hd.ch.flags & st::flag::last_pdu) != 0, last);
                ASSERT_EQ(d.size(), hd.datal);
                std::memcpy(got.data() + off, d.data(), d.size());
                off += hd.datal;
            }
        }
        EXPECT_EQ(got, data);
        t.resp(cmd.cid);
    });
    ASSERT_TRUE(q().initialize());
    auto c = q().execute(host::cmd::write(1, 0, 20), data);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok());
    EXPECT_EQ(q().r2t_count(), 2u);
}

TEST_P(pair_fixture, ManyOutstandingCompleteOutOfOrder) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic();
        std::vector<uint16_t> cids;
        for (int i = 0; i < 8; ++i) {
            std::vector<uint8_t> h, d;
            t.read_pdu(h, d);
            spec::sqe cmd;
            std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
            cids.push_back(cmd.cid);
        }
        for (int i = 7; i >= 0; --i) t.resp(cids[i], 0, static_cast<uint32_t>(i));
    });
    ASSERT_TRUE(q().initialize());
    std::vector<uint16_t> cids;
    for (int i = 0; i < 8; ++i) {
        auto cid = q().submit(host::cmd::flush(1));
        ASSERT_TRUE(cid);
        cids.push_back(*cid);
    }
    EXPECT_EQ(q().outstanding(), 8u);
    for (int i = 0; i < 8; ++i) {
        auto c = q().wait(cids[i]);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_EQ(c->cqe.cdw0, static_cast<uint32_t>(i));
    }
    EXPECT_EQ(q().outstanding(), 0u);
}

TEST_P(pair_fixture, TermReqIsAnError) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic();
        std::vector<uint8_t> h, d;
        t.read_pdu(h, d);
        uint8_t b[24 + 8]{};
        st::term_req tr{};
        tr.ch = {3, 0, 24, 0, 32};
        tr.fes = st::fes::invalid_header_field;
        tr.fei[0] = 2;
        std::memcpy(b, &tr, sizeof(tr));
        std::memcpy(b + 24, h.data(), 8);
        t.write_all(b, sizeof(b));
        ::shutdown(t.fd, SHUT_WR);
    });
    ASSERT_TRUE(q().initialize());
    auto c = q().execute(host::cmd::flush(1));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().code, -EPROTO);
    EXPECT_TRUE(q().term().received);
    EXPECT_EQ(q().term().fes, st::fes::invalid_header_field);
    EXPECT_EQ(q().term().fei, 2u);
    EXPECT_EQ(q().term().data.size(), 8u);
    EXPECT_TRUE(q().failed());
    EXPECT_FALSE(q().submit(host::cmd::flush(1)));
}

// Digests are always on here, so it runs once (not once per parameter with a
// skip for "off", which would count as a skipped test).
struct digest_pair_fixture : pair_fixture {};

TEST_P(digest_pair_fixture, CorruptDataDigestDetected) {
    auto o = make_opts();
    o.hdgst = o.ddgst = true;
    start(o);
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic();
        std::vector<uint8_t> h, d;
        t.read_pdu(h, d);
        spec::sqe cmd;
        std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
        const auto data = pattern(512, 0);
        t.corrupt_ddgst = true;
        t.c2h(cmd.cid, 0, data.data(), 512, st::flag::last_pdu);
    });
    ASSERT_TRUE(q().initialize());
    std::vector<uint8_t> buf(512);
    auto c = q().execute(host::cmd::read(1, 0, 1), {}, buf);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.err().code, -EPROTO);
    EXPECT_NE(c.err().message.find("digest"), std::string::npos) << c.err().message;
}

TEST_P(pair_fixture, CpdaAlignsHostData) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    const auto data = pattern(3000, 4);
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic(4096, 7);  // 32-byte alignment
        std::vector<uint8_t> h, d;
        // In-capsule data starts at a multiple of 32.
        t.read_pdu(h, d);
        st::common_header ch;
        std::memcpy(&ch, h.data(), sizeof(ch));
        EXPECT_EQ(ch.pdo, 96);
        EXPECT_EQ(d, std::vector<uint8_t>(data.begin(), data.begin() + 1000));
        spec::sqe cmd;
        std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
        t.resp(cmd.cid);
        // H2CData too.
        t.read_pdu(h, d);
        std::memcpy(&cmd, h.data() + 8, sizeof(cmd));
        t.r2t(cmd.cid, 1, 0, 3000);
        t.read_pdu(h, d);
        std::memcpy(&ch, h.data(), sizeof(ch));
        EXPECT_EQ(ch.pdu_type, 6);
        EXPECT_EQ(ch.pdo, 32);
        EXPECT_EQ(d, data);
        t.resp(cmd.cid);
    });
    ASSERT_TRUE(q().initialize());
    EXPECT_EQ(q().params().cpda, 7);
    auto c = q().execute(host::cmd::write(1, 0, 2), {data.data(), 1000});
    ASSERT_TRUE(c) << c.err().message;
    c = q().execute(host::cmd::write(1, 0, 6), data, {}, host::submit_flag::force_r2t);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok());
}

// A wait that times out leaves the stream intact: the late response still
// completes the command. respond_delay_ms after the timeout lands the
// response inside a busy-polling reader's spin window.
void timeout_then_complete(pair_fixture& f, uint32_t busy_poll_us, int respond_delay_ms) {
    auto o = pair_fixture::make_opts();
    o.hdgst = o.ddgst = f.GetParam();
    f.start(o);
    f.q().set_busy_poll(busy_poll_us);
    std::atomic<bool> go{false};
    const joiner join{f.th};  // the peer thread reads the locals above
    f.th = std::thread([&] {
        f.t.ic();
        const spec::sqe cmd = f.t.read_cmd();
        while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(respond_delay_ms));
        f.t.resp(cmd.cid, 0, 0xabc);
    });
    ASSERT_TRUE(f.q().initialize());
    auto cid = f.q().submit(host::cmd::keep_alive());
    ASSERT_TRUE(cid);
    const auto t0 = std::chrono::steady_clock::now();
    auto w = f.q().wait(*cid, 50);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.err().code, -ETIMEDOUT);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_FALSE(f.q().failed());
    go = true;
    w = f.q().wait(*cid);
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_EQ(w->cqe.cdw0, 0xabcu);
}

TEST_P(pair_fixture, WaitTimeoutKeepsStreamIntact) { timeout_then_complete(*this, 0, 0); }

// A spinning reader honours its deadline too.
TEST_P(pair_fixture, BusyPollWaitTimesOutThenCompletes) { timeout_then_complete(*this, 20000, 5); }

// Deferred capsules stay in the queue until a wait needs the target, then all
// of them go out; their completions all arrive.
TEST_P(pair_fixture, DeferredCapsulesLeaveOnWait) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    constexpr int n = 4;
    std::atomic<bool> submitted{false};
    std::atomic<bool> early{false};
    std::atomic<bool> checked{false};
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic();
        while (!submitted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        pollfd p{t.fd, POLLIN, 0};
        early = ::poll(&p, 1, 20) > 0;
        checked = true;
        for (int i = 0; i < n; ++i) {
            const spec::sqe cmd = t.read_cmd();
            t.resp(cmd.cid, 0, 0x100u + cmd.cid);
        }
    });
    ASSERT_TRUE(q().initialize());
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(q().submit(host::cmd::keep_alive(), {}, {}, host::submit_flag::defer));
    }
    submitted = true;
    while (!checked) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (int i = 0; i < n; ++i) {
        auto w = q().wait_any();
        ASSERT_TRUE(w) << w.err().message;
        EXPECT_EQ(w->second.cqe.cdw0, 0x100u + w->first);
    }
    EXPECT_FALSE(early) << "a deferred capsule was sent before any wait";
}

// With a defer limit of 2, the second deferred capsule sends both at once,
// before any wait; the third waits for the next wait.
TEST_P(pair_fixture, DeferLimitSendsEachFullBatch) {
    auto o = make_opts();
    o.hdgst = o.ddgst = GetParam();
    start(o);
    std::atomic<int> stage{0};
    std::atomic<int> seen_before_wait{-1};
    const joiner join{th};  // the peer thread reads the locals above
    th = std::thread([&] {
        t.ic();
        std::vector<uint16_t> cids;
        for (int i = 0; i < 2; ++i) cids.push_back(t.read_cmd().cid);  // no wait needed
        while (stage < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        pollfd p{t.fd, POLLIN, 0};
        seen_before_wait = ::poll(&p, 1, 20) > 0 ? 1 : 0;
        stage = 2;
        cids.push_back(t.read_cmd().cid);
        for (uint16_t c : cids) t.resp(c);
    });
    ASSERT_TRUE(q().initialize());
    q().set_defer_limit(2);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(q().submit(host::cmd::keep_alive(), {}, {}, host::submit_flag::defer));
    }
    stage = 1;
    while (stage < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (int i = 0; i < 3; ++i) {
        auto w = q().wait_any();
        ASSERT_TRUE(w) << w.err().message;
    }
    EXPECT_EQ(seen_before_wait, 0) << "the third capsule left before the batch was full";
}

INSTANTIATE_TEST_SUITE_P(Digests, pair_fixture, ::testing::Bool());
INSTANTIATE_TEST_SUITE_P(Digests, digest_pair_fixture, ::testing::Values(true));

}  // namespace
