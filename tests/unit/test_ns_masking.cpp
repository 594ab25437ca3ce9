// Namespace masking (SPDK's no_auto_visible, nvmf_ns_add_host): the rule of
// ns_table, the subsystem's operations and their refusals, and what a
// controller of a host not added sees through Identify, I/O and the
// Namespace Attribute Changed event.
#include <cstring>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "admin_test_fixture.hpp"
#include "bdev/bdev.hpp"
#include "nvme/spec/identify.hpp"
#include "nvmf/ns.hpp"

namespace nvmf::test {
namespace {

const std::string host_a = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-2222-4333-8444-555555555555";
const std::string host_b = "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-2222-4333-8444-555555555555";

ns_table table_with(std::shared_ptr<const ns_hosts> hosts) {
    ns_table t(4);
    t.slots[1] = std::make_shared<ns>(2, bdev::make_malloc("m2", 16, 512));
    t.visible_to[1] = std::move(hosts);
    t.update_masked();
    return t;
}

TEST(ns_visibility, auto_visible_namespace_is_active_for_every_host) {
    const ns_table t = table_with(nullptr);
    EXPECT_FALSE(t.masked);
    EXPECT_TRUE(t.visible(2, host_a));
    EXPECT_TRUE(t.visible(2, ""));
    EXPECT_FALSE(t.visible(1, host_a));  // no namespace there
    EXPECT_FALSE(t.visible(0, host_a));
    EXPECT_FALSE(t.visible(5, host_a));
}

TEST(ns_visibility, masked_namespace_is_active_only_for_hosts_added) {
    const ns_table none = table_with(std::make_shared<const ns_hosts>());
    EXPECT_TRUE(none.masked);
    EXPECT_FALSE(none.visible(2, host_a));
    const ns_table a = table_with(std::make_shared<const ns_hosts>(ns_hosts{host_a}));
    EXPECT_TRUE(a.visible(2, host_a));
    EXPECT_FALSE(a.visible(2, host_b));
    // A view is what its host sees, and has no masking left to apply.
    auto va = a.view_for(host_a), vb = a.view_for(host_b);
    EXPECT_FALSE(va->masked);
    EXPECT_TRUE(va->find(2));
    EXPECT_FALSE(vb->find(2));
    EXPECT_EQ(vb->resv_of(2), nullptr);
    EXPECT_EQ(vb->max_nsid(), 4u);  // NN does not change with the view
}

TEST(ns_visibility, view_changes_only_for_hosts_whose_visibility_moved) {
    const ns_table before = table_with(std::make_shared<const ns_hosts>(ns_hosts{host_a}));
    const ns_table after = table_with(std::make_shared<const ns_hosts>(ns_hosts{host_a, host_b}));
    // table_with makes a new namespace object: same slot, another namespace.
    ns_table same_ns = before;
    same_ns.visible_to[1] = after.visible_to[1];
    EXPECT_FALSE(ns_view_changed(before, same_ns, 2, host_a));
    EXPECT_TRUE(ns_view_changed(before, same_ns, 2, host_b));
    EXPECT_FALSE(ns_view_changed(before, same_ns, 2, "nqn.2016-06.io.spdk:other"));
    EXPECT_TRUE(ns_view_changed(before, after, 2, host_a));  // another namespace
    ns_table empty(4);
    EXPECT_TRUE(ns_view_changed(before, empty, 2, host_a));
    EXPECT_FALSE(ns_view_changed(before, empty, 2, host_b));
}

class masking : public admin_fixture {
protected:
    uint32_t add(uint32_t nsid, bool no_auto_visible) {
        ns_params p;
        p.nsid = nsid;
        p.no_auto_visible = no_auto_visible;
        auto r = subsys->add_ns(bdev::make_malloc("m" + std::to_string(nsid), 64, 512), p);
        EXPECT_TRUE(r.ok()) << r.err().message;
        return r ? *r : 0;
    }
    std::vector<uint32_t> active_list() {
        auto c = run(spec::admin_opc::identify, 4096, spec::cns::active_ns_list, 0, 0);
        EXPECT_EQ(last().status, 0);
        const auto l = c->as<spec::ns_list>();
        std::vector<uint32_t> out;
        for (uint32_t id : l.nsid) {
            if (id == 0) break;
            out.push_back(id);
        }
        return out;
    }
    // Runs all messages posted to the reactor (the announcements).
    void settle() {
        for (int i = 0; i < 4; ++i) reactors.at(0).poll_once(0);
    }
};

TEST_F(masking, subsystem_refuses_what_spdk_refuses) {
    add(1, false);
    add(2, true);
    EXPECT_EQ(subsys->add_ns_host(1, host_a).err().code, -EPERM);
    EXPECT_EQ(subsys->add_ns_host(3, host_a).err().code, -ENOENT);
    EXPECT_EQ(subsys->add_ns_host(0, host_a).err().code, -EINVAL);
    EXPECT_EQ(subsys->add_ns_host(9, host_a).err().code, -EINVAL);  // max_namespaces 8
    EXPECT_EQ(subsys->add_ns_host(2, "not-an-nqn").err().code, -EINVAL);
    EXPECT_EQ(subsys->remove_ns_host(1, host_a).err().code, -EPERM);
    EXPECT_TRUE(subsys->ns_hosts_of(2).empty());
    // Twice is once; removing a host not added is nothing.
    ASSERT_TRUE(subsys->add_ns_host(2, host_a));
    const uint64_t gen = subsys->ns_generation();
    ASSERT_TRUE(subsys->add_ns_host(2, host_a));
    EXPECT_EQ(subsys->ns_generation(), gen);
    ASSERT_TRUE(subsys->remove_ns_host(2, host_b));
    EXPECT_EQ(subsys->ns_hosts_of(2), ns_hosts{host_a});
    // The hosts go with the namespace.
    ASSERT_TRUE(subsys->remove_ns(2));
    EXPECT_FALSE(subsys->ns_snapshot()->masked);
    add(2, true);
    EXPECT_TRUE(subsys->ns_hosts_of(2).empty());
}

TEST_F(masking, hidden_namespace_is_inactive_for_identify_and_io) {
    add(1, false);
    add(2, true);
    make_controller();  // test_hostnqn
    EXPECT_EQ(active_list(), (std::vector<uint32_t>{1}));
    // Identify Namespace of an inactive NSID: zeroes.
    auto id = run(spec::admin_opc::identify, 4096, spec::cns::ns, 0, 2);
    EXPECT_EQ(last().status, 0);
    const auto zero = spec::identify_ns{};
    EXPECT_EQ(std::memcmp(id->buf.data(), &zero, sizeof(zero)), 0);
    run(spec::admin_opc::identify, 4096, spec::cns::ns_id_descriptor_list, 0, 2);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_namespace_or_format));
    // I/O to it: Invalid Namespace or Format, as for any inactive NSID.
    command rd(qp.get(), spec::io_opc::read, 512, 99);
    rd.req.cmd.nsid = 2;
    cmd::io(rd.req);
    EXPECT_EQ(last().cid, 99);
    EXPECT_EQ(last().status, st(spec::sct::generic, spec::sc::invalid_namespace_or_format));

