// Admin queue: properties (CAP/VS/CC/CSTS, enable, shutdown), Identify,
// Get Log Page, Get/Set Features, Keep Alive and its expiry, AER.
#include <algorithm>
#include <set>

#include "daemon_fixture.hpp"

namespace nvmf::test {
namespace {

class admin_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple(512, 16ull << 20);
        c.bdevs.push_back({"Malloc1", 1024, 4096});
        c.subsystems[0].namespaces.push_back({"Malloc1", 5});
        return c;
    }
};

TEST_F(admin_test, PropertiesBeforeAndAfterEnable) {
    host::controller c(tgt.ctrlr_opts());
    ASSERT_TRUE(c.connect_admin());
    auto cap = c.get_property(spec::prop::cap);
    ASSERT_TRUE(cap) << cap.err().message;
    const uint64_t v = *cap;
    EXPECT_GE(v & 0xffff, 1u) << "MQES";
    EXPECT_TRUE((v >> 16) & 1) << "CQR: fabrics queues are contiguous";
    EXPECT_GT((v >> 24) & 0xff, 0u) << "TO";
    EXPECT_TRUE((v >> 37) & 1) << "CSS: NVM command set";
    EXPECT_EQ((v >> 48) & 0xf, 0u) << "MPSMIN 4 KiB";

    auto vs = c.get_property(spec::prop::vs);
    ASSERT_TRUE(vs);
    EXPECT_GE(*vs, spec::nvme_version(1, 3)) << std::hex << *vs;

    auto cc = c.get_property(spec::prop::cc);
    ASSERT_TRUE(cc);
    EXPECT_EQ(*cc & spec::cc::en, 0u);
    auto csts = c.get_property(spec::prop::csts);
    ASSERT_TRUE(csts);
    EXPECT_EQ(*csts & spec::csts::rdy, 0u);

    ASSERT_TRUE(c.enable());
    cc = c.get_property(spec::prop::cc);
    ASSERT_TRUE(cc);
    EXPECT_EQ(*cc & spec::cc::en, 1u);
    EXPECT_EQ((*cc & spec::cc::iosqes_mask) >> spec::cc::iosqes_shift, 6u);
    EXPECT_EQ((*cc & spec::cc::iocqes_mask) >> spec::cc::iocqes_shift, 4u);
    csts = c.get_property(spec::prop::csts);
    ASSERT_TRUE(csts);
    EXPECT_EQ(*csts & spec::csts::rdy, 1u);

    auto sh = c.shutdown();
    ASSERT_TRUE(sh) << sh.err().message;
    csts = c.get_property(spec::prop::csts);
    ASSERT_TRUE(csts);
    EXPECT_EQ((*csts & spec::csts::shst_mask) >> spec::csts::shst_shift, spec::csts::shst_complete);
}

TEST_F(admin_test, PropertyErrors) {
    host::controller c(tgt.ctrlr_opts());
    ASSERT_TRUE(c.connect_admin());
    // CAP is read-only.
    auto r = c.property_set(spec::prop::cap, 0, true);
    ASSERT_TRUE(r) << r.err().message;
    EXPECT_FALSE(r->ok()) << "Property Set CAP accepted";
    // An offset with no property.
    r = c.property_get(0x1000, false);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok()) << "Property Get 0x1000 accepted";
    // CAP read with a 4-byte size.
    r = c.property_get(spec::prop::cap, false);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok()) << "4-byte Property Get of CAP accepted";
}

TEST_F(admin_test, EnableWithBadIosqesFails) {
    host::controller c(tgt.ctrlr_opts());
    ASSERT_TRUE(c.connect_admin());
    auto r = c.property_set(spec::prop::cc, spec::cc::en | (5u << spec::cc::iosqes_shift) |
                                                (4u << spec::cc::iocqes_shift));
    ASSERT_TRUE(r) << r.err().message;
    auto csts = c.get_property(spec::prop::csts);
    ASSERT_TRUE(csts);
    EXPECT_TRUE(!r->ok() || (*csts & spec::csts::rdy) == 0 || (*csts & spec::csts::cfs))
        << "controller became ready with IOSQES=5";
}

