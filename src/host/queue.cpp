#include "host/queue.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/crc32c.hpp"

namespace nvmf::host {

namespace st = spec::tcp;

namespace {

constexpr uint8_t sgl_icd =
    spec::sgl_type_byte(spec::sgl_type::data_block, spec::sgl_subtype::offset);
constexpr uint8_t sgl_transport =
    spec::sgl_type_byte(spec::sgl_type::transport_data_block, spec::sgl_subtype::transport);

std::string hex(uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof(b), "0x%x", v);
    return b;
}

}  // namespace

queue::queue(queue_options opts)
    : opts_(std::move(opts)), slots_(std::max<uint16_t>(opts_.depth, 1)) {
    params_.hdgst = false;
    params_.ddgst = false;
    params_.hpda = opts_.hpda;
}

error queue::fail(int code, std::string msg) {
    if (!failed_) {
        failed_ = true;
        failure_ = make_error(code, std::move(msg));
    }
    return failure_;
}

void queue::close() { sock_.close(); }

result<void> queue::open(const std::string& traddr, const std::string& trsvcid) {
    if (auto r = connect_tcp(traddr, trsvcid); !r) return r;
    return initialize();
}

result<void> queue::connect_tcp(const std::string& traddr, const std::string& trsvcid) {
    if (auto r = sock_.connect(traddr, trsvcid, opts_.timeout_ms); !r) return r;
    if (opts_.tls) return sock_.start_tls(*opts_.tls, opts_.timeout_ms);
    return {};
}

void queue::attach(int fd) { sock_.adopt(fd); }

result<void> queue::initialize() {
    uint8_t req[st::ic_pdu_len];
    build_ic_req(req, opts_.hpda, opts_.hdgst, opts_.ddgst, opts_.maxr2t);
    if (auto r = sock_.send_all(req, sizeof(req)); !r) return fail(r.err().code, r.err().message);
    if (auto r = read_header(opts_.timeout_ms); !r) return r;
    const auto* ch = reinterpret_cast<const st::common_header*>(hdr_);
    if (ch->pdu_type == static_cast<uint8_t>(st::pdu_type::c2h_term_req)) {
        return handle_term_req(opts_.timeout_ms);
    }
    std::memcpy(&ic_resp_, hdr_, sizeof(ic_resp_));
    if (ic_resp_.pfv != st::pfv_1_0)
        return fail(-EPROTO, "ICResp PFV " + std::to_string(ic_resp_.pfv));
    if (ic_resp_.cpda > st::cpda_max) {
        return fail(-EPROTO, "ICResp CPDA " + std::to_string(ic_resp_.cpda));
    }
    const uint8_t asked = static_cast<uint8_t>((opts_.hdgst ? st::dgst_hdgst_enable : 0) |
                                               (opts_.ddgst ? st::dgst_ddgst_enable : 0));
    if ((ic_resp_.dgst & ~asked) != 0) {
        return fail(-EPROTO, "ICResp enables digests not requested: " + hex(ic_resp_.dgst));
    }
    if (ic_resp_.maxh2cdata < 4096 || ic_resp_.maxh2cdata % 4 != 0) {
        return fail(-EPROTO, "ICResp MAXH2CDATA " + std::to_string(ic_resp_.maxh2cdata));
    }
    params_.cpda = ic_resp_.cpda;
    params_.hdgst = (ic_resp_.dgst & st::dgst_hdgst_enable) != 0;
    params_.ddgst = (ic_resp_.dgst & st::dgst_ddgst_enable) != 0;
    ic_done_ = true;
    return {};
}

queue::slot* queue::busy_slot(uint16_t cid) {
    if (cid >= slots_.size() || !slots_[cid].busy || slots_[cid].done) return nullptr;
    return &slots_[cid];
}

bool queue::is_done(uint16_t cid) const { return cid < slots_.size() && slots_[cid].done; }

