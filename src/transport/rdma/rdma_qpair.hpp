// One NVMe/RDMA queue pair = one RC queue pair accepted through the RDMA CM.
// A received capsule becomes an rdma_request from the connection's pool
// (sized by the host's HSQSIZE at connect time); host data comes in by RDMA
// READ before execution, read data goes out by RDMA WRITE followed by the
// SEND of the completion (SEND with Invalidate when the host asked for it).
// Every work request is signaled, so the connection knows when the last one
// has completed (or been flushed) before it releases its QP.
#pragma once

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/request.hpp"
#include "reactor/reactor.hpp"
#include "transport/rdma/rdma_codec.hpp"
#include "transport/rdma/rdma_poll_group.hpp"

namespace nvmf::rdma {

class rdma_transport;

// What the CM event handler (reactor 0) finds in a connection's
// rdma_cm_id::context. The first member tells it from a listener's.
enum class cm_ctx_kind : uint8_t { listener, connection };
struct cm_link {
    cm_ctx_kind kind = cm_ctx_kind::connection;
    std::mutex mtx;  // the CM thread reads qp while the owner reactor sets it
    std::weak_ptr<qpair> qp;
    reactor* owner = nullptr;
};

enum class rreq_state : uint8_t {
    free,
    need_buffer,  // waiting for data buffers
    need_read,    // waiting for an RDMA READ slot (the negotiated initiator depth)
    reading,      // RDMA READ of the host's data posted
    executing,    // handed to nvmf::execute
    sending,      // RDMA WRITE and/or SEND posted
    count
};

struct rdma_request {
    request req;
    rreq_state state = rreq_state::free;
    data_desc desc;
    rdma_recv* recv = nullptr;  // held while its in-capsule data is in use
    spec::cqe* rsp = nullptr;   // registered response slot
    uint8_t nbufs = 0;
    uint8_t pending_wrs = 0;  // posted on the send queue, not yet completed
    void* bufs[request_max_iov]{};
    wr_ctx data_ctx{wr_kind::data, this};
    wr_ctx send_ctx{wr_kind::send, this};
    ibv_sge data_sge[request_max_iov]{};
    ibv_send_wr data_wr{};
    ibv_sge rsp_sge{};
    ibv_send_wr rsp_wr{};
    rdma_request* next_free = nullptr;
    rdma_request* next_wait = nullptr;  // buffer or READ waiting list
    uint32_t need_bufs = 0;
};

// What the CM request negotiated.
struct conn_setup {
    cm_decision cm;
    uint8_t initiator_depth = 0;  // RDMA READs we may have in flight (host's IRD)
    transport_id listen;
    transport_id peer;
};

class rdma_qpair final : public qpair {
public:
    rdma_qpair(rdma_poll_group& g, rdma_cm_id* id, cm_link* link, const conn_setup& s);
    ~rdma_qpair() override;

    // Creates the QP, registers the response slots (and the receive buffers
    // without SRQ) and posts the receives. On the owner reactor.
    result<void> setup();
    // rdma_accept with our private data; starts the Connect deadline.
    result<void> accept();
    void on_established();

    // qpair
    void on_complete(request& req) override;
    void disconnect() override;
    const transport_id& listen_trid() const override { return listen_; }
    const transport_id& peer_trid() const override { return peer_; }
    uint32_t max_io_size() const override;
    uint32_t in_capsule_data_size() const override;
    controller_limits limits() const override;
    // Commands executing in a bdev that can cancel them (a delay bdev) only;
    // the ones waiting for buffers or RDMA READs answer "not aborted".
    bool abort_request(uint16_t cid) override;

    // Completions routed here by the poll group.
    void on_recv(rdma_recv& r);
    void on_recv_flushed(rdma_recv& r);
    void on_send_done(rdma_request& r, const ibv_wc& wc);
    void on_data_done(rdma_request& r, const ibv_wc& wc);
    // Enough data buffers became free for a waiting request (already attached).
    void resume_with_buffers(rdma_request& r);

    // Posts the WRs queued in this batch (the poll group's flush).
    void flush();
    rdma_qpair* next_dirty = nullptr;
    bool dirty = false;

    void close_now(const char* why);
    // Destroys the QP and the CM id; idempotent (teardown or transport exit).
    void release_verbs();
    uint32_t qp_num() const { return qp_num_; }
    uint16_t depth() const { return depth_; }
    uint32_t cqe_reserved() const { return cqe_reserved_; }
    bool closed() const { return closed_; }

    uint64_t state_counts[static_cast<size_t>(rreq_state::count)] = {};

private:
    rdma_request* alloc_request();
    void release_request(rdma_request& r);
    void set_state(rdma_request& r, rreq_state s);
    void start_request(rdma_request& r, rdma_recv& recv);
    void fail_early(rdma_request& r, spec::status st, uint32_t cdw0 = 0);
    void release_idle();
    void attach_buffers(rdma_request& r);
    void post_read(rdma_request& r);
    void next_reads();
    void execute_request(rdma_request& r);
    void send_response(rdma_request& r);
    void queue_send(ibv_send_wr* first, ibv_send_wr* last);
    void queue_recv(rdma_recv& r);
    void recycle_recv(rdma_recv& r);
    void drop_unposted(ibv_send_wr* bad);
    void maybe_release_self();
    void process_pending_recvs();

    rdma_transport& transport_;
    rdma_poll_group& group_;
    rdma_cm_id* id_;
    cm_link* link_;  // owned: deleted after the CM id is destroyed
    ibv_qp* qp_ = nullptr;
    uint32_t qp_num_ = 0;
    transport_id listen_;
    transport_id peer_;
    uint16_t cm_qid_;
    uint16_t depth_;
    uint8_t initiator_depth_;
    uint32_t icd_size_;
    capsule_limits caps_;
    bool use_srq_;
    bool batching_;
    bool closed_ = false;
    bool release_scheduled_ = false;
    bool verbs_released_ = false;
    uint32_t cqe_reserved_ = 0;
    reactor::timer_id connect_timer_ = 0;

    // Requests and their registered response slots.
    std::vector<rdma_request> reqs_;
    std::unique_ptr<spec::cqe[]> rsps_;
    ibv_mr* rsp_mr_ = nullptr;
    rdma_request* free_ = nullptr;
    uint32_t outstanding_ = 0;

    // Per-QP receive queue (no_srq).
    std::unique_ptr<mem::slab_pool> recv_bufs_;
    ibv_mr* recv_mr_ = nullptr;
    std::vector<rdma_recv> recvs_;
    ibv_recv_wr* recv_head_ = nullptr;
    ibv_recv_wr* recv_tail_ = nullptr;
    uint32_t recvs_posted_ = 0;

    // Capsules that arrived while every request was busy (the host may send
    // a command as soon as it sees a completion, before our SEND completes).
    rdma_recv* pending_head_ = nullptr;
    rdma_recv* pending_tail_ = nullptr;
    uint32_t pending_count_ = 0;

    // Send queue: WRs queued for the batch, WRs posted and not completed.
    ibv_send_wr* send_head_ = nullptr;
    ibv_send_wr* send_tail_ = nullptr;
    uint32_t sends_posted_ = 0;
    // RDMA READs in flight and those waiting for a slot (FIFO).
    uint32_t reads_in_flight_ = 0;
    rdma_request* read_head_ = nullptr;
    rdma_request* read_tail_ = nullptr;
};

}  // namespace nvmf::rdma
