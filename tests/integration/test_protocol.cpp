// Malformed PDUs: the target answers with a C2HTermReq (FES/FEI pointing at
// the bad field), closes the connection, and keeps serving new ones and the
// host that was connected all along (the bystander).
#include <optional>

#include "daemon_fixture.hpp"
#include "host/pdu.hpp"
#include "util/crc32c.hpp"

namespace nvmf::test {
namespace {

namespace stcp = spec::tcp;

class protocol_test : public target_test {
protected:
    void SetUp() override {
        target_test::SetUp();
        auto o = tgt.ctrlr_opts();
        o.kato_ms = 0;  // no keep-alives needed whatever the test does
        bystander_ = connect(o);
        ASSERT_TRUE(bystander_);
    }
    void TearDown() override {
        bystander_.reset();
        target_test::TearDown();
    }

    // A connection after ICReq/ICResp (digests as asked), no Connect.
    std::unique_ptr<host::queue> open(bool digests = false) {
        auto o = tgt.queue_opts();
        o.hdgst = o.ddgst = digests;
        auto q = std::make_unique<host::queue>(o);
        auto r = q->open("127.0.0.1", tgt.port());
        EXPECT_TRUE(r) << r.err().message;
        return q;
    }
    std::unique_ptr<host::queue> open_tcp_only() {
        auto q = std::make_unique<host::queue>(tgt.queue_opts());
        auto r = q->connect_tcp("127.0.0.1", tgt.port());
        EXPECT_TRUE(r) << r.err().message;
        return q;
    }

    // Reads the target's reply: it must be a C2HTermReq, then the connection closes.
    void expect_term(host::queue& q, uint16_t fes, std::optional<uint32_t> fei,
                     const std::vector<uint8_t>& sent_hdr = {}) {
        auto p = q.recv_raw_pdu(5000);
        ASSERT_TRUE(p) << "no C2HTermReq: " << p.err().message;
        ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::c2h_term_req))
            << "got " << host::pdu_type_name(p->ch.pdu_type);
        EXPECT_EQ(p->ch.hlen, stcp::term_req_hlen);
        ASSERT_GE(p->bytes.size(), sizeof(stcp::term_req));
        stcp::term_req t;
        std::memcpy(&t, p->bytes.data(), sizeof(t));
        EXPECT_EQ(t.fes, fes) << host::fes_name(t.fes);
        uint32_t got_fei;
        std::memcpy(&got_fei, t.fei, 4);
        if (fei) {
            EXPECT_EQ(got_fei, *fei);
        }
        // The offending header is echoed (up to 128 bytes).
        const size_t echoed = p->bytes.size() - sizeof(t);
        EXPECT_LE(echoed, stcp::term_req_max_data);
        if (!sent_hdr.empty() && echoed > 0) {
            const size_t n = std::min(echoed, sent_hdr.size());
            EXPECT_EQ(std::memcmp(p->bytes.data() + sizeof(t), sent_hdr.data(), n), 0);
        }
        EXPECT_TRUE(q.wait_closed(5000)) << "connection not closed after C2HTermReq";
    }

    // The daemon still serves the host that was connected all along, and new ones.
    void expect_still_serving() {
        ASSERT_TRUE(tgt.running()) << tgt.log_tail();
        const auto data = random_bytes(8192, ++round_);
        const uint64_t lba = 4096 + (round_ % 64) * 16;
        auto w = bystander_->write(1, lba, 16, data);
        ASSERT_TRUE(w) << "bystander: " << w.err().message;
        ASSERT_TRUE(w->ok()) << st(*w);
        std::vector<uint8_t> back(data.size());
        auto rb = bystander_->read(1, lba, 16, back);
        ASSERT_TRUE(rb && rb->ok()) << "bystander read failed";
        EXPECT_TRUE(back == data) << "bystander data corrupted";
        auto c = connect();
        ASSERT_TRUE(c);
        std::vector<uint8_t> buf(512);
        auto r = c->read(1, 0, 1, buf);
        ASSERT_TRUE(r) << r.err().message;
        EXPECT_TRUE(r->ok());
    }

    static std::vector<uint8_t> capsule(const spec::sqe& cmd, const host::pdu_params& p) {
        std::vector<uint8_t> b(host::max_tx_header);
        b.resize(host::build_capsule_cmd(b.data(), cmd, 0, p));
        return b;
    }

