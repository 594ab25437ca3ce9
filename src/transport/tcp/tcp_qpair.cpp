#include "transport/tcp/tcp_qpair.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "nvme/spec/fabrics.hpp"
#include "nvmf/target.hpp"
#include "transport/tcp/tcp_transport.hpp"
#include "transport/tcp/tls.hpp"
#include "util/crc32c.hpp"
#include "util/log.hpp"

namespace nvmf::tcp {

namespace st = spec::tcp;

namespace {
constexpr size_t rbuf_size = 64 * 1024;
// NVMe/TCP: the admin queue (and so Connect) accepts 8 KiB of in-capsule data.
constexpr uint32_t admin_icd_size = 8192;
constexpr uint32_t maxh2cdata = 131072;
// A connection that has not completed Connect by then is dropped (port scanners).
constexpr auto connect_deadline = std::chrono::seconds(10);
constexpr auto linger_deadline = std::chrono::seconds(1);

spec::status generic(uint8_t sc, bool dnr = true) {
    return spec::make_status(spec::sct::generic, sc, dnr);
}
}  // namespace

size_t out_pdu::wire_len() const {
    size_t n = hdr_len + (has_ddgst ? st::digest_len : 0);
    for (int i = 0; i < data_cnt; ++i) n += data[i].iov_len;
    return n;
}

tcp_qpair::tcp_qpair(tcp_transport& t, poll_group& g, int fd, transport_id listen,
                     transport_id peer)
    : tcp_qpair(t, g, fd, std::move(listen), std::move(peer), nullptr) {}

tcp_qpair::tcp_qpair(tcp_transport& t, poll_group& g, int fd, transport_id listen,
                     transport_id peer, std::unique_ptr<tls_channel> channel)
    : transport_(t), group_(g), fd_(fd), tls_(std::move(channel)), listen_(std::move(listen)),
      peer_(std::move(peer)), rbuf_(rbuf_size),
      icd_size_(std::max(admin_icd_size, t.options().in_capsule_data_size)) {
    owner = &g.owner;
    tgt = &t.tgt();
    params_.max_icd = icd_size_;
    params_.maxh2cdata = maxh2cdata;
    const auto& o = t.options();
    const uint32_t depth = std::max(o.max_queue_depth, o.max_aq_depth);
    reqs_.reserve(depth);
    for (uint32_t i = 0; i < depth; ++i) {
        auto r = std::make_unique<tcp_request>();
        r->ttag = static_cast<uint16_t>(i);
        r->req.transport_ctx = r.get();
        r->next_free = free_;
        free_ = r.get();
        reqs_.push_back(std::move(r));
    }
    state_counts[static_cast<size_t>(req_state::free)] = depth;
}

tcp_qpair::~tcp_qpair() {
    if (fd_ >= 0) ::close(fd_);
    for (auto& r : reqs_) {
        if (r->pool_buf) group_.pool.put(r->pool_buf);
    }
}

void tcp_qpair::start() {
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (int prio = static_cast<int>(transport_.options().sock_priority); prio > 0) {
        setsockopt(fd_, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio));
    }
    owner->add_fd(fd_, EPOLLIN | EPOLLRDHUP, this);
    std::weak_ptr<qpair> w = weak_from_this();
    connect_timer_ = owner->add_timer(connect_deadline, [w] {
        if (auto q = w.lock(); q && !q->connected) {
            log::warn("tcp {}: no Connect within {} s, closing", q->peer_trid().to_string(),
                      std::chrono::seconds(connect_deadline).count());
            q->disconnect();
        }
    });
}

uint32_t tcp_qpair::max_io_size() const { return transport_.options().max_io_size; }

uint32_t tcp_qpair::in_capsule_data_size() const {
    return qid == 0 ? admin_icd_size : transport_.options().in_capsule_data_size;
}

controller_limits tcp_qpair::limits() const { return limits_from_options(transport_.options()); }

// ---------------------------------------------------------------- events

void tcp_qpair::on_events(uint32_t events) {
    in_events_ = true;
    if (events & EPOLLOUT) flush();
    if (!closed_ && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) on_readable();
    in_events_ = false;
    if (!closed_ && send_head_ && !writing_) flush();
    maybe_release_self();
}

