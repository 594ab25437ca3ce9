#include "transport/rdma/rdma_transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "nvmf/target.hpp"
#include "transport/rdma/rdma_qpair.hpp"
#include "util/log.hpp"

namespace nvmf::rdma {

namespace {

error sys_error(const std::string& what, int e) {
    return make_error(e > 0 ? -e : -EIO, what + ": " + std::strerror(e > 0 ? e : EIO));
}

transport_id trid_of(const sockaddr* sa) {
    transport_id t;
    t.trtype = "RDMA";
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa == nullptr) return t;
    if (sa->sa_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(sa);
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
        t.adrfam = "IPv6";
        t.trsvcid = std::to_string(ntohs(a->sin6_port));
    } else if (sa->sa_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(sa);
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
        t.trsvcid = std::to_string(ntohs(a->sin_port));
    }
    t.traddr = buf;
    return t;
}

result<sockaddr_storage> sockaddr_of(const transport_id& trid) {
    sockaddr_storage ss{};
    const auto port = static_cast<uint16_t>(std::stoi(trid.trsvcid));
    if (trid.adrfam == "IPv6") {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (inet_pton(AF_INET6, trid.traddr.c_str(), &a->sin6_addr) != 1) {
            return make_error(-EINVAL, "bad IPv6 address " + trid.traddr);
        }
    } else if (trid.adrfam == "IPv4") {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (inet_pton(AF_INET, trid.traddr.c_str(), &a->sin_addr) != 1) {
            return make_error(-EINVAL, "bad IPv4 address " + trid.traddr);
        }
    } else {
        return make_error(-EINVAL,
                          "RDMA listens on IPv4 or IPv6 addresses, not adrfam " + trid.adrfam);
    }
    return ss;
}

void reject(rdma_cm_id* id, spec::rdma::cm_status sts) {
    const spec::rdma::cm_reject r = make_cm_reject(sts);
    rdma_reject(id, &r, sizeof(r));
}

}  // namespace

struct rdma_transport::listener {
    cm_ctx_kind kind = cm_ctx_kind::listener;  // first: what cm_id::context points at
    rdma_cm_id* id = nullptr;
    transport_id trid;
};

struct rdma_transport::cm_channel_handler final : event_handler {
    rdma_transport* t = nullptr;
    void on_events(uint32_t) override { t->on_cm_events(); }
};

rdma_transport::rdma_transport(target& tgt, transport_options opts)
    : transport(tgt, std::move(opts)) {}

rdma_transport::~rdma_transport() {
    shutdown();
    // Reactors no longer run: queue pairs go first (they use the poll
    // groups' CQs and SRQs), then the groups, the PDs, the CM channel.
    for (auto& d : devices_) {
        for (auto& g : d->groups) g->destroy_all_qpairs();
    }
    devices_.clear();
    if (channel_) {
        if (cm_reactor_) cm_reactor_->del_fd(channel_->fd);
        rdma_destroy_event_channel(channel_);
    }
}

bool rdma_transport::shutting_down() const {
    std::lock_guard lk(mtx_);
    return shut_down_;
}

queue_limits rdma_transport::limits() const {
    queue_limits l;
    l.max_aq_depth = opts_.max_aq_depth;
    l.max_queue_depth = opts_.max_queue_depth;
    l.max_io_qpairs = opts_.max_io_qpairs_per_ctrlr;
    return l;
}