    // A write of len bytes with a transport SGL: the target answers with an R2T.
    static spec::sqe r2t_write(uint16_t cid, uint32_t len) {
        spec::sqe cmd = host::cmd::write(1, 0, len / 512);
        cmd.cid = cid;
        cmd.flags = 0x40;
        cmd.sgl1.length = len;
        cmd.sgl1.type =
            spec::sgl_type_byte(spec::sgl_type::transport_data_block, spec::sgl_subtype::transport);
        return cmd;
    }
    // Sends the write's capsule and returns the R2T it gets.
    static std::optional<stcp::r2t> start_r2t_write(host::queue& q, uint16_t cid, uint32_t len) {
        auto b = capsule(r2t_write(cid, len), q.params());
        EXPECT_TRUE(q.send_raw(b.data(), b.size()));
        auto p = q.recv_raw_pdu(5000);
        EXPECT_TRUE(p) << p.err().message;
        if (!p) return std::nullopt;
        EXPECT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::r2t))
            << host::pdu_type_name(p->ch.pdu_type);
        if (p->ch.pdu_type != static_cast<uint8_t>(stcp::pdu_type::r2t)) return std::nullopt;
        stcp::r2t r;
        std::memcpy(&r, p->bytes.data(), sizeof(r));
        EXPECT_EQ(r.cccid, cid);
        return r;
    }
    // An H2CData PDU with datal bytes of fill (and a correct data digest when negotiated).
    static std::vector<uint8_t> h2c(const host::pdu_params& p, uint16_t cccid, uint16_t ttag,
                                    uint32_t datao, uint32_t datal, uint8_t fill = 0xcd) {
        std::vector<uint8_t> h(host::max_tx_header);
        h.resize(host::build_h2c_data(h.data(), cccid, ttag, datao, datal, true, p));
        h.resize(h.size() + datal, fill);
        if (p.ddgst) {
            const uint32_t crc = util::crc32c(h.data() + h.size() - datal, datal);
            h.insert(h.end(), reinterpret_cast<const uint8_t*>(&crc),
                     reinterpret_cast<const uint8_t*>(&crc) + 4);
        }
        return h;
    }

    std::unique_ptr<host::controller> bystander_;
    uint32_t round_ = 0;
};

TEST_F(protocol_test, UnknownPduType) {
    auto q = open();
    std::vector<uint8_t> b(24, 0);
    stcp::common_header ch{0x0f, 0, 24, 0, 24};
    std::memcpy(b.data(), &ch, sizeof(ch));
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    expect_term(*q, stcp::fes::invalid_header_field, 0, b);
    expect_still_serving();
}

TEST_F(protocol_test, ControllerToHostPduTypeFromHost) {
    auto q = open();
    std::vector<uint8_t> b(24, 0);
    stcp::common_header ch{static_cast<uint8_t>(stcp::pdu_type::capsule_resp), 0, 24, 0, 24};
    std::memcpy(b.data(), &ch, sizeof(ch));
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    expect_term(*q, stcp::fes::invalid_header_field, 0, b);
    expect_still_serving();
}

TEST_F(protocol_test, CapsuleWithBadHlen) {
    auto q = open();
    auto b = capsule(host::cmd::keep_alive(), {});
    b[2] = 64;  // HLEN
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    expect_term(*q, stcp::fes::invalid_header_field, 2);
    expect_still_serving();
}

TEST_F(protocol_test, CapsuleWithPlenBelowHlen) {
    auto q = open();
    auto b = capsule(host::cmd::keep_alive(), {});
    const uint32_t plen = 16;
    std::memcpy(b.data() + 4, &plen, 4);
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    expect_term(*q, stcp::fes::invalid_header_field, 4);
    expect_still_serving();
}

TEST_F(protocol_test, CapsuleWithHugePlen) {
    auto q = open();
    auto b = capsule(host::cmd::keep_alive(), {});
    const uint32_t plen = 0x7fffffff;
    std::memcpy(b.data() + 4, &plen, 4);
    b[3] = 72;  // PDO: claims in-capsule data
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    auto p = q->recv_raw_pdu(5000);
    ASSERT_TRUE(p) << p.err().message;
    ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::c2h_term_req));
    stcp::term_req t;
    std::memcpy(&t, p->bytes.data(), sizeof(t));
    EXPECT_TRUE(t.fes == stcp::fes::invalid_header_field ||
                t.fes == stcp::fes::data_transfer_limit_exceeded)
        << host::fes_name(t.fes);
    EXPECT_TRUE(q->wait_closed(5000));
    expect_still_serving();
}

