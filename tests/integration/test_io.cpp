// NVM I/O against 512- and 4096-byte block bdevs, with and without header
// and data digests: data verified over in-capsule and R2T sizes up to MDTS,
// queue depth 32, Flush, Write Zeroes, DSM, Compare, and the error statuses.
#include <algorithm>
#include <tuple>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

struct io_param {
    uint32_t block_size;
    bool digests;
};

std::string io_param_name(const ::testing::TestParamInfo<io_param>& i) {
    return "bs" + std::to_string(i.param.block_size) + (i.param.digests ? "_digests" : "_plain");
}

constexpr uint64_t bdev_bytes = 16ull << 20;

class io_test : public ::testing::TestWithParam<io_param> {
protected:
    void SetUp() override {
        ASSERT_TRUE(tgt.start(daemon_config::simple(bs(), bdev_bytes)));
        auto o = tgt.ctrlr_opts();
        o.hdgst = o.ddgst = GetParam().digests;
        o.num_io_queues = 2;
        auto c = host::controller::create(o);
        ASSERT_TRUE(c) << c.err().message << "\n" << tgt.log_tail();
        ctrlr = std::move(*c);
        ASSERT_EQ(ctrlr->io(0).params().hdgst, GetParam().digests);
        ASSERT_EQ(ctrlr->io(0).params().ddgst, GetParam().digests);
        auto ns = ctrlr->identify_ns(1);
        ASSERT_TRUE(ns) << ns.err().message;
        nsze = ns->nsze;
        dlfeat = ns->dlfeat;
        ASSERT_EQ(1u << ns->lbaf[ns->flbas & 0xf].lbads, bs());
        max_xfer = ctrlr->max_transfer();
        if (max_xfer == 0) max_xfer = 1u << 20;
    }
    void TearDown() override {
        ctrlr.reset();
        EXPECT_TRUE(tgt.stop());
    }
    uint32_t bs() const { return GetParam().block_size; }

    void write_read_verify(uint64_t slba, uint32_t bytes, uint32_t seed, size_t qi = 0) {
        SCOPED_TRACE("slba " + std::to_string(slba) + " bytes " + std::to_string(bytes));
        const auto data = random_bytes(bytes, seed);
        auto w = ctrlr->write(1, slba, bytes / bs(), data, qi);
        ASSERT_TRUE(w) << w.err().message;
        ASSERT_TRUE(w->ok()) << st(*w);
        std::vector<uint8_t> back(bytes);
        auto r = ctrlr->read(1, slba, bytes / bs(), back, qi);
        ASSERT_TRUE(r) << r.err().message;
        ASSERT_TRUE(r->ok()) << st(*r);
        EXPECT_EQ(r->data_len, bytes);
        ASSERT_TRUE(back == data) << "read data differs";
    }

    daemon tgt;
    std::unique_ptr<host::controller> ctrlr;
    uint64_t nsze = 0;
    uint8_t dlfeat = 0;
    uint32_t max_xfer = 0;
};

TEST_P(io_test, WriteReadVerifyInCapsuleAndR2TSizes) {
    const uint32_t icd = ctrlr->io_icd_size();
    std::vector<uint32_t> sizes = {bs(), 2 * bs(), 8192, 65536, max_xfer};
    if (icd >= bs()) sizes.push_back(icd / bs() * bs());
    sizes.push_back((icd / bs() + 1) * bs());
    uint64_t slba = 0;
    uint32_t seed = 1;
    for (uint32_t n : sizes) {
        n = std::max(bs(), n / bs() * bs());
        if (n > max_xfer) continue;
        write_read_verify(slba, n, seed++);
        slba += n / bs() + 3;
    }
}

