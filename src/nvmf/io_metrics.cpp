#include "nvmf/io_metrics.hpp"

namespace nvmf {

void io_metrics_totals::add_error(uint16_t st, uint64_t n) {
    for (unsigned i = 0; i < error_kinds; ++i) {
        if (errors[i].status == st) {
            errors[i].count += n;
            return;
        }
    }
    if (error_kinds < errors.size()) {
        errors[error_kinds++] = {st, n};
    } else {
        errors_other += n;
    }
}

io_metrics_totals io_metrics::sum() const {
    io_metrics_totals t;
    for (const slot& s : slots_) {
        for (unsigned k = 0; k < io_kind_count; ++k) {
            t.commands[k] += s.commands[k].load(std::memory_order_relaxed);
            t.bytes[k] += s.bytes[k].load(std::memory_order_relaxed);
            t.latency_sum_ns[k] += s.latency_sum_ns[k].load(std::memory_order_relaxed);
            for (unsigned b = 0; b < latency_bucket_count; ++b) {
                t.latency_buckets[k][b] += s.latency_buckets[k][b].load(std::memory_order_relaxed);
            }
        }
        for (unsigned i = 0; i < status_slots; ++i) {
            const uint32_t key = s.error_keys[i].load(std::memory_order_acquire);
            if (key == 0) break;
            t.add_error(static_cast<uint16_t>(key - 1),
                        s.error_counts[i].load(std::memory_order_relaxed));
        }
        t.errors_other += s.errors_other.load(std::memory_order_relaxed);
    }
    return t;
}

}  // namespace nvmf
