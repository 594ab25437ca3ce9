// Identify: the pure builders byte by byte, then the handler through the
// admin opcode table (NSID rules, CNS values, discovery restrictions).
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "admin_test_fixture.hpp"
#include "bdev/bdev.hpp"
#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/identify.hpp"
#include "nvmf/cmd/identify_builder.hpp"

namespace nvmf::test {
namespace {

using cmd::build_active_ns_list;
using cmd::build_identify_ctrlr;
using cmd::build_identify_ns;
using cmd::build_ns_id_descriptors;

std::string field(const char* p, size_t n) { return std::string(p, n); }

uint32_t le32_at(const void* base, size_t off) {
    uint32_t v;
    std::memcpy(&v, static_cast<const uint8_t*>(base) + off, 4);
    return v;
}

cmd::identify_ctrlr_input nvm_input() {
    cmd::identify_ctrlr_input in;
    in.serial_number = "SN1";
    in.model_number = "Model X";
    in.firmware_revision = "0.1.0-rc1-long";
    in.subnqn = "nqn.2016-06.io.nvmf:cnode1";
    in.cntlid = 0x1234;
    in.ver = spec::nvme_version(1, 3);
    in.max_io_size = 131072;
    in.in_capsule_data_size = 8192;
    in.max_queue_depth = 256;
    in.max_namespaces = 32;
    in.aer_limit = 4;
    in.error_log_entries = 8;
    return in;
}

TEST(identify_builder, ctrlr_strings_are_space_padded) {
    const auto id = build_identify_ctrlr(nvm_input());
    EXPECT_EQ(field(id.sn, 20), "SN1                 ");
    EXPECT_EQ(field(id.mn, 40), "Model X" + std::string(33, ' '));
    EXPECT_EQ(field(id.fr, 8), "0.1.0-rc");
    EXPECT_STREQ(id.subnqn, "nqn.2016-06.io.nvmf:cnode1");
    // subnqn is NUL padded, not space padded.
    EXPECT_EQ(id.subnqn[255], '\0');
}

TEST(identify_builder, ctrlr_nvm_fields) {
    const auto id = build_identify_ctrlr(nvm_input());
    const auto* raw = reinterpret_cast<const uint8_t*>(&id);
    EXPECT_EQ(id.mdts, 5);  // 128 KiB / 4 KiB = 32 = 2^5
    EXPECT_EQ(raw[77], 5);
    EXPECT_EQ(id.cntlid, 0x1234);
    EXPECT_EQ(raw[78], 0x34);
    EXPECT_EQ(raw[79], 0x12);
    EXPECT_EQ(le32_at(&id, 80), 0x00010300u);  // VER 1.3, as the VS property
    EXPECT_EQ(le32_at(&id, 92), 1u << 8);      // OAES: namespace attribute notices
    EXPECT_EQ(raw[111], 1);                    // CNTRLTYPE I/O
    EXPECT_EQ(raw[76], 0x3);                   // CMIC: multi port, multi controller
    EXPECT_EQ(raw[258], 3);                    // ACL
    EXPECT_EQ(raw[259], 3);                    // AERL
    EXPECT_EQ(raw[261], 0x7);                  // LPA: SMART per namespace, effects, extended data
    EXPECT_EQ(raw[262], 7);                    // ELPE
    EXPECT_EQ(id.kas, 1);
    EXPECT_EQ(raw[512], 0x66);
    EXPECT_EQ(raw[513], 0x44);
    EXPECT_EQ(id.maxcmd, 256);
    EXPECT_EQ(le32_at(&id, 516), 32u);  // NN
    EXPECT_EQ(id.oncs & 0xd, 0xd);      // compare, DSM, write zeroes
    EXPECT_EQ(id.oncs & (1u << 1), 0);  // no write uncorrectable
    EXPECT_TRUE(id.oncs & spec::oncs::reservations);
    EXPECT_EQ(raw[525], 0);  // no VWC
    EXPECT_EQ(le32_at(&id, 536), 0x00300001u);
    EXPECT_EQ(le32_at(&id, 1792), (64u + 8192u) / 16u);  // IOCCSZ
    EXPECT_EQ(le32_at(&id, 1796), 1u);                   // IORCSZ
    EXPECT_EQ(id.icdoff, 0);
    EXPECT_EQ(id.fcatt, 0);
    EXPECT_EQ(raw[1803], 1);  // MSDBD
}

TEST(identify_builder, ctrlr_ana_fields) {
    auto in = nvm_input();
    const auto plain = build_identify_ctrlr(in);
    const auto* p = reinterpret_cast<const uint8_t*>(&plain);
    EXPECT_EQ(p[342], 0);                  // ANATT
    EXPECT_EQ(p[343], 0);                  // ANACAP
    EXPECT_EQ(le32_at(&plain, 344), 0u);   // ANAGRPMAX
    EXPECT_EQ(le32_at(&plain, 540), 32u);  // MNAN = NN even without ANA

    in.ana_reporting = true;
    in.anagrpmax = 32;
    const auto id = build_identify_ctrlr(in);
    const auto* raw = reinterpret_cast<const uint8_t*>(&id);
    EXPECT_EQ(raw[76], 0x0b);  // CMIC: multi port, multi controller, ANA reporting
    EXPECT_EQ(le32_at(&id, 92), (1u << 8) | (1u << 11));  // OAES: + ANA change notices
    EXPECT_EQ(raw[342], cmd::ana_transition_time_s);
    EXPECT_EQ(raw[343], 0x5f);          // all five states, ANAGRPID fixed while attached
    EXPECT_EQ(le32_at(&id, 344), 32u);  // ANAGRPMAX
    EXPECT_EQ(le32_at(&id, 348), 32u);  // NANAGRPID
    EXPECT_EQ(le32_at(&id, 540), 32u);  // MNAN

    in.discovery = true;  // a discovery controller never reports ANA
    const auto disc = build_identify_ctrlr(in);
    EXPECT_EQ(disc.cmic, 0);
    EXPECT_EQ(disc.anacap, 0);
}

TEST(identify_builder, ctrlr_vwc_and_mdts_edges) {
    auto in = nvm_input();
    in.volatile_write_cache = true;
    in.max_io_size = 1u << 20;
    const auto id = build_identify_ctrlr(in);
    EXPECT_EQ(id.vwc, 1);
    EXPECT_EQ(id.mdts, 8);
    in.in_capsule_data_size = 0;
    EXPECT_EQ(build_identify_ctrlr(in).sgls & (1u << 20), 0u);
}

TEST(identify_builder, ctrlr_discovery_fields) {
    auto in = nvm_input();
    in.discovery = true;
    in.subnqn = spec::discovery_nqn;
    const auto id = build_identify_ctrlr(in);
    EXPECT_EQ(id.cntrltype, 2);
    EXPECT_EQ(id.oaes, 1u << 31);
    EXPECT_EQ(id.nn, 0u);
    EXPECT_EQ(id.oncs, 0);
    EXPECT_EQ(id.cmic, 0);
    EXPECT_EQ(id.ioccsz, 0u);
    EXPECT_STREQ(id.subnqn, spec::discovery_nqn);
    EXPECT_EQ(id.ver, spec::nvme_version(1, 3));
    // No Commands Supported and Effects log on a discovery controller.
    EXPECT_EQ(id.lpa & spec::lpa::cmd_effects, 0);
    EXPECT_EQ(build_identify_ctrlr(nvm_input()).lpa & spec::lpa::cmd_effects,
              spec::lpa::cmd_effects);
}

TEST(identify_builder, ns_fields) {
    const uint8_t nguid[16] = {0xa, 0xb, 0xc, 0xd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1};
    const uint8_t eui[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cmd::identify_ns_input in;
    in.num_blocks = 0x123456789ull;
    in.block_size = 4096;
    in.deallocated_reads_zero = true;
    in.write_zeroes_deallocates = true;
    in.nguid = nguid;
    in.eui64 = eui;
    const auto id = build_identify_ns(in);
    const auto* raw = reinterpret_cast<const uint8_t*>(&id);
    EXPECT_EQ(id.nsze, 0x123456789ull);
    EXPECT_EQ(id.ncap, 0x123456789ull);
    EXPECT_EQ(id.nuse, 0x123456789ull);
    EXPECT_EQ(raw[0], 0x89);
    EXPECT_EQ(raw[25], 0);        // NLBAF
    EXPECT_EQ(raw[26], 0);        // FLBAS
    EXPECT_EQ(raw[30], 1);        // NMIC shared
    EXPECT_EQ(raw[24], 0x8);      // NSFEAT: identifiers never reused
    EXPECT_EQ(raw[33], 0x9);      // DLFEAT: reads zero + write zeroes deallocates
    EXPECT_EQ(raw[128 + 2], 12);  // LBAF0.LBADS
    EXPECT_EQ(0, std::memcmp(raw + 104, nguid, 16));
    EXPECT_EQ(0, std::memcmp(raw + 120, eui, 8));
    EXPECT_EQ(raw[31], 0xfe);  // RESCAP: six types, IEKEY 1.3, no PTPL without a file
    in.ptpl_capable = true;
    EXPECT_EQ(build_identify_ns(in).rescap, 0xff);

    cmd::identify_ns_input plain;
    plain.num_blocks = 10;
    plain.block_size = 512;
    plain.shared = false;
    const auto p = build_identify_ns(plain);
    EXPECT_EQ(p.lbaf[0].lbads, 9);
    EXPECT_EQ(p.nsfeat, 0);
    EXPECT_EQ(p.dlfeat, 0);
    EXPECT_EQ(p.nmic, 0);
}

TEST(identify_builder, ns_descriptor_list) {
    const uint8_t nguid[16] = {0xa, 0xb, 0xc, 0xd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1};
    const uint8_t uuid[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                              0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};
    cmd::identify_ns_input in;
    in.nguid = nguid;
    in.uuid = uuid;
    const auto list = build_ns_id_descriptors(in);
    // NGUID descriptor, then UUID descriptor, then zeroes (the terminator).
    EXPECT_EQ(list[0], 2);
    EXPECT_EQ(list[1], 16);
    EXPECT_EQ(list[2], 0);
    EXPECT_EQ(list[3], 0);
    EXPECT_EQ(0, std::memcmp(list.data() + 4, nguid, 16));
    EXPECT_EQ(list[20], 3);
    EXPECT_EQ(list[21], 16);
    EXPECT_EQ(0, std::memcmp(list.data() + 24, uuid, 16));
    EXPECT_EQ(list[40], 0);
    EXPECT_EQ(list[41], 0);

    const uint8_t eui[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    in.eui64 = eui;
    const auto l2 = build_ns_id_descriptors(in);
    EXPECT_EQ(l2[0], 1);
    EXPECT_EQ(l2[1], 8);
    EXPECT_EQ(0, std::memcmp(l2.data() + 4, eui, 8));
    EXPECT_EQ(l2[12], 2);

    // All-zero identifiers are not reported.
    const uint8_t zero[16] = {};
    cmd::identify_ns_input none;
    none.uuid = zero;
    const auto l3 = build_ns_id_descriptors(none);
    EXPECT_EQ(l3[0], 0);
}

TEST(identify_builder, active_ns_list) {
    const uint32_t active[] = {1, 3, 7, 9};
    auto l = build_active_ns_list(active, 0);
    EXPECT_EQ(l.nsid[0], 1u);
    EXPECT_EQ(l.nsid[3], 9u);
    EXPECT_EQ(l.nsid[4], 0u);
    l = build_active_ns_list(active, 3);
    EXPECT_EQ(l.nsid[0], 7u);
    EXPECT_EQ(l.nsid[1], 9u);
    EXPECT_EQ(l.nsid[2], 0u);
    l = build_active_ns_list(active, 9);
    EXPECT_EQ(l.nsid[0], 0u);

    std::vector<uint32_t> many(1100);
    for (uint32_t i = 0; i < many.size(); ++i) many[i] = i + 1;
    l = build_active_ns_list(many, 0);
    EXPECT_EQ(l.nsid[1023], 1024u);
    l = build_active_ns_list(many, 1000);
    EXPECT_EQ(l.nsid[0], 1001u);
    EXPECT_EQ(l.nsid[99], 1100u);
    EXPECT_EQ(l.nsid[100], 0u);
}

// --- handler -------------------------------------------------------------

class identify_handler : public admin_fixture {
protected:
    void add_ns(uint32_t nsid, uint64_t blocks, uint32_t bs) {
        ns_params p;
        p.nsid = nsid;
        p.nguid = std::array<uint8_t, 16>{0xfe, 0xed, 0, 0, 0, 0, 0, 0,
                                          0,    0,    0, 0, 0, 0, 0, static_cast<uint8_t>(nsid)};
        auto r = subsys->add_ns(bdev::make_malloc("m" + std::to_string(nsid), blocks, bs), p);
        ASSERT_TRUE(r.ok()) << r.err().message;
    }
    std::unique_ptr<command> identify(uint8_t cns, uint32_t nsid, uint32_t len = 4096) {
        return run(spec::admin_opc::identify, len, cns, 0, nsid);
    }
};

TEST_F(identify_handler, controller_values_come_from_subsystem_and_limits) {
    add_ns(1, 2048, 512);
    controller_limits lim;
    lim.max_io_size = 65536;
    lim.in_capsule_data_size = 4096;
    lim.max_queue_depth = 64;
    make_controller(false, lim);
    auto c = identify(spec::cns::ctrlr, 0);
    ASSERT_EQ(qp->completions.size(), 1u);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(last().cid, c->req.cmd.cid);
    const auto id = c->as<spec::identify_ctrlr>();
    EXPECT_EQ(field(id.sn, 20), "SN12345             ");
    EXPECT_EQ(field(id.mn, 16), "nvmf-target test");
    EXPECT_EQ(id.mn[16], ' ');
    std::string fr = NVMF_VERSION;
    fr.resize(8, ' ');
    EXPECT_EQ(field(id.fr, 8), fr);
    EXPECT_EQ(id.mdts, 4);
    EXPECT_EQ(id.cntlid, 7);
    EXPECT_EQ(id.maxcmd, 64);
    EXPECT_EQ(id.nn, 8u);
    EXPECT_EQ(id.ioccsz, (64u + 4096u) / 16u);
    EXPECT_EQ(id.aerl, aer_limit - 1);
    EXPECT_EQ(id.elpe, error_log_entries - 1);
    EXPECT_EQ(id.vwc, 0);  // malloc bdevs have no volatile cache
    EXPECT_STREQ(id.subnqn, test_nqn);
}

TEST_F(identify_handler, short_buffer_gets_prefix_long_buffer_gets_zero_tail) {
    make_controller();
    auto c = identify(spec::cns::ctrlr, 0, 64);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(c->buf.data()) + 4, 7), "SN12345");
    auto big = identify(spec::cns::ctrlr, 0, 5000);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(big->buf[4999], 0);  // was 0xa5
    EXPECT_EQ(big->buf[4096], 0);
}

TEST_F(identify_handler, namespace_nsid_rules) {
    add_ns(2, 4096, 4096);
    make_controller();
    auto ok = identify(spec::cns::ns, 2);
    EXPECT_EQ(last().status, 0);
    const auto id = ok->as<spec::identify_ns>();
    EXPECT_EQ(id.nsze, 4096u);
    EXPECT_EQ(id.lbaf[0].lbads, 12);
    EXPECT_EQ(id.nguid[0], 0xfe);
    EXPECT_EQ(id.nguid[15], 2);
    EXPECT_EQ(id.nmic, 1);
    EXPECT_EQ(id.dlfeat & 0x7, 1);

    // Inactive but within NN: zeroes, success.
    auto inactive = identify(spec::cns::ns, 1);
    EXPECT_EQ(last().status, 0);
    const auto z = inactive->as<spec::identify_ns>();
    EXPECT_EQ(z.nsze, 0u);
    EXPECT_EQ(inactive->buf[4095], 0);

    const auto invalid_ns = st(spec::sct::generic, spec::sc::invalid_namespace_or_format);
    identify(spec::cns::ns, 0);
    EXPECT_EQ(last().status, invalid_ns);
    identify(spec::cns::ns, 9);  // NN is 8
    EXPECT_EQ(last().status, invalid_ns);
    identify(spec::cns::ns, 0xffffffff);
    EXPECT_EQ(last().status, invalid_ns);
}

TEST_F(identify_handler, active_list_and_descriptors) {
    add_ns(5, 100, 512);
    add_ns(2, 100, 512);
    make_controller();
    auto l = identify(spec::cns::active_ns_list, 0);
    EXPECT_EQ(last().status, 0);
    auto list = l->as<spec::ns_list>();
    EXPECT_EQ(list.nsid[0], 2u);
    EXPECT_EQ(list.nsid[1], 5u);
    EXPECT_EQ(list.nsid[2], 0u);
    l = identify(spec::cns::active_ns_list, 2);
    list = l->as<spec::ns_list>();
    EXPECT_EQ(list.nsid[0], 5u);
    EXPECT_EQ(list.nsid[1], 0u);
    identify(spec::cns::active_ns_list, 0xfffffffe);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_namespace_or_format));