TEST_F(admin_test, IdentifyController) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    const auto& id = ctrlr->data();
    EXPECT_EQ(host::field_string(id.sn, 20), "SPDK001");
    EXPECT_EQ(host::field_string(id.mn, 40), "nvmf-target test");
    EXPECT_EQ(host::field_string(id.subnqn, 256), default_nqn);
    EXPECT_EQ(id.cntlid, ctrlr->cntlid());
    EXPECT_EQ(id.cntrltype, spec::cntrltype::io);
    EXPECT_GE(id.ver, spec::nvme_version(1, 3));
    // VER reports the same version as the VS property.
    auto vs = ctrlr->get_property(spec::prop::vs);
    ASSERT_TRUE(vs);
    EXPECT_EQ(id.ver, *vs) << std::hex << "Identify VER 0x" << id.ver << " vs VS property 0x"
                           << *vs;
    EXPECT_GE(id.nn, 5u);
    EXPECT_EQ(id.sqes, spec::sqes_64);
    EXPECT_EQ(id.cqes, spec::cqes_16);
    EXPECT_GE(id.ioccsz, 4u);
    EXPECT_EQ(id.iorcsz, 1u);
    EXPECT_EQ(id.icdoff, 0);
    EXPECT_TRUE(id.sgls & spec::sgls::supported_no_alignment) << std::hex << id.sgls;
    EXPECT_TRUE(id.sgls & spec::sgls::address_as_offset) << std::hex << id.sgls;
    EXPECT_TRUE(id.sgls & spec::sgls::transport_data_block) << std::hex << id.sgls;
    EXPECT_GT(id.kas, 0);
    EXPECT_GT(id.mdts, 0);
    EXPECT_GT(id.maxcmd, 0);
    EXPECT_TRUE(id.oncs & spec::oncs::write_zeroes);
    EXPECT_TRUE(id.oncs & spec::oncs::dataset_management);
    EXPECT_TRUE(id.oncs & spec::oncs::compare);
}

TEST_F(admin_test, IdentifyNamespaces) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto ns1 = ctrlr->identify_ns(1);
    ASSERT_TRUE(ns1) << ns1.err().message;
    EXPECT_EQ(ns1->nsze, (16ull << 20) / 512);
    EXPECT_EQ(ns1->ncap, ns1->nsze);
    EXPECT_EQ(ns1->lbaf[ns1->flbas & 0xf].lbads, 9);
    auto ns5 = ctrlr->identify_ns(5);
    ASSERT_TRUE(ns5) << ns5.err().message;
    EXPECT_EQ(ns5->nsze, 1024u);
    EXPECT_EQ(ns5->lbaf[ns5->flbas & 0xf].lbads, 12);

    // An inactive NSID within NN reads as zeroes.
    auto ns2 = ctrlr->identify_ns(2);
    ASSERT_TRUE(ns2) << ns2.err().message;
    EXPECT_EQ(ns2->nsze, 0u);

    // NSID 0 is not a namespace.
    spec::identify_ns buf{};
    auto c = ctrlr->identify(spec::cns::ns, 0, as_bytes(&buf, sizeof(buf)));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sc(), spec::sc::invalid_namespace_or_format) << st(*c);
}

TEST_F(admin_test, ActiveNamespaceList) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto l = ctrlr->active_ns_list(0);
    ASSERT_TRUE(l) << l.err().message;
    EXPECT_EQ(*l, (std::vector<uint32_t>{1, 5}));
    l = ctrlr->active_ns_list(1);
    ASSERT_TRUE(l);
    EXPECT_EQ(*l, (std::vector<uint32_t>{5}));
    l = ctrlr->active_ns_list(5);
    ASSERT_TRUE(l);
    EXPECT_TRUE(l->empty());
}

