// Fuzzes what an NVMe/RDMA host controls: the RDMA CM private data of a
// connect request and the command capsules it SENDs (the SQE's SGL1 and how
// many bytes follow it). Input: a mode byte, three limit bytes, then the
// private data (mode even) or a 64-byte SQE plus a 2-byte in-capsule length
// (mode odd). Besides "never crash", it checks what the transport relies on:
// an accepted request describes a queue within the limits, and a capsule that
// passes describes a buffer that lies wholly inside what arrived or within
// MDTS.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "nvme/spec/fabrics.hpp"
#include "transport/rdma/rdma_codec.hpp"

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

void fuzz_cm(const uint8_t* lim, const uint8_t* data, size_t size) {
    nvmf::rdma::queue_limits l;
    l.max_aq_depth = 32u + lim[0];
    l.max_queue_depth = 2u + lim[1] * 257u;
    l.max_io_qpairs = 1u + lim[2];
    // A null pointer for an empty payload, as librdmacm gives it.
    const auto d = nvmf::rdma::check_cm_request(size ? data : nullptr, size, l);
    if (!d.accept) return;
    require(size >= sizeof(nvmf::spec::rdma::cm_request));
    require(d.qid <= l.max_io_qpairs);
    require(d.depth >= 2);
    require(d.depth <= (d.qid == 0 ? l.max_aq_depth : l.max_queue_depth));
    require(d.hrqsize >= d.depth);
    const auto a = nvmf::rdma::make_cm_accept(d.depth);
    require(a.recfmt == 0 && a.crqsize == d.depth);
}

void fuzz_capsule(const uint8_t* lim, const uint8_t* data, size_t size) {
    if (size < sizeof(nvmf::spec::sqe) + 2) return;
    nvmf::spec::sqe cmd;
    std::memcpy(&cmd, data, sizeof(cmd));
    const uint32_t icd_len = data[64] | static_cast<uint32_t>(data[65]) << 8;
    nvmf::rdma::capsule_limits l;
    l.max_io_size = 4096u << (lim[0] % 9);  // 4 KiB .. 1 MiB
    l.icd_size = (lim[1] % 9) * 1024u;      // 0 .. 8 KiB
    l.keyed_invalidate_ok = (lim[2] & 1) != 0;
    const auto d = nvmf::rdma::parse_capsule(cmd, icd_len, l);
    if (d.status != 0) {
        require(d.kind == nvmf::rdma::data_kind::none && d.length == 0);
    } else {
        switch (d.kind) {
        case nvmf::rdma::data_kind::none:
            require(icd_len == 0);
            break;
        case nvmf::rdma::data_kind::in_capsule:
            require(d.xfer == nvmf::spec::xfer::host_to_controller);
            require(d.length > 0);
            require(static_cast<uint64_t>(d.icd_offset) + d.length <= icd_len);
            require(static_cast<uint64_t>(d.icd_offset) + d.length <= l.icd_size);
            break;
        case nvmf::rdma::data_kind::keyed:
            require(d.length > 0 && d.length <= l.max_io_size);
            require(d.length <= nvmf::spec::rdma::keyed_max_length);
            require(icd_len == 0);
            require(d.xfer == nvmf::spec::xfer::host_to_controller ||
                    d.xfer == nvmf::spec::xfer::controller_to_host);
            require(!d.invalidate || l.keyed_invalidate_ok);
            break;
        }
    }
    uint16_t ipo = 0;
    const uint16_t depth = static_cast<uint16_t>(2 + lim[1]);
    if (nvmf::rdma::check_connect_matches(cmd, lim[2], depth, &ipo) != 0) {
        require(ipo == offsetof(nvmf::spec::connect_cmd, qid) ||
                ipo == offsetof(nvmf::spec::connect_cmd, sqsize));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4) return 0;
    const uint8_t mode = data[0];
    const uint8_t* lim = data + 1;
    if (mode % 2 == 0) {
        fuzz_cm(lim, data + 4, size - 4);
    } else {
        fuzz_capsule(lim, data + 4, size - 4);
    }
    return 0;
}
