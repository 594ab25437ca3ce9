#include "host/pdu.hpp"

#include <algorithm>
#include <cstring>

#include "util/crc32c.hpp"

namespace nvmf::host {

namespace st = spec::tcp;

namespace {

uint32_t header_wire(uint32_t hlen, bool hdgst) { return hlen + (hdgst ? st::digest_len : 0); }

void put_common(uint8_t* out, st::pdu_type t, uint8_t flags, uint8_t hlen, uint8_t pdo,
                uint32_t plen) {
    st::common_header ch{static_cast<uint8_t>(t), flags, hlen, pdo, plen};
    std::memcpy(out, &ch, sizeof(ch));
}

// Writes the header digest after hlen bytes and zero padding up to pdo.
size_t finish_header(uint8_t* out, uint32_t hlen, bool hdgst, uint32_t end) {
    uint32_t pos = hlen;
    if (hdgst) {
        const uint32_t crc = util::crc32c(out, hlen);
        std::memcpy(out + pos, &crc, sizeof(crc));
        pos += st::digest_len;
    }
    if (end > pos) std::memset(out + pos, 0, end - pos);
    return std::max(pos, end);
}

}  // namespace

uint32_t tx_data_offset(uint32_t hlen, const pdu_params& p) {
    const uint32_t align = (static_cast<uint32_t>(p.cpda) + 1) * 4;
    const uint32_t hw = header_wire(hlen, p.hdgst);
    return (hw + align - 1) / align * align;
}

void build_ic_req(uint8_t* out, uint8_t hpda, bool hdgst, bool ddgst, uint32_t maxr2t) {
    st::ic_req req{};
    req.ch = {static_cast<uint8_t>(st::pdu_type::ic_req), 0, 128, 0, st::ic_pdu_len};
    req.pfv = st::pfv_1_0;
    req.hpda = hpda;
    req.dgst = static_cast<uint8_t>((hdgst ? st::dgst_hdgst_enable : 0) |
                                    (ddgst ? st::dgst_ddgst_enable : 0));
    req.maxr2t = maxr2t;
    std::memcpy(out, &req, sizeof(req));
}

size_t build_capsule_cmd(uint8_t* out, const spec::sqe& cmd, uint32_t icd_len,
                         const pdu_params& p) {
    constexpr uint32_t hlen = sizeof(st::capsule_cmd);
    const uint32_t hw = header_wire(hlen, p.hdgst);
    uint8_t flags = p.hdgst ? st::flag::hdgstf : 0;
    uint32_t pdo = 0;
    uint32_t plen = hw;
    if (icd_len > 0) {
        pdo = tx_data_offset(hlen, p);
        plen = pdo + icd_len;
        if (p.ddgst) {
            flags |= st::flag::ddgstf;
            plen += st::digest_len;
        }
    }
    put_common(out, st::pdu_type::capsule_cmd, flags, hlen, static_cast<uint8_t>(pdo), plen);
    std::memcpy(out + sizeof(st::common_header), &cmd, sizeof(cmd));
    return finish_header(out, hlen, p.hdgst, pdo);
}

size_t build_h2c_data(uint8_t* out, uint16_t cccid, uint16_t ttag, uint32_t datao, uint32_t datal,
                      bool last, const pdu_params& p) {
    constexpr uint32_t hlen = sizeof(st::h2c_data);
    uint8_t flags =
        static_cast<uint8_t>((p.hdgst ? st::flag::hdgstf : 0) | (p.ddgst ? st::flag::ddgstf : 0) |
                             (last ? st::flag::last_pdu : 0));
    const uint32_t pdo = tx_data_offset(hlen, p);
    const uint32_t plen = pdo + datal + (p.ddgst ? st::digest_len : 0);
    st::h2c_data h{};
    h.ch = {static_cast<uint8_t>(st::pdu_type::h2c_data), flags, hlen, static_cast<uint8_t>(pdo),
            plen};
    h.cccid = cccid;
    h.ttag = ttag;
    h.datao = datao;
    h.datal = datal;
    std::memcpy(out, &h, sizeof(h));
    return finish_header(out, hlen, p.hdgst, pdo);
}

size_t build_h2c_term_req(uint8_t* out, uint16_t fes, uint32_t fei, const uint8_t* hdr,
                          size_t hdr_len) {
    hdr_len = std::min<size_t>(hdr_len, st::term_req_max_data);
    st::term_req t{};
    t.ch = {static_cast<uint8_t>(st::pdu_type::h2c_term_req), 0, st::term_req_hlen, 0,
            static_cast<uint32_t>(st::term_req_hlen + hdr_len)};
    t.fes = fes;
    std::memcpy(t.fei, &fei, sizeof(fei));
    std::memcpy(out, &t, sizeof(t));
    if (hdr_len > 0) std::memcpy(out + sizeof(t), hdr, hdr_len);
    return sizeof(t) + hdr_len;
}

uint32_t rx_header_rest(const st::common_header& ch, const pdu_params& p) {
    const auto t = static_cast<st::pdu_type>(ch.pdu_type);
    return ch.hlen - static_cast<uint32_t>(sizeof(ch)) + (p.hdgst && st::has_hdgst(t) ? 4 : 0);
}

std::string check_rx_common_header(const st::common_header& ch, const pdu_params& p, bool ic_done) {
    const auto t = static_cast<st::pdu_type>(ch.pdu_type);
    switch (t) {
    case st::pdu_type::ic_resp:
        if (ic_done) return "ICResp after initialization";
        break;
    case st::pdu_type::c2h_term_req:
        break;
    case st::pdu_type::capsule_resp:
    case st::pdu_type::c2h_data:
    case st::pdu_type::r2t:
        if (!ic_done) return std::string(pdu_type_name(ch.pdu_type)) + " before ICResp";
        break;
    default:
        return "unexpected PDU type " + std::to_string(ch.pdu_type);
    }
    if (ch.hlen != st::expected_hlen(t)) {
        return std::string(pdu_type_name(ch.pdu_type)) + " with HLEN " + std::to_string(ch.hlen);
    }
    if (t == st::pdu_type::ic_resp) {
        return ch.plen == st::ic_pdu_len ? "" : "ICResp with PLEN " + std::to_string(ch.plen);
    }
    if (t == st::pdu_type::c2h_term_req) {
        if (ch.plen < st::term_req_hlen || ch.plen > st::term_req_hlen + st::term_req_max_data) {
            return "C2HTermReq with PLEN " + std::to_string(ch.plen);
        }
        return "";
    }
    const bool hd = (ch.flags & st::flag::hdgstf) != 0;
    if (hd != p.hdgst) return std::string(pdu_type_name(ch.pdu_type)) + " HDGSTF flag mismatch";
    const uint32_t hw = header_wire(ch.hlen, p.hdgst);
    if (t != st::pdu_type::c2h_data) {
        if (ch.plen != hw) {
            return std::string(pdu_type_name(ch.pdu_type)) + " with PLEN " +
                   std::to_string(ch.plen);
        }
        return "";
    }
    const bool dd = (ch.flags & st::flag::ddgstf) != 0;
    if (dd != p.ddgst) return "C2HData DDGSTF flag mismatch";
    const uint32_t dmin = dd ? st::digest_len : 0;
    if (ch.pdo < hw || ch.pdo >= ch.plen || ch.plen - ch.pdo <= dmin) {
        return "C2HData with PDO " + std::to_string(ch.pdo) + " PLEN " + std::to_string(ch.plen);
    }
    return "";
}

rx_layout rx_data_layout(const st::common_header& ch, const pdu_params& p) {
    rx_layout l;
    const auto t = static_cast<st::pdu_type>(ch.pdu_type);
    const uint32_t hw = header_wire(ch.hlen, p.hdgst && st::has_hdgst(t));
    if (ch.plen <= hw) return l;
    if (t == st::pdu_type::c2h_term_req) {
        l.datal = ch.plen - hw;
        return l;
    }
    l.ddgst = (ch.flags & st::flag::ddgstf) != 0;
    l.pad = ch.pdo > hw ? ch.pdo - hw : 0;
    l.datal = ch.plen - std::max<uint32_t>(ch.pdo, hw) - (l.ddgst ? st::digest_len : 0);
    return l;
}

bool hdgst_ok(const uint8_t* hdr, uint32_t hlen) {
    uint32_t got;
    std::memcpy(&got, hdr + hlen, sizeof(got));
    return util::crc32c(hdr, hlen) == got;
}

const char* pdu_type_name(uint8_t type) {
    switch (static_cast<st::pdu_type>(type)) {
    case st::pdu_type::ic_req:
        return "ICReq";
    case st::pdu_type::ic_resp:
        return "ICResp";
    case st::pdu_type::h2c_term_req:
        return "H2CTermReq";
    case st::pdu_type::c2h_term_req:
        return "C2HTermReq";
    case st::pdu_type::capsule_cmd:
        return "CapsuleCmd";
    case st::pdu_type::capsule_resp:
        return "CapsuleResp";
    case st::pdu_type::h2c_data:
        return "H2CData";
    case st::pdu_type::c2h_data:
        return "C2HData";
    case st::pdu_type::r2t:
        return "R2T";
    }
    return "unknown PDU";
}

const char* fes_name(uint16_t fes) {
    switch (fes) {
    case st::fes::invalid_header_field:
        return "Invalid PDU Header Field";
    case st::fes::pdu_sequence_error:
        return "PDU Sequence Error";
    case st::fes::header_digest_error:
        return "Header Digest Error";
    case st::fes::data_transfer_out_of_range:
        return "Data Transfer Out of Range";
    case st::fes::r2t_limit_exceeded:
        return "Data Transfer Limit Exceeded";
    case st::fes::unsupported_parameter:
        return "Unsupported Parameter";
    default:
        return "unknown FES";
    }
}

}  // namespace nvmf::host