TEST_P(io_test, InCapsuleWriteNeedsNoR2T) {
    const uint32_t icd = ctrlr->io_icd_size();
    if (icd < bs()) GTEST_SKIP() << "in-capsule size " << icd << " below one block";
    auto& q = ctrlr->io(0);
    const uint64_t before = q.r2t_count();
    const auto data = random_bytes(icd / bs() * bs(), 7);
    auto w = ctrlr->write(1, 100, static_cast<uint32_t>(data.size() / bs()), data);
    ASSERT_TRUE(w && w->ok());
    EXPECT_EQ(q.r2t_count(), before);
    // The same size forced through R2T.
    auto c = q.execute(host::cmd::write(1, 200, static_cast<uint32_t>(data.size() / bs())), data,
                       {}, host::submit_flag::force_r2t);
    ASSERT_TRUE(c) << c.err().message;
    ASSERT_TRUE(c->ok()) << st(*c);
    EXPECT_GT(q.r2t_count(), before);
    std::vector<uint8_t> back(data.size());
    auto r = ctrlr->read(1, 200, static_cast<uint32_t>(data.size() / bs()), back);
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE(back == data);
}

TEST_P(io_test, LastBlocksOfNamespace) {
    write_read_verify(nsze - 1, bs(), 11);
    write_read_verify(nsze - 8, 8 * bs(), 12);
}

TEST_P(io_test, TwoQueuesSeeSameData) {
    const auto data = random_bytes(4 * bs(), 21);
    auto w = ctrlr->write(1, 40, 4, data, 0);
    ASSERT_TRUE(w && w->ok());
    std::vector<uint8_t> back(data.size());
    auto r = ctrlr->read(1, 40, 4, back, 1);
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE(back == data);
}

TEST_P(io_test, QueueDepth32) {
    auto& q = ctrlr->io(0);
    constexpr int qd = 32;
    const uint32_t blocks = std::max<uint32_t>(1, 16384 / bs());
    const uint32_t bytes = blocks * bs();
    std::vector<std::vector<uint8_t>> data;
    std::vector<std::vector<uint8_t>> back(qd, std::vector<uint8_t>(bytes));
    for (int i = 0; i < qd; ++i) data.push_back(random_bytes(bytes, 100 + i));
    std::vector<uint16_t> cids;
    for (int i = 0; i < qd; ++i) {
        auto cid = q.submit(host::cmd::write(1, uint64_t(i) * blocks, blocks), data[i]);
        ASSERT_TRUE(cid) << cid.err().message;
        cids.push_back(*cid);
    }
    EXPECT_EQ(q.outstanding(), uint32_t(qd));
    for (int i = 0; i < qd; ++i) {
        auto [cid, c] = *q.wait_any();
        EXPECT_TRUE(c.ok()) << "cid " << cid << " " << st(c);
    }
    cids.clear();
    for (int i = 0; i < qd; ++i) {
        auto cid = q.submit(host::cmd::read(1, uint64_t(i) * blocks, blocks), {}, back[i]);
        ASSERT_TRUE(cid) << cid.err().message;
        cids.push_back(*cid);
    }
    // Reap in reverse submission order.
    for (int i = qd - 1; i >= 0; --i) {
        auto c = q.wait(cids[i]);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->ok()) << st(*c);
        EXPECT_TRUE(back[i] == data[i]) << "command " << i;
    }
}

TEST_P(io_test, MixedQueueDepthAcrossSizes) {
    auto& q = ctrlr->io(0);
    std::vector<std::vector<uint8_t>> data;
    std::vector<uint64_t> lbas;
    std::vector<uint16_t> cids;
    uint64_t lba = 0;
    const uint32_t sizes[] = {bs(), max_xfer, 4 * bs(), max_xfer / 2, 2 * bs()};
    for (int i = 0; i < 20; ++i) {
        const uint32_t n = std::max(bs(), sizes[i % 5] / bs() * bs());
        data.push_back(random_bytes(n, 300 + i));
        lbas.push_back(lba);
        lba += n / bs();
    }
    for (size_t i = 0; i < data.size(); ++i) {
        auto cid = q.submit(host::cmd::write(1, lbas[i], uint32_t(data[i].size() / bs())), data[i]);
        ASSERT_TRUE(cid);
        cids.push_back(*cid);
    }
    for (auto cid : cids) {
        auto c = q.wait(cid);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->ok()) << st(*c);
    }
    for (size_t i = 0; i < data.size(); ++i) {
        std::vector<uint8_t> back(data[i].size());
        auto r = ctrlr->read(1, lbas[i], uint32_t(back.size() / bs()), back);
        ASSERT_TRUE(r && r->ok());
        EXPECT_TRUE(back == data[i]) << "command " << i;
    }
}

