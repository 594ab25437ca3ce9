// Command handlers by queue type. dispatch.cpp routes a request here after
// the checks common to every command; each file below owns one concern and
// holds a table from opcode to handler, so a command's code is one hop from
// its opcode.
#pragma once

#include <memory>

#include "nvmf/qpair.hpp"
#include "nvmf/request.hpp"

namespace nvmf::cmd {

void fabrics(request& req);  // fabrics.cpp: Connect, Property Get/Set, Disconnect
void admin(request& req);    // admin.cpp: admin opcode table (NVM and discovery controllers)
void io(request& req);       // io.cpp: NVM command set I/O opcode table

// In-band authentication (auth.cpp): Authentication Send/Receive, and the
// Connect hook that makes a queue authenticate (returns the AUTHREQ bits
// for Connect's dword 0: ATR when the host has a DH-HMAC-CHAP key).
void auth_send(request& req);
void auth_recv(request& req);
uint32_t auth_on_connect(request& connect);
// A connected queue closes (controller::detach_qpair, its reactor): its
// authentication timer goes with it.
void auth_on_close(qpair& q);
bool is_auth_command(const spec::sqe& cmd);
// nvmf_subsystem_get_qpairs "auth" (any thread): null names when the queue
// never authenticated.
struct auth_info {
    const char* state = nullptr;
    const char* digest = nullptr;
    const char* dhgroup = nullptr;
};
auth_info auth_info_of(const qpair& q);

// Admin handlers living in their own files (called from admin.cpp's table).
void identify(request& req);      // identify.cpp
void get_log_page(request& req);  // log_page.cpp
void get_features(request& req);  // features.cpp
void set_features(request& req);  // features.cpp

// Reservations (reservation.cpp): the four I/O commands, and the
// Reservation Persistence feature's change of PTPL (persisted like a
// Register with CPTPL; returns the status).
void resv_register(request& req, const std::shared_ptr<ns>& n);
void resv_acquire(request& req, const std::shared_ptr<ns>& n);
void resv_release(request& req, const std::shared_ptr<ns>& n);
void resv_report(request& req, const std::shared_ptr<ns>& n);
spec::status resv_set_ptpl(controller& c, const std::shared_ptr<ns>& n, bool ptpl);

// The NVMe status for a bdev result (0 or -errno) of an I/O of that type
// (io.cpp): EIO is a media error (Unrecovered Read Error / Write Fault),
// ENOSPC Capacity Exceeded, an unknown errno Internal Error.
spec::status bdev_status(int result, bdev::io_type type);

// The checks every I/O command passes (io.cpp): opcode, namespace, ANA state,
// reservation. 0 and *n set to the namespace, or the status to fail with.
spec::status io_checks(request& req, const std::shared_ptr<ns>** n);
// Read, Write, Compare: the LBA range of cdw10-12, and its checks against the
// namespace and the data length (0 or the status).
struct lba_range {
    uint64_t slba;
    uint64_t nlb;
};
lba_range lba_range_of(const spec::sqe& cmd);
spec::status check_rw(const request& req, const ns& n, const lba_range& r);
// The SMART / Health log's counters for a bdev I/O of the request's
// namespace (Compare counts as a read), on the request's reactor.
void count_for_health_log(const request& req, bdev::io_type type, uint64_t blocks, int result);
// The index of the request's reactor (0 without one).
unsigned reactor_index(const request& req);

// Fused operations (fused.cpp). io() calls fused() for a command with FUSE
// set, or any command while its queue holds a first fused command: false
// when fused() took the command over, true when it runs as usual (the held
// first command was failed as missing its second). fused_on_close fails a
// held first command of a closing queue.
bool fused(request& req);
void fused_on_close(qpair& q);
// Compare on a bdev that has none: the blocks are read and compared in
// memory, under the namespace's write gate (checks done).
void compare_by_read(request& req, const std::shared_ptr<ns>& n);

// Whether admin.cpp's table implements opc for this controller type (the
// Commands Supported and Effects log is built from it).
bool admin_opcode_supported(uint8_t opc, bool discovery);

}  // namespace nvmf::cmd