TEST_F(protocol_test, CapsuleBeforeIcReq) {
    auto q = open_tcp_only();
    auto b = capsule(host::cmd::keep_alive(), {});
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    expect_term(*q, stcp::fes::pdu_sequence_error, std::nullopt);
    expect_still_serving();
}

TEST_F(protocol_test, SecondIcReq) {
    auto q = open();
    uint8_t ic[128];
    host::build_ic_req(ic, 0, false, false, 0);
    ASSERT_TRUE(q->send_raw(ic, sizeof(ic)));
    expect_term(*q, stcp::fes::pdu_sequence_error, std::nullopt);
    expect_still_serving();
}

TEST_F(protocol_test, IcReqWithBadPfv) {
    auto q = open_tcp_only();
    uint8_t ic[128];
    host::build_ic_req(ic, 0, false, false, 0);
    ic[8] = 1;  // PFV 1
    ASSERT_TRUE(q->send_raw(ic, sizeof(ic)));
    auto p = q->recv_raw_pdu(5000);
    ASSERT_TRUE(p) << p.err().message;
    ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::c2h_term_req))
        << host::pdu_type_name(p->ch.pdu_type);
    stcp::term_req t;
    std::memcpy(&t, p->bytes.data(), sizeof(t));
    EXPECT_TRUE(t.fes == stcp::fes::invalid_header_field ||
                t.fes == stcp::fes::unsupported_parameter)
        << host::fes_name(t.fes);
    EXPECT_TRUE(q->wait_closed(5000));
    expect_still_serving();
}

TEST_F(protocol_test, IcReqWithBadHpda) {
    auto q = open_tcp_only();
    uint8_t ic[128];
    host::build_ic_req(ic, 32, false, false, 0);  // HPDA max is 31
    ASSERT_TRUE(q->send_raw(ic, sizeof(ic)));
    auto p = q->recv_raw_pdu(5000);
    ASSERT_TRUE(p) << p.err().message;
    ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::c2h_term_req))
        << host::pdu_type_name(p->ch.pdu_type);
    EXPECT_TRUE(q->wait_closed(5000));
    expect_still_serving();
}

TEST_F(protocol_test, HeaderDigestError) {
    auto q = open(true);
    ASSERT_TRUE(q->params().hdgst) << "target declined header digests";
    auto b = capsule(host::cmd::keep_alive(), q->params());
    b[72] ^= 0xff;  // corrupt HDGST
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    expect_term(*q, stcp::fes::header_digest_error, std::nullopt);
    expect_still_serving();
}

TEST_F(protocol_test, MissingHeaderDigestFlag) {
    auto q = open(true);
    ASSERT_TRUE(q->params().hdgst);
    auto b = capsule(host::cmd::keep_alive(), {});  // no HDGSTF, no digest
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    expect_term(*q, stcp::fes::invalid_header_field, std::nullopt);
    expect_still_serving();
}

TEST_F(protocol_test, DataDigestErrorFailsCommand) {
    // A bad data digest on in-capsule data: the command must fail (with a
    // transient transport error) or the connection be terminated.
    auto o = tgt.ctrlr_opts();
    o.hdgst = o.ddgst = true;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    auto& q = ctrlr->io(0);
    std::vector<uint8_t> data(512, 0x5a);
    spec::sqe cmd = host::cmd::write(1, 0, 1);
    cmd.cid = 77;
    cmd.flags = 0x40;
    cmd.sgl1.length = 512;
    cmd.sgl1.type = spec::sgl_type_byte(spec::sgl_type::data_block, spec::sgl_subtype::offset);
    std::vector<uint8_t> b(host::max_tx_header);
    b.resize(host::build_capsule_cmd(b.data(), cmd, 512, q.params()));
    b.insert(b.end(), data.begin(), data.end());
    const uint32_t bad = util::crc32c(data.data(), data.size()) ^ 1;
    b.insert(b.end(), reinterpret_cast<const uint8_t*>(&bad),
             reinterpret_cast<const uint8_t*>(&bad) + 4);
    ASSERT_TRUE(q.send_raw(b.data(), b.size()));
    auto p = q.recv_raw_pdu(5000);
    ASSERT_TRUE(p) << p.err().message;
    if (p->ch.pdu_type == static_cast<uint8_t>(stcp::pdu_type::capsule_resp)) {
        spec::cqe cqe;
        std::memcpy(&cqe, p->bytes.data() + 8, sizeof(cqe));
        EXPECT_EQ(cqe.cid, 77);
        EXPECT_FALSE(spec::status_ok(cqe.status)) << "write with bad data digest succeeded";
    } else {
        EXPECT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::c2h_term_req))
            << host::pdu_type_name(p->ch.pdu_type);
    }
    ctrlr.reset();
    expect_still_serving();
}

