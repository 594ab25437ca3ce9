#include "metrics/collect.hpp"

#include <array>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "metrics/exposition.hpp"
#include "nvmf/controller.hpp"
#include "nvmf/io_metrics.hpp"
#include "nvmf/ns.hpp"
#include "nvmf/stats.hpp"
#include "nvmf/subsystem.hpp"
#include "nvmf/target.hpp"
#include "reactor/reactor.hpp"
#include "transport/transport.hpp"

namespace nvmf::metrics {

namespace {

constexpr std::array<std::string_view, io_kind_count> kind_names{"read", "write", "other"};

std::string hex(unsigned v) { return fmt::format("0x{:x}", v); }

// The four I/O families, for one scope: per namespace or per host.
struct io_families {
    family commands, bytes, errors, latency;

    explicit io_families(std::string_view scope)
        : commands(fmt::format("nvmf_{}_commands_total", scope), "counter",
                   fmt::format("NVMe commands completed on I/O queues, per {} and kind (read, "
                               "write, other)",
                               scope)),
          bytes(fmt::format("nvmf_{}_bytes_total", scope), "counter",
                fmt::format("Data bytes of the successful commands, per {} and kind", scope)),
          errors(fmt::format("nvmf_{}_errors_total", scope), "counter",
                 fmt::format("Commands completed with an error status, per {}, status code "
                             "type (sct) and status code (sc); sct=\"other\": statuses past "
                             "the distinct ones counted",
                             scope)),
          latency(fmt::format("nvmf_{}_latency_seconds", scope), "histogram",
                  fmt::format("Command latency from its arrival on the queue to its completion, "
                              "per {} and kind",
                              scope)) {}

    // key: the scope's own label (nsid or hostnqn).
    void add(std::string_view subnqn, label key, const io_metrics_totals& t) {
        static const std::vector<double> bounds = [] {
            std::vector<double> b;
            b.reserve(latency_bounds_us.size());
            for (uint32_t us : latency_bounds_us) b.push_back(us / 1e6);
            return b;
        }();
        const label sub{"subsystem", subnqn};
        for (unsigned k = 0; k < io_kind_count; ++k) {
            const label kind{"kind", kind_names[k]};
            commands.sample({sub, key, kind}, t.commands[k]);
            bytes.sample({sub, key, kind}, t.bytes[k]);
            latency.histogram({sub, key, kind}, bounds, t.latency_buckets[k].data(),
                              static_cast<double>(t.latency_sum_ns[k]) / 1e9);
        }
        for (unsigned i = 0; i < t.error_kinds; ++i) {
            const std::string sct = hex((t.errors[i].status >> 9) & 0x7);
            const std::string sc = hex((t.errors[i].status >> 1) & 0xff);
            errors.sample({sub, key, {"sct", sct}, {"sc", sc}}, t.errors[i].count);
        }
        if (t.errors_other != 0) {
            errors.sample({sub, key, {"sct", "other"}, {"sc", "other"}}, t.errors_other);
        }
    }

