// A target for fuzzers: one reactor driven by hand (no thread), a TCP
// transport with no listening socket, one subsystem with a 512-byte and a
// 4096-byte RAM namespace, allowed on 127.0.0.1:4420 for any host.
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

#include "nvmf/controller.hpp"
#include "nvmf/target.hpp"
#include "transport/tcp/tcp_transport.hpp"

namespace nvmf::fuzz {

constexpr const char* fuzz_nqn = "nqn.2026-11.io.nvmf-target:fuzz";

struct target_env {
    std::unique_ptr<reactor_group> rg;
    reactor* r = nullptr;
    std::unique_ptr<target> tgt;
    tcp::tcp_transport* tcp = nullptr;
    std::shared_ptr<subsystem> sub;
    transport_id listen_trid{"TCP", "IPv4", "127.0.0.1", "4420"};

    static target_env& get() {
        static target_env env;
        return env;
    }

    // Controllers left by an input must not carry over into the next one.
    void reset_controllers() {
        for (auto& s : tgt->subsystems()) {
            for (auto& c : s->controllers()) c->destroy("fuzz input done");
        }
        for (int i = 0; i < 4; ++i) r->poll_once(0);
    }

private:
    target_env() {
        spdlog::set_level(spdlog::level::off);
        rg = std::make_unique<reactor_group>(std::vector<int>{});
        r = &rg->at(0);
        tgt = std::make_unique<target>(*rg);
        transport_options o;
        o.max_queue_depth = 32;
        o.max_aq_depth = 32;
        o.num_shared_buffers = 8;
        auto t = std::make_unique<tcp::tcp_transport>(*tgt, o);
        tcp = t.get();
        (void)tgt->add_transport(std::move(t));
        (void)tgt->bdevs.add(bdev::make_malloc("Malloc0", 2048, 512));
        (void)tgt->bdevs.add(bdev::make_malloc("Malloc1", 256, 4096));
        subsystem_params p;
        p.allow_any_host = true;
        sub = *tgt->create_subsystem(fuzz_nqn, p);
        (void)sub->add_ns(tgt->bdevs.find("Malloc0"), {});
        (void)sub->add_ns(tgt->bdevs.find("Malloc1"), {});
        (void)sub->add_listener(listen_trid);
        sub->set_state(subsystem_state::active);
    }
};

}  // namespace nvmf::fuzz