result<uint16_t> queue::submit(spec::sqe cmd, std::span<const uint8_t> out, std::span<uint8_t> in,
                               uint32_t flags) {
    if (failed_) return failure_;
    if (!ic_done_) return make_error(-ENOTCONN, "queue not initialized");
    if (!out.empty() && !in.empty()) return make_error(-EINVAL, "bidirectional data unsupported");
    const auto n = static_cast<uint16_t>(slots_.size());
    uint16_t cid = n;
    for (uint16_t i = 0; i < n; ++i) {
        const uint16_t c = static_cast<uint16_t>((next_slot_ + i) % n);
        if (!slots_[c].busy) {
            cid = c;
            break;
        }
    }
    if (cid == n) return make_error(-EBUSY, "all " + std::to_string(n) + " command slots busy");
    next_slot_ = static_cast<uint16_t>((cid + 1) % n);

    cmd.cid = cid;
    bool in_capsule = false;
    if (flags & submit_flag::keep_sgl) {
        in_capsule = !out.empty() && cmd.sgl1.type == sgl_icd;
    } else {
        cmd.flags = static_cast<uint8_t>((cmd.flags & 0x3f) | (spec::psdt_sgl_mptr_contig << 6));
        const size_t len = out.empty() ? in.size() : out.size();
        in_capsule =
            !out.empty() && out.size() <= opts_.icd_size && !(flags & submit_flag::force_r2t);
        cmd.sgl1 = {};
        cmd.sgl1.length = static_cast<uint32_t>(len);
        cmd.sgl1.type = in_capsule ? sgl_icd : sgl_transport;
    }

    slot& s = slots_[cid];
    s = slot{};
    s.busy = true;
    s.out = out.data();
    s.out_len = static_cast<uint32_t>(out.size());
    s.in = in.data();
    s.in_len = static_cast<uint32_t>(in.size());
    ++outstanding_;

    uint8_t hdr[max_tx_header];
    const uint32_t icd = in_capsule ? static_cast<uint32_t>(out.size()) : 0;
    const size_t hlen = build_capsule_cmd(hdr, cmd, icd, params_);
    uint32_t ddgst = 0;
    iovec iov[3] = {{hdr, hlen}, {}, {}};
    int cnt = 1;
    if (icd > 0) {
        iov[cnt++] = {const_cast<uint8_t*>(out.data()), icd};
        if (params_.ddgst) {
            ddgst = util::crc32c(out.data(), icd);
            iov[cnt++] = {&ddgst, sizeof(ddgst)};
        }
    }
    if (flags & submit_flag::defer) {
        if (auto r = sock_.defer_send(iov, cnt); !r) return fail(r.err().code, r.err().message);
        return cid;
    }
    if (auto r = sock_.sendv_all(iov, cnt); !r) return fail(r.err().code, r.err().message);
    return cid;
}

result<completion> queue::take(uint16_t cid) {
    slot& s = slots_[cid];
    completion c = s.comp;
    s = slot{};
    --outstanding_;
    auto it = std::find(done_order_.begin(), done_order_.end(), cid);
    if (it != done_order_.end()) done_order_.erase(it);
    return c;
}

result<completion> queue::wait(uint16_t cid, int timeout_ms) {
    if (cid >= slots_.size() || !slots_[cid].busy) {
        return make_error(-EINVAL, "cid " + std::to_string(cid) + " not outstanding");
    }
    while (!slots_[cid].done) {
        if (failed_) return failure_;
        if (auto r = poll_once(deadline(timeout_ms)); !r) return r.err();
    }
    return take(cid);
}

result<std::pair<uint16_t, completion>> queue::wait_any(int timeout_ms) {
    while (done_order_.empty()) {
        if (failed_) return failure_;
        if (outstanding_ == 0) return make_error(-EINVAL, "no command outstanding");
        if (auto r = poll_once(deadline(timeout_ms)); !r) return r.err();
    }
    const uint16_t cid = done_order_.front();
    auto c = take(cid);
    return std::make_pair(cid, c.value());
}

result<completion> queue::execute(const spec::sqe& cmd, std::span<const uint8_t> out,
                                  std::span<uint8_t> in, uint32_t flags) {
    auto cid = submit(cmd, out, in, flags);
    if (!cid) return cid.err();
    return wait(*cid);
}