void tcp_qpair::on_readable() {
    while (!closed_) {
        if (rhead_ == rtail_) {
            rhead_ = rtail_ = 0;
        } else if (rtail_ == rbuf_.size()) {
            std::memmove(rbuf_.data(), rbuf_.data() + rhead_, rtail_ - rhead_);
            rtail_ -= rhead_;
            rhead_ = 0;
        }
        const size_t space = rbuf_.size() - rtail_;
        // A large payload with nothing of it buffered yet is received straight
        // into its destination, the bytes after it into rbuf_, in one call:
        // staging it in rbuf_ cost a copy of every write's data.
        iovec iov[request_max_iov + 1];
        const int direct_cnt = direct_payload_iov(iov);
        size_t direct = 0;
        for (int i = 0; i < direct_cnt; ++i) direct += iov[i].iov_len;
        iov[direct_cnt] = {rbuf_.data() + rtail_, space};
        const ssize_t n = sock_recv(iov, direct_cnt + 1);
        if (n == 0) {
            close_now(terminating_ ? "terminated" : "host closed the connection");
            return;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            close_now(std::strerror(errno));
            return;
        }
        if (terminating_) {
            // Waiting for the host to read our C2HTermReq and close: discard.
            continue;
        }
        const size_t got_direct = std::min(static_cast<size_t>(n), direct);
        if (got_direct > 0) payload_received_direct(got_direct);
        rtail_ += static_cast<size_t>(n) - got_direct;
        process_rx();
        if (static_cast<size_t>(n) < direct + space) return;
    }
}

