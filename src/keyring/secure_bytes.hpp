// Memory for key material: wiped (OPENSSL_cleanse, which the compiler may not
// drop) before it is freed, never copied implicitly, never printed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace nvmf::keyring {

// Overwrites n bytes at p with zeroes in a way the optimiser keeps.
void cleanse(void* p, size_t n);

class secure_bytes {
public:
    secure_bytes() = default;
    explicit secure_bytes(size_t n);  // n zero bytes
    secure_bytes(const void* p, size_t n);
    ~secure_bytes();
    secure_bytes(secure_bytes&& o) noexcept;
    secure_bytes& operator=(secure_bytes&& o) noexcept;
    secure_bytes(const secure_bytes&) = delete;
    secure_bytes& operator=(const secure_bytes&) = delete;

    // An explicit copy, for the rare owner that needs its own.
    secure_bytes clone() const { return secure_bytes(p_, n_); }

    uint8_t* data() { return p_; }
    const uint8_t* data() const { return p_; }
    size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }
    std::span<const uint8_t> span() const { return {p_, n_}; }
    std::span<uint8_t> span() { return {p_, n_}; }
    uint8_t& operator[](size_t i) { return p_[i]; }
    uint8_t operator[](size_t i) const { return p_[i]; }

    // Keeps the first n bytes (n <= size()); the rest is wiped.
    void truncate(size_t n);
    // Wipes and frees.
    void clear();

private:
    uint8_t* p_ = nullptr;
    size_t n_ = 0;
};

// Constant-time comparison of two equal-length byte strings (CRYPTO_memcmp):
// a response check must not tell an attacker how many bytes matched.
bool equal_secret(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace nvmf::keyring
