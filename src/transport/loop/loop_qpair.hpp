// One loop queue pair: the target side of a loop_queue. Everything but
// submit() runs on its reactor.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "nvmf/controller.hpp"
#include "nvmf/qpair.hpp"
#include "nvmf/request.hpp"
#include "transport/loop/loop_transport.hpp"

namespace nvmf::loop {

// The queue pairs a loop transport holds (see loop_transport::reg_).
struct loop_registry {
    std::mutex mtx;
    std::vector<std::shared_ptr<loop_qpair>> qpairs;
    // Drops the reference to a queue pair that is closed and idle.
    void release(const loop_qpair* q);
};

struct loop_request {
    request req;
    done_fn done = nullptr;
    void* ctx = nullptr;
};

class loop_qpair final : public qpair {
public:
    loop_qpair(target& t, std::weak_ptr<loop_registry> reg, const transport_options& opts,
               reactor& r, transport_id listen, transport_id peer);

    // Host side, any thread.
    result<void> submit(const spec::sqe& cmd, std::span<uint8_t> data, done_fn done, void* ctx);
    bool open() const { return !closed_.load(std::memory_order_acquire); }
    // The host closes its end: no more submissions; the target disconnects on its reactor.
    void close_from_host();

    // qpair
    void on_complete(request& req) override;
    void disconnect() override;
    const transport_id& listen_trid() const override { return listen_; }
    const transport_id& peer_trid() const override { return peer_; }
    uint32_t max_io_size() const override { return opts_.max_io_size; }
    uint32_t in_capsule_data_size() const override;
    controller_limits limits() const override;
    // A command executing in a bdev that can cancel it (a delay bdev).
    bool abort_request(uint16_t cid) override;

private:
    void start(const spec::sqe& cmd, std::span<uint8_t> data, done_fn done, void* ctx);
    void fail_early(loop_request& r, spec::status st);
    void maybe_release();

    std::weak_ptr<loop_registry> reg_;
    const transport_options opts_;  // a copy: a queue may outlive its transport by a little
    transport_id listen_;
    transport_id peer_;
    std::atomic<bool> closed_{false};
    // Commands between submit() and their completion: the host may not have
    // more than its SQ holds (the pool's size before Connect).
    std::atomic<uint32_t> inflight_{0};
    std::atomic<uint32_t> depth_;
    // Reactor only.
    std::vector<loop_request> reqs_;
    std::vector<loop_request*> free_;
    bool detached_ = false;
    bool released_ = false;
};

}  // namespace nvmf::loop