ssize_t tcp_qpair::sock_recv(iovec* iov, int iovcnt) {
    if (tls_) {
        const ssize_t n = tls_->recv(iov, iovcnt);
        if (n < 0 && errno != EAGAIN && errno != EINTR && !tls_->failure().empty()) {
            log::warn("tcp {} qid {}: {}", peer_.to_string(), qid, tls_->failure());
        }
        return n;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(iovcnt);
    return ::recvmsg(fd_, &msg, 0);
}

ssize_t tcp_qpair::sock_send(iovec* iov, int iovcnt) {
    if (tls_) return tls_->send(iov, iovcnt);
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(iovcnt);
    return ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int tcp_qpair::direct_payload_iov(iovec* out) const {
    constexpr uint32_t direct_min = 16 * 1024;  // below it one more copy is cheaper than iovecs
    if (rx_ != rx_state::payload || discard_ || pad_left_ > 0 || rhead_ != rtail_ ||
        data_left_ < direct_min) {
        return 0;
    }
    int cnt = 0;
    size_t left = data_left_;
    for (int i = dest_idx_; i < dest_cnt_ && left > 0; ++i) {
        const size_t off = i == dest_idx_ ? dest_off_ : 0;
        const size_t n = std::min(left, dest_[i].iov_len - off);
        out[cnt++] = {static_cast<uint8_t*>(dest_[i].iov_base) + off, n};
        left -= n;
    }
    return cnt;
}

void tcp_qpair::payload_received_direct(size_t n) {
    data_left_ -= static_cast<uint32_t>(n);
    while (n > 0) {
        iovec& d = dest_[dest_idx_];
        const size_t k = std::min(n, d.iov_len - dest_off_);
        if (want_ddgst_) {
            crc_ = util::crc32c_update(crc_, static_cast<uint8_t*>(d.iov_base) + dest_off_, k);
        }
        dest_off_ += k;
        n -= k;
        if (dest_off_ == d.iov_len) {
            ++dest_idx_;
            dest_off_ = 0;
        }
    }
}

void tcp_qpair::process_rx() {
    while (!closed_ && !terminating_) {
        const size_t avail = rtail_ - rhead_;
        switch (rx_) {
        case rx_state::common_header: {
            if (avail < sizeof(ch_)) return;
            // Before Connect every queue may be an admin queue (8 KiB); after, IOCCSZ applies.
            params_.max_icd = in_capsule_data_size();
            std::memcpy(&ch_, rbuf_.data() + rhead_, sizeof(ch_));
            if (auto f = check_common_header(ch_, params_)) {
                fatal_error(f, rbuf_.data() + rhead_,
                            std::min<size_t>(avail, ch_.hlen ? ch_.hlen : 8));
                return;
            }
            hdr_need_ = header_wire_len(ch_, params_);
            rx_ = rx_state::header;
            break;
        }
        case rx_state::header: {
            if (avail < hdr_need_) return;
            std::memcpy(hdr_.data(), rbuf_.data() + rhead_, hdr_need_);
            rhead_ += hdr_need_;
            rx_ = rx_state::common_header;
            if (hdr_need_ > ch_.hlen) {
                uint32_t got;
                std::memcpy(&got, hdr_.data() + ch_.hlen, sizeof(got));
                if (got != util::crc32c(hdr_.data(), ch_.hlen)) {
                    fatal_error({st::fes::header_digest_error, 0}, hdr_.data(), ch_.hlen);
                    return;
                }
            }
            handle_header();
            break;
        }
        case rx_state::payload:
            if (!consume_payload()) return;
            rx_ = rx_state::common_header;
            payload_done();
            break;
        }
    }
}

// Sets up reading a PDU's data into dest (or discarding it when dest is null).
void tcp_qpair::begin_payload(const data_layout& l, const iovec* dest, int cnt) {
    pad_left_ = l.offset - hdr_need_;
    data_left_ = l.length;
    want_ddgst_ = l.has_ddgst;
    discard_ = dest == nullptr;
    dest_cnt_ = 0;
    if (!discard_) {
        for (int i = 0; i < cnt; ++i) dest_[dest_cnt_++] = dest[i];
    }
    dest_idx_ = 0;
    dest_off_ = 0;
    crc_ = 0xffffffffu;
    ddgst_got_ = 0;
    rx_ = rx_state::payload;
}

bool tcp_qpair::consume_payload() {
    while (pad_left_ > 0) {
        const size_t avail = rtail_ - rhead_;
        if (avail == 0) return false;
        const size_t n = std::min<size_t>(avail, pad_left_);
        rhead_ += n;
        pad_left_ -= static_cast<uint32_t>(n);
    }
    while (data_left_ > 0) {
        const size_t avail = rtail_ - rhead_;
        if (avail == 0) return false;
        size_t n = std::min<size_t>(avail, data_left_);
        const uint8_t* src = rbuf_.data() + rhead_;
        if (!discard_) {
            iovec& d = dest_[dest_idx_];
            n = std::min(n, d.iov_len - dest_off_);
            std::memcpy(static_cast<uint8_t*>(d.iov_base) + dest_off_, src, n);
            dest_off_ += n;
            if (dest_off_ == d.iov_len) {
                ++dest_idx_;
                dest_off_ = 0;
            }
        }
        if (want_ddgst_) crc_ = util::crc32c_update(crc_, src, n);
        rhead_ += n;
        data_left_ -= static_cast<uint32_t>(n);
    }
    if (want_ddgst_) {
        while (ddgst_got_ < sizeof(ddgst_buf_)) {
            if (rhead_ == rtail_) return false;
            ddgst_buf_[ddgst_got_++] = rbuf_[rhead_++];
        }
    }
    return true;
}

void tcp_qpair::handle_header() {
    switch (static_cast<st::pdu_type>(ch_.pdu_type)) {
    case st::pdu_type::ic_req:
        handle_ic_req();
        return;
    case st::pdu_type::h2c_term_req: {
        st::term_req t;
        std::memcpy(&t, hdr_.data(), sizeof(t));
        log::warn("tcp {}: host terminated the connection (H2CTermReq FES {})", peer_.to_string(),
                  t.fes);
        close_now("H2CTermReq");
        return;
    }
    case st::pdu_type::capsule_cmd:
        handle_capsule();
        return;
    case st::pdu_type::h2c_data:
        handle_h2c_data();
        return;
    default:
        // check_common_header lets no other type through.
        fatal_error({st::fes::invalid_header_field, 0}, hdr_.data(), ch_.hlen);
        return;
    }
}

void tcp_qpair::handle_ic_req() {
    st::ic_req icr;
    std::memcpy(&icr, hdr_.data(), sizeof(icr));
    if (auto f = check_ic_req(icr)) {
        fatal_error(f, hdr_.data(), sizeof(icr));
        return;
    }
    params_.hdgst = (icr.dgst & st::dgst_hdgst_enable) != 0;
    params_.ddgst = (icr.dgst & st::dgst_ddgst_enable) != 0;
    params_.hpda = icr.hpda;
    params_.ic_done = true;
    ic_resp_pdu_.hdr_len = static_cast<uint32_t>(
        build_ic_resp(ic_resp_pdu_.hdr.data(),
                      icr.dgst & (st::dgst_hdgst_enable | st::dgst_ddgst_enable), maxh2cdata));
    queue(ic_resp_pdu_);
}

// ---------------------------------------------------------------- commands

tcp_request* tcp_qpair::alloc_request() {
    tcp_request* r = free_;
    if (r == nullptr) return nullptr;
    free_ = r->next_free;
    r->next_free = nullptr;
    ++outstanding_;
    return r;
}

void tcp_qpair::set_state(tcp_request& r, req_state s) {
    --state_counts[static_cast<size_t>(r.state)];
    ++state_counts[static_cast<size_t>(s)];
    r.state = s;
}

void tcp_qpair::release_request(tcp_request& r) {
    if (r.state == req_state::free) return;
    if (r.pool_buf) {
        void* b = r.pool_buf;
        r.pool_buf = nullptr;
        group_.put_buffer(b);
    }
    r.req.target_ns.reset();
    r.req.lent_dev.reset();
    set_state(r, req_state::free);
    r.next_free = free_;
    free_ = &r;
    --outstanding_;
}

void tcp_qpair::parse_sgl(tcp_request& r, uint32_t icd_len) {
    request& req = r.req;
    const spec::sqe& cmd = req.cmd;
    auto fail = [&](uint8_t sc) { r.early_status = generic(sc); };
    spec::xfer x = spec::opcode_xfer(cmd.opc);
    if (cmd.opc == spec::admin_opc::fabrics) {
        // Fabrics commands take their direction from FCTYPE bits 1:0.
        x = static_cast<spec::xfer>(reinterpret_cast<const spec::fabrics_cmd&>(cmd).fctype & 0x3);
    }
    const spec::sgl_descriptor& sgl = cmd.sgl1;
    const uint32_t len = sgl.length;
    const auto type = static_cast<spec::sgl_type>(sgl.type >> 4);
    const auto sub = static_cast<spec::sgl_subtype>(sgl.type & 0xf);
    if (len == 0 || x == spec::xfer::none) {
        // No data: in-capsule bytes would be a host error.
        if (icd_len != 0) fail(spec::sc::data_sgl_length_invalid);
        return;
    }
    if (spec::sqe_psdt(cmd) == 0) {
        fail(spec::sc::invalid_field);  // PRPs mean nothing on a fabric
        return;
    }
    if (x == spec::xfer::bidirectional) {
        fail(spec::sc::invalid_field);
        return;
    }
    if (len > transport_.options().max_io_size && len > admin_icd_size) {
        fail(spec::sc::data_sgl_length_invalid);
        return;
    }
    if (type == spec::sgl_type::data_block && sub == spec::sgl_subtype::offset) {
        if (x != spec::xfer::host_to_controller) {
            fail(spec::sc::sgl_descriptor_type_invalid);
        } else if (sgl.address != 0) {
            fail(spec::sc::invalid_sgl_offset);
        } else if (len != icd_len) {
            fail(spec::sc::data_sgl_length_invalid);
        } else {
            r.in_capsule = true;
            req.length = len;
            req.xfer = x;
        }
        return;
    }
    if (type == spec::sgl_type::transport_data_block && sub == spec::sgl_subtype::transport) {
        if (icd_len != 0) {
            fail(spec::sc::data_sgl_length_invalid);
            return;
        }
        req.length = len;
        req.xfer = x;
        return;
    }
    fail(spec::sc::sgl_descriptor_type_invalid);
}

uint8_t* tcp_qpair::icd_buffer(tcp_request& r) {
    if (!r.icd) r.icd = std::make_unique<uint8_t[]>(icd_size_);
    return r.icd.get();
}

void tcp_qpair::handle_capsule() {
    // The request pool is sized for the deepest queue the transport allows;
    // Connect sized this one (sqsize entries), and a host may not have more
    // commands in flight than that (as the Linux host: queue depth = SQSIZE+1).
    tcp_request* r = (connected && outstanding_ >= sqsize) ? nullptr : alloc_request();
    if (r == nullptr) {
        // The host ignored SQHD flow control: more commands than the queue holds.
        log::warn("tcp {} qid {}: more outstanding commands than the queue holds ({}), terminating",
                  peer_.to_string(), qid, connected ? sqsize : reqs_.size());
        fatal_error({st::fes::pdu_sequence_error, 0}, hdr_.data(), ch_.hlen);
        return;
    }
    request& req = r->req;
    std::memcpy(&req.cmd, hdr_.data() + sizeof(st::common_header), sizeof(req.cmd));
    req.rsp = {};
    req.qp = this;
    req.iovcnt = 0;
    req.length = 0;
    req.xfer = spec::xfer::none;
    req.handler_state = 0;
    // A data digest is computed before the send and the copy into the socket
    // happens at the send: lent memory that a racing write changes in between
    // would fail the digest and cost the host its connection.
    req.accepts_lent_data = !params_.ddgst;
    r->early_status = 0;
    r->in_capsule = false;
    r->h2c_received = 0;
    r->fused_pair = nullptr;
    r->fused_waiting = false;
    r->fused_failed = false;
    const data_layout l = layout_of(ch_, params_);
    parse_sgl(*r, l.length);
    if (qid != 0) check_fused_ordering(*r);
    if (l.length == 0) {
        start_request(*r);
        return;
    }
    set_state(*r, req_state::receiving_icd);
    rx_req_ = r;
    if (r->in_capsule && r->early_status == 0) {
        req.iov[0] = {icd_buffer(*r), req.length};
        req.iovcnt = 1;
        begin_payload(l, req.iov, 1);
    } else {
        begin_payload(l, nullptr, 0);
    }
}

void tcp_qpair::handle_h2c_data() {
    st::h2c_data h;
    std::memcpy(&h, hdr_.data(), sizeof(h));
    const data_layout l = layout_of(ch_, params_);
    auto bad = [&](uint16_t fes, uint32_t fei) { fatal_error({fes, fei}, hdr_.data(), ch_.hlen); };
    if (h.ttag >= reqs_.size()) {
        bad(st::fes::invalid_header_field, offsetof(st::h2c_data, ttag));
        return;
    }
    tcp_request& r = *reqs_[h.ttag];
    if (r.state != req_state::transferring_h2c) {
        // H2CData that no R2T asked for.
        bad(st::fes::pdu_sequence_error, 0);
        return;
    }
    if (h.cccid != r.req.cmd.cid) {
        bad(st::fes::invalid_header_field, offsetof(st::h2c_data, cccid));
        return;
    }
    if (h.datal != l.length) {
        bad(st::fes::invalid_header_field, offsetof(st::h2c_data, datal));
        return;
    }
    if (h.datao != r.h2c_received || h.datal > r.req.length - h.datao) {
        bad(st::fes::data_transfer_out_of_range, offsetof(st::h2c_data, datao));
        return;
    }
    rx_req_ = &r;
    rx_datal_ = h.datal;
    // The request buffer is one contiguous iovec.
    iovec dest{static_cast<uint8_t*>(r.req.iov[0].iov_base) + h.datao, h.datal};
    begin_payload(l, &dest, 1);
}

void tcp_qpair::payload_done() {
    tcp_request& r = *rx_req_;
    rx_req_ = nullptr;
    bool digest_ok = true;
    if (want_ddgst_) {
        uint32_t got;
        std::memcpy(&got, ddgst_buf_, sizeof(got));
        digest_ok = got == (crc_ ^ 0xffffffffu);
        if (!digest_ok) {
            log::warn("tcp {} qid {} cid {}: data digest error", peer_.to_string(), qid,
                      r.req.cmd.cid);
        }
    }
    // A data digest error fails the command, not the connection.
    if (!digest_ok && r.early_status == 0)
        r.early_status = generic(spec::sc::transient_transport_error, false);
    if (r.state == req_state::receiving_icd) {
        start_request(r);
        return;
    }
    r.h2c_received += rx_datal_;
    if (r.h2c_received < r.req.length) return;
    if (r.early_status != 0) {
        start_request(r);
    } else {
        execute_request(r);
    }
}

void tcp_qpair::check_fused_ordering(tcp_request& r) {
    const uint8_t next = spec::sqe_fuse(r.req.cmd);
    tcp_request* last = fused_first_;
    if (last == nullptr && next == spec::fuse::none) [[likely]] {
        return;
    }
    fused_first_ = nullptr;
    if (last != nullptr) {
        if (next == spec::fuse::second) {
            last->fused_pair = &r;
            r.fused_pair = last;
            return;
        }
        // The first was not followed by its second.
        last->fused_failed = true;
        if (last->fused_waiting) {
            last->fused_waiting = false;
            execute_request(*last);
        }
    }
    if (next == spec::fuse::first) {
        fused_first_ = &r;
    } else if (next == spec::fuse::second) {
        r.fused_failed = true;
    }
}

void tcp_qpair::fused_unlink(tcp_request& r) {
    if (fused_first_ == &r) fused_first_ = nullptr;
    tcp_request* p = r.fused_pair;
    if (p == nullptr) return;
    r.fused_pair = nullptr;
    p->fused_pair = nullptr;
    p->fused_failed = true;
    if (p->fused_waiting) {
        p->fused_waiting = false;
        execute_request(*p);
    }
}

void tcp_qpair::start_request(tcp_request& r) {
    request& req = r.req;
    if (r.early_status != 0) {
        // Its fused partner, if any, is now missing its other half.
        fused_unlink(r);
        // Failed before execution: the command still consumed an SQ slot.
        req.rsp = {};
        req.rsp.sqid = qid;
        req.rsp.sqhd = advance_sqhd();
        req.rsp.cid = req.cmd.cid;
        req.rsp.status = r.early_status;
        ++commands;
        ++errors;
        set_state(r, req_state::sending);
        send_response(r);
        return;
    }
    if (req.length == 0 || r.in_capsule) {
        execute_request(r);
        return;
    }
    void* buf;
    if (req.length <= icd_size_) {
        buf = icd_buffer(r);
    } else {
        buf = group_.get_buffer();
        if (buf == nullptr) {
            set_state(r, req_state::need_buffer);
            group_.buffer_waiters.push_back(&r);
            return;
        }
        r.pool_buf = buf;
    }
    attach_buffer(r, buf);
}

void tcp_qpair::resume_with_buffer(tcp_request& r, void* buf) {
    if (closed_ || r.state != req_state::need_buffer) {
        group_.put_buffer(buf);
        return;
    }
    r.pool_buf = buf;
    attach_buffer(r, buf);
    schedule_flush();
}

void tcp_qpair::attach_buffer(tcp_request& r, void* buf) {
    request& req = r.req;
    req.iov[0] = {buf, req.length};
    req.iovcnt = 1;
    if (req.xfer == spec::xfer::host_to_controller) {
        send_r2t(r);
        return;
    }
    if (qid == 0) {
        // Admin data (identify, logs) is built piecewise: never leak an old buffer.
        std::memset(buf, 0, req.length);
    }
    execute_request(r);
}

void tcp_qpair::send_r2t(tcp_request& r) {
    set_state(r, req_state::transferring_h2c);
    r.h2c_received = 0;
    out_pdu& p = r.r2t_pdu;
    p.owner = &r;
    p.completes_request = false;
    p.terminates = false;
    p.data_cnt = 0;
    p.has_ddgst = false;
    p.hdr_len = static_cast<uint32_t>(
        build_r2t(p.hdr.data(), r.req.cmd.cid, r.ttag, 0, r.req.length, params_.hdgst));
    queue(p);
}

void tcp_qpair::execute_request(tcp_request& r) {
    // FUSE 11b (reserved) goes to the NVMe layer, which refuses it.
    const uint8_t fuse = spec::sqe_fuse(r.req.cmd);
    if ((fuse == spec::fuse::first || fuse == spec::fuse::second) && qid != 0) [[unlikely]] {
        if (r.fused_failed) {
            // Its other half is missing: answered here, as SPDK does, since
            // the NVMe layer would hold a lone first until the next command.
            r.early_status =
                spec::make_status(spec::sct::generic, spec::sc::aborted_missing_fused, false);
            start_request(r);
            return;
        }
        tcp_request* p = r.fused_pair;
        if (p == nullptr || !p->fused_waiting) {
            // The next command is not known yet, or the other half still
            // waits for its data: whichever is ready last runs both.
            r.fused_waiting = true;
            return;
        }
        p->fused_waiting = false;
        p->fused_pair = nullptr;
        r.fused_pair = nullptr;
        tcp_request& first = fuse == spec::fuse::first ? r : *p;
        tcp_request& second = &first == &r ? *p : r;
        set_state(first, req_state::executing);
        set_state(second, req_state::executing);
        execute(first.req);
        execute(second.req);
        return;
    }
    set_state(r, req_state::executing);
    execute(r.req);
}

void tcp_qpair::on_complete(request& req) {
    tcp_request& r = *static_cast<tcp_request*>(req.transport_ctx);
    if (closed_) {
        release_request(r);
        maybe_release_self();
        return;
    }
    if (!spec::status_ok(req.rsp.status)) ++errors;
    set_state(r, req_state::sending);
    send_response(r);
    schedule_flush();
}

void tcp_qpair::send_response(tcp_request& r) {
    request& req = r.req;
    if (spec::status_ok(req.rsp.status) && req.xfer == spec::xfer::controller_to_host &&
        req.length > 0) {
        const bool success = transport_.options().c2h_success && sq_flow_control_disabled;
        out_pdu& d = r.data_pdu;
        d.owner = &r;
        d.completes_request = success;
        d.terminates = false;
        const uint8_t flags = st::flag::last_pdu | (success ? st::flag::success : 0);
        d.hdr_len = static_cast<uint32_t>(
            build_c2h_data(d.hdr.data(), req.cmd.cid, 0, req.length, flags, params_));
        d.data_cnt = req.iovcnt;
        for (int i = 0; i < req.iovcnt; ++i) d.data[i] = req.iov[i];
        d.has_ddgst = params_.ddgst;
        if (d.has_ddgst) d.ddgst = util::crc32c_iov(req.iov, req.iovcnt, req.length);
        queue(d);
        if (success) return;
    }
    out_pdu& p = r.resp_pdu;
    p.owner = &r;
    p.completes_request = true;
    p.terminates = false;
    p.data_cnt = 0;
    p.has_ddgst = false;
    p.hdr_len = static_cast<uint32_t>(build_capsule_resp(p.hdr.data(), req.rsp, params_.hdgst));
    queue(p);
}

// ---------------------------------------------------------------- send side

void tcp_qpair::queue(out_pdu& p) {
    p.next = nullptr;
    if (send_tail_) {
        send_tail_->next = &p;
    } else {
        send_head_ = &p;
    }
    send_tail_ = &p;
}

void tcp_qpair::schedule_flush() {
    if (in_events_ || flush_scheduled_ || closed_) return;
    flush_scheduled_ = true;
    owner->defer([this] {
        flush_scheduled_ = false;
        if (!closed_) flush();
    });
}

void tcp_qpair::flush() {
    // Room for a whole batch of completions in one sendmsg: at queue depth 32
    // a batch of 4 KiB reads is ~100 iovecs (C2HData header, data,
    // CapsuleResp); each extra sendmsg costs a pass through the TCP stack.
    constexpr int max_iov = 256;
    while (!closed_ && send_head_) {
        iovec iov[max_iov];
        int cnt = 0;
        size_t skip = send_off_;
        auto add = [&](const void* base, size_t len) {
            if (skip >= len) {
                skip -= len;
                return;
            }
            iov[cnt++] = {const_cast<uint8_t*>(static_cast<const uint8_t*>(base)) + skip,
                          len - skip};
            skip = 0;
        };
        for (out_pdu* p = send_head_; p && cnt <= max_iov - (request_max_iov + 2); p = p->next) {
            add(p->hdr.data(), p->hdr_len);
            for (int i = 0; i < p->data_cnt; ++i) add(p->data[i].iov_base, p->data[i].iov_len);
            if (p->has_ddgst) add(&p->ddgst, sizeof(p->ddgst));
        }
        const ssize_t n = sock_send(iov, cnt);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                want_write(true);
                return;
            }
            close_now(std::strerror(errno));
            return;
        }
        size_t left = send_off_ + static_cast<size_t>(n);
        while (send_head_ && left >= send_head_->wire_len()) {
            out_pdu* p = send_head_;
            left -= p->wire_len();
            send_head_ = p->next;
            if (send_head_ == nullptr) send_tail_ = nullptr;
            if (p->terminates) {
                // The host has our C2HTermReq: stop sending, wait for it to close.
                // (Records TLS still holds would be lost to SHUT_WR: then the
                // linger timer closes instead.)
                if (!tls_ || tls_->flush_pending() == 0) ::shutdown(fd_, SHUT_WR);
                send_head_ = send_tail_ = nullptr;
                left = 0;
                break;
            }
            if (p->completes_request) release_request(*p->owner);
        }
        send_off_ = left;
    }
    // TLS records encrypted but not on the socket yet: wait until it takes them.
    if (!closed_ && tls_ && tls_->send_pending() && tls_->flush_pending() < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            close_now(std::strerror(errno));
            return;
        }
        want_write(true);
        return;
    }
    want_write(false);
}

