// The loop transport: queue pairs inside this process, no fabric, as Linux's
// nvme-loop. A host in the same process (a test, a tool, an embedding
// program) opens a queue on a listening loop address, submits SQEs with its
// own data buffers and gets CQEs back; the target sees ordinary qpair and
// request objects and runs Connect, Property Get/Set, admin and I/O commands
// exactly as for TCP. It proves the transport contract (docs/transports.md)
// with nothing but that contract: no socket, no PDU, no SGL on the wire.
//
// Data is used in place: the request's iovec points at the host's buffer, so
// a command's buffer must stay valid until its completion arrives. Queues
// (loop_queue) must be destroyed before the target. Handing a
// command to the reactor goes through reactor::post (a std::function per
// command): this transport is for tests and in-process use, not for speed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "nvme/spec/nvme.hpp"
#include "transport/transport.hpp"

namespace nvmf::loop {

class loop_qpair;
class loop_transport;
struct loop_registry;

// Called on the target's reactor thread when a command completes.
using done_fn = void (*)(void* ctx, const spec::cqe& cqe);

// The host end of one loop queue pair (an admin or I/O queue).
class loop_queue {
public:
    explicit loop_queue(std::shared_ptr<loop_qpair> qp) : qp_(std::move(qp)) {}
    ~loop_queue();
    loop_queue(const loop_queue&) = delete;
    loop_queue& operator=(const loop_queue&) = delete;

    // Submits cmd with its data buffer (read for host-to-controller commands,
    // written for controller-to-host ones; the direction comes from the
    // opcode, FCTYPE for fabrics commands). Any thread. -EBUSY when the queue
    // holds as many commands as its SQ (or, before Connect, the deepest queue
    // the transport allows); -ENOTCONN once closed by either side.
    result<void> submit(const spec::sqe& cmd, std::span<uint8_t> data, done_fn done, void* ctx);
    // Submits and waits (never from a reactor thread). -ETIMEDOUT after
    // timeout_ms; the command may still complete later, so data must outlive
    // the queue in that case.
    result<spec::cqe> execute(const spec::sqe& cmd, std::span<uint8_t> data = {},
                              int timeout_ms = 10000);
    // False once the queue is closed (by close(), or by the target: its
    // controller went away).
    bool connected() const;
    // Closes the queue as a host disconnecting would; commands in flight still complete.
    void close();

private:
    std::shared_ptr<loop_qpair> qp_;
};

class loop_transport final : public transport {
public:
    loop_transport(target& tgt, transport_options opts);
    ~loop_transport() override;

    // A loop address is a name (traddr); listening makes it reachable by connect().
    result<void> listen(const transport_id& trid) override;
    result<void> stop_listen(const transport_id& trid) override;
    std::vector<transport_id> listening() const override;
    void shutdown() override;

    // Opens a queue pair on a listening address, placed round-robin on the
    // target's reactors. -ECONNREFUSED when nothing listens there. host_name
    // becomes the peer address the target reports (nvmf_subsystem_get_qpairs).
    result<std::unique_ptr<loop_queue>> connect(const transport_id& trid,
                                                const std::string& host_name = "loop-host");

private:
    mutable std::mutex mtx_;
    std::vector<transport_id> listening_;
    // Keeps every queue pair alive until it is closed and idle, as a TCP poll
    // group keeps its connections (the controller and requests in flight point
    // at it). Queue pairs reach it through a weak pointer: it dies with the
    // transport.
    std::shared_ptr<loop_registry> reg_;
    std::atomic<uint32_t> next_reactor_{0};
    bool shut_down_ = false;
};

}  // namespace nvmf::loop