    ASSERT_TRUE(subsys->add_ns_host(2, test_hostnqn));
    EXPECT_EQ(active_list(), (std::vector<uint32_t>{1, 2}));
    id = run(spec::admin_opc::identify, 4096, spec::cns::ns, 0, 2);
    EXPECT_EQ(id->as<spec::identify_ns>().nsze, 64u);
    command rd2(qp.get(), spec::io_opc::read, 512, 100);
    rd2.req.cmd.nsid = 2;
    cmd::io(rd2.req);
    EXPECT_EQ(last().cid, 100);
    EXPECT_EQ(last().status, 0);

    ASSERT_TRUE(subsys->remove_ns_host(2, test_hostnqn));
    EXPECT_EQ(active_list(), (std::vector<uint32_t>{1}));
}

// The ANA log lists only the NSIDs this controller has active.
TEST_F(masking, ana_log_lists_only_visible_namespaces) {
    subsystem_params p = subsys->params();
    p.ana_reporting = true;
    subsys->set_params(p);
    add(1, false);
    add(2, true);
    make_controller();
    auto ana_nsids = [&] {
        auto c = run(spec::admin_opc::get_log_page, 4096, spec::lid::ana | (1023u << 16));
        EXPECT_EQ(last().status, 0);
        spec::ana_log_header h;
        std::memcpy(&h, c->buf.data(), sizeof(h));
        std::vector<uint32_t> out;
        size_t off = sizeof(h);
        for (uint16_t g = 0; g < h.ngrps; ++g) {
            spec::ana_group_descriptor d;
            std::memcpy(&d, c->buf.data() + off, sizeof(d));
            off += sizeof(d);
            for (uint32_t i = 0; i < d.nnsids; ++i, off += 4) {
                uint32_t nsid;
                std::memcpy(&nsid, c->buf.data() + off, 4);
                out.push_back(nsid);
            }
        }
        return out;
    };
    EXPECT_EQ(ana_nsids(), std::vector<uint32_t>{1});
    const uint64_t chgcnt = subsys->ana_change_count();
    ASSERT_TRUE(subsys->add_ns_host(2, test_hostnqn));
    EXPECT_GT(subsys->ana_change_count(), chgcnt);
    EXPECT_EQ(ana_nsids(), (std::vector<uint32_t>{1, 2}));
}