TEST_F(protocol_test, H2CDataWithUnknownTtag) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto& q = ctrlr->io(0);
    std::vector<uint8_t> b(host::max_tx_header);
    b.resize(host::build_h2c_data(b.data(), 5, 0x3fff, 0, 512, true, q.params()));
    b.resize(b.size() + 512, 0xab);
    ASSERT_TRUE(q.send_raw(b.data(), b.size()));
    expect_term(q, stcp::fes::invalid_header_field, std::nullopt);
    ctrlr.reset();
    expect_still_serving();
}

TEST_F(protocol_test, H2CDataOutOfRange) {
    // A real R2T, then H2CData beyond the R2T window.
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto& q = ctrlr->io(0);
    const uint32_t len = 64 * 1024;
    spec::sqe cmd = host::cmd::write(1, 0, len / 512);
    cmd.cid = 9;
    cmd.flags = 0x40;
    cmd.sgl1.length = len;
    cmd.sgl1.type =
        spec::sgl_type_byte(spec::sgl_type::transport_data_block, spec::sgl_subtype::transport);
    auto b = capsule(cmd, q.params());
    ASSERT_TRUE(q.send_raw(b.data(), b.size()));
    auto p = q.recv_raw_pdu(5000);
    ASSERT_TRUE(p) << p.err().message;
    ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::r2t))
        << host::pdu_type_name(p->ch.pdu_type);
    stcp::r2t r;
    std::memcpy(&r, p->bytes.data(), sizeof(r));
    EXPECT_EQ(r.cccid, 9);
    EXPECT_EQ(r.r2to, 0u);
    EXPECT_GT(r.r2tl, 0u);
    std::vector<uint8_t> h(host::max_tx_header);
    h.resize(host::build_h2c_data(h.data(), 9, r.ttag, r.r2tl, 512, true, q.params()));
    h.resize(h.size() + 512, 0xcd);
    ASSERT_TRUE(q.send_raw(h.data(), h.size()));
    expect_term(q, stcp::fes::data_transfer_out_of_range, std::nullopt);
    ctrlr.reset();
    expect_still_serving();
}

TEST_F(protocol_test, CapsuleWithPdoInsideHeader) {
    // In-capsule data may not start inside the header: PDO 8 < HLEN 72.
    auto q = open();
    spec::sqe cmd = host::cmd::write(1, 0, 1);
    cmd.sgl1.length = 512;
    cmd.sgl1.type = spec::sgl_type_byte(spec::sgl_type::data_block, spec::sgl_subtype::offset);
    std::vector<uint8_t> b(host::max_tx_header);
    b.resize(host::build_capsule_cmd(b.data(), cmd, 512, q->params()));
    b.resize(b.size() + 512, 0x11);
    b[3] = 8;  // PDO
    ASSERT_TRUE(q->send_raw(b.data(), b.size()));
    expect_term(*q, stcp::fes::invalid_header_field, offsetof(stcp::common_header, pdo));
    expect_still_serving();
}

TEST_F(protocol_test, H2CDataWithoutR2T) {
    // TTAG 0 names a transfer slot, but no R2T is outstanding: out of sequence.
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto& q = ctrlr->io(0);
    auto h = h2c(q.params(), 5, 0, 0, 512);
    ASSERT_TRUE(q.send_raw(h.data(), h.size()));
    expect_term(q, stcp::fes::pdu_sequence_error, std::nullopt);
    ctrlr.reset();
    expect_still_serving();
}

