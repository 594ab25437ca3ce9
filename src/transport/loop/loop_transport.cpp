#include "transport/loop/loop_transport.hpp"

#include <algorithm>
#include <condition_variable>

#include "nvme/spec/fabrics.hpp"
#include "nvmf/target.hpp"
#include "transport/loop/loop_qpair.hpp"
#include "util/log.hpp"

namespace nvmf::loop {

namespace {
spec::status generic(uint8_t sc) { return spec::make_status(spec::sct::generic, sc, true); }

// What the TCP transport allows an admin command to carry in-capsule; the
// loop transport takes the same, so the two agree on what an admin command may move.
constexpr uint32_t admin_data_max = 8192;
}  // namespace

// ------------------------------------------------------------------ qpair

loop_qpair::loop_qpair(target& t, std::weak_ptr<loop_registry> reg, const transport_options& opts,
                       reactor& r, transport_id listen, transport_id peer)
    : reg_(std::move(reg)), opts_(opts), listen_(std::move(listen)), peer_(std::move(peer)),
      depth_(std::max(opts.max_queue_depth, opts.max_aq_depth)), reqs_(depth_.load()) {
    tgt = &t;
    owner = &r;
    free_.reserve(reqs_.size());
    for (auto& lr : reqs_) {
        lr.req.transport_ctx = &lr;
        free_.push_back(&lr);
    }
}

uint32_t loop_qpair::in_capsule_data_size() const {
    return qid == 0 ? admin_data_max : opts_.in_capsule_data_size;
}

controller_limits loop_qpair::limits() const { return limits_from_options(opts_); }

result<void> loop_qpair::submit(const spec::sqe& cmd, std::span<uint8_t> data, done_fn done,
                                void* ctx) {
    if (!open()) return make_error(-ENOTCONN, "loop queue is closed");
    if (inflight_.fetch_add(1, std::memory_order_acq_rel) >= depth_.load()) {
        inflight_.fetch_sub(1, std::memory_order_acq_rel);
        return make_error(-EBUSY, "loop queue is full (" + std::to_string(depth_.load()) +
                                      " commands outstanding)");
    }
    std::weak_ptr<qpair> w = weak_from_this();
    owner->post([w, cmd, data, done, ctx] {
        if (auto q = w.lock()) static_cast<loop_qpair*>(q.get())->start(cmd, data, done, ctx);
    });
    return {};
}

void loop_qpair::start(const spec::sqe& cmd, std::span<uint8_t> data, done_fn done, void* ctx) {
    // The host counted this command; the depth check keeps the pool from running dry.
    loop_request& r = *free_.back();
    free_.pop_back();
    r.done = done;
    r.ctx = ctx;
    request& req = r.req;
    req.cmd = cmd;
    req.qp = this;
    req.iovcnt = 0;
    req.length = 0;
    req.xfer = spec::xfer::none;
    if (closed_.load(std::memory_order_acquire)) {
        fail_early(r, spec::make_status(spec::sct::generic, spec::sc::aborted_sq_deletion));
        return;
    }
    spec::xfer x = spec::opcode_xfer(cmd.opc);
    if (cmd.opc == spec::admin_opc::fabrics) {
        x = static_cast<spec::xfer>(reinterpret_cast<const spec::fabrics_cmd&>(cmd).fctype & 0x3);
    }
    if (!data.empty()) {
        // The same limits a fabric would put on the command's data.
        if (x == spec::xfer::none || x == spec::xfer::bidirectional) {
            fail_early(r, generic(spec::sc::invalid_field));
            return;
        }
        if (data.size() > opts_.max_io_size && data.size() > admin_data_max) {
            fail_early(r, generic(spec::sc::data_sgl_length_invalid));
            return;
        }
        req.iov[0] = {data.data(), data.size()};
        req.iovcnt = 1;
        req.length = static_cast<uint32_t>(data.size());
        req.xfer = x;
    }
    execute(req);
}

void loop_qpair::fail_early(loop_request& r, spec::status st) {
    request& req = r.req;
    req.rsp = {};
    req.rsp.sqid = qid;
    req.rsp.sqhd = advance_sqhd();
    ++commands;
    complete(req, st);
}

void loop_qpair::on_complete(request& req) {
    auto& r = *static_cast<loop_request*>(req.transport_ctx);
    if (!spec::status_ok(req.rsp.status)) ++errors;
    // A successful Connect sized the SQ: from now on the host may have that many outstanding.
    if (req.cmd.opc == spec::admin_opc::fabrics && spec::status_ok(req.rsp.status) &&
        reinterpret_cast<const spec::fabrics_cmd&>(req.cmd).fctype == spec::fctype::connect) {
        depth_.store(sqsize, std::memory_order_release);
    }
    const spec::cqe cqe = req.rsp;
    const done_fn done = r.done;
    void* const ctx = r.ctx;
    req.target_ns.reset();
    free_.push_back(&r);
    inflight_.fetch_sub(1, std::memory_order_acq_rel);
    if (done) done(ctx, cqe);
    maybe_release();
}

bool loop_qpair::abort_request(uint16_t cid) {
    // Free requests have no namespace (on_complete resets it), and the bdev
    // checks it holds the I/O: trying every request with this CID is safe.
    for (auto& r : reqs_) {
        if (r.req.cmd.cid == cid && cancel_bdev_io(r.req)) return true;
    }
    return false;
}

void loop_qpair::maybe_release() {
    if (!detached_ || released_ || inflight_.load(std::memory_order_acquire) != 0) return;
    released_ = true;
    std::weak_ptr<loop_registry> reg = reg_;
    const loop_qpair* self = this;
    owner->defer([reg, self] {
        if (auto r = reg.lock()) r->release(self);
    });
}

void loop_qpair::close_from_host() {
    // Closed for the host at once; the target's side follows on the reactor.
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
    std::weak_ptr<qpair> w = weak_from_this();
    owner->post([w] {
        if (auto q = w.lock()) q->disconnect();
    });
}

void loop_qpair::disconnect() {
    closed_.store(true, std::memory_order_release);
    if (detached_) return;
    detached_ = true;
    // As a TCP connection closing: the controller forgets this queue (and, for
    // the admin queue, ends); commands still executing complete as usual.
    if (ctrlr) ctrlr->detach_qpair(this);
    maybe_release();
}

// ------------------------------------------------------------------ host end

loop_queue::~loop_queue() { close(); }

result<void> loop_queue::submit(const spec::sqe& cmd, std::span<uint8_t> data, done_fn done,
                                void* ctx) {
    return qp_->submit(cmd, data, done, ctx);
}

namespace {
struct waiter {
    std::mutex mtx;
    std::condition_variable cv;
    bool done = false;
    spec::cqe cqe{};
};
}  // namespace

result<spec::cqe> loop_queue::execute(const spec::sqe& cmd, std::span<uint8_t> data,
                                      int timeout_ms) {
    // Shared with the completion, which may come after a timeout.
    auto w = std::make_shared<waiter>();
    auto* hold = new std::shared_ptr<waiter>(w);
    auto on_done = [](void* ctx, const spec::cqe& cqe) {
        auto* sp = static_cast<std::shared_ptr<waiter>*>(ctx);
        {
            std::lock_guard lk((*sp)->mtx);
            (*sp)->cqe = cqe;
            (*sp)->done = true;
        }
        (*sp)->cv.notify_all();
        delete sp;
    };
    if (auto r = submit(cmd, data, on_done, hold); !r) {
        delete hold;
        return r.err();
    }
    std::unique_lock lk(w->mtx);
    if (!w->cv.wait_for(lk, std::chrono::milliseconds(timeout_ms), [&] { return w->done; })) {
        return make_error(-ETIMEDOUT, "loop command timed out");
    }
    return w->cqe;
}

bool loop_queue::connected() const { return qp_->open(); }

void loop_queue::close() { qp_->close_from_host(); }

// ------------------------------------------------------------------ transport

void loop_registry::release(const loop_qpair* q) {
    std::shared_ptr<loop_qpair> last;  // destroyed after the lock is dropped
    std::lock_guard lk(mtx);
    auto it = std::find_if(qpairs.begin(), qpairs.end(),
                           [q](const std::shared_ptr<loop_qpair>& p) { return p.get() == q; });
    if (it == qpairs.end()) return;
    last = std::move(*it);
    qpairs.erase(it);
}

loop_transport::loop_transport(target& tgt, transport_options opts)
    : transport(tgt, std::move(opts)), reg_(std::make_shared<loop_registry>()) {}

loop_transport::~loop_transport() { shutdown(); }

result<void> loop_transport::listen(const transport_id& trid) {
    std::lock_guard lk(mtx_);
    if (shut_down_) return make_error(-ESHUTDOWN, "loop transport is shut down");
    if (std::find(listening_.begin(), listening_.end(), trid) == listening_.end()) {
        listening_.push_back(trid);
        log::info("LOOP listening on {}", trid.to_string());
    }
    return {};
}

result<void> loop_transport::stop_listen(const transport_id& trid) {
    std::lock_guard lk(mtx_);
    auto it = std::find(listening_.begin(), listening_.end(), trid);
    if (it == listening_.end()) return make_error(-ENOENT, "not listening on " + trid.to_string());
    listening_.erase(it);
    return {};
}

std::vector<transport_id> loop_transport::listening() const {
    std::lock_guard lk(mtx_);
    return listening_;
}

result<std::unique_ptr<loop_queue>> loop_transport::connect(const transport_id& raw,
                                                            const std::string& host_name) {
    auto norm = normalize_trid(raw);
    if (!norm) return norm.err();
    const transport_id& trid = *norm;
    reactor_group& rg = tgt().reactors;
    reactor& r = rg.at(next_reactor_.fetch_add(1) % rg.size());
    std::shared_ptr<loop_qpair> q;
    {
        std::lock_guard lk(mtx_);
        if (shut_down_) return make_error(-ESHUTDOWN, "loop transport is shut down");
        if (std::find(listening_.begin(), listening_.end(), trid) == listening_.end()) {
            return make_error(-ECONNREFUSED, "nothing listens on " + trid.to_string());
        }
        q = std::make_shared<loop_qpair>(tgt(), reg_, options(), r, trid,
                                         transport_id{"LOOP", "LOOP", host_name, ""});
        std::lock_guard rl(reg_->mtx);
        reg_->qpairs.push_back(q);
    }
    return std::make_unique<loop_queue>(std::move(q));
}

void loop_transport::shutdown() {
    std::vector<std::shared_ptr<loop_qpair>> all;
    {
        std::lock_guard lk(mtx_);
        if (shut_down_) return;
        shut_down_ = true;
        listening_.clear();
    }
    {
        std::lock_guard lk(reg_->mtx);
        all = reg_->qpairs;
    }
    for (auto& q : all) q->owner->run_sync([&] { q->disconnect(); });
}

}  // namespace nvmf::loop