TEST_P(io_test, Flush) {
    auto c = ctrlr->flush(1);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok()) << st(*c);
}

TEST_P(io_test, WriteZeroesReadsBackZeroes) {
    const auto data = random_bytes(16 * bs(), 5);
    ASSERT_TRUE(ctrlr->write(1, 500, 16, data)->ok());
    auto z = ctrlr->write_zeroes(1, 504, 8);
    ASSERT_TRUE(z) << z.err().message;
    ASSERT_TRUE(z->ok()) << st(*z);
    std::vector<uint8_t> back(16 * bs());
    ASSERT_TRUE(ctrlr->read(1, 500, 16, back)->ok());
    EXPECT_TRUE(std::equal(back.begin(), back.begin() + 4 * bs(), data.begin()));
    EXPECT_TRUE(std::all_of(back.begin() + 4 * bs(), back.begin() + 12 * bs(),
                            [](uint8_t b) { return b == 0; }));
    EXPECT_TRUE(std::equal(back.begin() + 12 * bs(), back.end(), data.begin() + 12 * bs()));
}

TEST_P(io_test, DatasetManagementDeallocate) {
    const auto data = random_bytes(8 * bs(), 6);
    ASSERT_TRUE(ctrlr->write(1, 700, 8, data)->ok());
    const host::cmd::dsm_range ranges[] = {{0, 4, 700}, {0, 2, 706}};
    auto c = ctrlr->deallocate(1, ranges);
    ASSERT_TRUE(c) << c.err().message;
    ASSERT_TRUE(c->ok()) << st(*c);
    std::vector<uint8_t> back(8 * bs());
    ASSERT_TRUE(ctrlr->read(1, 700, 8, back)->ok());
    // Blocks 704-705 were not deallocated.
    EXPECT_TRUE(
        std::equal(back.begin() + 4 * bs(), back.begin() + 6 * bs(), data.begin() + 4 * bs()));
    if ((dlfeat & 0x7) == spec::dlfeat::read_zeroes) {
        EXPECT_TRUE(
            std::all_of(back.begin(), back.begin() + 4 * bs(), [](uint8_t b) { return b == 0; }));
        EXPECT_TRUE(
            std::all_of(back.begin() + 6 * bs(), back.end(), [](uint8_t b) { return b == 0; }));
    }
}

TEST_P(io_test, CompareSuccessAndMiscompare) {
    auto data = random_bytes(4 * bs(), 8);
    ASSERT_TRUE(ctrlr->write(1, 900, 4, data)->ok());
    auto c = ctrlr->compare(1, 900, 4, data);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok()) << st(*c);
    data[3 * bs() + 17] ^= 0x40;
    c = ctrlr->compare(1, 900, 4, data);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sct(), spec::sct::media_error) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc_media::compare_failure) << st(*c);
}

TEST_P(io_test, InvalidNamespace) {
    std::vector<uint8_t> buf(bs());
    for (uint32_t nsid : {2u, 0u, 0xfffffffeu}) {
        auto c = ctrlr->read(nsid, 0, 1, buf);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_EQ(c->sct(), spec::sct::generic) << "nsid " << nsid << " " << st(*c);
        EXPECT_EQ(c->sc(), spec::sc::invalid_namespace_or_format)
            << "nsid " << nsid << " " << st(*c);
        c = ctrlr->write(nsid, 0, 1, buf);
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_EQ(c->sc(), spec::sc::invalid_namespace_or_format)
            << "nsid " << nsid << " " << st(*c);
    }
}

TEST_P(io_test, LbaOutOfRange) {
    std::vector<uint8_t> buf(2 * bs());
    auto c = ctrlr->read(1, nsze - 1, 2, buf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sct(), spec::sct::generic) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc::lba_out_of_range) << st(*c);
    c = ctrlr->write(1, nsze, 1, {buf.data(), bs()});
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sc(), spec::sc::lba_out_of_range) << st(*c);
    c = ctrlr->write_zeroes(1, nsze - 2, 4);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sc(), spec::sc::lba_out_of_range) << st(*c);
    // SLBA beyond 32 bits must not wrap.
    c = ctrlr->read(1, (1ull << 32), 1, {buf.data(), bs()});
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sc(), spec::sc::lba_out_of_range) << st(*c);
}

