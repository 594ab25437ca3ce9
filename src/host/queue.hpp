// One NVMe/TCP connection = one queue pair, as seen from the host. Commands
// are submitted with their data buffers and complete asynchronously: many can
// be outstanding; wait()/wait_any() read PDUs until the one wanted is done.
// The socket underneath is blocking; every read has a deadline.
//
// Errors: transport and protocol failures are negative errno codes in
// nvmf::error (-ECONNRESET closed, -ETIMEDOUT, -EPROTO the target broke the
// protocol or sent a C2HTermReq; see term()). NVMe status is in completion.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "host/pdu.hpp"
#include "host/socket.hpp"
#include "nvme/spec/nvme.hpp"
#include "nvme/spec/tcp.hpp"
#include "util/result.hpp"

namespace nvmf::host {

struct queue_options {
    bool hdgst = false;
    bool ddgst = false;
    uint8_t hpda = 0;
    uint32_t maxr2t = 0;       // 0's based: R2Ts outstanding per command we accept
    uint32_t icd_size = 8192;  // writes up to this many bytes go in-capsule
    uint16_t depth = 128;      // command slots; cids are 0..depth-1
    int timeout_ms = 10000;    // default deadline for connect and wait
    uint32_t h2c_chunk = 0;    // largest H2CData payload we send (0: MAXH2CDATA)
    // TLS before ICReq (a secure channel listener); null: plain TCP.
    std::shared_ptr<const tls_options> tls;
};

struct completion {
    spec::cqe cqe{};
    bool c2h_success = false;  // ended by a C2HData with SUCCESS, no CapsuleResp
    uint32_t data_len = 0;     // bytes the target sent (controller-to-host commands)

    spec::status status() const { return static_cast<spec::status>(cqe.status & 0xfffe); }
    bool ok() const { return spec::status_ok(cqe.status); }
    spec::sct sct() const { return spec::status_sct(cqe.status); }
    uint8_t sc() const { return spec::status_sc(cqe.status); }
    bool dnr() const { return spec::status_dnr(cqe.status); }
    uint64_t value64() const { return cqe.cdw0 | (static_cast<uint64_t>(cqe.cdw1) << 32); }
};

// What a C2HTermReq said.
struct term_info {
    bool received = false;
    uint16_t fes = 0;
    uint32_t fei = 0;
    std::vector<uint8_t> data;  // the offending header, as echoed by the target
};

// submit() flags.
namespace submit_flag {
constexpr uint32_t keep_sgl = 1u << 0;   // send sgl1 and PSDT as given; data in-capsule iff
                                         // sgl1 is a Data Block with subtype Offset
constexpr uint32_t force_r2t = 1u << 1;  // never put write data in-capsule
constexpr uint32_t defer = 1u << 2;      // queue the capsule; flush() (or any wait) sends
                                         // every deferred capsule in one write
}  // namespace submit_flag

// A whole PDU as received, uninterpreted (raw API).
struct raw_pdu {
    spec::tcp::common_header ch{};
    std::vector<uint8_t> bytes;  // the full PDU, common header included
};

class queue {
public:
    explicit queue(queue_options opts = {});
    queue(const queue&) = delete;
    queue& operator=(const queue&) = delete;

    // TCP connect (then the TLS handshake with options().tls), then ICReq/ICResp.
    result<void> open(const std::string& traddr, const std::string& trsvcid);
    // TCP connect, and the TLS handshake when options().tls is set.
    result<void> connect_tcp(const std::string& traddr, const std::string& trsvcid);
    void attach(int fd);  // an already connected socket (tests)
    result<void> initialize();

    // Submits a command; returns its cid. Buffers must stay valid until the
    // command completes. out: host-to-controller data, in: controller-to-host.
    result<uint16_t> submit(spec::sqe cmd, std::span<const uint8_t> out = {},
                            std::span<uint8_t> in = {}, uint32_t flags = 0);
    // timeout_ms < 0: the queue's default.
    result<completion> wait(uint16_t cid, int timeout_ms = -1);
    result<std::pair<uint16_t, completion>> wait_any(int timeout_ms = -1);
    result<completion> execute(const spec::sqe& cmd, std::span<const uint8_t> out = {},
                               std::span<uint8_t> in = {}, uint32_t flags = 0);
    // Sends capsules queued with submit_flag::defer.
    result<void> flush();
    // Deferred capsules also leave as soon as n of them wait (0: only when a
    // read must wait for the target or at flush()). A batch of a quarter of
    // the queue keeps the target busy while the rest is being prepared; one
    // batch of everything makes the two sides take turns.
    void set_defer_limit(uint32_t n) { sock_.set_defer_limit(n); }
    // Microseconds a read keeps polling the socket before it sleeps in poll()
    // (0, the default: sleep at once). A load generator spins, as
    // spdk_nvme_perf does: waking a sleeping reader costs the sending target
    // an inter-processor interrupt per wake-up.
    void set_busy_poll(uint32_t us) { sock_.set_busy_poll(us); }
    // Reads and handles one PDU.
    result<void> poll_once(int timeout_ms);
    uint32_t outstanding() const { return outstanding_; }
    bool is_done(uint16_t cid) const;

    // Raw access for protocol tests.
    result<void> send_raw(const void* data, size_t len);
    result<raw_pdu> recv_raw_pdu(int timeout_ms = -1);
    bool wait_closed(int timeout_ms);
    tcp_socket& sock() { return sock_; }
    void close();

    const pdu_params& params() const { return params_; }
    const spec::tcp::ic_resp& ic_resp() const { return ic_resp_; }
    uint32_t maxh2cdata() const { return ic_resp_.maxh2cdata; }
    uint32_t icd_size() const { return opts_.icd_size; }
    void set_icd_size(uint32_t n) { opts_.icd_size = n; }
    void set_h2c_chunk(uint32_t n) { opts_.h2c_chunk = n; }
    const queue_options& options() const { return opts_; }
    const term_info& term() const { return term_; }
    bool failed() const { return failed_; }
    const error& failure() const { return failure_; }
    uint64_t r2t_count() const { return r2t_count_; }
    uint64_t c2h_success_count() const { return c2h_success_count_; }

private:
    struct slot {
        bool busy = false;
        bool done = false;
        const uint8_t* out = nullptr;
        uint32_t out_len = 0;
        uint8_t* in = nullptr;
        uint32_t in_len = 0;
        completion comp;
    };

    int deadline(int timeout_ms) const { return timeout_ms < 0 ? opts_.timeout_ms : timeout_ms; }
    error fail(int code, std::string msg);
    result<void> read_header(int timeout_ms);
    result<void> handle_capsule_resp();
    result<void> handle_c2h_data(int timeout_ms);
    result<void> handle_r2t();
    result<void> handle_term_req(int timeout_ms);
    result<completion> take(uint16_t cid);
    slot* busy_slot(uint16_t cid);

    queue_options opts_;
    tcp_socket sock_;
    pdu_params params_;
    bool ic_done_ = false;
    spec::tcp::ic_resp ic_resp_{};
    std::vector<slot> slots_;
    std::deque<uint16_t> done_order_;
    uint16_t next_slot_ = 0;
    uint32_t outstanding_ = 0;
    bool failed_ = false;
    error failure_;
    term_info term_;
    uint8_t hdr_[128 + spec::tcp::digest_len]{};
    std::vector<uint8_t> scratch_;
    uint64_t r2t_count_ = 0;
    uint64_t c2h_success_count_ = 0;
};

}  // namespace nvmf::host
