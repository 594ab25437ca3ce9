#include "util/crc32c.hpp"

#include <algorithm>

#include <isa-l/crc.h>

namespace nvmf::util {

uint32_t crc32c_update(uint32_t crc, const void* data, size_t len) {
    // isa-l takes an int length; digests cover at most a PDU (< 4 GiB) but be exact anyway.
    const auto* p = static_cast<const unsigned char*>(data);
    while (len > 0) {
        const size_t chunk = std::min<size_t>(len, 1u << 30);
        crc = crc32_iscsi(const_cast<unsigned char*>(p), static_cast<int>(chunk), crc);
        p += chunk;
        len -= chunk;
    }
    return crc;
}

uint32_t crc32c_iov(const iovec* iov, int iovcnt, size_t len) {
    uint32_t crc = 0xffffffffu;
    for (int i = 0; i < iovcnt && len > 0; ++i) {
        const size_t n = std::min(len, iov[i].iov_len);
        crc = crc32c_update(crc, iov[i].iov_base, n);
        len -= n;
    }
    return crc ^ 0xffffffffu;
}

}  // namespace nvmf::util