    auto d = identify(spec::cns::ns_id_descriptor_list, 5);
    EXPECT_EQ(last().status, 0);
    EXPECT_EQ(d->buf[0], spec::nidt::nguid);
    EXPECT_EQ(d->buf[1], 16);
    EXPECT_EQ(d->buf[4 + 15], 5);
    EXPECT_EQ(d->buf[20], spec::nidt::uuid);  // derived from the bdev's UUID
    EXPECT_EQ(d->buf[21], 16);
    identify(spec::cns::ns_id_descriptor_list, 3);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_namespace_or_format));
}

TEST_F(identify_handler, unknown_cns_is_invalid_field) {
    make_controller();
    identify(0x10, 0);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
    identify(spec::cns::io_command_set, 0);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
}

// CNS 06h, CSI 00h: the NVM Command Set's controller data, no limits set;
// any other command set is an invalid field.
TEST_F(identify_handler, io_command_set_controller_nvm_only) {
    make_controller();
    auto c = run(spec::admin_opc::identify, 4096, spec::cns::io_command_set_ctrlr, 0, 0);
    EXPECT_EQ(last().status, 0);
    const auto id = c->as<spec::identify_ctrlr_nvm>();
    const auto p = subsys->params();  // SPDK's defaults unless set
    EXPECT_EQ(id.wzsl, p.wzsl);
    EXPECT_EQ(id.dmrsl, p.dmrsl);
    EXPECT_EQ(id.dmrl, 0);
    run(spec::admin_opc::identify, 4096, spec::cns::io_command_set_ctrlr, 2u << 24, 0);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
}

TEST_F(identify_handler, discovery_controller_answers_only_cns_01) {
    make_controller(true);
    auto c = identify(spec::cns::ctrlr, 0);
    EXPECT_EQ(last().status, 0);
    const auto id = c->as<spec::identify_ctrlr>();
    EXPECT_EQ(id.cntrltype, spec::cntrltype::discovery);
    EXPECT_EQ(id.oaes, spec::aer::cfg_discovery_log_change_notice);
    EXPECT_STREQ(id.subnqn, spec::discovery_nqn);
    identify(spec::cns::ns, 1);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
    identify(spec::cns::active_ns_list, 0);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_field));
}

}  // namespace
}  // namespace nvmf::test