    void write(std::string& out) const {
        commands.write(out);
        bytes.write(out);
        errors.write(out);
        latency.write(out);
    }
};

void subsystems(target& tgt, std::string& out) {
    family namespaces("nvmf_subsystem_namespaces", "gauge", "Namespaces of the subsystem");
    family controllers("nvmf_subsystem_controllers", "gauge",
                       "Controllers (host associations) of the subsystem");
    io_families per_ns("namespace");
    io_families per_host("host");
    for (const auto& s : tgt.subsystems()) {
        if (s->is_discovery()) continue;
        const auto table = s->ns_snapshot();
        uint64_t active = 0;
        for (uint32_t nsid = 1; table && nsid <= table->max_nsid(); ++nsid) {
            const auto& n = table->find(nsid);
            if (!n) continue;
            ++active;
            const std::string id = std::to_string(nsid);
            per_ns.add(s->nqn, {"nsid", id}, n->metrics.sum());
        }
        namespaces.sample({{"subsystem", s->nqn}}, active);
        controllers.sample({{"subsystem", s->nqn}}, uint64_t{s->controllers().size()});
        for (const auto& [host, m] : s->all_host_metrics()) {
            per_host.add(s->nqn, {"hostnqn", host}, m->sum());
        }
    }
    namespaces.write(out);
    controllers.write(out);
    per_ns.write(out);
    per_host.write(out);
}

void reactors(target& tgt, std::string& out) {
    family busy("nvmf_reactor_busy_seconds_total", "counter",
                "Time the reactor spent in loop iterations that did work");
    family idle("nvmf_reactor_idle_seconds_total", "counter",
                "Time the reactor spent sleeping or polling without finding work");
    family qpairs("nvmf_reactor_qpairs", "gauge",
                  "Queue pairs connected now on the reactor, by type (admin, io)");
    family connected("nvmf_reactor_qpairs_connected_total", "counter",
                     "Queue pairs connected on the reactor since start, by type");
    family completed("nvmf_reactor_completed_io_total", "counter",
                     "Commands completed on the reactor's I/O queues (nvmf_get_stats "
                     "completed_nvme_io)");
    family pending("nvmf_reactor_pending_bdev_io", "gauge",
                   "Block device I/O submitted by the reactor and not completed yet");
    for (size_t i = 0; i < tgt.reactors.size(); ++i) {
        reactor& r = tgt.reactors.at(i);
        poll_group_stats s;
        // The counters are plain, written on their reactor only: read them there.
        r.run_sync([&] { s = tgt.group_stats(r); });
        const std::string idx = std::to_string(r.index());
        const label l{"reactor", idx};
        busy.sample({l}, static_cast<double>(r.busy_ns()) / 1e9);
        idle.sample({l}, static_cast<double>(r.idle_ns()) / 1e9);
        qpairs.sample({l, {"type", "admin"}}, s.current_admin_qpairs);
        qpairs.sample({l, {"type", "io"}}, s.current_io_qpairs);
        connected.sample({l, {"type", "admin"}}, s.admin_qpairs);
        connected.sample({l, {"type", "io"}}, s.io_qpairs);
        completed.sample({l}, s.completed_nvme_io);
        pending.sample({l}, s.pending_bdev_io);
    }
    for (const family* f : {&busy, &idle, &qpairs, &connected, &completed, &pending}) f->write(out);
}

// The transports' per-reactor counters (their nvmf_get_stats poll groups).
void transports(target& tgt, std::string& out) {
    struct field {
        std::string_view key;
        family fam;
    };
    std::array<field, 5> fields{{
        {"current_connections", family("nvmf_transport_connections", "gauge",
                                       "Connections open now, per transport and reactor")},
        {"accepted", family("nvmf_transport_connections_accepted_total", "counter",
                            "Connections accepted since start, per transport and reactor")},
        {"closed", family("nvmf_transport_connections_closed_total", "counter",
                          "Connections closed since start, per transport and reactor")},
        {"buffers_allocated", family("nvmf_transport_buffers_allocated", "gauge",
                                     "Data buffers the reactor's pool holds")},
        {"buffers_in_use", family("nvmf_transport_buffers_in_use", "gauge",
                                  "Data buffers of the reactor's pool lent to commands now")},
    }};
    for (auto* t : tgt.transports()) {
        const nlohmann::json st = t->stats();
        const auto groups = st.find("poll_groups");
        if (groups == st.end() || !groups->is_array()) continue;
        for (const auto& g : *groups) {
            const std::string idx = std::to_string(g.value("reactor", 0u));
            for (auto& f : fields) {
                const auto v = g.find(f.key);
                if (v == g.end() || !v->is_number_unsigned()) continue;
                f.fam.sample({{"transport", t->trtype()}, {"reactor", idx}}, v->get<uint64_t>());
            }
        }
    }
    for (const auto& f : fields) f.fam.write(out);
}

}  // namespace

std::string collect(target& tgt) {
    std::string out;
    subsystems(tgt, out);
    reactors(tgt, out);
    transports(tgt, out);
    return out;
}

}  // namespace nvmf::metrics
