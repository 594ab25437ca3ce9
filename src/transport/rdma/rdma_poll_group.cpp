#include "transport/rdma/rdma_poll_group.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "nvmf/target.hpp"
#include "transport/rdma/rdma_qpair.hpp"
#include "transport/rdma/rdma_transport.hpp"
#include "util/log.hpp"

namespace nvmf::rdma {

namespace {
// ibv_reg_mr's macro mixes enum types on an enum argument (clang warns): pass an int.
constexpr int local_write = IBV_ACCESS_LOCAL_WRITE;
constexpr int poll_batch = 32;
// Completion events are acknowledged in batches (ibv_ack_cq_events takes a mutex).
constexpr unsigned ack_batch = 64;

error verbs_error(const std::string& what, int e) {
    return make_error(e > 0 ? -e : -EIO, what + ": " + std::strerror(e > 0 ? e : EIO));
}
}  // namespace

rdma_device::~rdma_device() {
    groups.clear();
    if (pd) ibv_dealloc_pd(pd);
}

rdma_poll_group::rdma_poll_group(rdma_transport& t, rdma_device& d, reactor& r)
    : transport_(t), dev_(d), owner_(r),
      data_(t.options().io_unit_size,
            std::max<size_t>(t.options().num_shared_buffers / t.tgt().reactors.size(),
                             (t.options().max_io_size + t.options().io_unit_size - 1) /
                                 t.options().io_unit_size)) {}

const transport_options& rdma_poll_group::options() const { return transport_.options(); }

result<std::unique_ptr<rdma_poll_group>> rdma_poll_group::create(rdma_transport& t, rdma_device& d,
                                                                 reactor& r) {
    std::unique_ptr<rdma_poll_group> g;
    try {
        g.reset(new rdma_poll_group(t, d, r));
    } catch (const std::bad_alloc&) {
        return make_error(-ENOMEM, "cannot allocate the RDMA data buffers (num_shared_buffers " +
                                       std::to_string(t.options().num_shared_buffers) + " of " +
                                       std::to_string(t.options().io_unit_size) + " bytes)");
    }
    if (auto s = g->setup(); !s) return s.err();
    return g;
}

result<void> rdma_poll_group::setup() {
    const auto& o = options();
    channel_ = ibv_create_comp_channel(dev_.ctx);
    if (!channel_) return verbs_error("ibv_create_comp_channel on " + dev_.name, errno);
    // The reactor drains events without blocking.
    const int fl = fcntl(channel_->fd, F_GETFL);
    if (fl < 0 || fcntl(channel_->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return verbs_error("fcntl O_NONBLOCK on the completion channel", errno);
    }
    const auto max_cqe = static_cast<uint32_t>(std::max(dev_.attr.max_cqe, 1));
    uint32_t srq_depth = 0;
    if (!o.no_srq) {
        srq_depth = std::min<uint32_t>(o.max_srq_depth,
                                       static_cast<uint32_t>(std::max(dev_.attr.max_srq_wr, 0)));
        if (srq_depth < 2) {
            return make_error(-ENOTSUP,
                              "device " + dev_.name + " has no shared receive queues; use no_srq");
        }
        if (srq_depth < o.max_srq_depth) {
            log::warn("rdma {}: max_srq_depth {} lowered to the device's maximum {}", dev_.name,
                      o.max_srq_depth, srq_depth);
        }
    }
    // With the SRQ, its receives come on top of what the queue pairs need.
    cq_size_ = std::min(max_cqe, o.num_cqe + srq_depth);
    cq_ = ibv_create_cq(dev_.ctx, static_cast<int>(cq_size_), this, channel_, 0);
    if (!cq_) return verbs_error("ibv_create_cq (" + std::to_string(cq_size_) + " entries)", errno);
    // The provider may round up.
    cq_size_ = static_cast<uint32_t>(cq_->cqe);
    cq_reserved_ = srq_depth;

    data_mr_ = ibv_reg_mr(dev_.pd, data_.base(), data_.bytes(), local_write);
    if (!data_mr_) return verbs_error("ibv_reg_mr of the data buffers", errno);

    if (srq_depth) {
        ibv_srq_init_attr sa{};
        sa.attr.max_wr = srq_depth;
        sa.attr.max_sge = 1;
        srq_ = ibv_create_srq(dev_.pd, &sa);
        if (!srq_) return verbs_error("ibv_create_srq (" + std::to_string(srq_depth) + ")", errno);
        const size_t capsule = sizeof(spec::sqe) + o.in_capsule_data_size;
        try {
            recv_bufs_ = std::make_unique<mem::slab_pool>(capsule, srq_depth);
        } catch (const std::bad_alloc&) {
            return make_error(-ENOMEM, "cannot allocate the SRQ capsule buffers");
        }
        recv_mr_ = ibv_reg_mr(dev_.pd, recv_bufs_->base(), recv_bufs_->bytes(), local_write);
        if (!recv_mr_) return verbs_error("ibv_reg_mr of the SRQ buffers", errno);
        recvs_.resize(srq_depth);
        for (auto& r : recvs_) {
            void* b = nullptr;
            recv_bufs_->get(1, &b);
            r.buf = static_cast<uint8_t*>(b);
            r.sge = {reinterpret_cast<uintptr_t>(r.buf), static_cast<uint32_t>(capsule),
                     recv_mr_->lkey};
            r.wr.wr_id = reinterpret_cast<uintptr_t>(&r.ctx);
            r.wr.sg_list = &r.sge;
            r.wr.num_sge = 1;
            repost_recv(r);
        }
        ibv_recv_wr* bad = nullptr;
        if (int e = ibv_post_srq_recv(srq_, srq_head_, &bad); e != 0) {
            return verbs_error("ibv_post_srq_recv", e);
        }
        srq_head_ = srq_tail_ = nullptr;
    }
    if (int e = ibv_req_notify_cq(cq_, 0); e != 0) return verbs_error("ibv_req_notify_cq", e);
    owner_.add_fd(channel_->fd, EPOLLIN, this);
    fd_added_ = true;
    log::info("rdma {}: poll group on reactor {}: CQ {} entries, {}, {} data buffers of {} bytes",
              dev_.name, owner_.index(), cq_size_,
              srq_ ? "SRQ of " + std::to_string(srq_depth) : std::string("no SRQ"), data_.count(),
              data_.buf_size());
    return {};
}

rdma_poll_group::~rdma_poll_group() {
    destroy_all_qpairs();
    if (fd_added_) owner_.del_fd(channel_->fd);
    if (cq_ && unacked_events_) ibv_ack_cq_events(cq_, unacked_events_);
    if (srq_) ibv_destroy_srq(srq_);
    if (recv_mr_) ibv_dereg_mr(recv_mr_);
    if (data_mr_) ibv_dereg_mr(data_mr_);
    if (cq_) ibv_destroy_cq(cq_);
    if (channel_) ibv_destroy_comp_channel(channel_);
}

void rdma_poll_group::destroy_all_qpairs() {
    for (auto& [q, sp] : conns) sp->release_verbs();
    conns.clear();
    by_qpn.clear();
}

bool rdma_poll_group::reserve_cqe(uint32_t n) {
    if (cq_reserved_ + n > cq_size_) {
        const auto max_cqe = static_cast<uint32_t>(std::max(dev_.attr.max_cqe, 1));
        const uint32_t want = std::min(max_cqe, std::max(cq_size_ * 2, cq_reserved_ + n));
        if (want < cq_reserved_ + n) return false;
        // Resized on the owner reactor, the only thread that polls this CQ.
        if (ibv_resize_cq(cq_, static_cast<int>(want)) != 0) {
            log::warn("rdma {}: cannot grow the CQ of reactor {} to {} entries: {}", dev_.name,
                      owner_.index(), want, std::strerror(errno));
            return false;
        }
        cq_size_ = static_cast<uint32_t>(cq_->cqe);
        if (cq_reserved_ + n > cq_size_) return false;
    }
    cq_reserved_ += n;
    return true;
}

void rdma_poll_group::release_cqe(uint32_t n) { cq_reserved_ -= std::min(n, cq_reserved_); }

void rdma_poll_group::put_buffers(void* const* bufs, size_t n) {
    for (size_t i = 0; i < n; ++i) data_.put(bufs[i]);
    // Hand buffers on in arrival order: a large request at the head is not
    // overtaken by small ones (it would starve).
    while (wait_head_ && wait_head_->need_bufs <= data_.available()) {
        rdma_request* r = wait_head_;
        wait_head_ = r->next_wait;
        if (!wait_head_) wait_tail_ = nullptr;
        r->next_wait = nullptr;
        --waiters_;
        data_.get(r->need_bufs, r->bufs);
        r->nbufs = static_cast<uint8_t>(r->need_bufs);
        auto* q = static_cast<rdma_qpair*>(r->req.qp);
        // Resume after the current batch: the releasing code may be mid-flush.
        std::weak_ptr<qpair> w = q->weak_from_this();
        owner_.defer([w, r] {
            if (auto qp = w.lock()) static_cast<rdma_qpair*>(qp.get())->resume_with_buffers(*r);
        });
    }
}

void rdma_poll_group::wait_for_buffers(rdma_request& r) {
    r.next_wait = nullptr;
    if (wait_tail_) {
        wait_tail_->next_wait = &r;
    } else {
        wait_head_ = &r;
    }
    wait_tail_ = &r;
    ++waiters_;
}

void rdma_poll_group::forget_waiters_of(const rdma_qpair* q) {
    rdma_request** link = &wait_head_;
    wait_tail_ = nullptr;
    while (*link) {
        rdma_request* r = *link;
        if (r->req.qp == q) {
            *link = r->next_wait;
            r->next_wait = nullptr;
            --waiters_;
        } else {
            wait_tail_ = r;
            link = &r->next_wait;
        }
    }
}

void rdma_poll_group::repost_recv(rdma_recv& r) {
    r.wr.next = nullptr;
    if (srq_tail_) {
        srq_tail_->next = &r.wr;
    } else {
        srq_head_ = &r.wr;
    }
    srq_tail_ = &r.wr;
    if (!fd_added_) return;  // set-up posts the whole ring at once
    if (options().no_wr_batching) {
        flush();
    } else {
        schedule_flush();
    }
}

void rdma_poll_group::mark_dirty(rdma_qpair* q) {
    if (q->dirty) return;
    q->dirty = true;
    q->next_dirty = dirty_head_;
    dirty_head_ = q;
    schedule_flush();
}

void rdma_poll_group::schedule_flush() {
    if (in_poll_ || flush_scheduled_) return;
    flush_scheduled_ = true;
    owner_.defer([this] {
        flush_scheduled_ = false;
        flush();
    });
}

void rdma_poll_group::flush() {
    if (srq_head_) {
        ibv_recv_wr* bad = nullptr;
        if (int e = ibv_post_srq_recv(srq_, srq_head_, &bad); e != 0) {
            // The SRQ is sized for every buffer it owns, so this is a device
            // failure; the buffers from bad on stay out of the ring.
            log::error("rdma {}: ibv_post_srq_recv: {}", dev_.name, std::strerror(e));
        }
        srq_head_ = srq_tail_ = nullptr;
    }
    while (dirty_head_) {
        rdma_qpair* q = dirty_head_;
        dirty_head_ = q->next_dirty;
        q->next_dirty = nullptr;
        q->dirty = false;
        q->flush();
    }
}

void rdma_poll_group::on_events(uint32_t) {
    ibv_cq* ev_cq = nullptr;
    void* ev_ctx = nullptr;
    while (ibv_get_cq_event(channel_, &ev_cq, &ev_ctx) == 0) ++unacked_events_;
    if (unacked_events_ >= ack_batch) {
        ibv_ack_cq_events(cq_, unacked_events_);
        unacked_events_ = 0;
    }
    in_poll_ = true;
    poll();
    // Re-arm, then poll once more: a completion that arrived between the last
    // poll and the re-arm raises no event.
    ibv_req_notify_cq(cq_, 0);
    poll();
    in_poll_ = false;
    flush();
}

void rdma_poll_group::poll() {
    ibv_wc wc[poll_batch];
    for (;;) {
        const int n = ibv_poll_cq(cq_, poll_batch, wc);
        ++counters.polls;
        if (n <= 0) {
            if (n < 0) log::error("rdma {}: ibv_poll_cq failed", dev_.name);
            return;
        }
        counters.completions += static_cast<uint64_t>(n);
        for (int i = 0; i < n; ++i) handle(wc[i]);
        if (n < poll_batch) return;
    }
}

void rdma_poll_group::handle(const ibv_wc& wc) {
    auto* ctx = reinterpret_cast<wr_ctx*>(wc.wr_id);
    if (wc.status != IBV_WC_SUCCESS && wc.status != IBV_WC_WR_FLUSH_ERR) ++counters.wc_errors;
    switch (ctx->kind) {
    case wr_kind::recv: {
        auto& r = *static_cast<rdma_recv*>(ctx->owner);
        rdma_qpair* q = r.qp;
        if (q == nullptr) {
            auto it = by_qpn.find(wc.qp_num);
            q = it == by_qpn.end() ? nullptr : it->second;
        }
        if (wc.status != IBV_WC_SUCCESS) {
            if (wc.status != IBV_WC_WR_FLUSH_ERR) {
                log::warn("rdma {}: receive completion error: {}", dev_.name,
                          ibv_wc_status_str(wc.status));
            }
            if (r.qp) {
                r.qp->on_recv_flushed(r);
            } else {
                repost_recv(r);  // an SRQ buffer stays in the ring
                if (q && wc.status != IBV_WC_WR_FLUSH_ERR) q->close_now("receive error");
            }
            return;
        }
        if (q == nullptr || q->closed()) {
            // A capsule for a queue pair that is gone or going: drop it.
            if (r.qp) {
                r.qp->on_recv_flushed(r);
            } else {
                repost_recv(r);
            }
            return;
        }
        r.byte_len = wc.byte_len;
        q->on_recv(r);
        return;
    }
    case wr_kind::send: {
        auto& req = *static_cast<rdma_request*>(ctx->owner);
        static_cast<rdma_qpair*>(req.req.qp)->on_send_done(req, wc);
        return;
    }
    case wr_kind::data: {
        auto& req = *static_cast<rdma_request*>(ctx->owner);
        static_cast<rdma_qpair*>(req.req.qp)->on_data_done(req, wc);
        return;
    }
    }
}

nlohmann::json rdma_poll_group::stats() const {
    return {{"reactor", owner_.index()},
            {"device", dev_.name},
            {"current_connections", conns.size()},
            {"accepted", counters.accepted},
            {"rejected", counters.rejected},
            {"closed", counters.closed},
            {"completions", counters.completions},
            {"polls", counters.polls},
            {"send_posts", counters.send_posts},
            {"rdma_reads", counters.rdma_reads},
            {"rdma_writes", counters.rdma_writes},
            {"send_with_invalidate", counters.send_with_invalidate},
            {"completion_errors", counters.wc_errors},
            {"cq_size", cq_size_},
            {"cq_reserved", cq_reserved_},
            {"srq_depth", recvs_.size()},
            {"buffers", data_.count()},
            {"buffers_in_use", data_.in_use()},
            {"buffer_waiters", waiters_}};
}

}  // namespace nvmf::rdma
