// What the SMART / Health log counts of a namespace's I/O: completed reads
// (Read and Compare) and writes, and their bytes. One cache line per
// reactor: a reactor adds only to its own slot (relaxed atomic adds nobody
// else makes, so never contended), the Get Log Page handler sums the slots.
// No lock and no shared cache line on the data path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace nvmf {

struct io_totals {
    uint64_t read_commands = 0;
    uint64_t write_commands = 0;
    uint64_t read_bytes = 0;
    uint64_t write_bytes = 0;
    uint64_t backend_errors = 0;  // commands the bdev failed (media errors)

    io_totals& operator+=(const io_totals& o) {
        read_commands += o.read_commands;
        write_commands += o.write_commands;
        read_bytes += o.read_bytes;
        write_bytes += o.write_bytes;
        backend_errors += o.backend_errors;
        return *this;
    }
};

class io_counters {
public:
    // Reactors past this many share slots: the sums stay exact (the adds are
    // atomic), the slots are no longer private to one reactor.
    static constexpr unsigned slot_count = 64;

    void add_read(unsigned reactor, uint64_t bytes) {
        slot& s = slots_[reactor % slot_count];
        s.read_commands.fetch_add(1, std::memory_order_relaxed);
        s.read_bytes.fetch_add(bytes, std::memory_order_relaxed);
    }
    void add_write(unsigned reactor, uint64_t bytes) {
        slot& s = slots_[reactor % slot_count];
        s.write_commands.fetch_add(1, std::memory_order_relaxed);
        s.write_bytes.fetch_add(bytes, std::memory_order_relaxed);
    }
    void add_backend_error(unsigned reactor) {
        slots_[reactor % slot_count].backend_errors.fetch_add(1, std::memory_order_relaxed);
    }

    // Any thread; a snapshot that may miss adds racing with it.
    io_totals sum() const {
        io_totals t;
        for (const slot& s : slots_) {
            t.read_commands += s.read_commands.load(std::memory_order_relaxed);
            t.write_commands += s.write_commands.load(std::memory_order_relaxed);
            t.read_bytes += s.read_bytes.load(std::memory_order_relaxed);
            t.write_bytes += s.write_bytes.load(std::memory_order_relaxed);
            t.backend_errors += s.backend_errors.load(std::memory_order_relaxed);
        }
        return t;
    }

private:
    struct alignas(64) slot {
        std::atomic<uint64_t> read_commands{0}, write_commands{0};
        std::atomic<uint64_t> read_bytes{0}, write_bytes{0};
        std::atomic<uint64_t> backend_errors{0};
    };
    std::array<slot, slot_count> slots_{};
};

}  // namespace nvmf
