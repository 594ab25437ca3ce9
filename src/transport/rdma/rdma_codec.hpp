// NVMe/RDMA codec: pure functions over what arrives from the wire. The RDMA
// CM private data of a connect request (accept or reject, with which
// status), the accept/reject private data we send back, and the data pointer
// (SGL1) of a received command capsule. No verbs and no state beyond what is
// passed in, so it is unit tested and fuzzed without an RDMA device.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nvme/spec/nvme.hpp"
#include "nvme/spec/rdma.hpp"

namespace nvmf::rdma {

// What a queue may be, from the transport options.
struct queue_limits {
    uint32_t max_aq_depth = 128;     // admin queue entries
    uint32_t max_queue_depth = 128;  // I/O queue entries
    uint32_t max_io_qpairs = 127;    // highest I/O queue ID
};

// The outcome of an RDMA_CM_REQUEST.
struct cm_decision {
    bool accept = false;
    spec::rdma::cm_status reject = spec::rdma::cm_status::invalid_private_data_length;
    uint16_t qid = 0;
    uint16_t depth = 0;    // queue entries we provide: HSQSIZE + 1
    uint16_t hrqsize = 0;  // receive buffers the host posted: our limit on SENDs
    uint16_t cntlid = 0;
};

// Checks the private data of a connect request (len bytes at data; data may
// be null when len is 0). Every field the host sets is validated here: the
// length, RECFMT, the queue ID range, HSQSIZE against the admin or I/O queue
// limit, HRQSIZE (the host must be able to receive a response per command).
cm_decision check_cm_request(const void* data, size_t len, const queue_limits& lim);

// Private data we send: sizeof(spec::rdma::cm_accept) / cm_reject bytes.
spec::rdma::cm_accept make_cm_accept(uint16_t crqsize);
spec::rdma::cm_reject make_cm_reject(spec::rdma::cm_status sts);

// Where a capsule's data is.
enum class data_kind : uint8_t {
    none,        // no data transfer
    in_capsule,  // bytes after the SQE in the received capsule
    keyed,       // host memory: RDMA READ (host to controller) or WRITE
};

struct data_desc {
    spec::status status = 0;  // non-zero: fail the command with it, do not execute
    data_kind kind = data_kind::none;
    spec::xfer xfer = spec::xfer::none;
    uint32_t length = 0;
    uint32_t icd_offset = 0;  // in_capsule: offset into the in-capsule data
    uint64_t address = 0;     // keyed: host virtual address
    uint32_t rkey = 0;        // keyed: remote key
    bool invalidate = false;  // keyed: the host asked for SEND with Invalidate of rkey
};

struct capsule_limits {
    uint32_t max_io_size = 131072;    // MDTS in bytes: the largest keyed transfer
    uint32_t icd_size = 4096;         // in-capsule data a receive buffer holds
    bool keyed_invalidate_ok = true;  // the device can SEND with Invalidate
};

// The data direction of a command: from the opcode, or FCTYPE for fabrics.
spec::xfer command_xfer(const spec::sqe& cmd);

// Decodes SGL1 of a received command. icd_len is the number of bytes that
// arrived after the 64-byte SQE (the receive completion's byte_len - 64).
data_desc parse_capsule(const spec::sqe& cmd, uint32_t icd_len, const capsule_limits& lim);

// A Connect command on an RDMA queue must describe the queue that the CM
// request set up: the same QID, and no more entries than were provided.
// Returns 0, or the byte offset in the SQE of the field that disagrees
// (for Connect Invalid Parameters' IPO) via *ipo with a non-zero status.
spec::status check_connect_matches(const spec::sqe& cmd, uint16_t cm_qid, uint16_t depth,
                                   uint16_t* ipo);

}  // namespace nvmf::rdma
