// Fixed-size data buffers for transfers larger than a request's in-capsule
// buffer. One pool per reactor per transport, so get/put take no lock. Buffers
// are allocated on first use up to a cap; an empty pool makes the caller wait
// (it queues itself and is resumed by the next put), it never fails a command.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <vector>

namespace nvmf::mem {

class buffer_pool {
public:
    buffer_pool(size_t buf_size, size_t max_buffers) : size_(buf_size), max_(max_buffers) {}
    ~buffer_pool() {
        for (void* b : free_) std::free(b);
    }
    buffer_pool(const buffer_pool&) = delete;
    buffer_pool& operator=(const buffer_pool&) = delete;

    // nullptr when every buffer is in use.
    void* get() {
        if (!free_.empty()) {
            void* b = free_.back();
            free_.pop_back();
            return b;
        }
        if (allocated_ >= max_) return nullptr;
        void* b = std::aligned_alloc(4096, (size_ + 4095) / 4096 * 4096);
        if (b != nullptr) ++allocated_;
        return b;
    }
    void put(void* b) { free_.push_back(b); }

    size_t buf_size() const { return size_; }
    size_t allocated() const { return allocated_; }
    size_t in_use() const { return allocated_ - free_.size(); }

private:
    size_t size_;
    size_t max_;
    size_t allocated_ = 0;
    std::vector<void*> free_;
};

}  // namespace nvmf::mem
