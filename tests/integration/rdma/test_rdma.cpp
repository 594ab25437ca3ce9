// The RDMA transport end to end, driven by tests/integration/rdma/rdma_client.hpp:
// CM private data checks (accept and each reject status), Connect, Property
// Set/Get, Identify, keyed RDMA READ/WRITE and in-capsule I/O with data
// verified, and hostile input (bad SGLs, a wrong remote key, short capsules)
// that must cost one command or one connection and never the daemon.
// They need an RDMA device (real or soft-RoCE): without one, or in a build
// without rdma-core, every test skips and says why. The daemon listens on
// the first IPv4 address that an RDMA device owns (NVMF_TEST_RDMA_ADDR sets
// it), and on TCP 127.0.0.1 for the fixture's start-up wait.
#include <gtest/gtest.h>

#ifdef NVMF_HAVE_RDMA

#include <ifaddrs.h>
#include <infiniband/verbs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <rdma/rdma_cma.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "daemon_fixture.hpp"
#include "host/commands.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/identify.hpp"
#include "rdma_client.hpp"

namespace nvmf::test {
namespace {

namespace sr = spec::rdma;
constexpr uint32_t lba_size = 512;
constexpr const char* hostnqn =
    "nqn.2014-08.org.nvmexpress:uuid:0b6a4cf2-6c55-4a47-8f6c-9d4b9b7e2a11";
constexpr std::array<uint8_t, 16> hostid = {0x0b, 0x6a, 0x4c, 0xf2, 0x6c, 0x55, 0x4a, 0x47,
                                            0x8f, 0x6c, 0x9d, 0x4b, 0x9b, 0x7e, 0x2a, 0x11};

int rdma_devices() {
    int n = 0;
    ibv_device** l = ibv_get_device_list(&n);
    if (l) ibv_free_device_list(l);
    return l ? n : 0;
}

// An IPv4 address an RDMA device owns: rdma_bind_addr gives it a verbs context.
std::string find_rdma_addr() {
    if (const char* a = std::getenv("NVMF_TEST_RDMA_ADDR")) return a;
    rdma_event_channel* ch = rdma_create_event_channel();
    if (!ch) return "";
    std::string found;
    ifaddrs* ifs = nullptr;
    if (getifaddrs(&ifs) == 0) {
        for (ifaddrs* i = ifs; i && found.empty(); i = i->ifa_next) {
            // Not loopback: the RDMA CM binds 127.0.0.1 to any device.
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
            if (i->ifa_flags & IFF_LOOPBACK) continue;
            rdma_cm_id* id = nullptr;
            if (rdma_create_id(ch, &id, nullptr, RDMA_PS_TCP) != 0) continue;
            sockaddr_in sa;
            std::memcpy(&sa, i->ifa_addr, sizeof(sa));
            sa.sin_port = 0;
            if (rdma_bind_addr(id, reinterpret_cast<sockaddr*>(&sa)) == 0 && id->verbs) {
                char buf[INET_ADDRSTRLEN] = {};
                inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof(buf));
                found = buf;
            }
            rdma_destroy_id(id);
        }
        freeifaddrs(ifs);
    }
    rdma_destroy_event_channel(ch);
    return found;
}

spec::status generic(uint8_t sc) { return spec::make_status(spec::sct::generic, sc, true); }
uint16_t sc_of(const spec::cqe& c) { return static_cast<uint16_t>(c.status & 0xfffe); }

class rdma_test : public ::testing::Test {
protected:
    void SetUp() override {
        if (rdma_devices() == 0) {
            GTEST_SKIP() << "no RDMA device (ibv_get_device_list is empty): these tests need "
                            "one, real or soft-RoCE (rdma link add rxe0 type rxe netdev eth0)";
        }
        addr_ = find_rdma_addr();
        if (addr_.empty()) {
            GTEST_SKIP() << "no IPv4 address belongs to an RDMA device (set NVMF_TEST_RDMA_ADDR)";
        }
        ASSERT_TRUE(d_.start_with([&](const std::string& port) {
            rport_ = static_cast<uint16_t>(std::stoi(port) + 1);
            daemon_config c = daemon_config::simple(lba_size, 8ull << 20);
            nlohmann::json j = to_json(c, port);
            auto& nvmf = j["subsystems"][1]["config"];
            nlohmann::json rdma_listen = {{"trtype", "RDMA"},
                                          {"adrfam", "IPv4"},
                                          {"traddr", addr_},
                                          {"trsvcid", std::to_string(rport_)}};
            // Before the TCP listeners: the fixture's start-up wait (TCP on
            // 127.0.0.1) then also means the RDMA listener is up.
            size_t at = 0;
            while (at < nvmf.size() && nvmf[at]["method"] != "nvmf_subsystem_add_listener") ++at;
            const nlohmann::json transport = {{"method", "nvmf_create_transport"},
                                              {"params",
                                               {{"trtype", "RDMA"},
                                                {"max_queue_depth", 32},
                                                {"max_aq_depth", 32},
                                                {"max_io_qpairs_per_ctrlr", 4},
                                                {"max_srq_depth", 256},
                                                {"num_shared_buffers", 64}}}};
            const nlohmann::json listener = {
                {"method", "nvmf_subsystem_add_listener"},
                {"params", {{"nqn", default_nqn}, {"listen_address", rdma_listen}}}};
            nlohmann::json out = nlohmann::json::array();
            for (size_t i = 0; i < nvmf.size(); ++i) {
                if (i == at) {
                    out.push_back(transport);
                    out.push_back(listener);
                }
                out.push_back(nvmf[i]);
            }
            nvmf = out;
            return j;
        }));
    }
    void TearDown() override {
        if (d_.running()) {
            EXPECT_TRUE(d_.stop());
        }
    }

