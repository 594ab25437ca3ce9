// Transport edge cases on the I/O path: H2CData in small pieces, many
// capsules in one write, a capsule trickled a byte at a time, oversize
// in-capsule data, unsupported SGL types.
#include <algorithm>

#include "daemon_fixture.hpp"
#include "host/pdu.hpp"
#include "util/crc32c.hpp"

namespace nvmf::test {
namespace {

namespace stcp = spec::tcp;

class io_edge_test : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        ASSERT_TRUE(tgt.start(daemon_config::simple()));
        auto o = tgt.ctrlr_opts();
        o.hdgst = o.ddgst = GetParam();
        auto c = host::controller::create(o);
        ASSERT_TRUE(c) << c.err().message << "\n" << tgt.log_tail();
        ctrlr = std::move(*c);
    }
    void TearDown() override {
        ctrlr.reset();
        EXPECT_TRUE(tgt.stop());
    }
    void verify(uint64_t slba, const std::vector<uint8_t>& data) {
        std::vector<uint8_t> back(data.size());
        auto r = ctrlr->read(1, slba, static_cast<uint32_t>(data.size() / 512), back);
        ASSERT_TRUE(r) << r.err().message;
        ASSERT_TRUE(r->ok()) << st(*r);
        EXPECT_TRUE(back == data);
    }
    void expect_serving() {
        ASSERT_TRUE(tgt.running()) << tgt.log_tail();
        auto c = host::controller::create(tgt.ctrlr_opts());
        ASSERT_TRUE(c) << c.err().message;
        std::vector<uint8_t> b(512);
        auto r = (*c)->read(1, 0, 1, b);
        ASSERT_TRUE(r && r->ok());
    }

    daemon tgt;
    std::unique_ptr<host::controller> ctrlr;
};

TEST_P(io_edge_test, H2CDataInSmallPieces) {
    auto& q = ctrlr->io(0);
    uint64_t lba = 0;
    for (uint32_t chunk : {4096u, 1000u, 512u}) {
        SCOPED_TRACE("chunk " + std::to_string(chunk));
        q.set_h2c_chunk(chunk);
        const auto data = random_bytes(64 * 1024, chunk);
        auto c = q.execute(host::cmd::write(1, lba, 128), data, {}, host::submit_flag::force_r2t);
        ASSERT_TRUE(c) << c.err().message;
        ASSERT_TRUE(c->ok()) << st(*c);
        verify(lba, data);
        lba += 128;
    }
    q.set_h2c_chunk(0);
}

TEST_P(io_edge_test, ManyCapsulesInOneWrite) {
    auto& q = ctrlr->io(0);
    constexpr int n = 32;
    std::vector<std::vector<uint8_t>> data;
    for (int i = 0; i < n; ++i) data.push_back(random_bytes(1024, 500 + i));
    for (int i = 0; i < n; ++i) {
        auto cid = q.submit(host::cmd::write(1, uint64_t(i) * 2, 2), data[i], {},
                            host::submit_flag::defer);
        ASSERT_TRUE(cid) << cid.err().message;
    }
    ASSERT_TRUE(q.flush());
    for (int i = 0; i < n; ++i) {
        auto c = q.wait_any();
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->second.ok()) << st(c->second);
    }
    std::vector<std::vector<uint8_t>> back(n, std::vector<uint8_t>(1024));
    std::vector<uint16_t> cids;
    for (int i = 0; i < n; ++i) {
        auto cid =
            q.submit(host::cmd::read(1, uint64_t(i) * 2, 2), {}, back[i], host::submit_flag::defer);
        ASSERT_TRUE(cid);
        cids.push_back(*cid);
    }
    for (int i = 0; i < n; ++i) {
        auto c = q.wait(cids[i]);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->ok());
        EXPECT_TRUE(back[i] == data[i]) << i;
    }
}

TEST_P(io_edge_test, CapsuleTrickledByteByByte) {
    auto& q = ctrlr->io(0);
    const auto data = random_bytes(1024, 77);
    spec::sqe cmd = host::cmd::write(1, 300, 2);
    cmd.cid = 100;
    cmd.flags = 0x40;
    cmd.sgl1.length = 1024;
    cmd.sgl1.type = spec::sgl_type_byte(spec::sgl_type::data_block, spec::sgl_subtype::offset);
    std::vector<uint8_t> b(host::max_tx_header);
    b.resize(host::build_capsule_cmd(b.data(), cmd, 1024, q.params()));
    b.insert(b.end(), data.begin(), data.end());
    if (q.params().ddgst) {
        const uint32_t d = util::crc32c(data.data(), data.size());
        b.insert(b.end(), reinterpret_cast<const uint8_t*>(&d),
                 reinterpret_cast<const uint8_t*>(&d) + 4);
    }
    for (size_t i = 0; i < b.size(); ++i) {
        ASSERT_TRUE(q.send_raw(&b[i], 1));
        if (i < 100 || i % 97 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    auto p = q.recv_raw_pdu(5000);
    ASSERT_TRUE(p) << p.err().message;
    ASSERT_EQ(p->ch.pdu_type, static_cast<uint8_t>(stcp::pdu_type::capsule_resp))
        << host::pdu_type_name(p->ch.pdu_type);
    spec::cqe cqe;
    std::memcpy(&cqe, p->bytes.data() + 8, sizeof(cqe));
    EXPECT_EQ(cqe.cid, 100);
    EXPECT_TRUE(spec::status_ok(cqe.status)) << host::status_string(cqe.status);
    verify(300, data);
}

TEST_P(io_edge_test, InCapsuleDataOverIoccszRejected) {
    auto& q = ctrlr->io(0);
    const uint32_t icd = ctrlr->io_icd_size();
    const uint32_t n = icd + 4096;
    const auto data = random_bytes(n, 3);
    spec::sqe cmd = host::cmd::write(1, 0, n / 512);
    cmd.flags = 0x40;
    cmd.sgl1.length = n;
    cmd.sgl1.type = spec::sgl_type_byte(spec::sgl_type::data_block, spec::sgl_subtype::offset);
    auto c = q.execute(cmd, data, {}, host::submit_flag::keep_sgl);
    if (c) {
        EXPECT_FALSE(c->ok()) << "in-capsule data of " << n << " bytes accepted (IOCCSZ allows "
                              << icd << ")";
    } else {
        EXPECT_TRUE(q.term().received) << c.err().message;
    }
    ctrlr.reset();
    expect_serving();
}

TEST_P(io_edge_test, KeyedSglRejected) {
    auto& q = ctrlr->io(0);
    std::vector<uint8_t> buf(512);
    spec::sqe cmd = host::cmd::read(1, 0, 1);
    cmd.flags = 0x40;
    cmd.sgl1.length = 512;
    cmd.sgl1.type =
        spec::sgl_type_byte(spec::sgl_type::keyed_data_block, spec::sgl_subtype::address);
    auto c = q.execute(cmd, {}, buf, host::submit_flag::keep_sgl);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sct(), spec::sct::generic) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc::sgl_descriptor_type_invalid) << st(*c);
    // The queue is still usable.
    auto f = ctrlr->flush(1);
    ASSERT_TRUE(f && f->ok());
}

