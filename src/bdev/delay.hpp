// Delay bdev (SPDK's bdev_delay): a bdev on top of another that holds each
// Read and Write for a configured latency before passing it down, so that
// host timeouts and Abort can be tested. 1 in 100 I/Os of each direction
// (at random, as SPDK) gets the "p99" latency instead of the average one.
//
// Unlike SPDK, which delays the completion after the base bdev has done the
// I/O, the delay is spent before the I/O reaches the base bdev: a delayed
// command that is cancelled (Abort) has then really not been done, so
// "aborted" is true of the data too. Other I/O types pass straight through,
// as in SPDK.
//
// The delay runs on the submitting reactor's timer (one per reactor and bdev,
// armed for the earliest deadline); no thread, no sleep, no lock. Off a
// reactor (tools, unit tests calling submit from a plain thread) there is no
// timer to wait on, and I/O passes through undelayed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bdev/bdev.hpp"
#include "util/result.hpp"

namespace nvmf::bdev {

enum class delay_kind : uint8_t { avg_read = 0, p99_read = 1, avg_write = 2, p99_write = 3 };
constexpr int delay_kinds = 4;

// SPDK's names: avg_read, p99_read, avg_write, p99_write.
const char* delay_kind_name(delay_kind k);
std::optional<delay_kind> delay_kind_from_name(const std::string& s);

struct delay_latencies {
    uint64_t us[delay_kinds] = {};  // by delay_kind, microseconds
    uint64_t& operator[](delay_kind k) { return us[static_cast<int>(k)]; }
    uint64_t operator[](delay_kind k) const { return us[static_cast<int>(k)]; }
};

// Largest latency accepted: a little over 11 days in microseconds keeps every
// deadline in nanoseconds far from overflow.
constexpr uint64_t max_delay_us = uint64_t{1} << 40;

struct delay_options {
    std::string name;
    std::shared_ptr<block_device> base;
    delay_latencies latency;
    std::optional<uuid_t> uuid;  // default: derived from the base bdev's UUID, as SPDK
};

// The delay bdev's own interface, for the bdev_delay_* methods.
class delay_device : public block_device {
public:
    using block_device::block_device;
    virtual const std::shared_ptr<block_device>& base() const = 0;
    virtual delay_latencies latencies() const = 0;
    // New latency for I/O submitted from now on; queued I/O keeps its deadline.
    virtual void set_latency(delay_kind k, uint64_t us) = 0;
};

// Checks the options (p99 latencies not below the average ones, as SPDK
// requires) and builds the bdev. Claiming the base is the caller's business
// (the registry, under its lock).
result<std::shared_ptr<delay_device>> make_delay(const delay_options& opts);

}  // namespace nvmf::bdev
