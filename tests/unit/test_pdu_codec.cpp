// The NVMe/TCP PDU codec: header validation rejects every malformed length
// or sequence before anything is read past it, and builders produce the
// exact bytes the spec lays out.
#include <cstring>

#include <gtest/gtest.h>

#include "transport/tcp/pdu_codec.hpp"
#include "util/crc32c.hpp"

namespace st = nvmf::spec::tcp;
using nvmf::tcp::check_common_header;
using nvmf::tcp::conn_params;

namespace {

st::common_header ch(st::pdu_type t, uint8_t hlen, uint32_t plen, uint8_t pdo = 0,
                     uint8_t flags = 0) {
    st::common_header h{};
    h.pdu_type = static_cast<uint8_t>(t);
    h.flags = flags;
    h.hlen = hlen;
    h.pdo = pdo;
    h.plen = plen;
    return h;
}

conn_params running(bool hdgst = false, bool ddgst = false) {
    conn_params p;
    p.ic_done = true;
    p.hdgst = hdgst;
    p.ddgst = ddgst;
    p.max_icd = 8192;
    p.maxh2cdata = 131072;
    return p;
}

}  // namespace

TEST(PduCodec, Crc32cKnownVector) {
    // RFC 3720 B.4: 32 bytes of zeroes -> 0x8a9136aa.
    uint8_t zeroes[32] = {};
    EXPECT_EQ(nvmf::util::crc32c(zeroes, sizeof(zeroes)), 0x8a9136aau);
    const char* s = "123456789";
    EXPECT_EQ(nvmf::util::crc32c(s, 9), 0xe3069283u);
}

TEST(PduCodec, IcReqOnlyFirst) {
    conn_params p;
    EXPECT_FALSE(check_common_header(ch(st::pdu_type::ic_req, 128, 128), p));
    // Anything else before ICReq is a sequence error.
    auto f = check_common_header(ch(st::pdu_type::capsule_cmd, 72, 72), p);
    EXPECT_EQ(f.fes, st::fes::pdu_sequence_error);
    // A second ICReq is too.
    f = check_common_header(ch(st::pdu_type::ic_req, 128, 128), running());
    EXPECT_EQ(f.fes, st::fes::pdu_sequence_error);
}

TEST(PduCodec, IcReqBadLengths) {
    conn_params p;
    auto f = check_common_header(ch(st::pdu_type::ic_req, 127, 128), p);
    EXPECT_EQ(f.fes, st::fes::invalid_header_field);
    EXPECT_EQ(f.fei, 2u);  // HLEN
    f = check_common_header(ch(st::pdu_type::ic_req, 128, 4096), p);
    EXPECT_EQ(f.fes, st::fes::invalid_header_field);
    EXPECT_EQ(f.fei, 4u);  // PLEN
}

TEST(PduCodec, ControllerPduTypesFromHostAreInvalid) {
    for (auto t : {st::pdu_type::ic_resp, st::pdu_type::c2h_term_req, st::pdu_type::capsule_resp,
                   st::pdu_type::c2h_data, st::pdu_type::r2t}) {
        auto f = check_common_header(ch(t, st::expected_hlen(t), 24), running());
        EXPECT_EQ(f.fes, st::fes::invalid_header_field);
        EXPECT_EQ(f.fei, 0u);
    }
    st::common_header bad = ch(st::pdu_type::capsule_cmd, 72, 72);
    bad.pdu_type = 0x42;
    EXPECT_EQ(check_common_header(bad, running()).fes, st::fes::invalid_header_field);
}

TEST(PduCodec, CapsuleLengths) {
    EXPECT_FALSE(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 72), running()));
    // In-capsule data right after the header.
    EXPECT_FALSE(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 72 + 4096, 72), running()));
    // PLEN shorter than the header.
    EXPECT_EQ(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 71), running()).fei, 4u);
    // Wrong HLEN.
    EXPECT_EQ(check_common_header(ch(st::pdu_type::capsule_cmd, 24, 72), running()).fei, 2u);
    // PDO inside the header.
    EXPECT_EQ(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 72 + 512, 8), running()).fei,
              3u);
    // PDO past the end.
    EXPECT_EQ(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 100, 200), running()).fei, 3u);
    // More in-capsule data than offered.
    EXPECT_EQ(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 72 + 8193, 72), running()).fes,
              st::fes::data_transfer_limit_exceeded);
}