    // Admin queue: CM connect, Fabrics Connect, CC.EN = 1, CSTS.RDY; returns cntlid.
    ::testing::AssertionResult open_admin(rdma_client& c, uint16_t* cntlid) {
        const auto pd = rdma_client::request(0, 32);
        if (c.connect(addr_, rport_, &pd, sizeof(pd)) != rdma_client::outcome::accepted) {
            return ::testing::AssertionFailure() << "admin connect: " << c.error;
        }
        if (auto r = fabrics_connect(c, 0, 31, spec::cntlid_dynamic, cntlid); !r) return r;
        spec::cqe cq{};
        // CC: EN, IOSQES 6, IOCQES 4.
        if (!c.submit(host::cmd::property_set(0x14, 1 | (6u << 16) | (4u << 20), false), &cq) ||
            sc_of(cq) != 0) {
            return ::testing::AssertionFailure() << "property set CC: " << c.error;
        }
        for (int i = 0; i < 200; ++i) {
            if (!c.submit(host::cmd::property_get(0x1c, false), &cq)) {
                return ::testing::AssertionFailure() << "property get CSTS: " << c.error;
            }
            if (cq.cdw0 & 1) return ::testing::AssertionSuccess();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return ::testing::AssertionFailure() << "CSTS.RDY never set";
    }

    ::testing::AssertionResult fabrics_connect(rdma_client& c, uint16_t qid, uint16_t sqsize,
                                               uint16_t cntlid, uint16_t* out_cntlid) {
        const spec::connect_data cd = host::cmd::connect_data(std::span<const uint8_t, 16>(hostid),
                                                              cntlid, hostnqn, default_nqn);
        std::memcpy(c.mem(), &cd, sizeof(cd));
        spec::sqe s = host::cmd::connect(qid, sqsize, qid == 0 ? 10000 : 0);
        rdma_client::keyed(s, c.addr(0), sizeof(cd), c.rkey());
        spec::cqe cq{};
        if (!c.submit(s, &cq)) return ::testing::AssertionFailure() << "connect: " << c.error;
        if (sc_of(cq) != 0) {
            return ::testing::AssertionFailure() << "connect status 0x" << std::hex << cq.status;
        }
        if (out_cntlid) *out_cntlid = static_cast<uint16_t>(cq.cdw0);
        return ::testing::AssertionSuccess();
    }

    ::testing::AssertionResult open_io(rdma_client& c, uint16_t cntlid) {
        const auto pd = rdma_client::request(1, 32);
        if (c.connect(addr_, rport_, &pd, sizeof(pd)) != rdma_client::outcome::accepted) {
            return ::testing::AssertionFailure() << "I/O connect: " << c.error;
        }
        return fabrics_connect(c, 1, 31, cntlid, nullptr);
    }

    daemon d_;
    std::string addr_;
    uint16_t rport_ = 0;
};

TEST_F(rdma_test, private_data_is_checked_with_each_reject_status) {
    struct bad {
        sr::cm_request pd;
        size_t len;
        sr::cm_status want;
    };
    auto with = [](uint16_t qid, uint16_t entries) { return rdma_client::request(qid, entries); };
    sr::cm_request recfmt = with(0, 32);
    recfmt.recfmt = 1;
    sr::cm_request hrq = with(1, 16);
    hrq.hrqsize = 8;
    // (A short private data cannot be sent over RoCE or IB: the CM pads it to
    // 56 bytes. The codec's unit tests cover that status.)
    const bad cases[] = {
        {recfmt, sizeof(recfmt), sr::cm_status::invalid_recfmt},
        {with(5, 16), sizeof(sr::cm_request), sr::cm_status::invalid_qid},      // 4 I/O queues
        {with(0, 64), sizeof(sr::cm_request), sr::cm_status::invalid_hsqsize},  // aq max 32
        {with(1, 33), sizeof(sr::cm_request), sr::cm_status::invalid_hsqsize},  // max 32
        {hrq, sizeof(hrq), sr::cm_status::invalid_hrqsize},
    };
    for (const auto& b : cases) {
        rdma_client c;
        EXPECT_EQ(c.connect(addr_, rport_, &b.pd, b.len), rdma_client::outcome::rejected)
            << "want status " << static_cast<int>(b.want) << ": " << c.error;
        EXPECT_EQ(c.reject_sts, static_cast<uint16_t>(b.want));
    }
    // And a good one is accepted with CRQSIZE = HSQSIZE + 1.
    rdma_client ok;
    const auto pd = rdma_client::request(0, 32);
    ASSERT_EQ(ok.connect(addr_, rport_, &pd, sizeof(pd)), rdma_client::outcome::accepted)
        << ok.error;
    EXPECT_EQ(ok.crqsize, 32);
}

TEST_F(rdma_test, identify_write_read_keyed_and_in_capsule) {
    rdma_client admin;
    uint16_t cntlid = 0;
    ASSERT_TRUE(open_admin(admin, &cntlid));
    spec::sqe id = host::cmd::identify(1);
    // Subtype address: an invalidate request would make the target SEND with
    // Invalidate of this plain MR's key, which a host may refuse (rxe fails the
    // QP). The Linux host in tests/interop/run-rdma exercises invalidation.
    rdma_client::keyed(id, admin.addr(4096), 4096, admin.rkey());
    std::memset(admin.mem() + 4096, 0xee, 4096);
    spec::cqe cq{};
    ASSERT_TRUE(admin.submit(id, &cq)) << admin.error;
    ASSERT_EQ(sc_of(cq), 0);
    EXPECT_EQ(admin.last_recv_len, sizeof(spec::cqe));
    spec::identify_ctrlr ic;
    std::memcpy(&ic, admin.mem() + 4096, sizeof(ic));
    EXPECT_NE(ic.sgls & spec::sgls::keyed_data_block, 0u);
    EXPECT_NE(ic.sgls & spec::sgls::address_as_offset, 0u);
    EXPECT_EQ(ic.sgls & spec::sgls::transport_data_block, 0u);
    EXPECT_EQ(ic.ioccsz, (64u + 4096u) / 16u);
    EXPECT_EQ(ic.cntlid, cntlid);

    rdma_client io;
    ASSERT_TRUE(open_io(io, cntlid));
    std::mt19937 rng(7);
    // 128 KiB: sixteen 8 KiB data buffers, one RDMA READ and one RDMA WRITE.
    for (uint32_t bytes : {4096u, 65536u, 131072u, 12288u}) {
        for (uint32_t i = 0; i < bytes; ++i) io.mem()[i] = static_cast<uint8_t>(rng());
        spec::sqe w = host::cmd::write(1, 64, bytes / lba_size);
        rdma_client::keyed(w, io.addr(0), bytes, io.rkey());
        ASSERT_TRUE(io.submit(w, &cq)) << io.error;
        ASSERT_EQ(sc_of(cq), 0) << bytes;
        spec::sqe r = host::cmd::read(1, 64, bytes / lba_size);
        rdma_client::keyed(r, io.addr(262144), bytes, io.rkey());
        std::memset(io.mem() + 262144, 0, bytes);
        ASSERT_TRUE(io.submit(r, &cq)) << io.error;
        ASSERT_EQ(sc_of(cq), 0) << bytes;
        EXPECT_EQ(std::memcmp(io.mem(), io.mem() + 262144, bytes), 0) << bytes << " bytes";
    }
    // In-capsule data: the 4 KiB travel in the SEND, no RDMA READ.
    std::vector<uint8_t> icd(4096);
    for (auto& b : icd) b = static_cast<uint8_t>(rng());
    spec::sqe w = host::cmd::write(1, 1000, 8);
    rdma_client::in_capsule(w, 4096);
    ASSERT_TRUE(io.submit(w, &cq, icd.data(), icd.size())) << io.error;
    ASSERT_EQ(sc_of(cq), 0);
    spec::sqe r = host::cmd::read(1, 1000, 8);
    rdma_client::keyed(r, io.addr(8192), 4096, io.rkey());
    ASSERT_TRUE(io.submit(r, &cq)) << io.error;
    ASSERT_EQ(sc_of(cq), 0);
    EXPECT_EQ(std::memcmp(io.mem() + 8192, icd.data(), icd.size()), 0);
}

TEST_F(rdma_test, bad_sgls_fail_the_command_not_the_connection) {
    rdma_client admin;
    uint16_t cntlid = 0;
    ASSERT_TRUE(open_admin(admin, &cntlid));
    spec::cqe cq{};
    // TCP's Transport SGL Data Block means nothing on RDMA.
    spec::sqe id = host::cmd::identify(1);
    id.flags = 0x40;
    id.sgl1.length = 4096;
    id.sgl1.type = 0x5A;
    ASSERT_TRUE(admin.submit(id, &cq)) << admin.error;
    EXPECT_EQ(sc_of(cq), generic(spec::sc::sgl_descriptor_type_invalid) & 0xfffe);
    // A keyed transfer beyond MDTS.
    id = host::cmd::identify(1);
    rdma_client::keyed(id, admin.addr(0), 131072 * 2, admin.rkey());
    ASSERT_TRUE(admin.submit(id, &cq)) << admin.error;
    EXPECT_EQ(sc_of(cq), generic(spec::sc::data_sgl_length_invalid) & 0xfffe);
    // In-capsule data claimed but not sent.
    rdma_client io;
    ASSERT_TRUE(open_io(io, cntlid));
    spec::sqe w = host::cmd::write(1, 0, 8);
    rdma_client::in_capsule(w, 4096);
    ASSERT_TRUE(io.submit(w, &cq, nullptr, 0)) << io.error;
    EXPECT_EQ(sc_of(cq), generic(spec::sc::data_sgl_length_invalid) & 0xfffe);
    // Both queues still work.
    id = host::cmd::identify(1);
    rdma_client::keyed(id, admin.addr(0), 4096, admin.rkey());
    ASSERT_TRUE(admin.submit(id, &cq)) << admin.error;
    EXPECT_EQ(sc_of(cq), 0);
    spec::sqe r = host::cmd::read(1, 0, 8);
    rdma_client::keyed(r, io.addr(0), 4096, io.rkey());
    ASSERT_TRUE(io.submit(r, &cq)) << io.error;
    EXPECT_EQ(sc_of(cq), 0);
}

TEST_F(rdma_test, connect_must_match_the_cm_request) {
    rdma_client c;
    const auto pd = rdma_client::request(0, 32);
    ASSERT_EQ(c.connect(addr_, rport_, &pd, sizeof(pd)), rdma_client::outcome::accepted);
    // SQSIZE 63 on a queue the CM set up with 32 entries.
    const spec::connect_data cd = host::cmd::connect_data(
        std::span<const uint8_t, 16>(hostid), spec::cntlid_dynamic, hostnqn, default_nqn);
    std::memcpy(c.mem(), &cd, sizeof(cd));
    spec::sqe s = host::cmd::connect(0, 63, 10000);
    rdma_client::keyed(s, c.addr(0), sizeof(cd), c.rkey());
    spec::cqe cq{};
    ASSERT_TRUE(c.submit(s, &cq)) << c.error;
    EXPECT_EQ(sc_of(cq), spec::make_status(spec::sct::command_specific,
                                           spec::sc_cmd::connect_invalid_parameters, true) &
                             0xfffe);
    spec::connect_invalid_param p;
    std::memcpy(&p, &cq.cdw0, sizeof(p));
    EXPECT_EQ(p.ipo, offsetof(spec::connect_cmd, sqsize));
}

TEST_F(rdma_test, a_wrong_remote_key_ends_only_that_connection) {
    rdma_client admin;
    uint16_t cntlid = 0;
    ASSERT_TRUE(open_admin(admin, &cntlid));
    rdma_client io;
    ASSERT_TRUE(open_io(io, cntlid));
    spec::sqe w = host::cmd::write(1, 0, 8);
    rdma_client::keyed(w, io.addr(0), 4096, io.rkey() ^ 0x5a5a00);
    spec::cqe cq{};
    // The target's RDMA READ fails with a remote access error: no completion.
    EXPECT_FALSE(io.submit(w, &cq, nullptr, 0, 2000));
    EXPECT_TRUE(io.wait_closed(5000)) << "the connection stayed up";
    // The admin queue (another connection) and the daemon are fine.
    spec::sqe id = host::cmd::identify(1);
    rdma_client::keyed(id, admin.addr(0), 4096, admin.rkey());
    ASSERT_TRUE(admin.submit(id, &cq)) << admin.error;
    EXPECT_EQ(sc_of(cq), 0);
    EXPECT_TRUE(d_.running());
}

TEST_F(rdma_test, a_short_capsule_ends_the_connection) {
    rdma_client c;
    const auto pd = rdma_client::request(0, 32);
    ASSERT_EQ(c.connect(addr_, rport_, &pd, sizeof(pd)), rdma_client::outcome::accepted);
    const uint8_t junk[16] = {0x06, 0x40, 1, 0};
    ASSERT_TRUE(c.send_raw(junk, sizeof(junk)));
    EXPECT_TRUE(c.wait_closed(5000)) << "the connection stayed up";
    rdma_client again;
    uint16_t cntlid = 0;
    EXPECT_TRUE(open_admin(again, &cntlid));
    EXPECT_TRUE(d_.running());
}

TEST_F(rdma_test, connect_and_close_cycles_release_everything) {
    // Several connect/close cycles: every QP and CM id is released (the
    // daemon's ASan/LSan would report a leak at exit otherwise).
    for (int i = 0; i < 5; ++i) {
        rdma_client admin;
        uint16_t cntlid = 0;
        ASSERT_TRUE(open_admin(admin, &cntlid)) << "cycle " << i;
        rdma_client io;
        ASSERT_TRUE(open_io(io, cntlid)) << "cycle " << i;
    }
    auto st = d_.rpc("nvmf_get_stats");
    EXPECT_TRUE(st.contains("result")) << st.dump();
}

}  // namespace
}  // namespace nvmf::test

#else

TEST(rdma_test, skipped_without_rdma_core) {
    GTEST_SKIP() << "built without rdma-core (libibverbs-dev, librdmacm-dev): no RDMA transport";
}

#endif
