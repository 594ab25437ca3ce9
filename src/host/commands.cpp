#include "host/commands.hpp"

#include <algorithm>
#include <cstring>

namespace nvmf::host::cmd {

namespace {

spec::sqe fabrics(uint8_t fctype) {
    spec::sqe s{};
    s.opc = spec::admin_opc::fabrics;
    reinterpret_cast<uint8_t*>(&s)[offsetof(spec::fabrics_cmd, fctype)] = fctype;
    return s;
}

spec::sqe rw(uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb) {
    spec::sqe s{};
    s.opc = opc;
    s.nsid = nsid;
    s.cdw10 = static_cast<uint32_t>(slba);
    s.cdw11 = static_cast<uint32_t>(slba >> 32);
    s.cdw12 = (nlb - 1) & 0xffff;
    return s;
}

// dst is a zeroed 256-byte field: copying 255 bytes at most leaves its NUL.
void copy_nqn(char* dst, const std::string& nqn) {
    std::memcpy(dst, nqn.data(),  // NOLINT(bugprone-not-null-terminated-result)
                std::min<size_t>(nqn.size(), 255));
}

}  // namespace

spec::sqe connect(uint16_t qid, uint16_t sqsize, uint32_t kato_ms, uint8_t cattr) {
    spec::sqe s = fabrics(spec::fctype::connect);
    spec::connect_cmd c;
    std::memcpy(&c, &s, sizeof(c));
    c.recfmt = 0;
    c.qid = qid;
    c.sqsize = sqsize;
    c.cattr = cattr;
    c.kato = kato_ms;
    std::memcpy(&s, &c, sizeof(c));
    return s;
}

spec::connect_data connect_data(std::span<const uint8_t, 16> hostid, uint16_t cntlid,
                                const std::string& hostnqn, const std::string& subnqn) {
    spec::connect_data d{};
    std::memcpy(d.hostid, hostid.data(), 16);
    d.cntlid = cntlid;
    copy_nqn(d.hostnqn, hostnqn);
    copy_nqn(d.subnqn, subnqn);
    return d;
}

spec::sqe property_get(uint32_t ofst, bool eight_bytes) {
    spec::sqe s = fabrics(spec::fctype::property_get);
    spec::property_get_cmd c;
    std::memcpy(&c, &s, sizeof(c));
    c.attrib = eight_bytes ? 1 : 0;
    c.ofst = ofst;
    std::memcpy(&s, &c, sizeof(c));
    return s;
}

spec::sqe property_set(uint32_t ofst, uint64_t value, bool eight_bytes) {
    spec::sqe s = fabrics(spec::fctype::property_set);
    spec::property_set_cmd c;
    std::memcpy(&c, &s, sizeof(c));
    c.attrib = eight_bytes ? 1 : 0;
    c.ofst = ofst;
    c.value = value;
    std::memcpy(&s, &c, sizeof(c));
    return s;
}

spec::sqe disconnect() { return fabrics(spec::fctype::disconnect); }

spec::sqe identify(uint8_t cns, uint32_t nsid, uint16_t cntid, uint8_t csi) {
    spec::sqe s{};
    s.opc = spec::admin_opc::identify;
    s.nsid = nsid;
    s.cdw10 = cns | (static_cast<uint32_t>(cntid) << 16);
    s.cdw11 = static_cast<uint32_t>(csi) << 24;
    return s;
}

spec::sqe get_log_page(uint8_t lid, uint32_t nsid, uint32_t len, uint64_t offset, uint8_t lsp,
                       bool rae) {
    spec::sqe s{};
    s.opc = spec::admin_opc::get_log_page;
    s.nsid = nsid;
    const uint32_t numd = len / 4 - 1;
    s.cdw10 = lid | (static_cast<uint32_t>(lsp & 0x7f) << 8) | (rae ? (1u << 15) : 0) |
              ((numd & 0xffff) << 16);
    s.cdw11 = numd >> 16;
    s.cdw12 = static_cast<uint32_t>(offset);
    s.cdw13 = static_cast<uint32_t>(offset >> 32);
    return s;
}

spec::sqe get_features(uint8_t fid, uint32_t nsid, uint8_t sel, uint32_t cdw11) {
    spec::sqe s{};
    s.opc = spec::admin_opc::get_features;
    s.nsid = nsid;
    s.cdw10 = fid | (static_cast<uint32_t>(sel & 0x7) << 8);
    s.cdw11 = cdw11;
    return s;
}

spec::sqe set_features(uint8_t fid, uint32_t cdw11, uint32_t nsid, bool save, uint32_t cdw12) {
    spec::sqe s{};
    s.opc = spec::admin_opc::set_features;
    s.nsid = nsid;
    s.cdw10 = fid | (save ? (1u << 31) : 0);
    s.cdw11 = cdw11;
    s.cdw12 = cdw12;
    return s;
}

spec::sqe keep_alive() {
    spec::sqe s{};
    s.opc = spec::admin_opc::keep_alive;
    return s;
}

spec::sqe async_event_request() {
    spec::sqe s{};
    s.opc = spec::admin_opc::async_event_request;
    return s;
}

spec::sqe abort(uint16_t sqid, uint16_t cid) {
    spec::sqe s{};
    s.opc = spec::admin_opc::abort;
    s.cdw10 = sqid | (static_cast<uint32_t>(cid) << 16);
    return s;
}

spec::sqe read(uint32_t nsid, uint64_t slba, uint32_t nlb) {
    return rw(spec::io_opc::read, nsid, slba, nlb);
}

spec::sqe write(uint32_t nsid, uint64_t slba, uint32_t nlb, bool fua) {
    spec::sqe s = rw(spec::io_opc::write, nsid, slba, nlb);
    if (fua) s.cdw12 |= 1u << 30;
    return s;
}

spec::sqe compare(uint32_t nsid, uint64_t slba, uint32_t nlb) {
    return rw(spec::io_opc::compare, nsid, slba, nlb);
}

spec::sqe flush(uint32_t nsid) {
    spec::sqe s{};
    s.opc = spec::io_opc::flush;
    s.nsid = nsid;
    return s;
}

spec::sqe write_zeroes(uint32_t nsid, uint64_t slba, uint32_t nlb, bool deac) {
    spec::sqe s = rw(spec::io_opc::write_zeroes, nsid, slba, nlb);
    if (deac) s.cdw12 |= 1u << 25;
    return s;
}

spec::sqe dataset_management(uint32_t nsid, uint32_t nr, uint32_t attributes) {
    spec::sqe s{};
    s.opc = spec::io_opc::dataset_management;
    s.nsid = nsid;
    s.cdw10 = (nr - 1) & 0xff;
    s.cdw11 = attributes;
    return s;
}

namespace {
spec::sqe resv_cmd(uint8_t opc, uint32_t nsid, uint8_t action, bool iekey, uint8_t rtype) {
    spec::sqe s{};
    s.opc = opc;
    s.nsid = nsid;
    s.cdw10 = (action & 0x7u) | (iekey ? 1u << 3 : 0u) | (static_cast<uint32_t>(rtype) << 8);
    return s;
}
}  // namespace

spec::sqe resv_register(uint32_t nsid, uint8_t rrega, bool iekey, uint8_t cptpl) {
    spec::sqe s = resv_cmd(spec::io_opc::reservation_register, nsid, rrega, iekey, 0);
    s.cdw10 |= static_cast<uint32_t>(cptpl & 0x3) << 30;
    return s;
}

spec::sqe resv_acquire(uint32_t nsid, uint8_t racqa, bool iekey, uint8_t rtype) {
    return resv_cmd(spec::io_opc::reservation_acquire, nsid, racqa, iekey, rtype);
}

spec::sqe resv_release(uint32_t nsid, uint8_t rrela, bool iekey, uint8_t rtype) {
    return resv_cmd(spec::io_opc::reservation_release, nsid, rrela, iekey, rtype);
}

spec::sqe resv_report(uint32_t nsid, uint32_t len, bool eds) {
    spec::sqe s{};
    s.opc = spec::io_opc::reservation_report;
    s.nsid = nsid;
    s.cdw10 = len / 4 - 1;
    s.cdw11 = eds ? 1u : 0u;
    return s;
}

}  // namespace nvmf::host::cmd
