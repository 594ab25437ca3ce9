// A fixed set of equal buffers carved out of one allocation, made at
// construction. One region means one memory registration for a NIC (RDMA
// registers the whole slab once, never per I/O). Owned by one reactor: get
// and put take no lock and never allocate (the free stack is reserved up
// front). A caller that needs several buffers gets all of them or none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

namespace nvmf::mem {

class slab_pool {
public:
    static constexpr size_t alignment = 4096;

    // Throws std::bad_alloc when the region cannot be allocated (set-up only).
    slab_pool(size_t buf_size, size_t count)
        : size_(round_up(buf_size, 64)), count_(count), bytes_(round_up(size_ * count, alignment)) {
        base_ = static_cast<uint8_t*>(std::aligned_alloc(alignment, bytes_ ? bytes_ : alignment));
        if (base_ == nullptr) throw std::bad_alloc();
        free_.reserve(count_);
        for (size_t i = count_; i > 0; --i) free_.push_back(base_ + (i - 1) * size_);
    }
    ~slab_pool() { std::free(base_); }
    slab_pool(const slab_pool&) = delete;
    slab_pool& operator=(const slab_pool&) = delete;

    // n buffers into out, or false (and nothing taken) when fewer are free.
    bool get(size_t n, void** out) {
        if (n > free_.size()) return false;
        for (size_t i = 0; i < n; ++i) {
            out[i] = free_.back();
            free_.pop_back();
        }
        return true;
    }
    void put(void* b) { free_.push_back(static_cast<uint8_t*>(b)); }

    // True when b is the start of one of this pool's buffers.
    bool owns(const void* b) const {
        const auto* p = static_cast<const uint8_t*>(b);
        return p >= base_ && p < base_ + size_ * count_ &&
               static_cast<size_t>(p - base_) % size_ == 0;
    }

    uint8_t* base() const { return base_; }
    size_t bytes() const { return bytes_; }
    size_t buf_size() const { return size_; }
    size_t count() const { return count_; }
    size_t available() const { return free_.size(); }
    size_t in_use() const { return count_ - free_.size(); }

private:
    static size_t round_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

    size_t size_;
    size_t count_;
    size_t bytes_;
    uint8_t* base_ = nullptr;
    std::vector<uint8_t*> free_;
};

}  // namespace nvmf::mem
