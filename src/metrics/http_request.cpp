#include "metrics/http_request.hpp"

namespace nvmf::metrics {

namespace {

constexpr http_verdict fail(int status, std::string_view reason) {
    return {http_verdict::kind::error, status, reason};
}

// RFC 9110 token characters (method and header names).
bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

http_verdict check_request_line(std::string_view line) {
    const size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return fail(400, "Bad Request");
    const std::string_view method = line.substr(0, sp1);
    for (char c : method) {
        if (!is_tchar(c)) return fail(400, "Bad Request");
    }
    const size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return fail(400, "Bad Request");
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.') {
        return fail(400, "Bad Request");
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
        return fail(505, "HTTP Version Not Supported");
    }
    for (char c : target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return fail(400, "Bad Request");
    }
    if (method != "GET") return fail(405, "Method Not Allowed");
    const std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") return fail(404, "Not Found");
    return {http_verdict::kind::ok, 200, "OK"};
}

// A header line: "name: value". A GET with a body is refused: the server
// reads no bodies, and guessing where one ends is how smuggling starts.
http_verdict check_header(std::string_view line) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(400, "Bad Request");
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
        if (!is_tchar(c)) return fail(400, "Bad Request");
    }
    const std::string_view value = trim(line.substr(colon + 1));
    for (char c : value) {
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
            return fail(400, "Bad Request");
        }
    }
    if (iequals(name, "transfer-encoding")) return fail(400, "Bad Request");
    if (iequals(name, "content-length") && value != "0") return fail(400, "Bad Request");
    return {http_verdict::kind::ok, 200, "OK"};
}

}  // namespace

http_verdict parse_request(std::string_view received) {
    const size_t end = received.find("\r\n\r\n");
    if (end == std::string_view::npos) {
        if (received.size() >= max_request_head)
            return fail(431, "Request Header Fields Too Large");
        return {};
    }
    if (end + 4 > max_request_head) return fail(431, "Request Header Fields Too Large");
    std::string_view head = received.substr(0, end + 2);  // each line ends in CRLF
    size_t eol = head.find("\r\n");
    http_verdict v = check_request_line(head.substr(0, eol));
    // The request line decides 400/505 first; 404/405 only once the headers
    // are known to be well-formed too.
    if (v.what == http_verdict::kind::error && v.status != 404 && v.status != 405) return v;
    head.remove_prefix(eol + 2);
    while (!head.empty()) {
        eol = head.find("\r\n");
        const std::string_view line = head.substr(0, eol);
        // Obsolete line folding (a header line starting with white space) is refused.
        if (line.empty() || line.front() == ' ' || line.front() == '\t') {
            return fail(400, "Bad Request");
        }
        if (auto h = check_header(line); h.what == http_verdict::kind::error) return h;
        head.remove_prefix(eol + 2);
    }
    return v;
}

}  // namespace nvmf::metrics
