// Fuzzes command dispatch: an arbitrary SQE and data buffer go through
// nvmf::execute on an admin or I/O queue of an enabled controller with RAM
// namespaces (reservation payloads included, from one of four hosts). Checks the contract every
// handler keeps: exactly one completion per command (an AER, or the first of a fused pair until
// its queue closes, may be held instead), never a crash.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_target_env.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/request.hpp"

namespace {

class fake_qpair final : public nvmf::qpair {
public:
    explicit fake_qpair(nvmf::reactor* r) { owner = r; }
    void on_complete(nvmf::request&) override { ++completions; }
    void disconnect() override {}
    const nvmf::transport_id& listen_trid() const override { return trid_; }
    const nvmf::transport_id& peer_trid() const override { return trid_; }
    uint32_t max_io_size() const override { return 131072; }
    uint32_t in_capsule_data_size() const override { return 8192; }
    nvmf::controller_limits limits() const override { return {}; }
    int completions = 0;

private:
    nvmf::transport_id trid_{"TCP", "IPv4", "127.0.0.1", "4420"};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1 + sizeof(nvmf::spec::sqe)) return 0;
    auto& env = nvmf::fuzz::target_env::get();
    const bool admin = (data[0] & 1) == 0;
    auto aq = std::make_shared<fake_qpair>(env.r);
    auto ioq = std::make_shared<fake_qpair>(env.r);
    aq->tgt = ioq->tgt = env.tgt.get();
    auto id = env.sub->allocate_cntlid();
    if (!id) return 0;
    // Bits 2:1 of the queue byte pick one of four hosts, so that reservation
    // commands meet registrations and reservations of other hosts (the state
    // of the environment's namespaces lasts from one input to the next).
    uint8_t hostid[16] = {};
    hostid[15] = static_cast<uint8_t>((data[0] >> 1) & 3);
    auto c = std::make_shared<nvmf::controller>(
        env.sub, *id, "nqn.2014-08.org.nvmexpress:uuid:fuzz", hostid, aq.get(), 0, aq->limits());
    env.sub->add_controller(c);
    aq->ctrlr = c;
    aq->connected = true;
    aq->sqsize = 32;
    (void)c->set_property(nvmf::spec::prop::cc, 0, 0x460001);
    ioq->qid = 1;
    ioq->sqsize = 32;
    ioq->ctrlr = c;
    ioq->connected = c->attach_io_qpair(ioq.get());

    nvmf::request req;
    fake_qpair* q = admin ? aq.get() : ioq.get();
    req.qp = q;
    std::memcpy(&req.cmd, data + 1, sizeof(req.cmd));
    const uint32_t len = std::min<uint32_t>(req.cmd.sgl1.length, 131072);
    std::vector<uint8_t> buf(len);
    const size_t have = size - 1 - sizeof(req.cmd);
    if (len > 0) std::memcpy(buf.data(), data + 1 + sizeof(req.cmd), std::min<size_t>(have, len));
    if (len > 0) {
        req.iov[0] = {buf.data(), len};
        req.iovcnt = 1;
        req.length = len;
        req.xfer = nvmf::spec::opcode_xfer(req.cmd.opc);
        if (req.xfer == nvmf::spec::xfer::bidirectional) req.xfer = nvmf::spec::xfer::none;
    }
    nvmf::execute(req);
    // An Abort of an I/O command asks the I/O queue's reactor and completes
    // when the answer comes back: two messages.
    for (int i = 0; i < 4 && q->completions == 0; ++i) env.r->poll_once(0);
    const bool held_aer = admin && req.cmd.opc == nvmf::spec::admin_opc::async_event_request;
    // The first command of a fused pair waits on its queue for the second.
    const bool held_fused = !admin && ioq->fused_first == &req;
    if (q->completions != 1 && !((held_aer || held_fused) && q->completions == 0)) {
        __builtin_trap();
    }
    // The controller forgets held AERs when its admin queue goes away; a
    // held fused first completes (Missing Fused Command) when its queue does.
    c->detach_qpair(ioq.get());
    if (held_fused && q->completions != 1) __builtin_trap();
    c->detach_qpair(aq.get());
    env.r->poll_once(0);
    return 0;
}