TEST_F(protocol_test, H2CDataWithAnotherCommandsTtag) {
    // Two writes wait for data; H2CData for the first carries the second's TTAG.
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto& q = ctrlr->io(0);
    auto r1 = start_r2t_write(q, 9, 16384);
    ASSERT_TRUE(r1);
    auto r2 = start_r2t_write(q, 10, 16384);
    ASSERT_TRUE(r2);
    ASSERT_NE(r1->ttag, r2->ttag);
    auto h = h2c(q.params(), 9, r2->ttag, 0, 4096);
    ASSERT_TRUE(q.send_raw(h.data(), h.size()));
    expect_term(q, stcp::fes::invalid_header_field, offsetof(stcp::h2c_data, cccid));
    ctrlr.reset();
    expect_still_serving();
}

TEST_F(protocol_test, H2CDataLongerThanR2T) {
    // Right offset, but more data than the R2T asked for.
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto& q = ctrlr->io(0);
    auto r = start_r2t_write(q, 9, 16384);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->r2tl, 16384u);
    auto h = h2c(q.params(), 9, r->ttag, 0, r->r2tl + 512);
    ASSERT_TRUE(q.send_raw(h.data(), h.size()));
    expect_term(q, stcp::fes::data_transfer_out_of_range, std::nullopt);
    ctrlr.reset();
    expect_still_serving();
}

TEST_F(protocol_test, H2CDataDigestErrorFailsOnlyThatCommand) {
    // A bad data digest on solicited data: that write fails with a Transient
    // Transport Error (retryable, DNR clear); the connection stays up.
    auto o = tgt.ctrlr_opts();
    o.hdgst = o.ddgst = true;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    auto& q = ctrlr->io(0);
    ASSERT_TRUE(q.params().ddgst) << "target declined data digests";
    auto r = start_r2t_write(q, 9, 16384);
    ASSERT_TRUE(r);
    auto h = h2c(q.params(), 9, r->ttag, 0, r->r2tl);
    h[h.size() - 1] ^= 0x5a;  // corrupt DDGST
    ASSERT_TRUE(q.send_raw(h.data(), h.size()));
    auto p = q.recv_raw_pdu(5000);
    ASSERT_TRUE(p) << p.err().message;
    ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::capsule_resp))
        << host::pdu_type_name(p->ch.pdu_type);
    spec::cqe cqe;
    std::memcpy(&cqe, p->bytes.data() + 8, sizeof(cqe));
    EXPECT_EQ(cqe.cid, 9);
    EXPECT_EQ(spec::status_sct(cqe.status), spec::sct::generic);
    EXPECT_EQ(spec::status_sc(cqe.status), spec::sc::transient_transport_error);
    EXPECT_FALSE(spec::status_dnr(cqe.status));
    // The same queue keeps working: the data the bad write carried never landed.
    std::vector<uint8_t> back(16384);
    auto rd = ctrlr->read(1, 0, 32, back);
    ASSERT_TRUE(rd) << rd.err().message;
    EXPECT_TRUE(rd->ok()) << st(*rd);
    EXPECT_NE(back[0], 0xcd);
    ctrlr.reset();
    expect_still_serving();
}

TEST_F(protocol_test, CommandsOnDisabledController) {
    // Before CC.EN=1, and again after CC.EN back to 0 (a reset), admin commands
    // get Command Sequence Error; the reset also closes the I/O queues.
    auto c = std::make_unique<host::controller>(tgt.ctrlr_opts());
    auto a = c->connect_admin();
    ASSERT_TRUE(a) << a.err().message;
    std::vector<uint8_t> idbuf(4096);
    auto id = c->admin_cmd(host::cmd::identify(1), {}, idbuf);
    ASSERT_TRUE(id) << id.err().message;
    EXPECT_EQ(id->sct(), spec::sct::generic) << st(*id);
    EXPECT_EQ(id->sc(), spec::sc::command_sequence_error) << st(*id);
    ASSERT_TRUE(c->enable());
    ASSERT_TRUE(c->identify_controller());
    ASSERT_TRUE(c->add_io_queues(1));
    auto ps = c->property_set(spec::prop::cc, 0);
    ASSERT_TRUE(ps && ps->ok());
    id = c->admin_cmd(host::cmd::identify(1), {}, idbuf);
    ASSERT_TRUE(id) << id.err().message;
    EXPECT_EQ(id->sc(), spec::sc::command_sequence_error) << st(*id);
    EXPECT_TRUE(c->io(0).wait_closed(5000)) << "I/O queue survived the controller reset";
    c.reset();
    expect_still_serving();
}