TEST(PduCodec, DigestFlagsMustMatchNegotiation) {
    // Header digest negotiated but the flag is missing.
    EXPECT_EQ(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 76), running(true)).fei, 1u);
    EXPECT_FALSE(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 76, 0, st::flag::hdgstf),
                                     running(true)));
    // PLEN that leaves no room for the header digest.
    EXPECT_EQ(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 72, 0, st::flag::hdgstf),
                                  running(true))
                  .fei,
              4u);
    // Data digest flag required with data when negotiated.
    const uint8_t both = st::flag::hdgstf | st::flag::ddgstf;
    EXPECT_FALSE(check_common_header(ch(st::pdu_type::capsule_cmd, 72, 76 + 512 + 4, 76, both),
                                     running(true, true)));
    EXPECT_EQ(
        check_common_header(ch(st::pdu_type::capsule_cmd, 72, 76 + 512 + 4, 76, st::flag::hdgstf),
                            running(true, true))
            .fei,
        1u);
}

TEST(PduCodec, H2CDataNeedsData) {
    EXPECT_FALSE(check_common_header(ch(st::pdu_type::h2c_data, 24, 24 + 4096, 24), running()));
    EXPECT_EQ(check_common_header(ch(st::pdu_type::h2c_data, 24, 24), running()).fei, 4u);
    EXPECT_EQ(check_common_header(ch(st::pdu_type::h2c_data, 24, 24 + 131073, 24), running()).fes,
              st::fes::data_transfer_limit_exceeded);
}

TEST(PduCodec, TermReqLength) {
    EXPECT_FALSE(check_common_header(ch(st::pdu_type::h2c_term_req, 24, 24), running()));
    EXPECT_FALSE(check_common_header(ch(st::pdu_type::h2c_term_req, 24, 152), running()));
    EXPECT_EQ(check_common_header(ch(st::pdu_type::h2c_term_req, 24, 153), running()).fei, 4u);
}

TEST(PduCodec, LayoutOfData) {
    auto p = running(true, true);
    auto l = nvmf::tcp::layout_of(
        ch(st::pdu_type::capsule_cmd, 72, 76 + 512 + 4, 76, st::flag::hdgstf | st::flag::ddgstf),
        p);
    EXPECT_EQ(l.offset, 76u);
    EXPECT_EQ(l.length, 512u);
    EXPECT_TRUE(l.has_ddgst);
    l = nvmf::tcp::layout_of(ch(st::pdu_type::capsule_cmd, 72, 76, 0, st::flag::hdgstf), p);
    EXPECT_EQ(l.length, 0u);
}

TEST(PduCodec, IcReqFields) {
    st::ic_req r{};
    r.ch = ch(st::pdu_type::ic_req, 128, 128);
    EXPECT_FALSE(nvmf::tcp::check_ic_req(r));
    r.pfv = 1;
    EXPECT_EQ(nvmf::tcp::check_ic_req(r).fei, 8u);
    r.pfv = 0;
    r.hpda = 32;
    EXPECT_EQ(nvmf::tcp::check_ic_req(r).fei, 10u);
    r.hpda = 0;
    r.dgst = 0x4;
    EXPECT_EQ(nvmf::tcp::check_ic_req(r).fei, 11u);
}

TEST(PduCodec, BuildIcResp) {
    uint8_t buf[nvmf::tcp::max_header_bytes];
    ASSERT_EQ(nvmf::tcp::build_ic_resp(buf, 3, 131072), 128u);
    st::ic_resp r;
    std::memcpy(&r, buf, sizeof(r));
    EXPECT_EQ(r.ch.pdu_type, 0x01);
    EXPECT_EQ(r.ch.hlen, 128);
    EXPECT_EQ(r.ch.plen, 128u);
    EXPECT_EQ(r.dgst, 3);
    EXPECT_EQ(r.maxh2cdata, 131072u);
    EXPECT_EQ(r.cpda, 0);
}

