// Host PDU encoding and header checks against hand-computed bytes.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "host/commands.hpp"
#include "host/discovery.hpp"
#include "host/pdu.hpp"
#include "util/crc32c.hpp"

namespace {

using namespace nvmf;
namespace st = spec::tcp;

uint32_t le32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

TEST(HostPdu, Crc32cKnownVector) { EXPECT_EQ(util::crc32c("123456789", 9), 0xE3069283u); }

TEST(HostPdu, IcReqBytes) {
    uint8_t b[128];
    std::memset(b, 0xaa, sizeof(b));
    host::build_ic_req(b, 0, true, true, 3);
    const uint8_t want[16] = {0x00, 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00,
                              0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00};
    EXPECT_EQ(std::memcmp(b, want, sizeof(want)), 0);
    for (size_t i = 16; i < 128; ++i) EXPECT_EQ(b[i], 0) << i;

    host::build_ic_req(b, 2, false, true, 0);
    EXPECT_EQ(b[10], 2);     // HPDA
    EXPECT_EQ(b[11], 0x02);  // DDGST only
}

TEST(HostPdu, CapsuleNoDataNoDigest) {
    spec::sqe cmd{};
    cmd.opc = 0x06;
    cmd.cid = 0x1234;
    uint8_t b[host::max_tx_header];
    const size_t n = host::build_capsule_cmd(b, cmd, 0, {});
    ASSERT_EQ(n, 72u);
    const uint8_t ch[8] = {0x04, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00, 0x00};
    EXPECT_EQ(std::memcmp(b, ch, 8), 0);
    EXPECT_EQ(b[8], 0x06);
    EXPECT_EQ(b[10], 0x34);
    EXPECT_EQ(b[11], 0x12);
}

TEST(HostPdu, CapsuleInCapsuleDataWithDigests) {
    spec::sqe cmd{};
    cmd.opc = 0x01;
    host::pdu_params p;
    p.hdgst = true;
    p.ddgst = true;
    uint8_t b[host::max_tx_header];
    const size_t n = host::build_capsule_cmd(b, cmd, 512, p);
    ASSERT_EQ(n, 76u);  // 72 + header digest; CPDA 0 needs no padding
    EXPECT_EQ(b[0], 0x04);
    EXPECT_EQ(b[1], 0x03);  // HDGSTF | DDGSTF
    EXPECT_EQ(b[2], 72);
    EXPECT_EQ(b[3], 76);                    // PDO
    EXPECT_EQ(le32(b + 4), 76u + 512 + 4);  // PLEN
    EXPECT_EQ(le32(b + 72), util::crc32c(b, 72));
    EXPECT_TRUE(host::hdgst_ok(b, 72));
}

TEST(HostPdu, CapsuleNoDataWithDigestsHasNoDdgstFlag) {
    spec::sqe cmd{};
    host::pdu_params p;
    p.hdgst = true;
    p.ddgst = true;
    uint8_t b[host::max_tx_header];
    EXPECT_EQ(host::build_capsule_cmd(b, cmd, 0, p), 76u);
    EXPECT_EQ(b[1], 0x01);
    EXPECT_EQ(b[3], 0);
    EXPECT_EQ(le32(b + 4), 76u);
}

TEST(HostPdu, CpdaPadsDataOffset) {
    host::pdu_params p;
    p.hdgst = true;
    p.cpda = 7;  // 32-byte alignment
    EXPECT_EQ(host::tx_data_offset(72, p), 96u);
    EXPECT_EQ(host::tx_data_offset(24, p), 32u);
    p.hdgst = false;
    EXPECT_EQ(host::tx_data_offset(72, p), 96u);
    p.cpda = 0;
    EXPECT_EQ(host::tx_data_offset(72, p), 72u);

    spec::sqe cmd{};
    p.hdgst = true;
    p.cpda = 7;
    uint8_t b[host::max_tx_header];
    std::memset(b, 0xee, sizeof(b));
    ASSERT_EQ(host::build_capsule_cmd(b, cmd, 100, p), 96u);
    EXPECT_EQ(b[3], 96);
    EXPECT_EQ(le32(b + 4), 196u);
    for (size_t i = 76; i < 96; ++i) EXPECT_EQ(b[i], 0) << i;
}

TEST(HostPdu, H2CDataBytes) {
    host::pdu_params p;
    p.hdgst = true;
    p.ddgst = true;
    uint8_t b[host::max_tx_header];
    const size_t n = host::build_h2c_data(b, 7, 0x55, 4096, 1000, true, p);
    ASSERT_EQ(n, 28u);
    EXPECT_EQ(b[0], 0x06);
    EXPECT_EQ(b[1], 0x07);  // HDGSTF | DDGSTF | LAST_PDU
    EXPECT_EQ(b[2], 24);
    EXPECT_EQ(b[3], 28);
    EXPECT_EQ(le32(b + 4), 28u + 1000 + 4);
    EXPECT_EQ(b[8], 7);      // CCCID
    EXPECT_EQ(b[10], 0x55);  // TTAG
    EXPECT_EQ(le32(b + 12), 4096u);
    EXPECT_EQ(le32(b + 16), 1000u);
    EXPECT_TRUE(host::hdgst_ok(b, 24));

    const size_t m = host::build_h2c_data(b, 1, 2, 0, 64, false, {});
    EXPECT_EQ(m, 24u);
    EXPECT_EQ(b[1], 0x00);
    EXPECT_EQ(b[3], 24);
    EXPECT_EQ(le32(b + 4), 88u);
}

TEST(HostPdu, H2CTermReqBytes) {
    uint8_t bad[8] = {0x42, 0, 0, 0, 8, 0, 0, 0};
    uint8_t b[24 + 128];
    const size_t n =
        host::build_h2c_term_req(b, st::fes::invalid_header_field, 0, bad, sizeof(bad));
    ASSERT_EQ(n, 32u);
    EXPECT_EQ(b[0], 0x02);
    EXPECT_EQ(b[2], 24);
    EXPECT_EQ(le32(b + 4), 32u);
    EXPECT_EQ(b[8], 0x01);
    EXPECT_EQ(b[24], 0x42);
}

st::common_header ch_of(st::pdu_type t, uint8_t flags, uint8_t hlen, uint8_t pdo, uint32_t plen) {
    return {static_cast<uint8_t>(t), flags, hlen, pdo, plen};
}

TEST(HostPdu, RxHeaderChecks) {
    host::pdu_params p;
    EXPECT_EQ(host::check_rx_common_header(ch_of(st::pdu_type::ic_resp, 0, 128, 0, 128), p, false),
              "");
    EXPECT_NE(host::check_rx_common_header(ch_of(st::pdu_type::ic_resp, 0, 128, 0, 128), p, true),
              "");
    EXPECT_NE(host::check_rx_common_header(ch_of(st::pdu_type::ic_resp, 0, 128, 0, 129), p, false),
              "");
    EXPECT_NE(
        host::check_rx_common_header(ch_of(st::pdu_type::capsule_resp, 0, 24, 0, 24), p, false),
        "");
    EXPECT_EQ(
        host::check_rx_common_header(ch_of(st::pdu_type::capsule_resp, 0, 24, 0, 24), p, true), "");
    EXPECT_NE(
        host::check_rx_common_header(ch_of(st::pdu_type::capsule_resp, 0, 20, 0, 24), p, true), "");
    EXPECT_NE(
        host::check_rx_common_header(ch_of(st::pdu_type::capsule_resp, 0, 24, 0, 28), p, true), "");
    // Host-to-controller types never come from a target.
    EXPECT_NE(host::check_rx_common_header(ch_of(st::pdu_type::capsule_cmd, 0, 72, 0, 72), p, true),
              "");
    EXPECT_NE(
        host::check_rx_common_header(ch_of(static_cast<st::pdu_type>(0x0a), 0, 24, 0, 24), p, true),
        "");
    EXPECT_EQ(
        host::check_rx_common_header(ch_of(st::pdu_type::c2h_term_req, 0, 24, 0, 24 + 72), p, true),
        "");
    EXPECT_NE(host::check_rx_common_header(ch_of(st::pdu_type::c2h_term_req, 0, 24, 0, 24 + 200), p,
                                           true),
              "");
    // C2HData: PDO inside the header, or no data.
    EXPECT_EQ(host::check_rx_common_header(ch_of(st::pdu_type::c2h_data, 0x04, 24, 24, 24 + 512), p,
                                           true),
              "");
    EXPECT_NE(host::check_rx_common_header(ch_of(st::pdu_type::c2h_data, 0x04, 24, 20, 24 + 512), p,
                                           true),
              "");
    EXPECT_NE(
        host::check_rx_common_header(ch_of(st::pdu_type::c2h_data, 0x04, 24, 24, 24), p, true), "");
    // Digest flags must match what was negotiated.
    EXPECT_NE(
        host::check_rx_common_header(ch_of(st::pdu_type::capsule_resp, 0x01, 24, 0, 28), p, true),
        "");
    p.hdgst = true;
    EXPECT_EQ(
        host::check_rx_common_header(ch_of(st::pdu_type::capsule_resp, 0x01, 24, 0, 28), p, true),
        "");
    EXPECT_NE(
        host::check_rx_common_header(ch_of(st::pdu_type::capsule_resp, 0x00, 24, 0, 24), p, true),
        "");
    EXPECT_EQ(host::rx_header_rest(ch_of(st::pdu_type::capsule_resp, 0x01, 24, 0, 28), p), 20u);
    EXPECT_EQ(host::rx_header_rest(ch_of(st::pdu_type::c2h_term_req, 0, 24, 0, 24), p), 16u);
}

TEST(HostPdu, RxDataLayout) {
    host::pdu_params p;
    p.hdgst = true;
    p.ddgst = true;
    auto ch = ch_of(st::pdu_type::c2h_data, 0x07, 24, 28, 28 + 100 + 4);
    EXPECT_EQ(host::check_rx_common_header(ch, p, true), "");
    auto l = host::rx_data_layout(ch, p);
    EXPECT_EQ(l.pad, 0u);
    EXPECT_EQ(l.datal, 100u);
    EXPECT_TRUE(l.ddgst);
    ch = ch_of(st::pdu_type::c2h_data, 0x07, 24, 32, 32 + 100 + 4);
    l = host::rx_data_layout(ch, p);
    EXPECT_EQ(l.pad, 4u);
    EXPECT_EQ(l.datal, 100u);
}

TEST(HostCommands, ConnectBytes) {
    const spec::sqe s = host::cmd::connect(3, 127, 5000);
    const auto* b = reinterpret_cast<const uint8_t*>(&s);
    EXPECT_EQ(b[0], 0x7f);
    EXPECT_EQ(b[4], 0x01);
    EXPECT_EQ(b[42], 3);
    EXPECT_EQ(b[44], 127);
    EXPECT_EQ(le32(b + 48), 5000u);
    const uint8_t hostid[16] = {1, 2, 3};
    const auto d = host::cmd::connect_data(hostid, 0xffff, "nqn.host", "nqn.sub");
    const auto* db = reinterpret_cast<const uint8_t*>(&d);
    EXPECT_EQ(db[0], 1);
    EXPECT_EQ(db[16], 0xff);
    EXPECT_EQ(db[17], 0xff);
    EXPECT_STREQ(reinterpret_cast<const char*>(db + 256), "nqn.sub");   // SUBNQN
    EXPECT_STREQ(reinterpret_cast<const char*>(db + 512), "nqn.host");  // HOSTNQN
}

TEST(HostCommands, PropertyBytes) {
    spec::sqe s = host::cmd::property_get(0x00, true);
    auto* b = reinterpret_cast<const uint8_t*>(&s);
    EXPECT_EQ(b[4], 0x04);
    EXPECT_EQ(b[40], 1);
    EXPECT_EQ(le32(b + 44), 0u);
    s = host::cmd::property_set(0x14, 0x460001, false);
    b = reinterpret_cast<const uint8_t*>(&s);
    EXPECT_EQ(b[4], 0x00);
    EXPECT_EQ(b[40], 0);
    EXPECT_EQ(le32(b + 44), 0x14u);
    EXPECT_EQ(le32(b + 48), 0x460001u);
}

TEST(HostCommands, AdminAndIoDwords) {
    spec::sqe s = host::cmd::get_log_page(0x70, 0, 1024, 1024, 0, true);
    EXPECT_EQ(s.cdw10, 0x00ff8070u);
    EXPECT_EQ(s.cdw11, 0u);
    EXPECT_EQ(s.cdw12, 1024u);
    s = host::cmd::get_log_page(0x02, 0xffffffff, 512u * 1024 * 4, 0);
    EXPECT_EQ(s.cdw10 >> 16, 0xffffu);
    EXPECT_EQ(s.cdw11, 0x7u);
    s = host::cmd::identify(spec::cns::ns_id_descriptor_list, 1, 0x12);
    EXPECT_EQ(s.cdw10, 0x00120003u);
    EXPECT_EQ(s.nsid, 1u);
    s = host::cmd::read(1, 0x100000002ull, 8);
    EXPECT_EQ(s.opc, 0x02);
    EXPECT_EQ(s.cdw10, 2u);
    EXPECT_EQ(s.cdw11, 1u);
    EXPECT_EQ(s.cdw12, 7u);
    s = host::cmd::write_zeroes(1, 0, 1, true);
    EXPECT_EQ(s.cdw12, 1u << 25);
    s = host::cmd::dataset_management(1, 2, host::cmd::dsm_deallocate);
    EXPECT_EQ(s.cdw10, 1u);
    EXPECT_EQ(s.cdw11, 4u);
    s = host::cmd::set_features(spec::feat::number_of_queues, 0x00030003);
    EXPECT_EQ(s.cdw10, 0x07u);
    EXPECT_EQ(s.cdw11, 0x00030003u);
}

TEST(HostDiscovery, ParseTrid) {
    auto t = host::parse_trid(
        "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:4421 subnqn:nqn.2016-06.io.spdk:cnode1");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->traddr, "127.0.0.1");
    EXPECT_EQ(t->trsvcid, "4421");
    EXPECT_EQ(t->subnqn, "nqn.2016-06.io.spdk:cnode1");
    t = host::parse_trid("trtype:tcp traddr:::1");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->traddr, "::1");
    EXPECT_EQ(t->subnqn, spec::discovery_nqn);
    EXPECT_FALSE(host::parse_trid("trtype:RDMA"));
    EXPECT_FALSE(host::parse_trid("bogus"));
    EXPECT_FALSE(host::parse_trid("color:blue"));
}

}  // namespace
