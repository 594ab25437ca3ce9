// Delay bdev: see delay.hpp. Per reactor, four FIFO lists (one per latency
// kind) of I/Os waiting for their deadline, linked through io.drv. I/Os of
// one kind submitted on one reactor get increasing deadlines, so each list is
// in deadline order and only its head is looked at; after a latency is
// lowered the head may hold back later ones until it is due (SPDK behaves the
// same way and calls it desirable for timeout tests).
#include "bdev/delay.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>

#include "reactor/reactor.hpp"

namespace nvmf::bdev {

const char* delay_kind_name(delay_kind k) {
    switch (k) {
    case delay_kind::avg_read:
        return "avg_read";
    case delay_kind::p99_read:
        return "p99_read";
    case delay_kind::avg_write:
        return "avg_write";
    case delay_kind::p99_write:
        return "p99_write";
    }
    return "?";
}

std::optional<delay_kind> delay_kind_from_name(const std::string& s) {
    for (int i = 0; i < delay_kinds; ++i) {
        const auto k = static_cast<delay_kind>(i);
        if (s == delay_kind_name(k)) return k;
    }
    return std::nullopt;
}

namespace {

// Reactors a delay bdev keeps a channel for; I/O from a reactor past this
// index passes through undelayed.
constexpr unsigned max_channels = 1024;

// SPDK's namespace for delay bdev UUIDs derived from the base bdev's
// (module/bdev/delay/vbdev_delay.c, BDEV_DELAY_NAMESPACE_UUID).
constexpr uuid_t delay_uuid_ns = {0x40, 0x09, 0xb5, 0x74, 0x64, 0x30, 0x4f, 0x1b,
                                  0xbc, 0x40, 0xac, 0xe8, 0x11, 0x09, 0x10, 0x27};

uint64_t now_ns() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     reactor::clock::now().time_since_epoch())
                                     .count());
}

// io.drv while an I/O waits here: owner is the bdev, next links the list,
// done is the deadline (ns of reactor::clock) and step the list index + 1
// (0: not waiting here).
struct delay_list {
    io* head = nullptr;
    io* tail = nullptr;
};

struct channel {
    std::array<delay_list, delay_kinds> lists{};
    reactor::timer_id timer = 0;
    uint64_t timer_at = 0;  // deadline the timer is armed for
    uint64_t rng = 0;       // xorshift state for the p99 draw
    uint32_t waiting = 0;   // I/Os in the lists
};

class delay_bdev final : public delay_device {
public:
    explicit delay_bdev(const delay_options& o)
        : delay_device(o.name, o.base->block_size(), o.base->num_blocks()), base_(o.base) {
        for (int i = 0; i < delay_kinds; ++i) latency_ns_[i].store(o.latency.us[i] * 1000);
    }

    // Lets a timer callback or a cancel keep the bdev alive while the I/Os it
    // completes drop the last references to it (namespace already removed).
    std::weak_ptr<delay_bdev> self;

    const char* product_name() const override { return "delay"; }
    bool supports(io_type t) const override { return base_->supports(t); }
    bool volatile_write_cache() const override { return base_->volatile_write_cache(); }
    bool read_only() const override { return base_->read_only(); }
    block_device* claimed_base() const override { return base_.get(); }
    const std::shared_ptr<block_device>& base() const override { return base_; }

    delay_latencies latencies() const override {
        delay_latencies l;
        for (int i = 0; i < delay_kinds; ++i) l.us[i] = latency_ns_[i].load() / 1000;
        return l;
    }
    void set_latency(delay_kind k, uint64_t us) override {
        latency_ns_[static_cast<int>(k)].store(us * 1000, std::memory_order_relaxed);
    }

    nlohmann::json driver_specific() const override { return {{"delay", config_values()}}; }

    nlohmann::json config_values() const {
        const delay_latencies l = latencies();
        nlohmann::json j{{"name", name()}, {"base_bdev_name", base_->name()}};
        j["uuid"] = uuid_to_string(uuid());
        j["avg_read_latency"] = l[delay_kind::avg_read];
        j["p99_read_latency"] = l[delay_kind::p99_read];
        j["avg_write_latency"] = l[delay_kind::avg_write];
        j["p99_write_latency"] = l[delay_kind::p99_write];
        return j;
    }

    void submit(io& io) override {
        reactor* r = reactor::current();
        const bool read = io.type == io_type::read;
        if (r == nullptr || r->index() >= max_channels || (!read && io.type != io_type::write)) {
            base_->submit(io);
            return;
        }
        channel& ch = channel_of(r->index());
        // 1 in 100 at random, as SPDK's rand_r() % 100 == 0.
        const bool p99 = next_random(ch) % 100 == 0;
        const delay_kind k = read ? (p99 ? delay_kind::p99_read : delay_kind::avg_read)
                                  : (p99 ? delay_kind::p99_write : delay_kind::avg_write);
        const uint64_t lat = latency_ns_[static_cast<int>(k)].load(std::memory_order_relaxed);
        if (lat == 0) {
            base_->submit(io);
            return;
        }
        io.drv.owner = this;
        io.drv.next = nullptr;
        io.drv.done = now_ns() + lat;
        io.drv.step = static_cast<uint32_t>(k) + 1;
        delay_list& l = ch.lists[static_cast<int>(k)];
        if (l.tail) {
            l.tail->drv.next = &io;
        } else {
            l.head = &io;
        }
        l.tail = &io;
        ++ch.waiting;
        arm(*r, ch, r->index());
    }