TEST(PduCodec, BuildCapsuleRespWithDigest) {
    nvmf::spec::cqe c{};
    c.cid = 0x1234;
    c.sqhd = 7;
    c.status =
        nvmf::spec::make_status(nvmf::spec::sct::generic, nvmf::spec::sc::invalid_field, true);
    uint8_t buf[nvmf::tcp::max_header_bytes];
    ASSERT_EQ(nvmf::tcp::build_capsule_resp(buf, c, true), 28u);
    EXPECT_EQ(buf[0], 0x05);
    EXPECT_EQ(buf[1], st::flag::hdgstf);
    EXPECT_EQ(buf[2], 24);
    uint32_t plen, dg;
    std::memcpy(&plen, buf + 4, 4);
    std::memcpy(&dg, buf + 24, 4);
    EXPECT_EQ(plen, 28u);
    EXPECT_EQ(dg, nvmf::util::crc32c(buf, 24));
    nvmf::spec::cqe back;
    std::memcpy(&back, buf + 8, sizeof(back));
    EXPECT_EQ(back.cid, 0x1234);
    EXPECT_EQ(nvmf::spec::status_sc(back.status), nvmf::spec::sc::invalid_field);
    EXPECT_TRUE(nvmf::spec::status_dnr(back.status));
}

TEST(PduCodec, BuildC2HDataAlignsToHpda) {
    conn_params p = running(true, true);
    p.hpda = 7;  // 32-byte alignment
    uint8_t buf[nvmf::tcp::max_header_bytes];
    const size_t pdo = nvmf::tcp::build_c2h_data(buf, 9, 0, 4096, st::flag::last_pdu, p);
    EXPECT_EQ(pdo, 32u);
    st::c2h_data d;
    std::memcpy(&d, buf, sizeof(d));
    EXPECT_EQ(d.ch.pdo, 32);
    EXPECT_EQ(d.ch.plen, 32u + 4096 + 4);
    EXPECT_EQ(d.ch.flags, st::flag::last_pdu | st::flag::hdgstf | st::flag::ddgstf);
    EXPECT_EQ(d.datal, 4096u);
    EXPECT_EQ(d.cccid, 9);
    for (size_t i = 28; i < 32; ++i) EXPECT_EQ(buf[i], 0) << i;
}

TEST(PduCodec, BuildR2T) {
    uint8_t buf[nvmf::tcp::max_header_bytes];
    ASSERT_EQ(nvmf::tcp::build_r2t(buf, 3, 17, 0, 65536, false), 24u);
    st::r2t r;
    std::memcpy(&r, buf, sizeof(r));
    EXPECT_EQ(r.ch.pdu_type, 0x09);
    EXPECT_EQ(r.cccid, 3);
    EXPECT_EQ(r.ttag, 17);
    EXPECT_EQ(r.r2tl, 65536u);
}

TEST(PduCodec, BuildTermReqTruncatesHeader) {
    uint8_t bad[200];
    for (size_t i = 0; i < sizeof(bad); ++i) bad[i] = static_cast<uint8_t>(i);
    uint8_t buf[nvmf::tcp::max_header_bytes];
    const size_t n =
        nvmf::tcp::build_term_req(buf, {st::fes::invalid_header_field, 4}, bad, sizeof(bad));
    EXPECT_EQ(n, 24u + 128);
    st::term_req t;
    std::memcpy(&t, buf, sizeof(t));
    EXPECT_EQ(t.ch.pdu_type, 0x03);
    EXPECT_EQ(t.ch.plen, 152u);
    EXPECT_EQ(t.fes, st::fes::invalid_header_field);
    uint32_t fei;
    std::memcpy(&fei, t.fei, 4);
    EXPECT_EQ(fei, 4u);
    EXPECT_EQ(std::memcmp(buf + 24, bad, 128), 0);
}