TEST_F(admin_test, NamespaceIdDescriptors) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    std::vector<uint8_t> buf(4096);
    auto c = ctrlr->identify(spec::cns::ns_id_descriptor_list, 1, buf);
    ASSERT_TRUE(c) << c.err().message;
    ASSERT_TRUE(c->ok()) << st(*c);
    size_t off = 0;
    std::set<uint8_t> types;
    while (off + 4 <= buf.size() && buf[off] != 0) {
        const uint8_t nidt = buf[off];
        const uint8_t nidl = buf[off + 1];
        switch (nidt) {
        case spec::nidt::eui64:
            EXPECT_EQ(nidl, spec::nidl::eui64);
            break;
        case spec::nidt::nguid:
            EXPECT_EQ(nidl, spec::nidl::nguid);
            break;
        case spec::nidt::uuid:
            EXPECT_EQ(nidl, spec::nidl::uuid);
            break;
        case spec::nidt::csi:
            EXPECT_EQ(nidl, spec::nidl::csi);
            break;
        default:
            ADD_FAILURE() << "unknown NIDT " << int(nidt);
        }
        EXPECT_TRUE(types.insert(nidt).second) << "NIDT " << int(nidt) << " twice";
        off += 4 + nidl;
    }
    EXPECT_FALSE(types.empty());
    // The two namespaces have different identifiers.
    std::vector<uint8_t> buf5(4096);
    c = ctrlr->identify(spec::cns::ns_id_descriptor_list, 5, buf5);
    ASSERT_TRUE(c && c->ok());
    EXPECT_NE(buf, buf5);
}

TEST_F(admin_test, UnknownCnsRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    std::vector<uint8_t> buf(4096);
    auto c = ctrlr->identify(0x7e, 0, buf);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sct(), spec::sct::generic) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc::invalid_field) << st(*c);
}

TEST_F(admin_test, GetLogPages) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    std::vector<uint8_t> buf(4096);
    struct page {
        uint8_t lid;
        uint32_t nsid;
        uint32_t len;
    };
    for (const page p :
         {page{spec::lid::error, 0, 64 * 4}, page{spec::lid::smart_health, 0xffffffff, 512},
          page{spec::lid::firmware_slot, 0, 512},
          page{spec::lid::commands_supported_effects, 0, 4096}}) {
        SCOPED_TRACE(int(p.lid));
        auto c = ctrlr->get_log_page(p.lid, p.nsid, {buf.data(), p.len});
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->ok()) << st(*c);
    }
    // The commands supported log lists Read and Write as supported (CSUPP).
    auto c = ctrlr->get_log_page(spec::lid::commands_supported_effects, 0, buf);
    ASSERT_TRUE(c && c->ok());
    uint32_t eff[1024];
    std::memcpy(eff, buf.data(), sizeof(eff));
    EXPECT_TRUE(eff[spec::admin_opc::identify] & 1);
    EXPECT_TRUE(eff[256 + spec::io_opc::read] & 1);
    EXPECT_TRUE(eff[256 + spec::io_opc::write] & 1);
}

TEST_F(admin_test, UnknownLogPageRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    std::vector<uint8_t> buf(512);
    auto c = ctrlr->get_log_page(0xbf, 0, buf);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->ok());
    EXPECT_TRUE(
        (c->sct() == spec::sct::generic && c->sc() == spec::sc::invalid_field) ||
        (c->sct() == spec::sct::command_specific && c->sc() == spec::sc_cmd::invalid_log_page))
        << st(*c);
}

TEST_F(admin_test, FeaturesNumberOfQueues) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto g = ctrlr->get_features(spec::feat::number_of_queues);
    ASSERT_TRUE(g) << g.err().message;
    ASSERT_TRUE(g->ok()) << st(*g);
    const uint32_t nsqa = g->cqe.cdw0 & 0xffff;
    const uint32_t ncqa = g->cqe.cdw0 >> 16;
    EXPECT_GE(nsqa, 0u);
    EXPECT_EQ(nsqa, ncqa);
    // 0xFFFF is an invalid request.
    auto s = ctrlr->set_features(spec::feat::number_of_queues, 0xffff | (0xffffu << 16));
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->ok());
}

