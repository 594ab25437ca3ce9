// A minimal NVMe/RDMA initiator for tests: one RC queue pair through the
// RDMA CM with the private data the test chooses, a registered data region
// the target reads and writes through keyed SGLs, and synchronous submit
// (SEND a capsule, poll for the SEND of its completion). It can also send
// what no real host would (short capsules, bad keys) to test the target's
// defences. Blocking and slow on purpose: correctness, not speed.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <poll.h>
#include <rdma/rdma_cma.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nvme/spec/nvme.hpp"
#include "nvme/spec/rdma.hpp"

namespace nvmf::test {

class rdma_client {
public:
    static constexpr size_t data_bytes = 1 << 20;
    static constexpr int slots = 32;
    static constexpr size_t capsule_bytes = 64 + 8192;
    static constexpr size_t rsp_bytes = 64;  // a CQE is 16; more would be a target bug

    rdma_client() = default;
    rdma_client(const rdma_client&) = delete;
    rdma_client& operator=(const rdma_client&) = delete;
    ~rdma_client() { close(); }

    enum class outcome { accepted, rejected, failed };

    // Connects to addr:port with raw private data. On rejected, reject_sts
    // holds the NVMe-oF status from the reject private data (0 if none).
    outcome connect(const std::string& addr, uint16_t port, const void* pd, size_t pd_len) {
        ch_ = rdma_create_event_channel();
        if (!ch_) return fail("rdma_create_event_channel");
        fcntl(ch_->fd, F_SETFL, fcntl(ch_->fd, F_GETFL) | O_NONBLOCK);
        if (rdma_create_id(ch_, &id_, nullptr, RDMA_PS_TCP) != 0) return fail("rdma_create_id");
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_port = htons(port);
        inet_pton(AF_INET, addr.c_str(), &dst.sin_addr);
        if (rdma_resolve_addr(id_, nullptr, reinterpret_cast<sockaddr*>(&dst), 2000) != 0 ||
            !expect_event(RDMA_CM_EVENT_ADDR_RESOLVED)) {
            return fail("resolve addr");
        }
        if (rdma_resolve_route(id_, 2000) != 0 || !expect_event(RDMA_CM_EVENT_ROUTE_RESOLVED)) {
            return fail("resolve route");
        }
        pd_ = ibv_alloc_pd(id_->verbs);
        cq_ = pd_ ? ibv_create_cq(id_->verbs, 4 * slots, nullptr, nullptr, 0) : nullptr;
        if (!cq_) return fail("pd/cq");
        ibv_qp_init_attr a{};
        a.send_cq = a.recv_cq = cq_;
        a.qp_type = IBV_QPT_RC;
        a.cap.max_send_wr = 2 * slots;
        a.cap.max_recv_wr = 2 * slots;
        a.cap.max_send_sge = 1;
        a.cap.max_recv_sge = 1;
        if (rdma_create_qp(id_, pd_, &a) != 0) return fail("rdma_create_qp");
        data_.assign(data_bytes, 0);
        sends_.assign(slots * capsule_bytes, 0);
        rsps_.assign(2 * slots * rsp_bytes, 0);
        const int remote =
            IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE;
        const int local = IBV_ACCESS_LOCAL_WRITE;
        data_mr_ = ibv_reg_mr(pd_, data_.data(), data_.size(), remote);
        send_mr_ = ibv_reg_mr(pd_, sends_.data(), sends_.size(), local);
        rsp_mr_ = ibv_reg_mr(pd_, rsps_.data(), rsps_.size(), local);
        if (!data_mr_ || !send_mr_ || !rsp_mr_) return fail("ibv_reg_mr");
        for (int i = 0; i < 2 * slots; ++i) post_recv(i);
        rdma_conn_param p{};
        p.private_data = pd;
        p.private_data_len = static_cast<uint8_t>(pd_len);
        p.responder_resources = 16;  // the target may have 16 RDMA READs of our memory in flight
        p.initiator_depth = 0;
        p.retry_count = 7;
        p.rnr_retry_count = 7;
        if (rdma_connect(id_, &p) != 0) return fail("rdma_connect");
        rdma_cm_event* ev = wait_event(5000);
        if (!ev) return fail("no answer to the connect request");
        const rdma_cm_event_type t = ev->event;
        if (t == RDMA_CM_EVENT_ESTABLISHED) {
            if (ev->param.conn.private_data_len >= sizeof(spec::rdma::cm_accept)) {
                spec::rdma::cm_accept acc;
                std::memcpy(&acc, ev->param.conn.private_data, sizeof(acc));
                crqsize = acc.crqsize;
            }
            rdma_ack_cm_event(ev);
            return outcome::accepted;
        }
        if (t == RDMA_CM_EVENT_REJECTED) {
            if (ev->param.conn.private_data && ev->param.conn.private_data_len >= 4) {
                spec::rdma::cm_reject rej;
                std::memcpy(&rej, ev->param.conn.private_data, sizeof(rej));
                reject_sts = rej.sts;
            }
            rdma_ack_cm_event(ev);
            return outcome::rejected;
        }
        error = std::string("connect: ") + rdma_event_str(t);
        rdma_ack_cm_event(ev);
        return outcome::failed;
    }