void tcp_qpair::want_write(bool on) {
    if (on == writing_ || closed_) return;
    writing_ = on;
    owner->mod_fd(fd_, EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u), this);
}

// ---------------------------------------------------------------- teardown

void tcp_qpair::fatal_error(const fatal& f, const uint8_t* hdr, size_t len) {
    log::warn("tcp {} qid {}: protocol error (FES {}, FEI {}), sending C2HTermReq",
              peer_.to_string(), qid, f.fes, f.fei);
    terminating_ = true;
    // Nothing else goes out after the termination request.
    send_head_ = send_tail_ = nullptr;
    send_off_ = 0;
    term_pdu_.hdr_len = static_cast<uint32_t>(build_term_req(term_pdu_.hdr.data(), f, hdr, len));
    term_pdu_.terminates = true;
    term_pdu_.owner = nullptr;
    term_pdu_.data_cnt = 0;
    term_pdu_.has_ddgst = false;
    queue(term_pdu_);
    flush();
    std::weak_ptr<qpair> w = weak_from_this();
    linger_timer_ = owner->add_timer(linger_deadline, [w] {
        if (auto q = w.lock()) q->disconnect();
    });
}

bool tcp_qpair::abort_request(uint16_t cid) {
    if (closed_) return false;
    for (auto& rp : reqs_) {
        tcp_request& r = *rp;
        if (r.state == req_state::free || r.req.cmd.cid != cid) continue;
        switch (r.state) {
        case req_state::need_buffer: {
            // Waiting for a pool buffer: nothing was done, no data moved.
            auto& w = group_.buffer_waiters;
            if (auto it = std::find(w.begin(), w.end(), &r); it != w.end()) w.erase(it);
            r.early_status = spec::make_status(spec::sct::generic, spec::sc::aborted_by_request);
            start_request(r);
            schedule_flush();
            return true;
        }
        case req_state::executing:
            // Aborted only if its bdev I/O had not started (a delay bdev).
            return cancel_bdev_io(r.req);
        default:
            // Capsule data still arriving, or H2CData under way: the host
            // sends the data an R2T asked for whatever happens to the
            // command, and its transfer tag must stay valid until then.
            // Sending: already done.
            return false;
        }
    }
    return false;
}

