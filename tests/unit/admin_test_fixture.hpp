// Shared by the admin command tests: a target with one unstarted reactor, an
// NVM subsystem with namespaces, and a controller whose admin queue is a
// fake qpair that records completions.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "nvme/spec/log.hpp"
#include "nvme/spec/nvme.hpp"
#include "nvmf/cmd/handlers.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/request.hpp"
#include "nvmf/subsystem.hpp"
#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"

namespace nvmf::test {

struct completion {
    uint16_t cid;
    uint16_t status;
    uint32_t cdw0;
};

class fake_qpair : public qpair {
public:
    void on_complete(request& req) override {
        completions.push_back({req.rsp.cid, req.rsp.status, req.rsp.cdw0});
    }
    void disconnect() override { disconnected = true; }
    const transport_id& listen_trid() const override { return listen; }
    const transport_id& peer_trid() const override { return peer; }
    uint32_t max_io_size() const override { return 131072; }
    uint32_t in_capsule_data_size() const override { return 4096; }
    controller_limits limits() const override { return {}; }

    std::vector<completion> completions;
    bool disconnected = false;
    transport_id listen{"TCP", "IPv4", "127.0.0.1", "4420"};
    transport_id peer{"TCP", "IPv4", "127.0.0.1", "50000"};
};

// A command with its own data buffer.
struct command {
    request req;
    std::vector<uint8_t> buf;

    command(qpair* qp, uint8_t opc, uint32_t len, uint16_t cid) : buf(len, 0xa5) {
        req.qp = qp;
        req.cmd.opc = opc;
        req.cmd.cid = cid;
        if (len) {
            req.iov[0] = {buf.data(), len};
            req.iovcnt = 1;
        }
        req.length = len;
    }
    template <typename T>
    T as() const {
        T v{};
        std::memcpy(&v, buf.data(), std::min(sizeof(T), buf.size()));
        return v;
    }
};

constexpr uint8_t test_hostid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr const char* test_nqn = "nqn.2016-06.io.nvmf:cnode1";
constexpr const char* test_hostnqn =
    "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";

class admin_fixture : public ::testing::Test {
protected:
    // Builds the controller; call after adjusting params / namespaces.
    void make_controller(bool discovery = false, controller_limits lim = {}) {
        qp = std::make_shared<fake_qpair>();
        qp->owner = &reactors.at(0);
        qp->tgt = &tgt;
        std::shared_ptr<subsystem> s = discovery ? tgt.discovery() : subsys;
        ctrlr = std::make_shared<controller>(s, 7, test_hostnqn, test_hostid, qp.get(), 0, lim);
        qp->ctrlr = ctrlr;
        qp->connected = true;
    }

    void SetUp() override {
        subsystem_params p;
        p.serial_number = "SN12345";
        p.model_number = "nvmf-target test";
        p.max_namespaces = 8;
        auto s = tgt.create_subsystem(test_nqn, p);
        ASSERT_TRUE(s.ok()) << s.err().message;
        subsys = *s;
    }

    void TearDown() override {
        if (qp) qp->ctrlr.reset();
        ctrlr.reset();
    }

    // Runs an admin command through the opcode table.
    std::unique_ptr<command> run(uint8_t opc, uint32_t len, uint32_t cdw10 = 0, uint32_t cdw11 = 0,
                                 uint32_t nsid = 0, uint32_t cdw12 = 0, uint32_t cdw13 = 0) {
        auto c = std::make_unique<command>(qp.get(), opc, len, next_cid++);
        c->req.cmd.cdw10 = cdw10;
        c->req.cmd.cdw11 = cdw11;
        c->req.cmd.cdw12 = cdw12;
        c->req.cmd.cdw13 = cdw13;
        c->req.cmd.nsid = nsid;
        cmd::admin(c->req);
        return c;
    }

    const completion& last() const { return qp->completions.back(); }

public:
    // The world the tests poke at directly (declaration order is teardown order).
    reactor_group reactors{std::vector<int>{}};
    target tgt{reactors};
    std::shared_ptr<subsystem> subsys;
    std::shared_ptr<fake_qpair> qp;
    std::shared_ptr<controller> ctrlr;
    uint16_t next_cid = 1;
};

constexpr spec::status st(spec::sct t, uint8_t sc) { return spec::make_status(t, sc, true); }

}  // namespace nvmf::test
