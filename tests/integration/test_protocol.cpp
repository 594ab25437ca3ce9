// Malformed PDUs: the target answers with a C2HTermReq (FES/FEI pointing at
// the bad field), closes the connection, and keeps serving new ones.
#include <optional>

#include "daemon_fixture.hpp"
#include "host/pdu.hpp"
#include "util/crc32c.hpp"

namespace nvmf::test {
namespace {

namespace stcp = spec::tcp;

class protocol_test : public target_test {
protected:
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

    void expect_still_serving() {
        ASSERT_TRUE(tgt.running()) << tgt.log_tail();
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
