// Host-side NVMe/TCP PDU encoding and header checks. Pure functions over
// byte buffers: no sockets, so they are unit tested against hand-built bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "nvme/spec/nvme.hpp"
#include "nvme/spec/tcp.hpp"

namespace nvmf::host {

// What ICReq/ICResp negotiated for one connection.
struct pdu_params {
    bool hdgst = false;
    bool ddgst = false;
    uint8_t cpda = 0;  // controller PDU data alignment, 0's based dwords
    uint8_t hpda = 0;  // host PDU data alignment we asked for, 0's based dwords
};

// Largest header we ever build: the 72-byte capsule header, its digest and
// padding up to a 128-byte data alignment.
constexpr size_t max_tx_header = 72 + spec::tcp::digest_len + 128;

// Where data starts in a PDU we send: after the header and its digest,
// rounded up to the controller's alignment (CPDA).
uint32_t tx_data_offset(uint32_t hlen, const pdu_params& p);

void build_ic_req(uint8_t* out, uint8_t hpda, bool hdgst, bool ddgst, uint32_t maxr2t);

// Capsule command header (with header digest and padding when data follows).
// Returns the bytes written; the caller appends icd_len data bytes and, when
// data digests are on and icd_len > 0, the data digest.
size_t build_capsule_cmd(uint8_t* out, const spec::sqe& cmd, uint32_t icd_len, const pdu_params& p);

// H2CData header for datal bytes at datao; same contract as build_capsule_cmd.
size_t build_h2c_data(uint8_t* out, uint16_t cccid, uint16_t ttag, uint32_t datao, uint32_t datal,
                      bool last, const pdu_params& p);

// H2CTermReq with a prefix of the offending header.
size_t build_h2c_term_req(uint8_t* out, uint16_t fes, uint32_t fei, const uint8_t* hdr,
                          size_t hdr_len);

// Header bytes to read after the common header for a PDU from the target:
// HLEN - 8, plus the header digest when negotiated and the type has one.
uint32_t rx_header_rest(const spec::tcp::common_header& ch, const pdu_params& p);

// Checks the common header of a PDU received from the target. Returns an
// empty string when it is acceptable, else why not. ic_done says whether
// ICResp was already received.
std::string check_rx_common_header(const spec::tcp::common_header& ch, const pdu_params& p,
                                   bool ic_done);

// Where a received data PDU's payload sits (valid after check_rx_common_header).
struct rx_layout {
    uint32_t pad = 0;    // bytes between the header (and digest) and the data
    uint32_t datal = 0;  // data bytes
    bool ddgst = false;  // a data digest follows the data
};
rx_layout rx_data_layout(const spec::tcp::common_header& ch, const pdu_params& p);

// Header digest check over the first hlen bytes; the digest follows them.
bool hdgst_ok(const uint8_t* hdr, uint32_t hlen);

const char* pdu_type_name(uint8_t type);
const char* fes_name(uint16_t fes);

}  // namespace nvmf::host