    // The host side of a queue: private data for qid with `entries` entries.
    static spec::rdma::cm_request request(uint16_t qid, uint16_t entries) {
        spec::rdma::cm_request r{};
        r.qid = qid;
        r.hsqsize = static_cast<uint16_t>(entries - 1);
        r.hrqsize = entries;
        r.cntlid = 0xffff;
        return r;
    }

    // Host memory for keyed SGLs.
    uint8_t* mem() { return data_.data(); }
    uint64_t addr(size_t off) const { return reinterpret_cast<uintptr_t>(data_.data()) + off; }
    uint32_t rkey() const { return data_mr_->rkey; }

    static void keyed(spec::sqe& c, uint64_t addr, uint32_t len, uint32_t key, uint8_t sub = 0) {
        spec::rdma::keyed_sgl k{};
        k.address = addr;
        k.length[0] = static_cast<uint8_t>(len);
        k.length[1] = static_cast<uint8_t>(len >> 8);
        k.length[2] = static_cast<uint8_t>(len >> 16);
        std::memcpy(k.key, &key, sizeof(key));
        k.type = static_cast<uint8_t>(0x40 | sub);
        std::memcpy(&c.sgl1, &k, sizeof(k));
        c.flags = static_cast<uint8_t>((c.flags & 0x3f) | 0x40);
    }
    static void in_capsule(spec::sqe& c, uint32_t len) {
        c.sgl1 = {};
        c.sgl1.length = len;
        c.sgl1.type = spec::sgl_type_byte(spec::sgl_type::data_block, spec::sgl_subtype::offset);
        c.flags = static_cast<uint8_t>((c.flags & 0x3f) | 0x40);
    }

    // SENDs raw bytes as a capsule (no completion awaited).
    bool send_raw(const void* buf, size_t len) {
        const int s = next_slot_++ % slots;
        uint8_t* p = sends_.data() + s * capsule_bytes;
        std::memcpy(p, buf, len);
        ibv_sge sge{reinterpret_cast<uintptr_t>(p), static_cast<uint32_t>(len), send_mr_->lkey};
        ibv_send_wr wr{};
        wr.wr_id = send_tag;
        wr.sg_list = &sge;
        wr.num_sge = 1;
        wr.opcode = IBV_WR_SEND;
        wr.send_flags = IBV_SEND_SIGNALED;
        ibv_send_wr* bad = nullptr;
        return ibv_post_send(id_->qp, &wr, &bad) == 0;
    }

    // Sends cmd (with cid set) plus in-capsule bytes and waits for its CQE.
    bool submit(spec::sqe cmd, spec::cqe* out, const void* icd = nullptr, size_t icd_len = 0,
                int timeout_ms = 5000) {
        cmd.cid = next_cid_++;
        std::vector<uint8_t> buf(64 + icd_len);
        std::memcpy(buf.data(), &cmd, 64);
        if (icd_len) std::memcpy(buf.data() + 64, icd, icd_len);
        if (!send_raw(buf.data(), buf.size())) {
            error = "ibv_post_send failed";
            return false;
        }
        return wait_cqe(cmd.cid, out, timeout_ms);
    }