result<void> queue::read_header(int timeout_ms) {
    if (failed_) return failure_;
    auto* ch = reinterpret_cast<st::common_header*>(hdr_);
    if (auto r = sock_.wait_available(sizeof(*ch), timeout_ms); !r) {
        // A timeout leaves the stream intact; anything else ends the queue.
        if (r.err().code == -ETIMEDOUT) return r;
        return fail(r.err().code, r.err().message);
    }
    if (auto r = sock_.read_exact(hdr_, sizeof(*ch), opts_.timeout_ms); !r) {
        return fail(r.err().code, r.err().message);
    }
    if (auto why = check_rx_common_header(*ch, params_, ic_done_); !why.empty()) {
        return fail(-EPROTO, why);
    }
    const uint32_t rest = rx_header_rest(*ch, params_);
    if (auto r = sock_.read_exact(hdr_ + sizeof(*ch), rest, opts_.timeout_ms); !r) {
        return fail(r.err().code, r.err().message);
    }
    const auto t = static_cast<st::pdu_type>(ch->pdu_type);
    if (ic_done_ && params_.hdgst && st::has_hdgst(t) && !hdgst_ok(hdr_, ch->hlen)) {
        return fail(-EPROTO, std::string("header digest error on ") + pdu_type_name(ch->pdu_type));
    }
    return {};
}

result<void> queue::flush() {
    if (!sock_.has_deferred()) return {};
    if (failed_) return failure_;
    if (auto r = sock_.flush(); !r) return fail(r.err().code, r.err().message);
    return {};
}

result<void> queue::poll_once(int timeout_ms) {
    // Deferred capsules leave when a read has to wait for the target (see
    // tcp_socket::defer_send): while completions are buffered, the
    // resubmissions they cause pile up and leave in one write (one TCP
    // segment, one wake-up of the target).
    if (auto r = read_header(timeout_ms); !r) return r;
    const auto* ch = reinterpret_cast<const st::common_header*>(hdr_);
    switch (static_cast<st::pdu_type>(ch->pdu_type)) {
    case st::pdu_type::capsule_resp:
        return handle_capsule_resp();
    case st::pdu_type::c2h_data:
        return handle_c2h_data(timeout_ms);
    case st::pdu_type::r2t:
        return handle_r2t();
    case st::pdu_type::c2h_term_req:
        return handle_term_req(timeout_ms);
    default:
        return fail(-EPROTO, std::string("unexpected ") + pdu_type_name(ch->pdu_type));
    }
}

result<void> queue::handle_capsule_resp() {
    st::capsule_resp resp;
    std::memcpy(&resp, hdr_, sizeof(resp));
    slot* s = busy_slot(resp.rsp.cid);
    if (s == nullptr) {
        return fail(-EPROTO, "CapsuleResp for cid " + std::to_string(resp.rsp.cid) +
                                 " that is not outstanding");
    }
    s->comp.cqe = resp.rsp;
    s->done = true;
    done_order_.push_back(resp.rsp.cid);
    return {};
}

result<void> queue::handle_c2h_data(int timeout_ms) {
    st::c2h_data h;
    std::memcpy(&h, hdr_, sizeof(h));
    const rx_layout l = rx_data_layout(h.ch, params_);
    slot* s = busy_slot(h.cccid);
    if (s == nullptr || s->in == nullptr) {
        return fail(-EPROTO,
                    "C2HData for cid " + std::to_string(h.cccid) + " that expects no data");
    }
    if (h.datal != l.datal) {
        return fail(-EPROTO, "C2HData DATAL " + std::to_string(h.datal) + " but PDU carries " +
                                 std::to_string(l.datal));
    }
    if (static_cast<uint64_t>(h.datao) + h.datal > s->in_len) {
        return fail(-EPROTO, "C2HData DATAO " + std::to_string(h.datao) + " DATAL " +
                                 std::to_string(h.datal) + " beyond buffer of " +
                                 std::to_string(s->in_len));
    }
    if (l.pad > 0) {
        scratch_.resize(l.pad);
        if (auto r = sock_.read_exact(scratch_.data(), l.pad, opts_.timeout_ms); !r) {
            return fail(r.err().code, r.err().message);
        }
    }
    if (auto r = sock_.read_exact(s->in + h.datao, h.datal, opts_.timeout_ms); !r) {
        return fail(r.err().code, r.err().message);
    }
    if (l.ddgst) {
        uint32_t got = 0;
        if (auto r = sock_.read_exact(&got, sizeof(got), opts_.timeout_ms); !r) {
            return fail(r.err().code, r.err().message);
        }
        const uint32_t want = util::crc32c(s->in + h.datao, h.datal);
        if (got != want) {
            return fail(-EPROTO,
                        "C2HData data digest error: got " + hex(got) + " want " + hex(want));
        }
    }
    s->comp.data_len += h.datal;
    if (h.ch.flags & st::flag::success) {
        if (!(h.ch.flags & st::flag::last_pdu)) {
            return fail(-EPROTO, "C2HData with SUCCESS but not LAST_PDU");
        }
        s->comp.cqe = spec::cqe{};
        s->comp.cqe.cid = h.cccid;
        s->comp.c2h_success = true;
        s->done = true;
        done_order_.push_back(h.cccid);
        ++c2h_success_count_;
    }
    (void)timeout_ms;
    return {};
}

