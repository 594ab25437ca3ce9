#include "transport/tcp/pdu_codec.hpp"

#include <algorithm>
#include <cstring>

#include "util/crc32c.hpp"

namespace nvmf::tcp {

namespace st = spec::tcp;

namespace {

constexpr uint32_t fei_pdu_type = offsetof(st::common_header, pdu_type);
constexpr uint32_t fei_flags = offsetof(st::common_header, flags);
constexpr uint32_t fei_hlen = offsetof(st::common_header, hlen);
constexpr uint32_t fei_pdo = offsetof(st::common_header, pdo);
constexpr uint32_t fei_plen = offsetof(st::common_header, plen);

fatal invalid(uint32_t fei) { return {st::fes::invalid_header_field, fei}; }

bool carries_data(st::pdu_type t) {
    return t == st::pdu_type::capsule_cmd || t == st::pdu_type::h2c_data;
}

void put_hdgst(uint8_t* out, size_t hlen) {
    const uint32_t crc = util::crc32c(out, hlen);
    std::memcpy(out + hlen, &crc, sizeof(crc));
}

}  // namespace

uint32_t header_wire_len(const st::common_header& ch, const conn_params& p) {
    const auto t = static_cast<st::pdu_type>(ch.pdu_type);
    return ch.hlen + ((p.hdgst && st::has_hdgst(t)) ? st::digest_len : 0);
}

fatal check_common_header(const st::common_header& ch, const conn_params& p) {
    const auto t = static_cast<st::pdu_type>(ch.pdu_type);
    switch (t) {
    case st::pdu_type::ic_req:
        if (p.ic_done) return {st::fes::pdu_sequence_error, 0};
        break;
    case st::pdu_type::h2c_term_req:
        break;
    case st::pdu_type::capsule_cmd:
    case st::pdu_type::h2c_data:
        if (!p.ic_done) return {st::fes::pdu_sequence_error, 0};
        break;
    default:
        // Controller-to-host PDU types, or no PDU type at all.
        return invalid(fei_pdu_type);
    }
    if (!p.ic_done && t != st::pdu_type::ic_req) return {st::fes::pdu_sequence_error, 0};
    if (ch.hlen != st::expected_hlen(t)) return invalid(fei_hlen);

    if (t == st::pdu_type::ic_req) {
        return ch.plen == st::ic_pdu_len ? fatal{} : invalid(fei_plen);
    }
    if (t == st::pdu_type::h2c_term_req) {
        if (ch.plen < st::term_req_hlen || ch.plen > st::term_req_hlen + st::term_req_max_data) {
            return invalid(fei_plen);
        }
        return {};
    }
    // Digest flags must say what was negotiated.
    const bool hd = (ch.flags & st::flag::hdgstf) != 0;
    if (hd != p.hdgst) return invalid(fei_flags);
    const uint32_t hwire = header_wire_len(ch, p);
    if (ch.plen < hwire) return invalid(fei_plen);
    if (ch.plen == hwire) {
        // No data: a data digest flag makes no sense, the PDO must be 0 (or the header end).
        if (t == st::pdu_type::h2c_data) return invalid(fei_plen);
        if (ch.pdo != 0 && ch.pdo != hwire) return invalid(fei_pdo);
        return {};
    }
    if (!carries_data(t)) return invalid(fei_plen);
    const bool dd = (ch.flags & st::flag::ddgstf) != 0;
    if (dd != p.ddgst) return invalid(fei_flags);
    if (ch.pdo < hwire) return invalid(fei_pdo);
    const uint32_t dlen_min = dd ? st::digest_len : 0;
    if (ch.pdo >= ch.plen || ch.plen - ch.pdo <= dlen_min) return invalid(fei_pdo);
    const uint32_t data = ch.plen - ch.pdo - dlen_min;
    const uint32_t max = t == st::pdu_type::capsule_cmd ? p.max_icd : p.maxh2cdata;
    if (data > max) return {st::fes::data_transfer_limit_exceeded, 0};
    return {};
}

data_layout layout_of(const st::common_header& ch, const conn_params& p) {
    data_layout l;
    const uint32_t hwire = header_wire_len(ch, p);
    if (ch.plen <= hwire) return l;
    l.offset = ch.pdo;
    l.has_ddgst = (ch.flags & st::flag::ddgstf) != 0;
    l.length = ch.plen - ch.pdo - (l.has_ddgst ? st::digest_len : 0);
    return l;
}

fatal check_ic_req(const st::ic_req& req) {
    if (req.pfv != st::pfv_1_0) return invalid(offsetof(st::ic_req, pfv));
    if (req.hpda > st::hpda_max) return invalid(offsetof(st::ic_req, hpda));
    if (req.dgst & ~(st::dgst_hdgst_enable | st::dgst_ddgst_enable)) {
        return invalid(offsetof(st::ic_req, dgst));
    }
    return {};
}

size_t build_ic_resp(uint8_t* out, uint8_t dgst, uint32_t maxh2cdata) {
    st::ic_resp r{};
    r.ch.pdu_type = static_cast<uint8_t>(st::pdu_type::ic_resp);
    r.ch.hlen = sizeof(r);
    r.ch.plen = sizeof(r);
    r.pfv = st::pfv_1_0;
    r.cpda = 0;  // any data alignment is fine: data is copied or read by readv
    r.dgst = dgst;
    r.maxh2cdata = maxh2cdata;
    std::memcpy(out, &r, sizeof(r));
    return sizeof(r);
}

size_t build_capsule_resp(uint8_t* out, const spec::cqe& cqe, bool hdgst) {
    st::capsule_resp r{};
    r.ch.pdu_type = static_cast<uint8_t>(st::pdu_type::capsule_resp);
    r.ch.flags = hdgst ? st::flag::hdgstf : 0;
    r.ch.hlen = sizeof(r);
    r.ch.plen = sizeof(r) + (hdgst ? st::digest_len : 0);
    r.rsp = cqe;
    std::memcpy(out, &r, sizeof(r));
    if (hdgst) put_hdgst(out, sizeof(r));
    return r.ch.plen;
}

size_t build_r2t(uint8_t* out, uint16_t cccid, uint16_t ttag, uint32_t r2to, uint32_t r2tl,
                 bool hdgst) {
    st::r2t r{};
    r.ch.pdu_type = static_cast<uint8_t>(st::pdu_type::r2t);
    r.ch.flags = hdgst ? st::flag::hdgstf : 0;
    r.ch.hlen = sizeof(r);
    r.ch.plen = sizeof(r) + (hdgst ? st::digest_len : 0);
    r.cccid = cccid;
    r.ttag = ttag;
    r.r2to = r2to;
    r.r2tl = r2tl;
    std::memcpy(out, &r, sizeof(r));
    if (hdgst) put_hdgst(out, sizeof(r));
    return r.ch.plen;
}

size_t build_c2h_data(uint8_t* out, uint16_t cccid, uint32_t datao, uint32_t datal, uint8_t flags,
                      const conn_params& p) {
    st::c2h_data d{};
    const uint32_t hwire = sizeof(d) + (p.hdgst ? st::digest_len : 0);
    const uint32_t align = (p.hpda + 1) * 4;
    const uint32_t pdo = (hwire + align - 1) / align * align;
    d.ch.pdu_type = static_cast<uint8_t>(st::pdu_type::c2h_data);
    d.ch.flags = static_cast<uint8_t>(flags | (p.hdgst ? st::flag::hdgstf : 0) |
                                      (p.ddgst ? st::flag::ddgstf : 0));
    d.ch.hlen = sizeof(d);
    d.ch.pdo = static_cast<uint8_t>(pdo);
    d.ch.plen = pdo + datal + (p.ddgst ? st::digest_len : 0);
    d.cccid = cccid;
    d.datao = datao;
    d.datal = datal;
    std::memcpy(out, &d, sizeof(d));
    if (p.hdgst) put_hdgst(out, sizeof(d));
    std::memset(out + hwire, 0, pdo - hwire);
    return pdo;
}

size_t build_term_req(uint8_t* out, const fatal& f, const uint8_t* bad_hdr, size_t bad_len) {
    st::term_req t{};
    const size_t data = std::min<size_t>(bad_len, st::term_req_max_data);
    t.ch.pdu_type = static_cast<uint8_t>(st::pdu_type::c2h_term_req);
    t.ch.hlen = sizeof(t);
    t.ch.plen = static_cast<uint32_t>(sizeof(t) + data);
    t.fes = f.fes;
    std::memcpy(t.fei, &f.fei, sizeof(t.fei));
    std::memcpy(out, &t, sizeof(t));
    if (data) std::memcpy(out + sizeof(t), bad_hdr, data);
    return sizeof(t) + data;
}

}  // namespace nvmf::tcp
