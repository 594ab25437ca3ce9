// JSON-RPC 2.0 framing, independent of sockets: cutting a byte stream into
// JSON values (requests may arrive back to back or split anywhere, as with
// SPDK's rpc.py), and turning one request value into one response.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rpc/methods.hpp"

namespace nvmf::rpc {

constexpr size_t max_request_size = 1u << 20;  // one request, bytes

class stream_splitter {
public:
    enum class status { need_more, value, error };

    void append(std::string_view bytes) { buf_.append(bytes); }
    // The next complete top-level value in *out, or need_more, or error (with
    // *why: not JSON text, or a request larger than max_request_size). After
    // an error the stream cannot be resynchronised; the connection is closed.
    status next(std::string* out, std::string* why);
    size_t buffered() const { return buf_.size(); }

private:
    std::string buf_;
    size_t scan_ = 0;  // bytes of buf_ already scanned
    int depth_ = 0;
    bool in_string_ = false;
    bool escape_ = false;
    bool started_ = false;
};

json make_response(const json& id, json result);
json make_error_response(const json& id, int code, const std::string& message);

// One request (object) or a batch (array). Returns the response, or null for
// a notification (no "id") that needs none.
json handle_message(context& ctx, const json& msg);
// Parses text first: invalid JSON gives a -32700 response.
json handle_text(context& ctx, const std::string& text);

}  // namespace nvmf::rpc