TEST_F(masking, event_goes_only_to_controllers_whose_view_changed) {
    add(1, true);
    make_controller();
    subsys->add_controller(ctrlr);
    // A second controller, of another host, with its own admin queue.
    auto qp2 = std::make_shared<fake_qpair>();
    qp2->owner = &reactors.at(0);
    qp2->tgt = &tgt;
    auto c2 = std::make_shared<controller>(subsys, 8, host_b, test_hostid, qp2.get(), 0,
                                           controller_limits{});
    qp2->ctrlr = c2;
    qp2->connected = true;
    subsys->add_controller(c2);
    for (auto* c : {ctrlr.get(), c2.get()}) {
        c->features.async_event_config = spec::aer::cfg_ns_attr_notice;
    }

    auto before = subsys->ns_snapshot();
    ASSERT_TRUE(subsys->add_ns_host(1, test_hostnqn));
    subsys->announce_ns_change(1, *before);
    settle();
    EXPECT_EQ(ctrlr->peek_changed_ns_list(), std::vector<uint32_t>{1});
    EXPECT_TRUE(c2->peek_changed_ns_list().empty());

    before = subsys->ns_snapshot();
    ASSERT_TRUE(subsys->add_ns_host(1, test_hostnqn));  // no change: no event
    subsys->announce_ns_change(1, *before);
    ctrlr->take_changed_ns_list();
    settle();
    EXPECT_TRUE(ctrlr->peek_changed_ns_list().empty());

    // A masked namespace added: nobody sees it yet, nobody is told.
    before = subsys->ns_snapshot();
    add(2, true);
    subsys->announce_ns_change(2, *before);
    settle();
    EXPECT_TRUE(ctrlr->peek_changed_ns_list().empty());
    EXPECT_TRUE(c2->peek_changed_ns_list().empty());

    // Removing namespace 1 changes only the view of the host that had it.
    before = subsys->ns_snapshot();
    ASSERT_TRUE(subsys->remove_ns(1));
    subsys->announce_ns_change(1, *before);
    settle();
    EXPECT_EQ(ctrlr->peek_changed_ns_list(), std::vector<uint32_t>{1});
    EXPECT_TRUE(c2->peek_changed_ns_list().empty());
    qp2->ctrlr.reset();
}

}  // namespace
}  // namespace nvmf::test
