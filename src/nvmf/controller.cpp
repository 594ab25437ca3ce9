#include "nvmf/controller.hpp"

#include <cstring>

#include "nvmf/cmd/handlers.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/request.hpp"
#include "nvmf/stats.hpp"
#include "nvmf/subsystem.hpp"
#include "util/log.hpp"

namespace nvmf {

namespace {
// CAP.TO in 500 ms units: how long a host waits for CSTS.RDY to follow CC.EN.
constexpr uint64_t cap_timeout_500ms = 15;
}  // namespace

controller::controller(std::shared_ptr<subsystem> s, uint16_t id, std::string host,
                       const uint8_t hid[16], qpair* aq, uint32_t kato,
                       const controller_limits& lim)
    : subsys(std::move(s)), cntlid(id), hostnqn(std::move(host)), admin_reactor(aq->owner),
      limits(lim), listen_trid(aq->listen_trid()), ana(subsys->listener_ana(listen_trid)),
      ana_reporting(subsys->params().ana_reporting), host_metrics(subsys->host_metrics(hostnqn)),
      admin_qp(aq), kato_ms(kato), last_keep_alive(reactor::clock::now()) {
    std::memcpy(hostid.data(), hid, hostid.size());
    // CAP: MQES (0's based), CQR=1, TO, CSS bit 37 (NVM command set), MPSMIN=MPSMAX=4 KiB.
    cap = static_cast<uint64_t>(limits.max_queue_depth - 1) | (1ull << 16) |
          (cap_timeout_500ms << 24) | (1ull << 37);
    vs = spec::nvme_version(1, 3);
    features.number_of_queues = (static_cast<uint32_t>(limits.max_io_qpairs - 1) << 16) |
                                static_cast<uint32_t>(limits.max_io_qpairs - 1);
    io_qpairs_.resize(static_cast<size_t>(limits.max_io_qpairs) + 1);
    admin_weak_ = aq->weak_from_this();
}

controller::~controller() = default;

bool controller::is_discovery() const { return subsys->is_discovery(); }

spec::status controller::get_property(uint32_t ofst, uint8_t size, uint64_t* value) const {
    const auto invalid = spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);
    if (size == 1) {  // 8 bytes
        if (ofst != spec::prop::cap) return invalid;
        *value = cap;
        return 0;
    }
    if (size != 0) return invalid;
    switch (ofst) {
    case spec::prop::vs:
        *value = vs;
        return 0;
    case spec::prop::cc:
        *value = cc;
        return 0;
    case spec::prop::csts:
        *value = csts;
        return 0;
    default:
        return invalid;
    }
}

spec::status controller::set_property(uint32_t ofst, uint8_t size, uint64_t value) {
    const auto invalid = spec::make_status(spec::sct::generic, spec::sc::invalid_field, true);
    if (size != 0 || ofst != spec::prop::cc) return invalid;
    const uint32_t next = static_cast<uint32_t>(value);
    const uint32_t prev = cc;
    const bool was_en = prev & spec::cc::en;
    const bool en = next & spec::cc::en;
    if (en && !was_en) {
        // Only 4 KiB pages, the NVM command set and round robin are offered.
        if ((next & spec::cc::mps_mask) != 0 || (next & spec::cc::css_mask) != 0 ||
            (next & spec::cc::ams_mask) != 0) {
            log::warn("ctrlr {} of {}: CC 0x{:x} asks for what CAP does not offer", cntlid,
                      subsys->nqn, next);
            return invalid;
        }
        cc = next;
        const uint32_t iosqes = (next & spec::cc::iosqes_mask) >> spec::cc::iosqes_shift;
        const uint32_t iocqes = (next & spec::cc::iocqes_mask) >> spec::cc::iocqes_shift;
        if (!is_discovery() && (iosqes != 6 || iocqes != 4)) {
            // As the Linux target: queue entry sizes other than 64/16 bytes are fatal.
            log::warn("ctrlr {} of {}: CC.EN with IOSQES {} IOCQES {}, reporting CSTS.CFS", cntlid,
                      subsys->nqn, iosqes, iocqes);
            csts = spec::csts::cfs;
            return 0;
        }
        csts = spec::csts::rdy;
        enabled_.store(true, std::memory_order_release);
        return 0;
    }
    if (!en && was_en) {
        // Controller reset: I/O queues go, the admin queue stays.
        cc = next;
        disable();
        return 0;
    }
    const uint32_t shn = (next & spec::cc::shn_mask) >> spec::cc::shn_shift;
    cc = next;
    if (shn != 0 && en) begin_shutdown(shn);
    return 0;
}

void controller::disable() {
    ++shutdown_gen_;  // a shutdown's flush still running no longer reports
    enabled_.store(false, std::memory_order_release);
    csts = 0;
    std::vector<std::weak_ptr<qpair>> io;
    {
        std::lock_guard lk(mtx_);
        for (auto& w : io_qpairs_) {
            if (!w.expired()) io.push_back(w);
        }
    }
    for (auto& w : io) {
        if (auto q = w.lock())
            q->owner->post([w] {
                if (auto q = w.lock()) q->disconnect();
            });
    }
}