TEST_F(protocol_test, MoreCommandsThanTheSqHolds) {
    // An I/O queue of 4 entries and 5 writes in one go, each waiting for its
    // data (so none can complete): the host ignored SQ flow control, a fatal
    // PDU sequence error. R2Ts queued for the first four may or may not go out
    // before the termination.
    auto o = tgt.ctrlr_opts();
    o.io_queue_size = 4;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    auto& q = ctrlr->io(0);
    std::vector<uint8_t> all;
    for (uint16_t cid = 0; cid < 5; ++cid) {
        auto b = capsule(r2t_write(cid, 65536), q.params());
        all.insert(all.end(), b.begin(), b.end());
    }
    ASSERT_TRUE(q.send_raw(all.data(), all.size()));
    int r2ts = 0;
    for (;;) {
        auto p = q.recv_raw_pdu(5000);
        ASSERT_TRUE(p) << "no C2HTermReq after " << r2ts << " R2Ts: " << p.err().message;
        if (p->ch.pdu_type != static_cast<uint8_t>(stcp::pdu_type::r2t)) {
            ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::c2h_term_req))
                << host::pdu_type_name(p->ch.pdu_type);
            stcp::term_req t;
            std::memcpy(&t, p->bytes.data(), sizeof(t));
            EXPECT_EQ(t.fes, stcp::fes::pdu_sequence_error) << host::fes_name(t.fes);
            break;
        }
        ++r2ts;
        ASSERT_LE(r2ts, 4) << "an R2T for the fifth command of a 4-entry queue";
    }
    EXPECT_TRUE(q.wait_closed(5000));
    ctrlr.reset();
    expect_still_serving();
}

TEST_F(protocol_test, PortScannerGarbage) {
    // What scanners and confused clients send: each connection is answered
    // with a C2HTermReq or closed, and nothing else is affected.
    std::vector<std::vector<uint8_t>> probes;
    auto text = [](const char* s) { return std::vector<uint8_t>(s, s + std::strlen(s)); };
    probes.push_back(text("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    probes.push_back(text("SSH-2.0-OpenSSH_9.2\r\n"));
    probes.push_back({0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03});  // TLS
    probes.push_back(std::vector<uint8_t>(4096, 0));
    probes.push_back(std::vector<uint8_t>(4096, 0xff));
    for (uint32_t seed = 1; seed <= 8; ++seed) probes.push_back(random_bytes(64 * seed, seed));
    probes.push_back({0x00, 0x00, 0x80});  // the start of an ICReq, then nothing
    for (const auto& b : probes) {
        auto q = open_tcp_only();
        ASSERT_TRUE(q->send_raw(b.data(), b.size()));
        if (b.size() >= 8) {
            auto p = q->recv_raw_pdu(5000);
            if (p) {
                EXPECT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::c2h_term_req))
                    << host::pdu_type_name(p->ch.pdu_type);
            }
            EXPECT_TRUE(q->wait_closed(5000)) << "garbage connection left open";
        }
    }
    // Scanners also connect and leave at once, many times.
    for (int i = 0; i < 50; ++i) open_tcp_only();
    expect_still_serving();
}

TEST_F(protocol_test, HostTermReqClosesConnection) {
    auto q = open();
    uint8_t b[24 + 8];
    const uint8_t bad[8] = {};
    const size_t n = host::build_h2c_term_req(b, stcp::fes::invalid_header_field, 0, bad, 8);
    ASSERT_TRUE(q->send_raw(b, n));
    EXPECT_TRUE(q->wait_closed(5000));
    expect_still_serving();
}

TEST_F(protocol_test, AbruptCloseMidCapsule) {
    {
        auto q = open();
        auto b = capsule(host::cmd::keep_alive(), {});
        ASSERT_TRUE(q->send_raw(b.data(), 30));  // a partial header, then gone
    }
    expect_still_serving();
}

}  // namespace
}  // namespace nvmf::test