result<void> queue::handle_r2t() {
    st::r2t r;
    std::memcpy(&r, hdr_, sizeof(r));
    ++r2t_count_;
    slot* s = busy_slot(r.cccid);
    if (s == nullptr || s->out == nullptr) {
        return fail(-EPROTO,
                    "R2T for cid " + std::to_string(r.cccid) + " that has no data to send");
    }
    if (r.r2tl == 0 || static_cast<uint64_t>(r.r2to) + r.r2tl > s->out_len) {
        return fail(-EPROTO, "R2T R2TO " + std::to_string(r.r2to) + " R2TL " +
                                 std::to_string(r.r2tl) + " outside " + std::to_string(s->out_len));
    }
    uint32_t chunk_max = ic_resp_.maxh2cdata;
    if (opts_.h2c_chunk != 0) chunk_max = std::min(chunk_max, opts_.h2c_chunk);
    uint32_t off = r.r2to;
    const uint32_t end = r.r2to + r.r2tl;
    while (off < end) {
        const uint32_t n = std::min(chunk_max, end - off);
        const bool last = off + n == end;
        uint8_t hdr[max_tx_header];
        const size_t hlen = build_h2c_data(hdr, r.cccid, r.ttag, off, n, last, params_);
        uint32_t ddgst = 0;
        iovec iov[3] = {{hdr, hlen}, {const_cast<uint8_t*>(s->out + off), n}, {}};
        int cnt = 2;
        if (params_.ddgst) {
            ddgst = util::crc32c(s->out + off, n);
            iov[cnt++] = {&ddgst, sizeof(ddgst)};
        }
        if (auto res = sock_.sendv_all(iov, cnt); !res)
            return fail(res.err().code, res.err().message);
        off += n;
    }
    return {};
}

result<void> queue::handle_term_req(int timeout_ms) {
    st::term_req t;
    std::memcpy(&t, hdr_, sizeof(t));
    term_.received = true;
    term_.fes = t.fes;
    std::memcpy(&term_.fei, t.fei, sizeof(term_.fei));
    term_.data.resize(t.ch.plen - st::term_req_hlen);
    if (!term_.data.empty()) {
        // The target closes right after; a short read still leaves the FES.
        (void)sock_.read_exact(term_.data.data(), term_.data.size(), opts_.timeout_ms);
    }
    (void)timeout_ms;
    return fail(-EPROTO, std::string("C2HTermReq: ") + fes_name(term_.fes) + " (FES " +
                             hex(term_.fes) + ", FEI " + hex(term_.fei) + ")");
}

result<void> queue::send_raw(const void* data, size_t len) { return sock_.send_all(data, len); }

result<raw_pdu> queue::recv_raw_pdu(int timeout_ms) {
    raw_pdu p;
    if (auto r = sock_.read_exact(&p.ch, sizeof(p.ch), deadline(timeout_ms)); !r) return r.err();
    if (p.ch.plen < sizeof(p.ch) || p.ch.plen > (1u << 24)) {
        return make_error(-EPROTO, "raw PDU with PLEN " + std::to_string(p.ch.plen));
    }
    p.bytes.resize(p.ch.plen);
    std::memcpy(p.bytes.data(), &p.ch, sizeof(p.ch));
    if (auto r = sock_.read_exact(p.bytes.data() + sizeof(p.ch), p.ch.plen - sizeof(p.ch),
                                  deadline(timeout_ms));
        !r) {
        return r.err();
    }
    return p;
}

bool queue::wait_closed(int timeout_ms) { return sock_.wait_closed(timeout_ms); }

}  // namespace nvmf::host
