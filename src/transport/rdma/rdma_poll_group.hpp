// Per device, per reactor state of the RDMA transport: one completion queue
// with its completion channel on the reactor's epoll, the shared receive
// queue (unless no_srq) with its capsule buffers, and the data buffers of
// io_unit_size bytes. Both buffer regions are registered once, here; nothing
// is registered per I/O. Touched only by its reactor after creation.
#pragma once

#include <infiniband/verbs.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "mem/slab_pool.hpp"
#include "reactor/reactor.hpp"
#include "transport/transport.hpp"

namespace nvmf::rdma {

class rdma_transport;
class rdma_qpair;
class rdma_poll_group;
struct rdma_request;

// What a work completion refers to: wr_id is the address of one of these.
enum class wr_kind : uint8_t { recv, send, data };
struct wr_ctx {
    wr_kind kind;
    void* owner;  // rdma_recv* or rdma_request*
};

// One receive buffer: a command capsule (SQE, then in-capsule data).
struct rdma_recv {
    wr_ctx ctx{wr_kind::recv, this};
    ibv_recv_wr wr{};
    ibv_sge sge{};
    uint8_t* buf = nullptr;
    uint32_t byte_len = 0;      // of the last completion
    rdma_qpair* qp = nullptr;   // its per-QP receive queue (no_srq); null: the SRQ
    rdma_recv* next = nullptr;  // a queue pair's capsules waiting for a free request
};

// An opened RDMA device (an ibv_context that librdmacm owns) and its poll groups.
struct rdma_device {
    ibv_context* ctx = nullptr;
    ibv_pd* pd = nullptr;
    ibv_device_attr attr{};
    std::string name;
    bool send_with_invalidate = false;
    uint32_t max_data_sge = 0;  // SGEs a data WR may carry (READs and WRITEs alike)
    std::vector<std::unique_ptr<rdma_poll_group>> groups;  // index: reactor

    ~rdma_device();
};

struct poll_group_counters {
    uint64_t accepted = 0;
    uint64_t rejected = 0;
    uint64_t closed = 0;
    uint64_t completions = 0;
    uint64_t polls = 0;
    uint64_t send_posts = 0;  // ibv_post_send calls (WR batching merges many WRs)
    uint64_t rdma_reads = 0;
    uint64_t rdma_writes = 0;
    uint64_t send_with_invalidate = 0;  // completions that invalidated the host's key
    uint64_t wc_errors = 0;
};

class rdma_poll_group final : public event_handler {
public:
    // Creates the CQ, SRQ and buffers on the calling (control) thread and
    // registers the completion channel with r. Nothing has used it yet.
    static result<std::unique_ptr<rdma_poll_group>> create(rdma_transport& t, rdma_device& d,
                                                           reactor& r);
    ~rdma_poll_group() override;

    // event_handler: the completion channel fired.
    void on_events(uint32_t events) override;

    rdma_transport& transport() { return transport_; }
    rdma_device& device() { return dev_; }
    reactor& owner() { return owner_; }
    ibv_cq* cq() const { return cq_; }
    ibv_srq* srq() const { return srq_; }
    const transport_options& options() const;

    // CQ room for a new queue pair's work requests (the CQ grows when it must).
    bool reserve_cqe(uint32_t n);
    void release_cqe(uint32_t n);

    // Data buffers of io_unit_size bytes: n of them into out, or false.
    uint32_t unit_size() const { return static_cast<uint32_t>(data_.buf_size()); }
    uint32_t data_lkey() const { return data_mr_->lkey; }
    bool get_buffers(size_t n, void** out) { return data_.get(n, out); }
    // Returns buffers and hands them on to waiting requests.
    void put_buffers(void* const* bufs, size_t n);
    // r waits (FIFO) until enough buffers are free; never fails it.
    void wait_for_buffers(rdma_request& r);
    void forget_waiters_of(const rdma_qpair* q);

    // Gives an SRQ capsule buffer back to the SRQ (posted with the batch).
    void repost_recv(rdma_recv& r);
    // Posts what the batch queued (SRQ receives, each dirty qpair's sends).
    void flush();
    // Arranges a flush after the current batch of reactor events.
    void schedule_flush();
    void mark_dirty(rdma_qpair* q);

    // Queue pairs of this group: by QP number (SRQ completions name only
    // that) and owned by shared pointer until their resources are released.
    std::unordered_map<uint32_t, rdma_qpair*> by_qpn;
    std::unordered_map<rdma_qpair*, std::shared_ptr<rdma_qpair>> conns;
    poll_group_counters counters;

    nlohmann::json stats() const;
    // Releases every queue pair's verbs resources (transport teardown).
    void destroy_all_qpairs();

private:
    rdma_poll_group(rdma_transport& t, rdma_device& d, reactor& r);
    result<void> setup();
    void poll();
    void handle(const ibv_wc& wc);

    rdma_transport& transport_;
    rdma_device& dev_;
    reactor& owner_;
    ibv_comp_channel* channel_ = nullptr;
    ibv_cq* cq_ = nullptr;
    uint32_t cq_size_ = 0;
    uint32_t cq_reserved_ = 0;
    unsigned unacked_events_ = 0;
    bool fd_added_ = false;

    // Shared receive queue and its capsule buffers.
    ibv_srq* srq_ = nullptr;
    std::unique_ptr<mem::slab_pool> recv_bufs_;
    ibv_mr* recv_mr_ = nullptr;
    std::vector<rdma_recv> recvs_;
    ibv_recv_wr* srq_head_ = nullptr;
    ibv_recv_wr* srq_tail_ = nullptr;

    // Data buffers.
    mem::slab_pool data_;
    ibv_mr* data_mr_ = nullptr;
    rdma_request* wait_head_ = nullptr;
    rdma_request* wait_tail_ = nullptr;
    size_t waiters_ = 0;

    // Queue pairs with work queued for the next flush (intrusive list).
    rdma_qpair* dirty_head_ = nullptr;
    bool in_poll_ = false;
    bool flush_scheduled_ = false;
};

}  // namespace nvmf::rdma