// With mtx_ held.
result<void> rdma_transport::open_channel() {
    if (channel_) return {};
    channel_ = rdma_create_event_channel();
    if (!channel_) {
        const int e = errno;
        return make_error(-e, std::string("no RDMA CM (rdma_create_event_channel: ") +
                                  std::strerror(e) +
                                  "): this host needs an RDMA device (or soft-RoCE, rdma_rxe) "
                                  "and the rdma_ucm module");
    }
    const int fl = fcntl(channel_->fd, F_GETFL);
    if (fl < 0 || fcntl(channel_->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        const int e = errno;
        rdma_destroy_event_channel(channel_);
        channel_ = nullptr;
        return sys_error("fcntl O_NONBLOCK on the RDMA CM channel", e);
    }
    channel_handler_ = std::make_unique<cm_channel_handler>();
    channel_handler_->t = this;
    cm_reactor_ = &tgt_.reactors.at(0);
    cm_reactor_->add_fd(channel_->fd, EPOLLIN, channel_handler_.get());
    return {};
}

// With mtx_ held: the device of ctx, opened (PD, a poll group per reactor) on first use.
result<rdma_device*> rdma_transport::device_for(ibv_context* ctx) {
    for (auto& d : devices_) {
        if (d->ctx == ctx) return d.get();
    }
    auto d = std::make_unique<rdma_device>();
    d->ctx = ctx;
    d->name = ibv_get_device_name(ctx->device);
    if (ibv_query_device(ctx, &d->attr) != 0) return sys_error("ibv_query_device", errno);
    const uint32_t unit =
        opts_.io_unit_size < opts_.max_io_size ? opts_.io_unit_size : opts_.max_io_size;
    const uint32_t per_io = (opts_.max_io_size + unit - 1) / unit;
    // An RDMA READ takes max_sge_rd scatter entries at most, other WRs max_sge.
    const auto max_sge = static_cast<uint32_t>(std::min(d->attr.max_sge, d->attr.max_sge_rd));
    if (max_sge < per_io) {
        return make_error(-EINVAL, "device " + d->name + " takes " + std::to_string(max_sge) +
                                       " scatter entries per RDMA READ; max_io_size / "
                                       "io_unit_size is " +
                                       std::to_string(per_io) + ": raise io_unit_size");
    }
    d->max_data_sge = std::min<uint32_t>(max_sge, request_max_iov);
    d->send_with_invalidate = (d->attr.device_cap_flags & IBV_DEVICE_MEM_MGT_EXTENSIONS) != 0;
    d->pd = ibv_alloc_pd(ctx);
    if (!d->pd) return sys_error("ibv_alloc_pd on " + d->name, errno);
    for (size_t i = 0; i < tgt_.reactors.size(); ++i) {
        auto g = rdma_poll_group::create(*this, *d, tgt_.reactors.at(i));
        if (!g) return g.err();
        d->groups.push_back(std::move(*g));
    }
    log::info(
        "rdma: device {} ready (max_qp_wr {}, max_sge {}, max_cqe {}, SEND with "
        "invalidate {})",
        d->name, d->attr.max_qp_wr, max_sge, d->attr.max_cqe,
        d->send_with_invalidate ? "yes" : "no");
    devices_.push_back(std::move(d));
    return devices_.back().get();
}

result<void> rdma_transport::listen(const transport_id& trid) {
    std::lock_guard lk(mtx_);
    if (shut_down_) return make_error(-ESHUTDOWN, "transport is shut down");
    for (auto& l : listeners_) {
        if (l->trid == trid) return {};
    }
    auto sa = sockaddr_of(trid);
    if (!sa) return sa.err();
    const std::string where = "cannot listen on RDMA " + trid.traddr + ":" + trid.trsvcid;
    if (auto c = open_channel(); !c)
        return make_error(c.err().code, where + ": " + c.err().message);
    auto l = std::make_unique<listener>();
    l->trid = trid;
    if (rdma_create_id(channel_, &l->id, l.get(), RDMA_PS_TCP) != 0) {
        return sys_error(where + ": rdma_create_id", errno);
    }
    auto fail = [&](const std::string& what, int e) {
        rdma_destroy_id(l->id);
        return sys_error(where + ": " + what, e);
    };
    if (rdma_bind_addr(l->id, reinterpret_cast<sockaddr*>(&*sa)) != 0) {
        return fail("rdma_bind_addr", errno);
    }
    // As SPDK: the address must belong to an RDMA device (no wildcard), so
    // that the device and its poll groups exist before the first connection.
    if (l->id->verbs == nullptr) {
        rdma_destroy_id(l->id);
        return make_error(-ENODEV, where + ": no RDMA device has this address");
    }
    if (auto d = device_for(l->id->verbs); !d) {
        rdma_destroy_id(l->id);
        return make_error(d.err().code, where + ": " + d.err().message);
    }
    if (rdma_listen(l->id, static_cast<int>(opts_.acceptor_backlog)) != 0) {
        return fail("rdma_listen", errno);
    }
    log::info("RDMA listening on {}:{} ({})", trid.traddr, trid.trsvcid,
              ibv_get_device_name(l->id->verbs->device));
    listeners_.push_back(std::move(l));
    return {};
}

result<void> rdma_transport::stop_listen(const transport_id& trid) {
    std::unique_ptr<listener> l;
    {
        std::lock_guard lk(mtx_);
        auto it = std::find_if(listeners_.begin(), listeners_.end(),
                               [&](const auto& x) { return x->trid == trid; });
        if (it == listeners_.end()) {
            return make_error(-ENOENT, "not listening on " + trid.to_string());
        }
        l = std::move(*it);
        listeners_.erase(it);
    }
    // On the CM reactor, so that no event of this listener is being handled.
    cm_reactor_->run_sync([&] {
        rdma_destroy_id(l->id);
        l.reset();
    });
    log::info("RDMA stopped listening on {}:{}", trid.traddr, trid.trsvcid);
    return {};
}

std::vector<transport_id> rdma_transport::listening() const {
    std::lock_guard lk(mtx_);
    std::vector<transport_id> out;
    for (auto& l : listeners_) out.push_back(l->trid);
    return out;
}

void rdma_transport::on_cm_events() {
    rdma_cm_event* ev = nullptr;
    while (rdma_get_cm_event(channel_, &ev) == 0) {
        if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
            on_connect_request(ev);  // acknowledges ev
            continue;
        }
        auto* kind = static_cast<cm_ctx_kind*>(ev->id->context);
        if (kind && *kind == cm_ctx_kind::connection) {
            on_conn_event(ev);  // acknowledges ev
            continue;
        }
        log::info("rdma: CM event {} on a listener", rdma_event_str(ev->event));
        rdma_ack_cm_event(ev);
    }
}

