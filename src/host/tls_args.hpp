// The --psk option of the tools: a PSK in the interchange format given
// directly, or the path of a file holding one (as spdk_nvme_perf's
// --psk-path), and the TLS line they print once connected.
#pragma once

#include <string>

#include "util/result.hpp"

namespace nvmf::host {

class controller;

// "NVMeTLSkey-1:..." as is; anything else is a file to read (trailing
// whitespace dropped). The key is checked (format, CRC) here.
result<std::string> read_psk_argument(const std::string& arg);

// "TLS 1.3 TLS_AES_128_GCM_SHA256, identity NVMe0R01 ..., record layer kTLS"
// for the controller's admin queue; empty without TLS.
std::string tls_summary(controller& c);

}  // namespace nvmf::host
