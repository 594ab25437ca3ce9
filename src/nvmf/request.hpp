// A command in flight, as the NVMe layer sees it: the SQE, the CQE being
// built, and the data buffer. Transports own a preallocated pool of them per
// queue pair (they embed this struct in their own request type), so the data
// path allocates nothing.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>

#include "bdev/bdev.hpp"
#include "nvme/spec/nvme.hpp"

namespace nvmf {

class qpair;
class ns;

// RDMA scatters a transfer over io_unit_size buffers: max_io_size /
// io_unit_size is at most 16 (SPDK's SGL limit, checked by the options).
constexpr int request_max_iov = 16;

struct request {
    spec::sqe cmd{};
    spec::cqe rsp{};
    qpair* qp = nullptr;
    void* transport_ctx = nullptr;  // the transport's own request object

    // Data buffer: exactly `length` bytes (the SGL's length), in iov.
    iovec iov[request_max_iov]{};
    int iovcnt = 0;
    uint32_t length = 0;
    spec::xfer xfer = spec::xfer::none;

    // Handler scratch: a bdev I/O embedded so that no I/O allocates, and the
    // namespace it targets, kept alive while the I/O is in flight.
    bdev::io bio{};
    std::shared_ptr<ns> target_ns;
    uint32_t handler_state = 0;
    // A fused Compare and Write: the second (Write) command's first (Compare).
    request* fused_first = nullptr;
    // When execute() took an I/O queue command (steady clock, ns): its
    // latency for the metrics endpoint.
    uint64_t started_ns = 0;

    // Set by a transport that sends controller-to-host data straight from iov
    // (a copy into the socket): a RAM bdev's read may then point iov at the
    // bdev's memory (bdev::io::may_lend), and lent_dev keeps that memory alive
    // until the transport releases the request, after the data is sent.
    bool accepts_lent_data = false;
    std::shared_ptr<bdev::block_device> lent_dev;

    // Copies the first len bytes of the data buffer out / in; returns bytes copied.
    size_t copy_from_buffer(void* dst, size_t len) const {
        return copy_from_buffer_at(0, dst, len);
    }
    size_t copy_from_buffer_at(size_t offset, void* dst, size_t len) const;
    size_t copy_to_buffer(const void* src, size_t len);
    void zero_buffer();
};

// Ends a command: sets the status and hands the request back to its
// transport, which sends data (controller-to-host, on success) and the
// response. Every executed command ends in exactly one complete().
void complete(request& req, spec::status st);
// The steady clock in nanoseconds (request::started_ns).
uint64_t now_ns();
inline void complete_ok(request& req) { complete(req, 0); }

// Abort of an executing I/O command, on its queue's reactor: true when its
// bdev I/O had not started and was cancelled (a delay bdev holding it); the
// command has then completed with Command Abort Requested (bdev result
// -ECANCELED). False when it is past the point of no return.
bool cancel_bdev_io(request& req);

}  // namespace nvmf