void rdma_transport::on_connect_request(rdma_cm_event* ev) {
    rdma_cm_id* id = ev->id;
    auto* l = static_cast<listener*>(ev->listen_id->context);
    const rdma_conn_param& p = ev->param.conn;
    transport_id peer = trid_of(rdma_get_peer_addr(id));
    // The refusals here need the event: reject, acknowledge, then destroy
    // the new id (destroying it first would wait for our own acknowledgement).
    auto refuse = [&](spec::rdma::cm_status sts, const std::string& why) {
        log::warn("{}: connect request rejected (status {}): {}", peer.to_string(),
                  static_cast<unsigned>(sts), why);
        reject(id, sts);
        rdma_ack_cm_event(ev);
        rdma_destroy_id(id);
    };
    const cm_decision d = check_cm_request(p.private_data, p.private_data_len, limits());
    if (!d.accept) {
        refuse(d.reject, "invalid private data");
        return;
    }
    rdma_device* dev = nullptr;
    {
        std::lock_guard lk(mtx_);
        if (shut_down_) {
            refuse(spec::rdma::cm_status::no_resources, "shutting down");
            return;
        }
        for (auto& x : devices_) {
            if (x->ctx == id->verbs) dev = x.get();
        }
    }
    if (dev == nullptr) {
        refuse(spec::rdma::cm_status::no_resources, "on a device that was not set up");
        return;
    }
    if (2u * d.depth > static_cast<uint32_t>(dev->attr.max_qp_wr)) {
        refuse(spec::rdma::cm_status::invalid_hsqsize,
               "queue of " + std::to_string(d.depth) + " entries is too deep for " + dev->name);
        return;
    }
    // The CM reports the host's REQ from our side: initiator_depth is how many
    // RDMA READs we may have outstanding (the host's responder resources).
    const auto ird =
        static_cast<uint8_t>(std::min<int>(p.initiator_depth, dev->attr.max_qp_init_rd_atom));
    if (ird == 0) {
        refuse(spec::rdma::cm_status::invalid_ird, "the host accepts no RDMA READ");
        return;
    }
    conn_setup s;
    s.cm = d;
    s.initiator_depth = ird;
    s.listen = l->trid;
    s.peer = peer;
    reactor& r = tgt_.reactors.next();
    rdma_poll_group* g = dev->groups[r.index()].get();
    auto* link = new cm_link;
    link->owner = &r;
    id->context = link;
    rdma_ack_cm_event(ev);
    // The queue pair is made on its reactor: that thread alone uses its CQ.
    r.post([this, g, id, link, s] {
        if (shutting_down()) {
            reject(id, spec::rdma::cm_status::no_resources);
            rdma_destroy_id(id);
            delete link;
            return;
        }
        auto q = std::make_shared<rdma_qpair>(*g, id, link, s);
        if (auto ok = q->setup(); !ok) {
            log::warn("{}: connect request rejected: {}", s.peer.to_string(), ok.err().message);
            ++g->counters.rejected;
            reject(id, spec::rdma::cm_status::no_resources);
            q->release_verbs();
            return;
        }
        {
            std::lock_guard lk(link->mtx);
            link->qp = q;
        }
        g->conns.emplace(q.get(), q);
        g->by_qpn.emplace(q->qp_num(), q.get());
        if (auto ok = q->accept(); !ok) {
            log::warn("{}: {}", s.peer.to_string(), ok.err().message);
            q->close_now("accept failed");
            return;
        }
        ++g->counters.accepted;
    });
}