    bool cancel(io& io) override {
        reactor* r = reactor::current();
        if (io.drv.owner != this || io.drv.step == 0 || r == nullptr || r->index() >= max_channels)
            return false;
        channel* ch = channels_[r->index()].get();
        if (ch == nullptr) return false;
        delay_list& l = ch->lists[io.drv.step - 1];
        bdev::io* prev = nullptr;
        bdev::io* cur = l.head;
        while (cur != nullptr && cur != &io) {
            prev = cur;
            cur = cur->drv.next;
        }
        if (cur == nullptr) return false;  // on another reactor's list: not ours to take
        if (prev) {
            prev->drv.next = io.drv.next;
        } else {
            l.head = io.drv.next;
        }
        if (l.tail == &io) l.tail = prev;
        --ch->waiting;
        detach(io);
        if (ch->waiting == 0 && ch->timer != 0) {
            r->cancel_timer(ch->timer);
            ch->timer = 0;
        }
        const auto keep = self.lock();
        finish(io, -ECANCELED);
        return true;
    }

private:
    channel& channel_of(unsigned index) {
        // Only reactor `index` touches slot `index`: no lock.
        auto& slot = channels_[index];
        if (!slot) {
            slot = std::make_unique<channel>();
            slot->rng = now_ns() | 1;
        }
        return *slot;
    }

    static uint64_t next_random(channel& ch) {
        uint64_t x = ch.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ch.rng = x;
        return x >> 11;
    }

    static void detach(io& io) {
        io.drv.owner = nullptr;
        io.drv.next = nullptr;
        io.drv.step = 0;
    }

    // Earliest deadline among the list heads (0: nothing waits).
    static uint64_t earliest(const channel& ch) {
        uint64_t t = 0;
        for (const auto& l : ch.lists) {
            if (l.head && (t == 0 || l.head->drv.done < t)) t = l.head->drv.done;
        }
        return t;
    }

    // Keeps the reactor's timer armed for the earliest deadline while
    // anything waits, and only then (so that no timer outlives the bdev).
    void arm(reactor& r, channel& ch, unsigned index) {
        const uint64_t when = earliest(ch);
        if (ch.timer != 0 && ch.timer_at <= when) return;
        if (ch.timer != 0) r.cancel_timer(ch.timer);
        ch.timer = 0;
        if (when == 0) return;
        const uint64_t now = now_ns();
        ch.timer_at = when;
        ch.timer = r.add_timer(std::chrono::nanoseconds(when > now ? when - now : 0),
                               [this, index] { on_timer(index); });
    }

    void on_timer(unsigned index) {
        const auto keep = self.lock();
        reactor* r = reactor::current();
        channel& ch = *channels_[index];
        ch.timer = 0;
        const uint64_t now = now_ns();
        // Take everything due first: the base may complete inline, and its
        // completion must find the lists consistent.
        io* due = nullptr;
        io* due_tail = nullptr;
        for (auto& l : ch.lists) {
            while (l.head && l.head->drv.done <= now) {
                io* x = l.head;
                l.head = x->drv.next;
                if (!l.head) l.tail = nullptr;
                --ch.waiting;
                x->drv.next = nullptr;
                if (due_tail) {
                    due_tail->drv.next = x;
                } else {
                    due = x;
                }
                due_tail = x;
            }
        }
        arm(*r, ch, index);
        while (due) {
            io* x = due;
            due = x->drv.next;
            detach(*x);
            base_->submit(*x);
        }
    }

    std::shared_ptr<block_device> base_;
    std::atomic<uint64_t> latency_ns_[delay_kinds];
    std::array<std::unique_ptr<channel>, max_channels> channels_{};
};

}  // namespace

result<std::shared_ptr<delay_device>> make_delay(const delay_options& o) {
    if (!o.base) return make_error(-ENODEV, "no base bdev");
    const delay_latencies& l = o.latency;
    for (uint64_t us : l.us) {
        if (us > max_delay_us) {
            return make_error(-EINVAL, "a latency of " + std::to_string(us) +
                                           " us is more than the limit of " +
                                           std::to_string(max_delay_us) + " us");
        }
    }
    if (l[delay_kind::p99_read] < l[delay_kind::avg_read] ||
        l[delay_kind::p99_write] < l[delay_kind::avg_write]) {
        return make_error(-EINVAL,
                          "Unable to create a delay bdev where p99 latency is less than average "
                          "latency");
    }
    auto dev = std::make_shared<delay_bdev>(o);
    dev->self = dev;
    if (o.uuid && !uuid_is_null(*o.uuid)) {
        dev->set_uuid(*o.uuid);
    } else {
        // As SPDK: the name-based UUID of the base bdev's UUID (its 16 bytes),
        // which lasts as long as the base's does.
        const uuid_t& b = o.base->uuid();
        auto u = name_based_uuid(
            delay_uuid_ns, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
        if (!u) return u.err();
        dev->set_uuid(*u, o.base->uuid_origin(),
                      "derived from the UUID of base bdev " + o.base->name() + " (" +
                          o.base->uuid_note() + ")");
    }
    return std::shared_ptr<delay_device>(std::move(dev));
}

}  // namespace nvmf::bdev
