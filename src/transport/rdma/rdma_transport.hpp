// The NVMe/RDMA transport: RDMA CM listeners on one event channel (its fd on
// reactor 0's epoll), the RDMA devices they are bound to, and placement of
// accepted connections on reactors (round-robin), each on that reactor's
// poll group of the connection's device.
#pragma once

#include <rdma/rdma_cma.h>

#include <memory>
#include <mutex>
#include <vector>

#include "reactor/reactor.hpp"
#include "transport/rdma/rdma_codec.hpp"
#include "transport/rdma/rdma_poll_group.hpp"
#include "transport/transport.hpp"

namespace nvmf::rdma {

class rdma_transport final : public transport {
public:
    rdma_transport(target& tgt, transport_options opts);
    ~rdma_transport() override;

    result<void> listen(const transport_id& trid) override;
    result<void> stop_listen(const transport_id& trid) override;
    std::vector<transport_id> listening() const override;
    void shutdown() override;
    nlohmann::json stats() const override;

    bool shutting_down() const;
    queue_limits limits() const;

private:
    struct listener;
    struct cm_channel_handler;

    result<void> open_channel();
    result<rdma_device*> device_for(ibv_context* ctx);
    void on_cm_events();
    void on_connect_request(rdma_cm_event* ev);
    void on_conn_event(rdma_cm_event* ev);

    mutable std::mutex mtx_;
    rdma_event_channel* channel_ = nullptr;
    std::unique_ptr<cm_channel_handler> channel_handler_;
    reactor* cm_reactor_ = nullptr;
    std::vector<std::unique_ptr<listener>> listeners_;
    std::vector<std::unique_ptr<rdma_device>> devices_;
    bool shut_down_ = false;
};

}  // namespace nvmf::rdma
