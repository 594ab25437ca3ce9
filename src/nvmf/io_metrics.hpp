// What the metrics endpoint (--metrics) counts of a namespace's I/O queue
// commands: completions by kind (read, write, other), bytes moved, latency
// histograms, and failures by NVMe status. Same scheme as io_counters (the
// SMART log's): one slot per reactor, each written only by its reactor with
// relaxed atomic adds nobody contends, summed by the scraper. No lock and no
// shared cache line on the data path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "nvme/spec/nvme.hpp"

namespace nvmf {

enum class io_kind : uint8_t { read, write, other };
constexpr unsigned io_kind_count = 3;

// Upper bounds (microseconds) of the latency buckets: NVMe-fast at the low
// end (10 us), slow network storage at the top (1 s); one more bucket past
// the last bound holds the rest (Prometheus's le="+Inf").
constexpr std::array<uint32_t, 16> latency_bounds_us{
    10,    25,     50,     100,    250,     500,     1'000,   2'500,
    5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000};
constexpr unsigned latency_bucket_count = latency_bounds_us.size() + 1;

// Distinct failure statuses a slot tells apart; more fall into "other".
constexpr unsigned status_slots = 8;

struct io_metrics_totals {
    std::array<uint64_t, io_kind_count> commands{};
    std::array<uint64_t, io_kind_count> bytes{};  // successful commands only
    std::array<uint64_t, io_kind_count> latency_sum_ns{};
    // Not cumulative: bucket i counts latencies in (bound[i-1], bound[i]].
    std::array<std::array<uint64_t, latency_bucket_count>, io_kind_count> latency_buckets{};
    struct status_count {
        uint16_t status = 0;  // SCT and SC bits of cqe::status (no DNR, M, CRD)
        uint64_t count = 0;
    };
    std::array<status_count, status_slots * 4> errors{};
    unsigned error_kinds = 0;
    uint64_t errors_other = 0;  // failures past the table's distinct statuses

    void add_error(uint16_t st, uint64_t n);
};

// The SCT and SC of a status, without phase, CRD, More and DNR.
constexpr uint16_t status_key(spec::status st) { return static_cast<uint16_t>(st & 0x0ffe); }

inline unsigned latency_bucket(uint64_t ns) {
    unsigned i = 0;
    while (i < latency_bounds_us.size() && ns > uint64_t{latency_bounds_us[i]} * 1000) ++i;
    return i;
}

class io_metrics {
public:
    // As io_counters: reactors past this many share slots (still exact).
    static constexpr unsigned slot_count = 64;

    // On the reactor that completed the command.
    void add(unsigned reactor, io_kind kind, spec::status st, uint64_t bytes, uint64_t latency_ns) {
        slot& s = slots_[reactor % slot_count];
        const auto k = static_cast<unsigned>(kind);
        s.commands[k].fetch_add(1, std::memory_order_relaxed);
        s.latency_sum_ns[k].fetch_add(latency_ns, std::memory_order_relaxed);
        s.latency_buckets[k][latency_bucket(latency_ns)].fetch_add(1, std::memory_order_relaxed);
        if (spec::status_ok(st)) {
            s.bytes[k].fetch_add(bytes, std::memory_order_relaxed);
        } else {
            s.add_error(status_key(st));
        }
    }

    // Any thread; a snapshot that may miss adds racing with it.
    io_metrics_totals sum() const;

private:
    struct alignas(64) slot {
        std::array<std::atomic<uint64_t>, io_kind_count> commands{};
        std::array<std::atomic<uint64_t>, io_kind_count> bytes{};
        std::array<std::atomic<uint64_t>, io_kind_count> latency_sum_ns{};
        std::array<std::array<std::atomic<uint64_t>, latency_bucket_count>, io_kind_count>
            latency_buckets{};
        // key: status_key + 1 (0: free); claimed once, by compare-exchange in
        // case a slot is shared, then only counted.
        std::array<std::atomic<uint32_t>, status_slots> error_keys{};
        std::array<std::atomic<uint64_t>, status_slots> error_counts{};
        std::atomic<uint64_t> errors_other{0};

        void add_error(uint16_t key) {
            const uint32_t want = uint32_t{key} + 1;
            for (unsigned i = 0; i < status_slots; ++i) {
                uint32_t have = error_keys[i].load(std::memory_order_acquire);
                if (have == 0 &&
                    !error_keys[i].compare_exchange_strong(have, want, std::memory_order_acq_rel)) {
                    // Another writer of a shared slot took it; `have` is its key.
                } else if (have == 0) {
                    have = want;
                }
                if (have == want) {
                    error_counts[i].fetch_add(1, std::memory_order_relaxed);
                    return;
                }
            }
            errors_other.fetch_add(1, std::memory_order_relaxed);
        }
    };
    std::array<slot, slot_count> slots_{};
};

}  // namespace nvmf
