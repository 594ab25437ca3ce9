// One NVMe/TCP connection = one queue pair. Receive is a state machine over
// a buffered socket (common header -> header -> payload); each command is a
// tcp_request from a preallocated pool moving through req_state; sends are
// queued PDUs written with one sendmsg per batch.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/request.hpp"
#include "reactor/reactor.hpp"
#include "transport/tcp/pdu_codec.hpp"
#include "transport/transport.hpp"

namespace nvmf::tcp {

struct poll_group;
class tcp_transport;
struct tcp_request;
class tls_channel;

// An outgoing PDU: header bytes (with digest and padding), data, data digest.
struct out_pdu {
    out_pdu* next = nullptr;
    tcp_request* owner = nullptr;
    bool completes_request = false;  // sending it ends the request
    bool terminates = false;         // a C2HTermReq: close once sent
    uint32_t hdr_len = 0;
    std::array<uint8_t, max_header_bytes> hdr{};
    iovec data[request_max_iov]{};
    int data_cnt = 0;
    uint32_t ddgst = 0;
    bool has_ddgst = false;

    size_t wire_len() const;
};

enum class req_state : uint8_t {
    free,
    receiving_icd,     // in-capsule data arriving
    need_buffer,       // waiting for a pool buffer
    transferring_h2c,  // R2T sent, H2CData arriving
    executing,         // handed to nvmf::execute
    sending,           // response PDUs queued
    count
};

struct tcp_request {
    request req;
    req_state state = req_state::free;
    uint16_t ttag = 0;              // index in the pool: the R2T transfer tag
    spec::status early_status = 0;  // set when the command fails before execution
    bool in_capsule = false;
    uint32_t h2c_received = 0;
    std::unique_ptr<uint8_t[]> icd;  // in-capsule buffer, allocated on first use
    void* pool_buf = nullptr;
    out_pdu r2t_pdu;
    out_pdu data_pdu;
    out_pdu resp_pdu;
    tcp_request* next_free = nullptr;
    // Fused commands (NVMe Base: adjacent in the SQ), paired in arrival
    // order: each half waits (fused_waiting) until both have their data,
    // then the two execute back to back, so the NVMe layer sees them
    // adjacent even when one had to wait for an R2T. fused_failed: the other
    // half is missing (Command Aborted due to Missing Fused Command).
    tcp_request* fused_pair = nullptr;
    bool fused_waiting = false;
    bool fused_failed = false;
};

class tcp_qpair final : public qpair, public event_handler {
public:
    tcp_qpair(tcp_transport& t, poll_group& g, int fd, transport_id listen, transport_id peer);
    // channel: the TLS session this connection runs in (secure channel
    // listeners), or null for plain TCP.
    tcp_qpair(tcp_transport& t, poll_group& g, int fd, transport_id listen, transport_id peer,
              std::unique_ptr<tls_channel> channel);
    ~tcp_qpair() override;

    void start();

    // qpair
    void on_complete(request& req) override;
    void disconnect() override;
    const transport_id& listen_trid() const override { return listen_; }
    const transport_id& peer_trid() const override { return peer_; }
    uint32_t max_io_size() const override;
    uint32_t in_capsule_data_size() const override;
    controller_limits limits() const override;
    bool abort_request(uint16_t cid) override;

    // event_handler
    void on_events(uint32_t events) override;

    // A pool buffer became free for a waiting request.
    void resume_with_buffer(tcp_request& r, void* buf);

    uint64_t state_counts[static_cast<size_t>(req_state::count)] = {};

private:
    enum class rx_state : uint8_t { common_header, header, payload };

    void on_readable();
    // The socket, through TLS when the connection has it.
    ssize_t sock_recv(iovec* iov, int iovcnt);
    ssize_t sock_send(iovec* iov, int iovcnt);
    void process_rx();
    void handle_header();
    void handle_ic_req();
    void handle_capsule();
    void handle_h2c_data();
    void payload_done();
    bool consume_payload();
    // The rest of the current payload as iovecs for a direct recvmsg (0: none).
    int direct_payload_iov(iovec* out) const;
    void payload_received_direct(size_t n);
    void begin_payload(const data_layout& l, const iovec* dest, int cnt);
    uint8_t* icd_buffer(tcp_request& r);

    tcp_request* alloc_request();
    // Fused pairing (see tcp_request::fused_pair).
    void check_fused_ordering(tcp_request& r);
    void fused_unlink(tcp_request& r);
    void release_request(tcp_request& r);
    void set_state(tcp_request& r, req_state s);
    void start_request(tcp_request& r);
    void attach_buffer(tcp_request& r, void* buf);
    void execute_request(tcp_request& r);
    void send_r2t(tcp_request& r);
    void send_response(tcp_request& r);
    void parse_sgl(tcp_request& r, uint32_t icd_len);

    void fatal_error(const fatal& f, const uint8_t* hdr, size_t len);
    void queue(out_pdu& p);
    void schedule_flush();
    void flush();
    void want_write(bool on);
    void close_now(const char* why);
    void maybe_release_self();

    tcp_transport& transport_;
    poll_group& group_;
    int fd_;
    std::unique_ptr<tls_channel> tls_;
    transport_id listen_;
    transport_id peer_;
    conn_params params_;
    bool closed_ = false;
    bool terminating_ = false;
    bool in_events_ = false;
    bool flush_scheduled_ = false;
    bool writing_ = false;
    bool released_ = false;
    reactor::timer_id connect_timer_ = 0;
    reactor::timer_id linger_timer_ = 0;

    // Receive side.
    std::vector<uint8_t> rbuf_;
    size_t rhead_ = 0;
    size_t rtail_ = 0;
    rx_state rx_ = rx_state::common_header;
    spec::tcp::common_header ch_{};
    uint32_t hdr_need_ = 0;
    std::array<uint8_t, 128 + spec::tcp::digest_len> hdr_{};
    // Current payload: padding to skip, destination, digest.
    uint32_t pad_left_ = 0;
    iovec dest_[request_max_iov + 1]{};
    int dest_cnt_ = 0;
    int dest_idx_ = 0;
    size_t dest_off_ = 0;
    uint32_t data_left_ = 0;
    bool discard_ = false;
    bool want_ddgst_ = false;
    uint32_t crc_ = 0;
    uint8_t ddgst_buf_[4]{};
    uint32_t ddgst_got_ = 0;
    tcp_request* rx_req_ = nullptr;
    uint32_t rx_datal_ = 0;

    // Requests.
    std::vector<std::unique_ptr<tcp_request>> reqs_;
    tcp_request* free_ = nullptr;
    tcp_request* fused_first_ = nullptr;  // a first fused command, its next not yet received
    uint32_t outstanding_ = 0;            // requests between capsule and release
    uint32_t icd_size_;

    // Send side.
    out_pdu* send_head_ = nullptr;
    out_pdu* send_tail_ = nullptr;
    size_t send_off_ = 0;
    out_pdu ic_resp_pdu_;
    out_pdu term_pdu_;
};

}  // namespace nvmf::tcp