void controller::start_keep_alive_timer() {
    if (ka_timer_) {
        admin_reactor->cancel_timer(ka_timer_);
        ka_timer_ = 0;
    }
    if (kato_ms == 0 || destroyed()) return;
    keep_alive();
    std::weak_ptr<controller> w = weak_from_this();
    ka_timer_ = admin_reactor->add_timer(std::chrono::milliseconds(kato_ms), [w] {
        if (auto c = w.lock()) c->on_keep_alive_timer();
    });
}

void controller::on_keep_alive_timer() {
    ka_timer_ = 0;
    if (destroyed() || kato_ms == 0) return;
    const auto elapsed = reactor::clock::now() - last_keep_alive;
    const auto kato = std::chrono::milliseconds(kato_ms);
    if (elapsed >= kato) {
        log::warn("ctrlr {} of {} (host \"{}\"): keep-alive timeout ({} ms), tearing it down",
                  cntlid, subsys->nqn, hostnqn, kato_ms);
        destroy("keep-alive timeout");
        return;
    }
    std::weak_ptr<controller> w = weak_from_this();
    ka_timer_ = admin_reactor->add_timer(kato - elapsed, [w] {
        if (auto c = w.lock()) c->on_keep_alive_timer();
    });
}

bool controller::attach_io_qpair(qpair* q) {
    std::lock_guard lk(mtx_);
    if (destroyed() || q->qid == 0 || q->qid >= io_qpairs_.size()) return false;
    if (!io_qpairs_[q->qid].expired()) return false;
    io_qpairs_[q->qid] = q->weak_from_this();
    return true;
}

void controller::detach_qpair(qpair* q) {
    // Called once per connected queue, on its reactor, when its connection
    // closes. q->stats stays set: bdev I/O still in flight decrements it later.
    cmd::auth_on_close(*q);
    cmd::fused_on_close(*q);
    if (q->stats) --(q->qid == 0 ? q->stats->current_admin_qpairs : q->stats->current_io_qpairs);
    // Called on q's reactor: admin_qp belongs to the admin reactor, so an I/O
    // queue must not read it (a data race TSan found with two reactors). A
    // queue of this controller with qid 0 is its admin queue.
    if (q->qid == 0) {
        // The admin queue's requests (held AERs) die with it; so does the controller.
        aers_.clear();
        admin_qp = nullptr;
        destroy("admin queue closed");
        return;
    }
    std::lock_guard lk(mtx_);
    if (q->qid < io_qpairs_.size()) {
        auto cur = io_qpairs_[q->qid].lock();
        if (!cur || cur.get() == q) {
            io_qpairs_[q->qid].reset();
            retired_busy_ns_.fetch_add(q->busy_ns_now(), std::memory_order_relaxed);
        }
    }
}

std::shared_ptr<qpair> controller::io_qpair(uint16_t qid) const {
    std::lock_guard lk(mtx_);
    if (qid == 0 || qid >= io_qpairs_.size()) return nullptr;
    return io_qpairs_[qid].lock();
}

uint64_t controller::busy_ns() const {
    uint64_t ns = retired_busy_ns_.load(std::memory_order_relaxed);
    std::lock_guard lk(mtx_);
    for (const auto& w : io_qpairs_) {
        if (auto q = w.lock()) ns += q->busy_ns.load(std::memory_order_relaxed);
    }
    return ns;
}

size_t controller::io_qpair_count() const {
    std::lock_guard lk(mtx_);
    size_t n = 0;
    for (auto& w : io_qpairs_) n += w.expired() ? 0 : 1;
    return n;
}

std::vector<std::shared_ptr<qpair>> controller::qpairs() const {
    std::lock_guard lk(mtx_);
    std::vector<std::shared_ptr<qpair>> out;
    if (auto a = admin_weak_.lock()) out.push_back(std::move(a));
    for (auto& w : io_qpairs_) {
        if (auto q = w.lock()) out.push_back(std::move(q));
    }
    return out;
}

void controller::destroy(const char* why) {
    if (destroyed_.exchange(true)) return;
    enabled_.store(false, std::memory_order_release);
    log::info("ctrlr {} of {} (host \"{}\") destroyed: {}", cntlid, subsys->nqn, hostnqn, why);
    subsys->remove_controller(cntlid);
    std::vector<std::weak_ptr<qpair>> all;
    {
        std::lock_guard lk(mtx_);
        all.push_back(admin_weak_);
        for (auto& w : io_qpairs_) {
            if (!w.expired()) all.push_back(w);
        }
    }
    std::weak_ptr<controller> self = weak_from_this();
    admin_reactor->post([self] {
        if (auto c = self.lock(); c && c->ka_timer_) {
            c->admin_reactor->cancel_timer(c->ka_timer_);
            c->ka_timer_ = 0;
        }
    });
    for (auto& w : all) {
        if (auto q = w.lock()) {
            q->owner->post([w] {
                if (auto q = w.lock()) q->disconnect();
            });
        }
    }
}

}  // namespace nvmf
