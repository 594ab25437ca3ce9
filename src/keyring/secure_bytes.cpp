// secure_bytes: key material that is wiped before its memory is returned.
#include "keyring/secure_bytes.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

namespace nvmf::keyring {

void cleanse(void* p, size_t n) {
    if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

secure_bytes::secure_bytes(size_t n) : p_(n ? new uint8_t[n]() : nullptr), n_(n) {}

secure_bytes::secure_bytes(const void* p, size_t n) : secure_bytes(n) {
    if (n != 0) std::memcpy(p_, p, n);
}

secure_bytes::~secure_bytes() { clear(); }

secure_bytes::secure_bytes(secure_bytes&& o) noexcept
    : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}

secure_bytes& secure_bytes::operator=(secure_bytes&& o) noexcept {
    if (this != &o) {
        clear();
        p_ = std::exchange(o.p_, nullptr);
        n_ = std::exchange(o.n_, 0);
    }
    return *this;
}

void secure_bytes::truncate(size_t n) {
    if (n >= n_) return;
    cleanse(p_ + n, n_ - n);
    n_ = n;
}

void secure_bytes::clear() {
    // The allocation may be larger than n_ after truncate(); the tail was
    // wiped then, so wiping n_ bytes here covers everything still secret.
    cleanse(p_, n_);
    delete[] p_;
    p_ = nullptr;
    n_ = 0;
}

bool equal_secret(std::span<const uint8_t> a, std::span<const uint8_t> b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace nvmf::keyring
