// CRC32C for NVMe/TCP header and data digests. isa-l's crc32_iscsi is the
// hardware-accelerated CRC32C (SSE4.2/PCLMUL); it returns the raw register,
// so the digest is seeded with ~0 and inverted at the end.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace nvmf::util {

uint32_t crc32c_update(uint32_t crc, const void* data, size_t len);

inline uint32_t crc32c(const void* data, size_t len) {
    return crc32c_update(0xffffffffu, data, len) ^ 0xffffffffu;
}

// Digest over a scatter list, len bytes starting at offset 0 of iov.
uint32_t crc32c_iov(const iovec* iov, int iovcnt, size_t len);

}  // namespace nvmf::util