    // Polls until the CQE of cid arrives, the queue pair fails or time runs out.
    bool wait_cqe(uint16_t cid, spec::cqe* out, int timeout_ms) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (std::chrono::steady_clock::now() < end) {
            ibv_wc wc[8];
            const int n = ibv_poll_cq(cq_, 8, wc);
            if (n < 0) {
                error = "ibv_poll_cq failed";
                return false;
            }
            bool found = false;
            for (int i = 0; i < n; ++i) {
                if (wc[i].status != IBV_WC_SUCCESS) {
                    error = std::string("work completion: ") + ibv_wc_status_str(wc[i].status);
                    qp_failed = true;
                    continue;
                }
                if (wc[i].opcode != IBV_WC_RECV) continue;
                const auto slot = static_cast<int>(wc[i].wr_id);
                last_recv_len = wc[i].byte_len;
                last_recv_invalidated = (wc[i].wc_flags & IBV_WC_WITH_INV) != 0;
                spec::cqe c;
                std::memcpy(&c, rsps_.data() + slot * rsp_bytes, sizeof(c));
                post_recv(slot);
                if (c.cid == cid) {
                    *out = c;
                    found = true;
                }
            }
            if (found) return true;
            if (qp_failed) return false;
            if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        if (error.empty()) error = "no completion within " + std::to_string(timeout_ms) + " ms";
        return false;
    }

    // True when the target ended the connection (a CM event, or a failed WR).
    bool wait_closed(int timeout_ms) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (std::chrono::steady_clock::now() < end) {
            if (rdma_cm_event* ev = wait_event(50)) {
                const auto t = ev->event;
                rdma_ack_cm_event(ev);
                if (t == RDMA_CM_EVENT_DISCONNECTED || t == RDMA_CM_EVENT_TIMEWAIT_EXIT)
                    return true;
            }
            ibv_wc wc[8];
            const int n = ibv_poll_cq(cq_, 8, wc);
            for (int i = 0; i < n; ++i) {
                if (wc[i].status != IBV_WC_SUCCESS) return true;
            }
        }
        return false;
    }

    void close() {
        if (id_ && id_->qp) {
            rdma_disconnect(id_);
            rdma_destroy_qp(id_);
        }
        if (data_mr_) ibv_dereg_mr(data_mr_);
        if (send_mr_) ibv_dereg_mr(send_mr_);
        if (rsp_mr_) ibv_dereg_mr(rsp_mr_);
        data_mr_ = send_mr_ = rsp_mr_ = nullptr;
        if (cq_) ibv_destroy_cq(cq_);
        cq_ = nullptr;
        if (pd_) ibv_dealloc_pd(pd_);
        pd_ = nullptr;
        if (id_) rdma_destroy_id(id_);
        id_ = nullptr;
        if (ch_) rdma_destroy_event_channel(ch_);
        ch_ = nullptr;
    }

    uint16_t crqsize = 0;
    uint16_t reject_sts = 0;
    uint32_t last_recv_len = 0;
    bool last_recv_invalidated = false;
    bool qp_failed = false;
    std::string error;

private:
    static constexpr uint64_t send_tag = 1ull << 40;

    outcome fail(const std::string& what) {
        error = what + ": " + std::strerror(errno);
        return outcome::failed;
    }

    void post_recv(int slot) {
        ibv_sge sge{reinterpret_cast<uintptr_t>(rsps_.data() + slot * rsp_bytes),
                    static_cast<uint32_t>(rsp_bytes), rsp_mr_->lkey};
        ibv_recv_wr wr{};
        wr.wr_id = static_cast<uint64_t>(slot);
        wr.sg_list = &sge;
        wr.num_sge = 1;
        ibv_recv_wr* bad = nullptr;
        ibv_post_recv(id_->qp, &wr, &bad);
    }

    rdma_cm_event* wait_event(int timeout_ms) {
        pollfd p{ch_->fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return nullptr;
        rdma_cm_event* ev = nullptr;
        if (rdma_get_cm_event(ch_, &ev) != 0) return nullptr;
        return ev;
    }

    bool expect_event(rdma_cm_event_type want) {
        rdma_cm_event* ev = wait_event(3000);
        if (!ev) return false;
        const bool ok = ev->event == want;
        rdma_ack_cm_event(ev);
        return ok;
    }

    rdma_event_channel* ch_ = nullptr;
    rdma_cm_id* id_ = nullptr;
    ibv_pd* pd_ = nullptr;
    ibv_cq* cq_ = nullptr;
    ibv_mr* data_mr_ = nullptr;
    ibv_mr* send_mr_ = nullptr;
    ibv_mr* rsp_mr_ = nullptr;
    std::vector<uint8_t> data_;
    std::vector<uint8_t> sends_;
    std::vector<uint8_t> rsps_;
    int next_slot_ = 0;
    uint16_t next_cid_ = 1;
};

}  // namespace nvmf::test
