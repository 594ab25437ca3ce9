#include "nvmf/request.hpp"

#include <algorithm>
#include <cstring>

#include "nvmf/qpair.hpp"

namespace nvmf {

size_t request::copy_from_buffer_at(size_t offset, void* dst, size_t len) const {
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    for (int i = 0; i < iovcnt && done < len; ++i) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        const size_t n = std::min(len - done, iov[i].iov_len - offset);
        std::memcpy(out + done, static_cast<const uint8_t*>(iov[i].iov_base) + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}

size_t request::copy_to_buffer(const void* src, size_t len) {
    const auto* in = static_cast<const uint8_t*>(src);
    size_t done = 0;
    for (int i = 0; i < iovcnt && done < len; ++i) {
        const size_t n = std::min(len - done, iov[i].iov_len);
        std::memcpy(iov[i].iov_base, in + done, n);
        done += n;
    }
    return done;
}

void request::zero_buffer() {
    for (int i = 0; i < iovcnt; ++i) std::memset(iov[i].iov_base, 0, iov[i].iov_len);
}

void complete(request& req, spec::status st) {
    req.rsp.status = st;
    req.rsp.cid = req.cmd.cid;
    req.target_ns.reset();
    req.qp->on_complete(req);
}

}  // namespace nvmf
