// Builders for the submission queue entries the host sends: fabrics
// (Connect, Property Get/Set), admin and NVM I/O commands. Data pointers
// (sgl1) are filled in by queue::submit.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "nvme/spec/fabrics.hpp"
#include "nvme/spec/nvme.hpp"

namespace nvmf::host::cmd {

// Fabrics.
spec::sqe connect(uint16_t qid, uint16_t sqsize, uint32_t kato_ms, uint8_t cattr = 0);
spec::connect_data connect_data(std::span<const uint8_t, 16> hostid, uint16_t cntlid,
                                const std::string& hostnqn, const std::string& subnqn);
spec::sqe property_get(uint32_t ofst, bool eight_bytes);
spec::sqe property_set(uint32_t ofst, uint64_t value, bool eight_bytes);
spec::sqe disconnect();

// Admin.
spec::sqe identify(uint8_t cns, uint32_t nsid = 0, uint16_t cntid = 0, uint8_t csi = 0);
// numd is implied by the buffer length (bytes, a multiple of 4).
spec::sqe get_log_page(uint8_t lid, uint32_t nsid, uint32_t len, uint64_t offset = 0,
                       uint8_t lsp = 0, bool rae = false);
spec::sqe get_features(uint8_t fid, uint32_t nsid = 0, uint8_t sel = 0, uint32_t cdw11 = 0);
spec::sqe set_features(uint8_t fid, uint32_t cdw11, uint32_t nsid = 0, bool save = false,
                       uint32_t cdw12 = 0);
spec::sqe keep_alive();
spec::sqe async_event_request();
spec::sqe abort(uint16_t sqid, uint16_t cid);

// NVM I/O. nlb is the real block count (not 0's based).
spec::sqe read(uint32_t nsid, uint64_t slba, uint32_t nlb);
spec::sqe write(uint32_t nsid, uint64_t slba, uint32_t nlb, bool fua = false);
spec::sqe compare(uint32_t nsid, uint64_t slba, uint32_t nlb);
spec::sqe flush(uint32_t nsid);
spec::sqe write_zeroes(uint32_t nsid, uint64_t slba, uint32_t nlb, bool deac = false);
// nr: number of ranges (real count); attributes: bit 2 AD deallocate.
spec::sqe dataset_management(uint32_t nsid, uint32_t nr, uint32_t attributes);
constexpr uint32_t dsm_deallocate = 1u << 2;

// Reservations (cdw10 as the Base spec lays it out; the keys go in the data).
spec::sqe resv_register(uint32_t nsid, uint8_t rrega, bool iekey, uint8_t cptpl);
spec::sqe resv_acquire(uint32_t nsid, uint8_t racqa, bool iekey, uint8_t rtype);
spec::sqe resv_release(uint32_t nsid, uint8_t rrela, bool iekey, uint8_t rtype);
// len: the buffer in bytes (a multiple of 4).
spec::sqe resv_report(uint32_t nsid, uint32_t len, bool eds);

struct dsm_range {
    uint32_t cattr;
    uint32_t nlb;
    uint64_t slba;
};
static_assert(sizeof(dsm_range) == 16);

}  // namespace nvmf::host::cmd