TEST_F(admin_test, FeaturesKeepAliveTimer) {
    auto o = tgt.ctrlr_opts();
    o.kato_ms = 20000;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    auto g = ctrlr->get_features(spec::feat::keep_alive_timer);
    ASSERT_TRUE(g) << g.err().message;
    ASSERT_TRUE(g->ok()) << st(*g);
    // KATO may be rounded up to the KAS granularity, never down.
    EXPECT_GE(g->cqe.cdw0, 20000u);
    const uint32_t gran = ctrlr->data().kas * 100u;
    if (gran > 0) {
        EXPECT_LT(g->cqe.cdw0, 20000u + gran);
    }

    auto s = ctrlr->set_features(spec::feat::keep_alive_timer, 15000);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->ok()) << st(*s);
    g = ctrlr->get_features(spec::feat::keep_alive_timer);
    ASSERT_TRUE(g && g->ok());
    EXPECT_GE(g->cqe.cdw0, 15000u);
}

TEST_F(admin_test, UnknownFeatureRejected) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto g = ctrlr->get_features(0x7d);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->sc(), spec::sc::invalid_field) << st(*g);
}

TEST_F(admin_test, UnknownAdminOpcode) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    spec::sqe s{};
    s.opc = 0xc3;
    auto c = ctrlr->admin_cmd(s);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sct(), spec::sct::generic) << st(*c);
    EXPECT_EQ(c->sc(), spec::sc::invalid_opcode) << st(*c);
}

TEST_F(admin_test, KeepAliveCommand) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    for (int i = 0; i < 3; ++i) {
        auto c = ctrlr->keep_alive();
        ASSERT_TRUE(c) << c.err().message;
        EXPECT_TRUE(c->ok()) << st(*c);
    }
}

TEST_F(admin_test, KeepAlivesKeepControllerAlive) {
    auto o = tgt.ctrlr_opts();
    o.kato_ms = 1000;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(3000);
    while (std::chrono::steady_clock::now() < end) {
        auto c = ctrlr->keep_alive();
        ASSERT_TRUE(c) << c.err().message;
        ASSERT_TRUE(c->ok()) << st(*c);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    auto c = ctrlr->flush(1);
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok());
}

TEST_F(admin_test, KeepAliveExpiryTearsDownController) {
    auto o = tgt.ctrlr_opts();
    o.kato_ms = 1000;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    // No keep-alives: both the admin and the I/O connection get closed.
    EXPECT_TRUE(ctrlr->admin().wait_closed(8000)) << "admin queue still open after KATO";
    EXPECT_TRUE(ctrlr->io(0).wait_closed(3000)) << "I/O queue still open after KATO";
    // The daemon keeps serving.
    ctrlr.reset();
    auto again = connect();
    ASSERT_TRUE(again);
}

TEST_F(admin_test, AsyncEventRequestStaysOutstanding) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto s = ctrlr->get_features(spec::feat::async_event_configuration);
    ASSERT_TRUE(s && s->ok());
    auto cid = ctrlr->submit_aer();
    ASSERT_TRUE(cid) << cid.err().message;
    // Nothing happened, so no completion; other admin commands still work.
    auto c = ctrlr->keep_alive();
    ASSERT_TRUE(c) << c.err().message;
    EXPECT_TRUE(c->ok());
    EXPECT_FALSE(ctrlr->admin().is_done(*cid));
    auto w = ctrlr->admin().wait(*cid, 300);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.err().code, -ETIMEDOUT);
}

