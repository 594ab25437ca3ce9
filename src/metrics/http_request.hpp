// The one HTTP/1.1 request the metrics endpoint understands: GET /metrics.
// A pure function of the bytes received so far, so the fuzzer drives it
// alone. Anything else gets a 4xx (and the connection is closed after it).
#pragma once

#include <cstddef>
#include <string_view>

namespace nvmf::metrics {

// Request line and headers together: more than this is 431.
constexpr size_t max_request_head = 8192;

struct http_verdict {
    enum class kind { incomplete, ok, error } what = kind::incomplete;
    int status = 0;           // the error's HTTP status (400, 404, 405, 431, 505)
    std::string_view reason;  // its reason phrase
};

// Judges the bytes received so far: incomplete until the blank line that
// ends the head (CRLF CRLF) is there, within max_request_head bytes. Bytes
// past the head (a pipelined second request) are not looked at: the server
// answers one request per connection and closes it.
http_verdict parse_request(std::string_view received);

}  // namespace nvmf::metrics