TEST_P(io_edge_test, PrpInsteadOfSglRejected) {
    auto& q = ctrlr->io(0);
    std::vector<uint8_t> buf(512);
    spec::sqe cmd = host::cmd::read(1, 0, 1);
    cmd.flags = 0x00;  // PSDT 00b: PRPs, which fabrics do not allow
    cmd.sgl1.length = 512;
    cmd.sgl1.type =
        spec::sgl_type_byte(spec::sgl_type::transport_data_block, spec::sgl_subtype::transport);
    auto c = q.execute(cmd, {}, buf, host::submit_flag::keep_sgl);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_FALSE(c->ok()) << "PSDT 00b accepted";
}

TEST_P(io_edge_test, FuaWrite) {
    const auto data = random_bytes(4096, 9);
    auto c = ctrlr->io(0).execute(host::cmd::write(1, 50, 8, true), data);
    ASSERT_TRUE(c) << c.err().message;
    ASSERT_TRUE(c->ok()) << st(*c);
    verify(50, data);
}

TEST_P(io_edge_test, ReadsEndWithCapsuleRespUnderSqFlowControl) {
    // SQ flow control is on (the default): the CapsuleResp carries SQHD, so
    // C2HData must not end the command with SUCCESS.
    std::vector<uint8_t> buf(4096);
    auto r = ctrlr->read(1, 0, 8, buf);
    ASSERT_TRUE(r && r->ok());
    EXPECT_FALSE(r->c2h_success);
}

TEST_P(io_edge_test, ReadsEndWithC2HSuccessWhenSqFlowDisabled) {
    auto o = tgt.ctrlr_opts();
    o.hdgst = o.ddgst = GetParam();
    o.disable_sqflow = true;
    auto c = host::controller::create(o);
    ASSERT_TRUE(c) << c.err().message;
    const auto data = random_bytes(65536, 6);
    ASSERT_TRUE((*c)->write(1, 0, 128, data)->ok());
    std::vector<uint8_t> back(65536);
    auto r = (*c)->read(1, 0, 128, back);
    ASSERT_TRUE(r) << r.err().message;
    ASSERT_TRUE(r->ok()) << st(*r);
    EXPECT_TRUE(r->c2h_success) << "c2h_success defaults to true: no CapsuleResp expected";
    EXPECT_TRUE(back == data);
}

TEST_P(io_edge_test, SqheadAdvancesPerCommand) {
    // With SQ flow control the host learns free SQ slots from SQHD: it moves
    // one entry per command, wrapping at the queue size.
    auto& q = ctrlr->io(0);
    const uint32_t qsize = q.options().depth;
    std::vector<uint16_t> heads;
    for (uint32_t i = 0; i < qsize + 4; ++i) {
        auto c = q.execute(host::cmd::flush(1));
        ASSERT_TRUE(c) << c.err().message;
        ASSERT_TRUE(c->ok());
        EXPECT_EQ(c->cqe.sqid, 1) << "SQID of I/O queue 1";
        heads.push_back(c->cqe.sqhd);
    }
    for (size_t i = 1; i < heads.size(); ++i) {
        EXPECT_EQ(heads[i], (heads[i - 1] + 1) % qsize) << "completion " << i;
    }
    EXPECT_EQ(q.options().depth, 128u);
}

class c2h_success_off_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        c.transport = {{"trtype", "TCP"}, {"c2h_success", false}};
        return c;
    }
};

TEST_F(c2h_success_off_test, ReadsEndWithCapsuleResp) {
    auto o = tgt.ctrlr_opts();
    o.disable_sqflow = true;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    const auto data = random_bytes(65536, 5);
    ASSERT_TRUE(ctrlr->write(1, 0, 128, data)->ok());
    std::vector<uint8_t> back(65536);
    auto r = ctrlr->read(1, 0, 128, back);
    ASSERT_TRUE(r) << r.err().message;
    ASSERT_TRUE(r->ok()) << st(*r);
    EXPECT_FALSE(r->c2h_success);
    EXPECT_EQ(ctrlr->io(0).c2h_success_count(), 0u);
    EXPECT_TRUE(back == data);
}

INSTANTIATE_TEST_SUITE_P(Digests, io_edge_test, ::testing::Bool(),
                         [](const auto& i) { return i.param ? "digests" : "plain"; });

}  // namespace
}  // namespace nvmf::test