TEST_P(io_test, TransferOverMdtsRejected) {
    const uint32_t mdts_bytes = ctrlr->max_transfer();
    ASSERT_GT(mdts_bytes, 0u) << "MDTS 0: no limit to test";
    const uint32_t n = mdts_bytes + bs();
    std::vector<uint8_t> buf(n);
    auto c = ctrlr->read(1, 0, n / bs(), buf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_FALSE(c->ok());
    EXPECT_EQ(c->sct(), spec::sct::generic) << st(*c);
    EXPECT_TRUE(c->sc() == spec::sc::invalid_field || c->sc() == spec::sc::data_sgl_length_invalid)
        << st(*c);
    c = ctrlr->write(1, 0, n / bs(), buf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_FALSE(c->ok());
    EXPECT_TRUE(c->sc() == spec::sc::invalid_field || c->sc() == spec::sc::data_sgl_length_invalid)
        << st(*c);
    // The queue still works.
    write_read_verify(0, bs(), 99);
}

TEST_P(io_test, SglLengthMismatchRejected) {
    // NLB says 2 blocks but the SGL carries 1 block.
    std::vector<uint8_t> buf(bs());
    auto c = ctrlr->io(0).execute(host::cmd::read(1, 0, 2), {}, buf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_FALSE(c->ok()) << "read with a short SGL accepted";
    c = ctrlr->io(0).execute(host::cmd::write(1, 0, 2), buf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_FALSE(c->ok()) << "write with a short SGL accepted";
}

TEST_P(io_test, UnknownIoOpcode) {
    spec::sqe s{};
    s.opc = 0x7e;
    s.nsid = 1;
    auto c = ctrlr->io(0).execute(s);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_EQ(c->sct(), spec::sct::generic) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc::invalid_opcode) << st(*c);
}

TEST_P(io_test, AdminOpcodeOnIoQueueRejected) {
    std::vector<uint8_t> buf(4096);
    auto c = ctrlr->io(0).execute(host::cmd::identify(spec::cns::ctrlr), {}, buf);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_FALSE(c->ok()) << "Identify accepted on an I/O queue";
}

INSTANTIATE_TEST_SUITE_P(Bdevs, io_test,
                         ::testing::Values(io_param{512, false}, io_param{4096, false},
                                           io_param{512, true}, io_param{4096, true}),
                         io_param_name);

class digest_combo_test : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(digest_combo_test, WriteReadVerify) {
    daemon tgt;
    ASSERT_TRUE(tgt.start(daemon_config::simple()));
    {
        auto o = tgt.ctrlr_opts();
        o.hdgst = std::get<0>(GetParam());
        o.ddgst = std::get<1>(GetParam());
        auto c = host::controller::create(o);
        ASSERT_TRUE(c) << c.err().message;
        auto& ctrlr = **c;
        EXPECT_EQ(ctrlr.io(0).params().hdgst, o.hdgst);
        EXPECT_EQ(ctrlr.io(0).params().ddgst, o.ddgst);
        for (uint32_t n : {512u, 4096u, 65536u}) {
            const auto data = random_bytes(n, n);
            auto w = ctrlr.write(1, 8, n / 512, data);
            ASSERT_TRUE(w && w->ok());
            std::vector<uint8_t> back(n);
            auto r = ctrlr.read(1, 8, n / 512, back);
            ASSERT_TRUE(r) << r.err().message;
            ASSERT_TRUE(r->ok());
            EXPECT_TRUE(back == data);
        }
    }
    EXPECT_TRUE(tgt.stop());
}

INSTANTIATE_TEST_SUITE_P(Digests, digest_combo_test,
                         ::testing::Values(std::make_tuple(true, false),
                                           std::make_tuple(false, true)));

}  // namespace
}  // namespace nvmf::test