void tcp_qpair::disconnect() { close_now("closed by the target"); }

void tcp_qpair::close_now(const char* why) {
    if (closed_) return;
    closed_ = true;
    log::debug("tcp {} qid {}: connection closed: {}", peer_.to_string(), qid, why);
    if (connect_timer_) owner->cancel_timer(connect_timer_);
    if (linger_timer_) owner->cancel_timer(linger_timer_);
    owner->del_fd(fd_);
    if (tls_ && !terminating_) tls_->close_notify();
    ::close(fd_);
    fd_ = -1;
    ++group_.closed;
    group_.forget_waiters_of(this);
    if (ctrlr) ctrlr->detach_qpair(this);
    send_head_ = send_tail_ = nullptr;
    fused_first_ = nullptr;
    for (auto& r : reqs_) {
        if (r->state == req_state::free) continue;
        // Executing requests end through on_complete, except the AERs the
        // controller held: it dropped them in detach_qpair.
        const bool held_aer = qid == 0 && r->req.cmd.opc == spec::admin_opc::async_event_request;
        if (r->state != req_state::executing || held_aer) release_request(*r);
    }
    maybe_release_self();
}

void tcp_qpair::maybe_release_self() {
    if (!closed_ || outstanding_ > 0 || released_) return;
    released_ = true;
    poll_group* g = &group_;
    tcp_qpair* self = this;
    owner->defer([g, self] { g->conns.erase(self); });
}

}  // namespace nvmf::tcp