TEST_F(admin_test, AerCompletesOnNamespaceChange) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    auto s =
        ctrlr->set_features(spec::feat::async_event_configuration, spec::aer::cfg_ns_attr_notice);
    ASSERT_TRUE(s && s->ok()) << (s ? st(*s) : s.err().message);
    auto cid = ctrlr->submit_aer();
    ASSERT_TRUE(cid);
    const auto r = tgt.rpc("nvmf_subsystem_remove_ns", {{"nqn", default_nqn}, {"nsid", 5}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    auto w = ctrlr->admin().wait(*cid, 5000);
    ASSERT_TRUE(w) << w.err().message;
    EXPECT_TRUE(w->ok());
    EXPECT_EQ(w->cqe.cdw0 & 0x7, spec::aer::type_notice);
    EXPECT_EQ((w->cqe.cdw0 >> 8) & 0xff, spec::aer::notice_ns_attr_changed);
    EXPECT_EQ((w->cqe.cdw0 >> 16) & 0xff, spec::lid::changed_ns_list);
    std::vector<uint8_t> buf(4096);
    auto l = ctrlr->get_log_page(spec::lid::changed_ns_list, 0, buf);
    ASSERT_TRUE(l && l->ok());
    uint32_t first;
    std::memcpy(&first, buf.data(), 4);
    EXPECT_EQ(first, 5u);
}

TEST_F(admin_test, AdminCloseTearsDownIoQueues) {
    auto o = tgt.ctrlr_opts();
    o.num_io_queues = 2;
    ctrlr = connect(o);
    ASSERT_TRUE(ctrlr);
    ctrlr->admin().close();
    EXPECT_TRUE(ctrlr->io(0).wait_closed(5000)) << "I/O queue 1 outlived its controller";
    EXPECT_TRUE(ctrlr->io(1).wait_closed(5000)) << "I/O queue 2 outlived its controller";
}

TEST_F(admin_test, ManyControllersAtOnce) {
    std::vector<std::unique_ptr<host::controller>> cs;
    std::set<uint16_t> ids;
    for (int i = 0; i < 8; ++i) {
        auto c = connect();
        ASSERT_TRUE(c);
        EXPECT_TRUE(ids.insert(c->cntlid()).second);
        cs.push_back(std::move(c));
    }
    // Each writes its own block, then every block reads back as written.
    for (size_t i = 0; i < cs.size(); ++i) {
        std::vector<uint8_t> b(512, static_cast<uint8_t>(0x30 + i));
        auto w = cs[i]->write(1, 1000 + i, 1, b);
        ASSERT_TRUE(w && w->ok());
    }
    for (size_t i = 0; i < cs.size(); ++i) {
        std::vector<uint8_t> b(512);
        auto r = cs[(i + 3) % cs.size()]->read(1, 1000 + i, 1, b);
        ASSERT_TRUE(r && r->ok());
        EXPECT_EQ(b[0], 0x30 + i);
        EXPECT_EQ(b[511], 0x30 + i);
    }
}

class transport_options_test : public target_test {
protected:
    daemon_config config() override {
        daemon_config c = daemon_config::simple();
        c.transport = {{"trtype", "TCP"},
                       {"in_capsule_data_size", 8192},
                       {"max_io_size", 65536},
                       {"io_unit_size", 65536}};
        return c;
    }
};

TEST_F(transport_options_test, ReflectedInIdentifyAndHonoured) {
    ctrlr = connect();
    ASSERT_TRUE(ctrlr);
    EXPECT_EQ(ctrlr->data().ioccsz, (8192u + 64) / 16);
    EXPECT_EQ(ctrlr->max_transfer(), 65536u);
    auto& q = ctrlr->io(0);
    ASSERT_EQ(q.icd_size(), 8192u);
    const auto data = random_bytes(8192, 42);
    auto w = ctrlr->write(1, 0, 16, data);
    ASSERT_TRUE(w) << w.err().message;
    ASSERT_TRUE(w->ok()) << st(*w);
    EXPECT_EQ(q.r2t_count(), 0u);
    const auto big = random_bytes(65536, 43);
    w = ctrlr->write(1, 16, 128, big);
    ASSERT_TRUE(w && w->ok());
    EXPECT_GT(q.r2t_count(), 0u);
    std::vector<uint8_t> back(65536);
    auto r = ctrlr->read(1, 16, 128, back);
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE(back == big);
    std::vector<uint8_t> over(65536 + 512);
    r = ctrlr->read(1, 0, 129, over);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok());
}

}  // namespace
}  // namespace nvmf::test
