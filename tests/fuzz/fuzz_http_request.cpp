// Fuzzes the metrics endpoint's HTTP request parser as the server drives it
// (the bytes received so far, growing in arbitrary chunks) and the label
// escaping that puts host-sent NQNs into the exposition. The parser must
// never read out of bounds, may wait only while the head fits in
// max_request_head, answers only with the statuses the server knows, and
// accepts only GET /metrics. The escaped label value must be valid UTF-8
// with no raw line feed and no unescaped quote.
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/exposition.hpp"
#include "metrics/http_request.hpp"

namespace {

using nvmf::metrics::http_verdict;

void check(std::string_view received) {
    const http_verdict v = nvmf::metrics::parse_request(received);
    switch (v.what) {
    case http_verdict::kind::incomplete:
        if (received.size() >= nvmf::metrics::max_request_head) __builtin_trap();
        break;
    case http_verdict::kind::ok:
        if (received.substr(0, 13) != "GET /metrics " &&
            received.substr(0, 13) != "GET /metrics?") {
            __builtin_trap();
        }
        break;
    case http_verdict::kind::error:
        if (v.status != 400 && v.status != 404 && v.status != 405 && v.status != 431 &&
            v.status != 505) {
            __builtin_trap();
        }
        if (v.reason.empty()) __builtin_trap();
        break;
    }
}

void check_escape(std::string_view in) {
    const std::string out = nvmf::metrics::escape_label_value(in);
    for (size_t i = 0; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        if (c < 0x20) __builtin_trap();  // raw line feed and other controls
        if (c == '\\') {
            if (i + 1 == out.size()) __builtin_trap();
            const char e = out[++i];
            if (e != '\\' && e != '"' && e != 'n') __builtin_trap();
        } else if (c == '"') {
            __builtin_trap();
        }
    }
    // Escaping only an escaped text changes it (backslashes double) unless
    // it has none: a cheap sign the output is not the input passed through.
    if (out.find('\\') == std::string::npos && nvmf::metrics::escape_label_value(out) != out) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t chunk = data[0] % 64 + 1;
    const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
    // The server's buffer as it grows, one recv at a time.
    for (size_t n = chunk; n < all.size(); n += chunk) check(all.substr(0, n));
    check(all);
    check_escape(all);
    return 0;
}
