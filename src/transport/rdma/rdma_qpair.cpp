#include "transport/rdma/rdma_qpair.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "nvme/spec/fabrics.hpp"
#include "nvmf/target.hpp"
#include "transport/rdma/rdma_transport.hpp"
#include "util/log.hpp"

namespace nvmf::rdma {

namespace {
// ibv_reg_mr's macro mixes enum types on an enum argument (clang warns): pass an int.
constexpr int local_write = IBV_ACCESS_LOCAL_WRITE;
// A connection that has not completed Connect by then is dropped.
constexpr auto connect_deadline = std::chrono::seconds(10);

error verbs_error(const std::string& what, int e) {
    return make_error(e > 0 ? -e : -EIO, what + ": " + std::strerror(e > 0 ? e : EIO));
}
}  // namespace

rdma_qpair::rdma_qpair(rdma_poll_group& g, rdma_cm_id* id, cm_link* link, const conn_setup& s)
    : transport_(g.transport()), group_(g), id_(id), link_(link), listen_(s.listen), peer_(s.peer),
      cm_qid_(s.cm.qid), depth_(s.cm.depth), initiator_depth_(s.initiator_depth),
      icd_size_(g.options().in_capsule_data_size), use_srq_(g.srq() != nullptr),
      batching_(!g.options().no_wr_batching), reqs_(s.cm.depth) {
    owner = &g.owner();
    tgt = &transport_.tgt();
    caps_.max_io_size = g.options().max_io_size;
    caps_.icd_size = icd_size_;
    caps_.keyed_invalidate_ok = g.device().send_with_invalidate;
    for (auto& r : reqs_) {
        r.req.transport_ctx = &r;
        r.req.qp = this;
        r.next_free = free_;
        free_ = &r;
    }
    state_counts[static_cast<size_t>(rreq_state::free)] = depth_;
}

rdma_qpair::~rdma_qpair() { release_verbs(); }

result<void> rdma_qpair::setup() {
    rdma_device& dev = group_.device();
    rsps_ = std::make_unique<spec::cqe[]>(depth_);
    rsp_mr_ = ibv_reg_mr(dev.pd, rsps_.get(), sizeof(spec::cqe) * depth_, local_write);
    if (!rsp_mr_) return verbs_error("ibv_reg_mr of the response slots", errno);
    for (uint16_t i = 0; i < depth_; ++i) {
        rdma_request& r = reqs_[i];
        r.rsp = &rsps_[i];
        r.rsp_sge = {reinterpret_cast<uintptr_t>(r.rsp), sizeof(spec::cqe), rsp_mr_->lkey};
        r.rsp_wr.wr_id = reinterpret_cast<uintptr_t>(&r.send_ctx);
        r.rsp_wr.sg_list = &r.rsp_sge;
        r.rsp_wr.num_sge = 1;
        r.rsp_wr.send_flags = IBV_SEND_SIGNALED;
        r.data_wr.wr_id = reinterpret_cast<uintptr_t>(&r.data_ctx);
        r.data_wr.sg_list = r.data_sge;
        r.data_wr.send_flags = IBV_SEND_SIGNALED;
    }
    if (!use_srq_) {
        const size_t capsule = sizeof(spec::sqe) + icd_size_;
        try {
            recv_bufs_ = std::make_unique<mem::slab_pool>(capsule, depth_);
        } catch (const std::bad_alloc&) {
            return make_error(-ENOMEM, "cannot allocate the receive buffers");
        }
        recv_mr_ = ibv_reg_mr(dev.pd, recv_bufs_->base(), recv_bufs_->bytes(), local_write);
        if (!recv_mr_) return verbs_error("ibv_reg_mr of the receive buffers", errno);
        recvs_.resize(depth_);
        for (auto& r : recvs_) {
            void* b = nullptr;
            recv_bufs_->get(1, &b);
            r.buf = static_cast<uint8_t*>(b);
            r.qp = this;
            r.sge = {reinterpret_cast<uintptr_t>(r.buf), static_cast<uint32_t>(capsule),
                     recv_mr_->lkey};
            r.wr.wr_id = reinterpret_cast<uintptr_t>(&r.ctx);
            r.wr.sg_list = &r.sge;
            r.wr.num_sge = 1;
        }
    }
    // Each request has at most one data WR and one SEND on the send queue;
    // without an SRQ each also has a receive.
    const uint32_t cqes = 2u * depth_ + (use_srq_ ? 0u : depth_);
    if (!group_.reserve_cqe(cqes)) {
        return make_error(-ENOSPC, "the completion queue of reactor " +
                                       std::to_string(owner->index()) + " is full");
    }
    cqe_reserved_ = cqes;

    ibv_qp_init_attr a{};
    a.send_cq = group_.cq();
    a.recv_cq = group_.cq();
    a.srq = group_.srq();
    a.qp_type = IBV_QPT_RC;
    a.cap.max_send_wr = 2u * depth_;
    a.cap.max_recv_wr = use_srq_ ? 0u : depth_;
    a.cap.max_send_sge = dev.max_data_sge;
    a.cap.max_recv_sge = 1;
    a.sq_sig_all = 0;
    if (rdma_create_qp(id_, dev.pd, &a) != 0) return verbs_error("rdma_create_qp", errno);
    qp_ = id_->qp;
    qp_num_ = qp_->qp_num;
    if (!use_srq_) {
        for (auto& r : recvs_) queue_recv(r);
        ibv_recv_wr* bad = nullptr;
        if (int e = ibv_post_recv(qp_, recv_head_, &bad); e != 0) {
            recv_head_ = recv_tail_ = nullptr;
            recvs_posted_ = 0;
            return verbs_error("ibv_post_recv", e);
        }
        recv_head_ = recv_tail_ = nullptr;
    }
    return {};
}

result<void> rdma_qpair::accept() {
    const spec::rdma::cm_accept pd = make_cm_accept(depth_);
    rdma_conn_param p{};
    p.private_data = &pd;
    p.private_data_len = sizeof(pd);
    // The host never reads from us; we read from it up to its IRD.
    p.responder_resources = 0;
    p.initiator_depth = initiator_depth_;
    p.rnr_retry_count = 7;
    if (rdma_accept(id_, &p) != 0) return verbs_error("rdma_accept", errno);
    std::weak_ptr<qpair> w = weak_from_this();
    connect_timer_ = owner->add_timer(connect_deadline, [w] {
        if (auto q = w.lock(); q && !q->connected) {
            log::warn("{}: no Connect within {} s, closing", q->peer_trid().to_string(),
                      std::chrono::seconds(connect_deadline).count());
            q->disconnect();
        }
    });
    return {};
}

void rdma_qpair::on_established() {
    log::debug("{} qid {}: established ({} entries, initiator depth {})", peer_.to_string(),
               cm_qid_, depth_, initiator_depth_);
}

uint32_t rdma_qpair::max_io_size() const { return transport_.options().max_io_size; }

uint32_t rdma_qpair::in_capsule_data_size() const { return icd_size_; }

controller_limits rdma_qpair::limits() const {
    controller_limits l = limits_from_options(transport_.options());
    l.sgls = spec::sgls::supported_no_alignment | spec::sgls::keyed_data_block;
    return l;
}

// ---------------------------------------------------------------- requests

rdma_request* rdma_qpair::alloc_request() {
    // After Connect the host may have SQSIZE commands in flight (Connect
    // checked SQSIZE against the pool); before it, the CM's HSQSIZE bounds it.
    if (connected && outstanding_ >= sqsize) return nullptr;
    rdma_request* r = free_;
    if (r == nullptr) return nullptr;
    free_ = r->next_free;
    r->next_free = nullptr;
    ++outstanding_;
    return r;
}

void rdma_qpair::set_state(rdma_request& r, rreq_state s) {
    --state_counts[static_cast<size_t>(r.state)];
    ++state_counts[static_cast<size_t>(s)];
    r.state = s;
}

void rdma_qpair::release_request(rdma_request& r) {
    if (r.state == rreq_state::free) return;
    if (r.nbufs) {
        const uint8_t n = r.nbufs;
        r.nbufs = 0;
        group_.put_buffers(r.bufs, n);
    }
    if (r.recv) {
        rdma_recv* rv = r.recv;
        r.recv = nullptr;
        recycle_recv(*rv);
    }
    r.req.target_ns.reset();
    set_state(r, rreq_state::free);
    r.next_free = free_;
    free_ = &r;
    --outstanding_;
    if (!closed_ && pending_head_) process_pending_recvs();
}

void rdma_qpair::process_pending_recvs() {
    while (pending_head_ && !closed_) {
        rdma_request* r = alloc_request();
        if (!r) return;
        rdma_recv* rv = pending_head_;
        pending_head_ = rv->next;
        if (!pending_head_) pending_tail_ = nullptr;
        rv->next = nullptr;
        --pending_count_;
        start_request(*r, *rv);
    }
}

void rdma_qpair::on_recv(rdma_recv& r) {
    if (r.qp) --recvs_posted_;
    if (r.byte_len < sizeof(spec::sqe)) {
        log::warn("{} qid {}: {}-byte capsule, shorter than a command; closing", peer_.to_string(),
                  qid, r.byte_len);
        recycle_recv(r);
        close_now("short capsule");
        return;
    }
    rdma_request* req = pending_head_ ? nullptr : alloc_request();
    if (req == nullptr) {
        // Our SEND of a completion may not have completed yet although the
        // host already has it: keep the capsule until a request frees. More
        // than a queue's worth waiting is a host ignoring flow control.
        if (pending_count_ >= depth_) {
            log::warn("{} qid {}: more outstanding commands than the queue holds ({}); closing",
                      peer_.to_string(), qid, connected ? sqsize : depth_);
            recycle_recv(r);
            close_now("queue overrun");
            return;
        }
        r.next = nullptr;
        if (pending_tail_) {
            pending_tail_->next = &r;
        } else {
            pending_head_ = &r;
        }
        pending_tail_ = &r;
        ++pending_count_;
        return;
    }
    start_request(*req, r);
}

void rdma_qpair::on_recv_flushed(rdma_recv& r) {
    --recvs_posted_;
    maybe_release_self();
}

void rdma_qpair::start_request(rdma_request& r, rdma_recv& rv) {
    request& req = r.req;
    std::memcpy(&req.cmd, rv.buf, sizeof(req.cmd));
    req.rsp = {};
    req.iovcnt = 0;
    req.length = 0;
    req.xfer = spec::xfer::none;
    req.handler_state = 0;
    r.nbufs = 0;
    r.need_bufs = 0;
    r.pending_wrs = 0;
    r.recv = nullptr;
    r.desc = parse_capsule(req.cmd, rv.byte_len - static_cast<uint32_t>(sizeof(spec::sqe)), caps_);
    if (!connected) {
        uint16_t ipo = 0;
        if (auto st = check_connect_matches(req.cmd, cm_qid_, depth_, &ipo); st != 0) {
            log::warn("{}: Connect does not match the RDMA CM request (qid {}, {} entries)",
                      peer_.to_string(), cm_qid_, depth_);
            recycle_recv(rv);
            const spec::connect_invalid_param p{ipo, 0, 0};
            uint32_t cdw0 = 0;
            std::memcpy(&cdw0, &p, sizeof(p));
            fail_early(r, st, cdw0);
            return;
        }
    }
    if (r.desc.status != 0) {
        recycle_recv(rv);
        fail_early(r, r.desc.status);
        return;
    }
    switch (r.desc.kind) {
    case data_kind::none:
        recycle_recv(rv);
        execute_request(r);
        return;
    case data_kind::in_capsule:
        // The data stays in the capsule buffer: it goes back to the receive
        // queue when the request ends.
        r.recv = &rv;
        req.iov[0] = {rv.buf + sizeof(spec::sqe) + r.desc.icd_offset, r.desc.length};
        req.iovcnt = 1;
        req.length = r.desc.length;
        req.xfer = r.desc.xfer;
        execute_request(r);
        return;
    case data_kind::keyed:
        break;
    }
    recycle_recv(rv);
    req.length = r.desc.length;
    req.xfer = r.desc.xfer;
    const uint32_t unit = group_.unit_size();
    r.need_bufs = (r.desc.length + unit - 1) / unit;
    if (!group_.get_buffers(r.need_bufs, r.bufs)) {
        set_state(r, rreq_state::need_buffer);
        group_.wait_for_buffers(r);
        return;
    }
    r.nbufs = static_cast<uint8_t>(r.need_bufs);
    attach_buffers(r);
}

void rdma_qpair::fail_early(rdma_request& r, spec::status st, uint32_t cdw0) {
    // Failed before execution: the command still consumed an SQ slot.
    request& req = r.req;
    req.rsp = {};
    req.rsp.cdw0 = cdw0;
    req.rsp.sqid = qid;
    req.rsp.sqhd = advance_sqhd();
    req.rsp.cid = req.cmd.cid;
    req.rsp.status = st;
    ++commands;
    ++errors;
    set_state(r, rreq_state::sending);
    send_response(r);
}

void rdma_qpair::resume_with_buffers(rdma_request& r) {
    if (closed_ || r.state != rreq_state::need_buffer) return;
    attach_buffers(r);
}

void rdma_qpair::attach_buffers(rdma_request& r) {
    request& req = r.req;
    const uint32_t unit = group_.unit_size();
    uint32_t left = req.length;
    for (int i = 0; i < r.nbufs; ++i) {
        const uint32_t n = std::min(left, unit);
        req.iov[i] = {r.bufs[i], n};
        left -= n;
    }
    req.iovcnt = r.nbufs;
    if (req.xfer == spec::xfer::host_to_controller) {
        post_read(r);
        return;
    }
    if (qid == 0) {
        // Admin data (identify, logs) is built piecewise: never leak an old buffer.
        req.zero_buffer();
    }
    execute_request(r);
}

void rdma_qpair::post_read(rdma_request& r) {
    if (reads_in_flight_ >= initiator_depth_) {
        set_state(r, rreq_state::need_read);
        r.next_wait = nullptr;
        if (read_tail_) {
            read_tail_->next_wait = &r;
        } else {
            read_head_ = &r;
        }
        read_tail_ = &r;
        return;
    }
    set_state(r, rreq_state::reading);
    ++reads_in_flight_;
    ibv_send_wr& wr = r.data_wr;
    const uint32_t lkey = group_.data_lkey();
    for (int i = 0; i < r.req.iovcnt; ++i) {
        r.data_sge[i] = {reinterpret_cast<uintptr_t>(r.req.iov[i].iov_base),
                         static_cast<uint32_t>(r.req.iov[i].iov_len), lkey};
    }
    wr.num_sge = r.req.iovcnt;
    wr.opcode = IBV_WR_RDMA_READ;
    wr.wr.rdma.remote_addr = r.desc.address;
    wr.wr.rdma.rkey = r.desc.rkey;
    wr.next = nullptr;
    ++r.pending_wrs;
    ++group_.counters.rdma_reads;
    queue_send(&wr, &wr);
}

void rdma_qpair::next_reads() {
    while (read_head_ && reads_in_flight_ < initiator_depth_ && !closed_) {
        rdma_request* r = read_head_;
        read_head_ = r->next_wait;
        if (!read_head_) read_tail_ = nullptr;
        r->next_wait = nullptr;
        post_read(*r);
    }
}

void rdma_qpair::execute_request(rdma_request& r) {
    set_state(r, rreq_state::executing);
    execute(r.req);
}

void rdma_qpair::on_complete(request& req) {
    rdma_request& r = *static_cast<rdma_request*>(req.transport_ctx);
    if (closed_) {
        release_request(r);
        maybe_release_self();
        return;
    }
    if (!spec::status_ok(req.rsp.status)) ++errors;
    set_state(r, rreq_state::sending);
    send_response(r);
}

bool rdma_qpair::abort_request(uint16_t cid) {
    if (closed_) return false;
    for (auto& r : reqs_) {
        if (r.state == rreq_state::executing && r.req.cmd.cid == cid) return cancel_bdev_io(r.req);
    }
    return false;
}

void rdma_qpair::send_response(rdma_request& r) {
    request& req = r.req;
    *r.rsp = req.rsp;
    ibv_send_wr& s = r.rsp_wr;
    s.next = nullptr;
    if (r.desc.kind == data_kind::keyed && r.desc.invalidate) {
        // The host's memory key for this command dies with the completion,
        // saving the host a local invalidation.
        s.opcode = IBV_WR_SEND_WITH_INV;
        s.invalidate_rkey = r.desc.rkey;
        ++group_.counters.send_with_invalidate;
    } else {
        s.opcode = IBV_WR_SEND;
    }
    ++r.pending_wrs;
    ibv_send_wr* first = &s;
    if (spec::status_ok(req.rsp.status) && req.xfer == spec::xfer::controller_to_host &&
        r.desc.kind == data_kind::keyed && r.nbufs > 0) {
        // RDMA WRITE of the data, then the SEND: an RC queue pair delivers
        // them in order, so the host has the data when it sees the completion.
        ibv_send_wr& w = r.data_wr;
        const uint32_t lkey = group_.data_lkey();
        for (int i = 0; i < req.iovcnt; ++i) {
            r.data_sge[i] = {reinterpret_cast<uintptr_t>(req.iov[i].iov_base),
                             static_cast<uint32_t>(req.iov[i].iov_len), lkey};
        }
        w.num_sge = req.iovcnt;
        w.opcode = IBV_WR_RDMA_WRITE;
        w.wr.rdma.remote_addr = r.desc.address;
        w.wr.rdma.rkey = r.desc.rkey;
        w.next = &s;
        ++r.pending_wrs;
        ++group_.counters.rdma_writes;
        first = &w;
    }
    queue_send(first, &s);
}

// ---------------------------------------------------------------- work requests

void rdma_qpair::queue_send(ibv_send_wr* first, ibv_send_wr* last) {
    for (ibv_send_wr* w = first; w; w = w->next) {
        ++sends_posted_;
        if (w == last) break;
    }
    last->next = nullptr;
    if (send_tail_) {
        send_tail_->next = first;
    } else {
        send_head_ = first;
    }
    send_tail_ = last;
    if (batching_) {
        group_.mark_dirty(this);
    } else {
        flush();
    }
}

void rdma_qpair::queue_recv(rdma_recv& r) {
    r.wr.next = nullptr;
    if (recv_tail_) {
        recv_tail_->next = &r.wr;
    } else {
        recv_head_ = &r.wr;
    }
    recv_tail_ = &r.wr;
    ++recvs_posted_;
}

void rdma_qpair::recycle_recv(rdma_recv& r) {
    if (r.qp == nullptr) {
        group_.repost_recv(r);
        return;
    }
    // A closing queue pair's receive queue is in the error state: keep the buffer.
    if (closed_ || !qp_) return;
    queue_recv(r);
    if (batching_) {
        group_.mark_dirty(this);
    } else {
        flush();
    }
}

void rdma_qpair::drop_unposted(ibv_send_wr* bad) {
    for (ibv_send_wr* w = bad; w;) {
        ibv_send_wr* next = w->next;
        auto* ctx = reinterpret_cast<wr_ctx*>(w->wr_id);
        auto& r = *static_cast<rdma_request*>(ctx->owner);
        --sends_posted_;
        --r.pending_wrs;
        if (w->opcode == IBV_WR_RDMA_READ) --reads_in_flight_;
        w->next = nullptr;
        w = next;
    }
}

void rdma_qpair::flush() {
    if (recv_head_) {
        ibv_recv_wr* bad = nullptr;
        if (closed_) {
            bad = recv_head_;
        } else if (int e = ibv_post_recv(qp_, recv_head_, &bad); e != 0) {
            log::error("{} qid {}: ibv_post_recv: {}", peer_.to_string(), qid, std::strerror(e));
        } else {
            bad = nullptr;
        }
        for (ibv_recv_wr* w = bad; w; w = w->next) --recvs_posted_;
        recv_head_ = recv_tail_ = nullptr;
    }
    if (!send_head_) return;
    ibv_send_wr* head = send_head_;
    send_head_ = send_tail_ = nullptr;
    if (closed_) {
        drop_unposted(head);
        release_idle();
        maybe_release_self();
        return;
    }
    ibv_send_wr* bad = nullptr;
    ++group_.counters.send_posts;
    if (int e = ibv_post_send(qp_, head, &bad); e != 0) {
        log::error("{} qid {}: ibv_post_send: {}", peer_.to_string(), qid, std::strerror(e));
        drop_unposted(bad);
        close_now("ibv_post_send failed");
    }
}

void rdma_qpair::on_send_done(rdma_request& r, const ibv_wc& wc) {
    --sends_posted_;
    --r.pending_wrs;
    if (wc.status != IBV_WC_SUCCESS) {
        if (wc.status != IBV_WC_WR_FLUSH_ERR) {
            log::warn("{} qid {}: SEND of a completion failed: {}", peer_.to_string(), qid,
                      ibv_wc_status_str(wc.status));
        }
        close_now("send error");
    }
    if (r.pending_wrs == 0) release_request(r);
    maybe_release_self();
}

void rdma_qpair::on_data_done(rdma_request& r, const ibv_wc& wc) {
    --sends_posted_;
    --r.pending_wrs;
    const bool read = r.state == rreq_state::reading;
    if (read) --reads_in_flight_;
    if (wc.status != IBV_WC_SUCCESS) {
        if (wc.status != IBV_WC_WR_FLUSH_ERR) {
            // Typically the host's key or address was wrong (remote access
            // error): the queue pair is in error, so is the connection.
            log::warn("{} qid {} cid {}: RDMA {} of {} bytes failed: {}", peer_.to_string(), qid,
                      r.req.cmd.cid, read ? "READ" : "WRITE", r.req.length,
                      ibv_wc_status_str(wc.status));
        }
        close_now("data transfer error");
        if (r.pending_wrs == 0 && r.state != rreq_state::executing) release_request(r);
        maybe_release_self();
        return;
    }
    if (closed_) {
        if (r.pending_wrs == 0 && r.state != rreq_state::executing) release_request(r);
        maybe_release_self();
        return;
    }
    if (read) {
        next_reads();
        execute_request(r);
        return;
    }
    if (r.pending_wrs == 0) release_request(r);
}

// ---------------------------------------------------------------- teardown

void rdma_qpair::disconnect() { close_now("closed by the target"); }

void rdma_qpair::close_now(const char* why) {
    if (closed_) return;
    closed_ = true;
    log::debug("{} qid {}: connection closed: {}", peer_.to_string(), qid, why);
    if (connect_timer_) owner->cancel_timer(connect_timer_);
    connect_timer_ = 0;
    // Moves the QP to the error state: what is posted completes as flushed.
    if (id_) rdma_disconnect(id_);
    if (qp_) {
        ibv_qp_attr a{};
        a.qp_state = IBV_QPS_ERR;
        ibv_modify_qp(qp_, &a, IBV_QP_STATE);
    }
    ++group_.counters.closed;
    group_.forget_waiters_of(this);
    if (ctrlr) ctrlr->detach_qpair(this);
    if (send_head_) {
        drop_unposted(send_head_);
        send_head_ = send_tail_ = nullptr;
    }
    for (ibv_recv_wr* w = recv_head_; w; w = w->next) --recvs_posted_;
    recv_head_ = recv_tail_ = nullptr;
    read_head_ = read_tail_ = nullptr;
    while (pending_head_) {
        rdma_recv* rv = pending_head_;
        pending_head_ = rv->next;
        rv->next = nullptr;
        recycle_recv(*rv);
    }
    pending_tail_ = nullptr;
    pending_count_ = 0;
    release_idle();
    maybe_release_self();
}

void rdma_qpair::release_idle() {
    for (auto& r : reqs_) {
        if (r.state == rreq_state::free || r.pending_wrs > 0) continue;
        // Executing requests end through on_complete, except the AERs the
        // controller held: it dropped them in detach_qpair.
        const bool held_aer = qid == 0 && r.req.cmd.opc == spec::admin_opc::async_event_request;
        if (r.state != rreq_state::executing || held_aer) release_request(r);
    }
}

void rdma_qpair::maybe_release_self() {
    if (!closed_ || outstanding_ > 0 || sends_posted_ > 0 || recvs_posted_ > 0 ||
        release_scheduled_) {
        return;
    }
    release_scheduled_ = true;
    rdma_poll_group* g = &group_;
    rdma_qpair* self = this;
    owner->defer([g, self] {
        self->release_verbs();
        g->conns.erase(self);
    });
}

void rdma_qpair::release_verbs() {
    if (verbs_released_) return;
    verbs_released_ = true;
    if (connect_timer_) owner->cancel_timer(connect_timer_);
    connect_timer_ = 0;
    auto it = group_.by_qpn.find(qp_num_);
    if (it != group_.by_qpn.end() && it->second == this) group_.by_qpn.erase(it);
    if (qp_) {
        rdma_destroy_qp(id_);
        qp_ = nullptr;
    }
    if (cqe_reserved_) group_.release_cqe(cqe_reserved_);
    cqe_reserved_ = 0;
    if (rsp_mr_) ibv_dereg_mr(rsp_mr_);
    rsp_mr_ = nullptr;
    if (recv_mr_) ibv_dereg_mr(recv_mr_);
    recv_mr_ = nullptr;
    if (id_) {
        // Waits until the CM thread has acknowledged every event of this id
        // that it fetched; it never waits for us, so this cannot deadlock.
        rdma_destroy_id(id_);
        id_ = nullptr;
    }
    delete link_;
    link_ = nullptr;
}

}  // namespace nvmf::rdma