void rdma_transport::on_conn_event(rdma_cm_event* ev) {
    auto* link = static_cast<cm_link*>(ev->id->context);
    std::weak_ptr<qpair> w;
    {
        std::lock_guard lk(link->mtx);
        w = link->qp;
    }
    reactor* r = link->owner;
    const rdma_cm_event_type type = ev->event;
    // After this the id (and link) may be destroyed by its reactor.
    rdma_ack_cm_event(ev);
    switch (type) {
    case RDMA_CM_EVENT_ESTABLISHED:
        r->post([w] {
            if (auto q = w.lock()) static_cast<rdma_qpair*>(q.get())->on_established();
        });
        return;
    case RDMA_CM_EVENT_DISCONNECTED:
    case RDMA_CM_EVENT_TIMEWAIT_EXIT:
    case RDMA_CM_EVENT_REJECTED:
    case RDMA_CM_EVENT_CONNECT_ERROR:
    case RDMA_CM_EVENT_UNREACHABLE:
    case RDMA_CM_EVENT_DEVICE_REMOVAL:
        r->post([w, type] {
            if (auto q = w.lock())
                static_cast<rdma_qpair*>(q.get())->close_now(rdma_event_str(type));
        });
        return;
    default:
        log::debug("rdma: CM event {} on a connection", rdma_event_str(type));
        return;
    }
}

void rdma_transport::shutdown() {
    std::vector<std::unique_ptr<listener>> ls;
    {
        std::lock_guard lk(mtx_);
        if (shut_down_) return;
        shut_down_ = true;
        ls.swap(listeners_);
    }
    if (cm_reactor_) {
        cm_reactor_->run_sync([&] {
            for (auto& l : ls) rdma_destroy_id(l->id);
        });
    }
    for (auto& d : devices_) {
        for (auto& g : d->groups) {
            g->owner().run_sync([&] {
                std::vector<std::shared_ptr<rdma_qpair>> all;
                for (auto& [_, q] : g->conns) all.push_back(q);
                for (auto& q : all) q->disconnect();
            });
        }
    }
}

nlohmann::json rdma_transport::stats() const {
    nlohmann::json groups = nlohmann::json::array();
    std::vector<rdma_poll_group*> gs;
    {
        std::lock_guard lk(mtx_);
        for (auto& d : devices_) {
            for (auto& g : d->groups) gs.push_back(g.get());
        }
    }
    for (auto* g : gs) {
        nlohmann::json j;
        g->owner().run_sync([&] { j = g->stats(); });
        groups.push_back(j);
    }
    return {{"trtype", "RDMA"}, {"poll_groups", groups}};
}

}  // namespace nvmf::rdma
