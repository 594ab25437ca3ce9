// The NVMe/RDMA codec: RDMA CM private data (request checks, accept and
// reject records) and the data pointer of received capsules (keyed SGL, in
// capsule data, everything a host may get wrong). Pure: no RDMA device.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "mem/slab_pool.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/rdma.hpp"
#include "transport/rdma/rdma_codec.hpp"

namespace nvmf::rdma {
namespace {

namespace sr = spec::rdma;

sr::cm_request cm_req(uint16_t qid, uint16_t hsqsize, uint16_t hrqsize) {
    sr::cm_request r{};
    r.recfmt = 0;
    r.qid = qid;
    r.hsqsize = hsqsize;
    r.hrqsize = hrqsize;
    r.cntlid = 0xffff;
    return r;
}

TEST(rdma_cm, a_linux_host_admin_and_io_queue_are_accepted) {
    const queue_limits lim;  // 128 / 128 / 127
    // Linux nvme-rdma: admin queue of 32 entries, I/O queues of 128.
    auto a = cm_req(0, 31, 32);
    cm_decision d = check_cm_request(&a, sizeof(a), lim);
    ASSERT_TRUE(d.accept);
    EXPECT_EQ(d.qid, 0);
    EXPECT_EQ(d.depth, 32);
    EXPECT_EQ(d.hrqsize, 32);
    auto io = cm_req(4, 127, 128);
    io.cntlid = 7;
    d = check_cm_request(&io, sizeof(io), lim);
    ASSERT_TRUE(d.accept);
    EXPECT_EQ(d.qid, 4);
    EXPECT_EQ(d.depth, 128);
    EXPECT_EQ(d.cntlid, 7);
}

TEST(rdma_cm, padded_private_data_is_fine) {
    // RoCE delivers the CM REQ's private data padded to 56 bytes.
    std::vector<uint8_t> buf(56, 0xee);
    auto a = cm_req(0, 31, 32);
    std::memcpy(buf.data(), &a, sizeof(a));
    EXPECT_TRUE(check_cm_request(buf.data(), buf.size(), queue_limits{}).accept);
}

TEST(rdma_cm, every_bad_field_has_its_reject_status) {
    const queue_limits lim{32, 64, 4};
    auto expect = [&](const void* p, size_t len, sr::cm_status s) {
        const cm_decision d = check_cm_request(p, len, lim);
        EXPECT_FALSE(d.accept);
        EXPECT_EQ(static_cast<int>(d.reject), static_cast<int>(s));
    };
    auto ok = cm_req(0, 31, 32);
    expect(nullptr, 0, sr::cm_status::invalid_private_data_length);
    expect(&ok, 31, sr::cm_status::invalid_private_data_length);
    expect(&ok, 0, sr::cm_status::invalid_private_data_length);
    auto r = ok;
    r.recfmt = 1;
    expect(&r, sizeof(r), sr::cm_status::invalid_recfmt);
    r = cm_req(5, 31, 32);  // only 4 I/O queues
    expect(&r, sizeof(r), sr::cm_status::invalid_qid);
    r = cm_req(0xffff, 31, 32);
    expect(&r, sizeof(r), sr::cm_status::invalid_qid);
    r = cm_req(0, 32, 33);  // 33 admin entries > max_aq_depth 32
    expect(&r, sizeof(r), sr::cm_status::invalid_hsqsize);
    r = cm_req(1, 64, 65);  // 65 I/O entries > 64
    expect(&r, sizeof(r), sr::cm_status::invalid_hsqsize);
    r = cm_req(1, 0, 1);  // a one-entry queue
    expect(&r, sizeof(r), sr::cm_status::invalid_hsqsize);
    r = cm_req(1, 0xffff, 0xffff);  // 0's based: 65536 entries
    expect(&r, sizeof(r), sr::cm_status::invalid_hsqsize);
    r = cm_req(1, 63, 63);  // fewer receive buffers than commands
    expect(&r, sizeof(r), sr::cm_status::invalid_hrqsize);
    r = cm_req(1, 63, 0);
    expect(&r, sizeof(r), sr::cm_status::invalid_hrqsize);
    // The edges that are fine.
    r = cm_req(4, 63, 64);
    EXPECT_TRUE(check_cm_request(&r, sizeof(r), lim).accept);
    r = cm_req(0, 1, 2);
    EXPECT_TRUE(check_cm_request(&r, sizeof(r), lim).accept);
}

TEST(rdma_cm, accept_and_reject_records) {
    const sr::cm_accept a = make_cm_accept(128);
    uint8_t raw[32];
    std::memcpy(raw, &a, sizeof(raw));
    EXPECT_EQ(raw[0], 0);  // RECFMT
    EXPECT_EQ(raw[1], 0);
    EXPECT_EQ(raw[2], 128);  // CRQSIZE, little endian
    EXPECT_EQ(raw[3], 0);
    for (int i = 4; i < 32; ++i) EXPECT_EQ(raw[i], 0) << i;
    const sr::cm_reject r = make_cm_reject(sr::cm_status::invalid_hsqsize);
    uint8_t rr[4];
    std::memcpy(rr, &r, sizeof(rr));
    EXPECT_EQ(rr[0], 0);
    EXPECT_EQ(rr[1], 0);
    EXPECT_EQ(rr[2], 0x04);
    EXPECT_EQ(rr[3], 0);
}

// ----------------------------------------------------------- capsules

constexpr uint8_t opc_write = 0x01;  // host to controller
constexpr uint8_t opc_read = 0x02;   // controller to host
constexpr uint8_t opc_flush = 0x00;

spec::sqe cmd(uint8_t opc) {
    spec::sqe c{};
    c.opc = opc;
    c.flags = spec::psdt_sgl_mptr_contig << 6;
    c.cid = 9;
    return c;
}

void set_keyed(spec::sqe& c, uint64_t addr, uint32_t len, uint32_t key, uint8_t subtype) {
    sr::keyed_sgl k{};
    k.address = addr;
    k.length[0] = static_cast<uint8_t>(len);
    k.length[1] = static_cast<uint8_t>(len >> 8);
    k.length[2] = static_cast<uint8_t>(len >> 16);
    std::memcpy(k.key, &key, sizeof(key));
    k.type = static_cast<uint8_t>(0x40 | subtype);
    std::memcpy(&c.sgl1, &k, sizeof(k));
}

void set_icd(spec::sqe& c, uint64_t offset, uint32_t len) {
    c.sgl1.address = offset;
    c.sgl1.length = len;
    c.sgl1.type = spec::sgl_type_byte(spec::sgl_type::data_block, spec::sgl_subtype::offset);
}

spec::status sc(uint8_t s) { return spec::make_status(spec::sct::generic, s, true); }

TEST(rdma_capsule, keyed_read_and_write_with_and_without_invalidate) {
    const capsule_limits lim;
    auto r = cmd(opc_read);
    set_keyed(r, 0x1122334455667788ull, 65536, 0xdeadbeef, sr::keyed_subtype_invalidate);
    data_desc d = parse_capsule(r, 0, lim);
    ASSERT_EQ(d.status, 0);
    EXPECT_EQ(d.kind, data_kind::keyed);
    EXPECT_EQ(d.xfer, spec::xfer::controller_to_host);
    EXPECT_EQ(d.length, 65536u);
    EXPECT_EQ(d.address, 0x1122334455667788ull);
    EXPECT_EQ(d.rkey, 0xdeadbeefu);
    EXPECT_TRUE(d.invalidate);
    auto w = cmd(opc_write);
    set_keyed(w, 0x1000, 131072, 7, sr::keyed_subtype_address);
    d = parse_capsule(w, 0, lim);
    ASSERT_EQ(d.status, 0);
    EXPECT_EQ(d.kind, data_kind::keyed);
    EXPECT_EQ(d.xfer, spec::xfer::host_to_controller);
    EXPECT_EQ(d.length, 131072u);
    EXPECT_FALSE(d.invalidate);
    // A device without SEND with Invalidate: the host invalidates itself.
    capsule_limits no_inv = lim;
    no_inv.keyed_invalidate_ok = false;
    EXPECT_FALSE(parse_capsule(r, 0, no_inv).invalidate);
}

TEST(rdma_capsule, the_24_bit_keyed_length_is_read_whole) {
    capsule_limits lim;
    lim.max_io_size = 1u << 24;
    auto r = cmd(opc_read);
    set_keyed(r, 0, 0xabcdef, 1, 0);
    // Bytes 11..14 are the key, not the length: a key of all ones must not leak in.
    set_keyed(r, 0, 0x010203, 0xffffffff, 0);
    data_desc d = parse_capsule(r, 0, lim);
    ASSERT_EQ(d.status, 0);
    EXPECT_EQ(d.length, 0x010203u);
    EXPECT_EQ(d.rkey, 0xffffffffu);
}

TEST(rdma_capsule, in_capsule_data) {
    const capsule_limits lim;  // 4096 bytes in capsule
    auto w = cmd(opc_write);
    set_icd(w, 0, 4096);
    data_desc d = parse_capsule(w, 4096, lim);
    ASSERT_EQ(d.status, 0);
    EXPECT_EQ(d.kind, data_kind::in_capsule);
    EXPECT_EQ(d.length, 4096u);
    EXPECT_EQ(d.icd_offset, 0u);
    // An offset inside the in-capsule data.
    set_icd(w, 512, 1024);
    d = parse_capsule(w, 2048, lim);
    ASSERT_EQ(d.status, 0);
    EXPECT_EQ(d.icd_offset, 512u);
    EXPECT_EQ(d.length, 1024u);
    // More than arrived, more than fits, an offset past the end.
    set_icd(w, 0, 4096);
    EXPECT_EQ(parse_capsule(w, 4095, lim).status, sc(spec::sc::data_sgl_length_invalid));
    set_icd(w, 0, 8192);
    EXPECT_EQ(parse_capsule(w, 8192, lim).status, sc(spec::sc::data_sgl_length_invalid));
    set_icd(w, 4000, 200);
    EXPECT_EQ(parse_capsule(w, 4096, lim).status, sc(spec::sc::data_sgl_length_invalid));
    set_icd(w, 4097, 1);
    EXPECT_EQ(parse_capsule(w, 4096, lim).status, sc(spec::sc::invalid_sgl_offset));
    set_icd(w, 1ull << 40, 16);
    EXPECT_EQ(parse_capsule(w, 4096, lim).status, sc(spec::sc::invalid_sgl_offset));
    set_icd(w, 0xffffffffull, 2);  // offset + length wraps 32 bits
    EXPECT_EQ(parse_capsule(w, 4096, lim).status, sc(spec::sc::invalid_sgl_offset));
    // Reads cannot take in-capsule data.
    auto r = cmd(opc_read);
    set_icd(r, 0, 512);
    EXPECT_EQ(parse_capsule(r, 512, lim).status, sc(spec::sc::sgl_descriptor_type_invalid));
    // No in-capsule data on this transport at all.
    capsule_limits none = lim;
    none.icd_size = 0;
    set_icd(w, 0, 512);
    EXPECT_EQ(parse_capsule(w, 512, none).status, sc(spec::sc::data_sgl_length_invalid));
}

TEST(rdma_capsule, bad_descriptors_fail_the_command) {
    const capsule_limits lim;
    auto w = cmd(opc_write);
    set_keyed(w, 0, 131073, 1, 0);  // beyond MDTS
    EXPECT_EQ(parse_capsule(w, 0, lim).status, sc(spec::sc::data_sgl_length_invalid));
    set_keyed(w, 0, 4096, 1, 0x5);  // keyed subtype 5h does not exist
    EXPECT_EQ(parse_capsule(w, 0, lim).status, sc(spec::sc::sgl_descriptor_type_invalid));
    set_keyed(w, 0, 4096, 1, 0);
    EXPECT_EQ(parse_capsule(w, 16, lim).status, sc(spec::sc::data_sgl_length_invalid));
    // TCP's transport data block, segments, bit buckets, data block by address.
    for (uint8_t type :
         {uint8_t{0x5A}, uint8_t{0x20}, uint8_t{0x30}, uint8_t{0x10}, uint8_t{0x00}}) {
        auto c = cmd(opc_write);
        c.sgl1.length = 4096;
        c.sgl1.type = type;
        EXPECT_EQ(parse_capsule(c, 0, lim).status, sc(spec::sc::sgl_descriptor_type_invalid))
            << int(type);
    }
    // PRPs (PSDT 0) and bidirectional opcodes.
    auto p = cmd(opc_write);
    p.flags = 0;
    set_keyed(p, 0, 4096, 1, 0);
    EXPECT_EQ(parse_capsule(p, 0, lim).status, sc(spec::sc::invalid_field));
    auto b = cmd(0x03);
    set_keyed(b, 0, 4096, 1, 0);
    EXPECT_EQ(parse_capsule(b, 0, lim).status, sc(spec::sc::invalid_field));
}

TEST(rdma_capsule, no_data) {
    const capsule_limits lim;
    auto f = cmd(opc_flush);
    data_desc d = parse_capsule(f, 0, lim);
    EXPECT_EQ(d.status, 0);
    EXPECT_EQ(d.kind, data_kind::none);
    // Bytes after the SQE of a command without data.
    EXPECT_EQ(parse_capsule(f, 64, lim).status, sc(spec::sc::data_sgl_length_invalid));
    // A keyed SGL of length 0 on a read: nothing to move.
    auto r = cmd(opc_read);
    set_keyed(r, 0x1000, 0, 5, sr::keyed_subtype_invalidate);
    d = parse_capsule(r, 0, lim);
    EXPECT_EQ(d.status, 0);
    EXPECT_EQ(d.kind, data_kind::none);
}

TEST(rdma_capsule, fabrics_direction_comes_from_fctype) {
    const capsule_limits lim;
    spec::sqe c = cmd(spec::admin_opc::fabrics);
    auto& f = reinterpret_cast<spec::fabrics_cmd&>(c);
    f.fctype = spec::fctype::connect;  // 01h: host to controller (connect data)
    set_keyed(c, 0x2000, 1024, 3, sr::keyed_subtype_invalidate);
    data_desc d = parse_capsule(c, 0, lim);
    ASSERT_EQ(d.status, 0);
    EXPECT_EQ(d.xfer, spec::xfer::host_to_controller);
    f.fctype = spec::fctype::property_get;  // 04h: no data
    set_keyed(c, 0, 0, 0, 0);
    EXPECT_EQ(parse_capsule(c, 0, lim).kind, data_kind::none);
}

TEST(rdma_capsule, connect_must_match_the_cm_request) {
    spec::connect_cmd cc{};
    cc.opc = spec::admin_opc::fabrics;
    cc.fctype = spec::fctype::connect;
    cc.qid = 3;
    cc.sqsize = 127;
    spec::sqe c;
    std::memcpy(&c, &cc, sizeof(c));
    uint16_t ipo = 0;
    EXPECT_EQ(check_connect_matches(c, 3, 128, &ipo), 0);
    EXPECT_EQ(check_connect_matches(c, 3, 256, &ipo), 0);
    const spec::status bad = spec::make_status(spec::sct::command_specific,
                                               spec::sc_cmd::connect_invalid_parameters, true);
    EXPECT_EQ(check_connect_matches(c, 2, 128, &ipo), bad);
    EXPECT_EQ(ipo, offsetof(spec::connect_cmd, qid));
    EXPECT_EQ(check_connect_matches(c, 3, 64, &ipo), bad);
    EXPECT_EQ(ipo, offsetof(spec::connect_cmd, sqsize));
    // Other commands are none of its business.
    spec::sqe other = cmd(opc_read);
    EXPECT_EQ(check_connect_matches(other, 9, 2, &ipo), 0);
}

TEST(slab_pool, all_or_nothing_and_one_region) {
    mem::slab_pool p(8192, 4);
    EXPECT_EQ(p.bytes(), 4u * 8192u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p.base()) % mem::slab_pool::alignment, 0u);
    void* b[4];
    ASSERT_TRUE(p.get(3, b));
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(p.owns(b[i]));
        EXPECT_GE(static_cast<uint8_t*>(b[i]), p.base());
        EXPECT_LT(static_cast<uint8_t*>(b[i]), p.base() + p.bytes());
    }
    void* more[2];
    EXPECT_FALSE(p.get(2, more));  // one left: nothing is taken
    EXPECT_EQ(p.available(), 1u);
    p.put(b[0]);
    EXPECT_TRUE(p.get(2, more));
    EXPECT_EQ(p.available(), 0u);
    EXPECT_FALSE(p.owns(static_cast<uint8_t*>(more[0]) + 1));
}

}  // namespace
}  // namespace nvmf::rdma
