// NVMe/TCP PDU codec: pure functions that validate received headers and
// build outgoing ones. No sockets, no state beyond what is passed in, so the
// codec is unit tested and fuzzed on its own.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nvme/spec/tcp.hpp"

namespace nvmf::tcp {

// What was negotiated on a connection (ICReq/ICResp) and the local limits.
struct conn_params {
    bool ic_done = false;
    bool hdgst = false;
    bool ddgst = false;
    uint32_t max_icd = 8192;       // largest in-capsule data accepted
    uint32_t maxh2cdata = 131072;  // largest H2CData payload accepted
    uint32_t hpda = 0;             // host PDU data alignment (0's based, dwords)
};

// A fatal error: the Fatal Error Status and Information for a C2HTermReq.
struct fatal {
    uint16_t fes = 0;  // 0: no error
    uint32_t fei = 0;  // byte offset of the bad field for invalid_header_field
    explicit operator bool() const { return fes != 0; }
};

// Header length on the wire: HLEN plus the header digest when it applies.
uint32_t header_wire_len(const spec::tcp::common_header& ch, const conn_params& p);

// Checks the 8-byte common header of a PDU received from a host, before the
// rest of the header is read. Every length is validated here, before use.
fatal check_common_header(const spec::tcp::common_header& ch, const conn_params& p);

// Where a PDU's data starts and how long it is (valid after check_common_header).
struct data_layout {
    uint32_t offset = 0;  // from the PDU start (PDO), 0 when no data
    uint32_t length = 0;  // data bytes, digest excluded
    bool has_ddgst = false;
};
data_layout layout_of(const spec::tcp::common_header& ch, const conn_params& p);

// Checks an ICReq (whole 128-byte PDU). Returns what to negotiate.
fatal check_ic_req(const spec::tcp::ic_req& req);

// Builders: write a complete header (with header digest when enabled and
// padding up to the data offset) into out; return the bytes written.
constexpr size_t max_header_bytes = 128 + spec::tcp::digest_len + 128;
size_t build_ic_resp(uint8_t* out, uint8_t dgst, uint32_t maxh2cdata);
size_t build_capsule_resp(uint8_t* out, const spec::cqe& cqe, bool hdgst);
size_t build_r2t(uint8_t* out, uint16_t cccid, uint16_t ttag, uint32_t r2to, uint32_t r2tl,
                 bool hdgst);
// C2HData header; plen accounts for the data and the data digest.
size_t build_c2h_data(uint8_t* out, uint16_t cccid, uint32_t datao, uint32_t datal, uint8_t flags,
                      const conn_params& p);
// C2HTermReq carrying (a prefix of) the offending header.
size_t build_term_req(uint8_t* out, const fatal& f, const uint8_t* bad_hdr, size_t bad_len);

}  // namespace nvmf::tcp
