#include "rpc/jsonrpc.hpp"

#include <cctype>

#include "rpc/params.hpp"

namespace nvmf::rpc {

stream_splitter::status stream_splitter::next(std::string* out, std::string* why) {
    if (!started_) {
        size_t i = 0;
        while (i < buf_.size() && std::isspace(static_cast<unsigned char>(buf_[i]))) ++i;
        buf_.erase(0, i);
        if (buf_.empty()) return status::need_more;
        if (buf_[0] != '{' && buf_[0] != '[') {
            *why = "Parse error: a request must be a JSON object";
            return status::error;
        }
        started_ = true;
        scan_ = 0;
        depth_ = 0;
        in_string_ = false;
        escape_ = false;
    }
    for (; scan_ < buf_.size(); ++scan_) {
        const char c = buf_[scan_];
        if (in_string_) {
            if (escape_) {
                escape_ = false;
            } else if (c == '\\') {
                escape_ = true;
            } else if (c == '"') {
                in_string_ = false;
            }
            continue;
        }
        if (c == '"') {
            in_string_ = true;
        } else if (c == '{' || c == '[') {
            ++depth_;
        } else if ((c == '}' || c == ']') && --depth_ == 0) {
            *out = buf_.substr(0, scan_ + 1);
            buf_.erase(0, scan_ + 1);
            started_ = false;
            return status::value;
        }
        if (scan_ + 1 > max_request_size) break;
    }
    if (buf_.size() > max_request_size) {
        *why = "Invalid request: larger than " + std::to_string(max_request_size) + " bytes";
        return status::error;
    }
    return status::need_more;
}

json make_response(const json& id, json result) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json make_error_response(const json& id, int code, const std::string& message) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

namespace {

json handle_one(context& ctx, const json& req) {
    if (!req.is_object())
        return make_error_response(nullptr, err_invalid_request, "Invalid request: not an object");
    json id = nullptr;
    const bool has_id = req.contains("id");
    if (has_id) {
        id = req["id"];
        if (!id.is_null() && !id.is_string() && !id.is_number()) {
            return make_error_response(nullptr, err_invalid_request,
                                       "Invalid request: 'id' must be a string, a number or null");
        }
    }
    auto v = req.find("jsonrpc");
    if (v == req.end() || *v != "2.0") {
        return make_error_response(id, err_invalid_request,
                                   "Invalid request: 'jsonrpc' must be \"2.0\"");
    }
    auto m = req.find("method");
    if (m == req.end() || !m->is_string()) {
        return make_error_response(id, err_invalid_request,
                                   "Invalid request: 'method' must be a string");
    }
    for (const auto& [key, _] : req.items()) {
        if (key != "jsonrpc" && key != "id" && key != "method" && key != "params") {
            return make_error_response(id, err_invalid_request,
                                       "Invalid request: unknown member '" + key + "'");
        }
    }
    json params = nullptr;
    if (auto p = req.find("params"); p != req.end()) {
        if (!p->is_object() && !p->is_array()) {
            return make_error_response(id, err_invalid_request,
                                       "Invalid request: 'params' must be an object or an array");
        }
        if (p->is_array()) {
            return has_id ? make_error_response(id, err_invalid_params,
                                                "Invalid params: positional (array) params are not "
                                                "supported; use an object")
                          : json(nullptr);
        }
        params = *p;
    }
    auto r = call(ctx, m->get<std::string>(), params);
    if (!has_id) return nullptr;  // notification
    if (!r) return make_error_response(id, r.err().code, r.err().message);
    return make_response(id, std::move(*r));
}

}  // namespace

json handle_message(context& ctx, const json& msg) {
    if (!msg.is_array()) return handle_one(ctx, msg);
    if (msg.empty())
        return make_error_response(nullptr, err_invalid_request, "Invalid request: empty batch");
    json out = json::array();
    for (const auto& r : msg) {
        json resp = handle_one(ctx, r);
        if (!resp.is_null()) out.push_back(std::move(resp));
    }
    return out.empty() ? json(nullptr) : out;
}

json handle_text(context& ctx, const std::string& text) {
    json msg = json::parse(text, nullptr, false);
    if (msg.is_discarded()) return make_error_response(nullptr, err_parse, "Parse error");
    return handle_message(ctx, msg);
}

}  // namespace nvmf::rpc
