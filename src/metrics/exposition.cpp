#include "metrics/exposition.hpp"

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace nvmf::metrics {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i], 0 if there is none.
size_t utf8_length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3f);
    }
    // Overlong forms, surrogates, past U+10FFFF.
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

// HELP text: backslash and line feed escaped.
std::string escape_help(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size();) {
        const char c = v[i];
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            out += replacement;
        } else {
            const size_t n = utf8_length(v, i);
            if (n == 0) {
                out += replacement;
                ++i;
                continue;
            }
            out.append(v.substr(i, n));
            i += n;
            continue;
        }
        ++i;
    }
    return out;
}

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
    return fmt::format("{}", v);
}

family::family(std::string name, std::string_view type, std::string_view help)
    : name_(std::move(name)),
      head_(fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape_help(help), name_, type)) {}

void family::add(std::string_view name, std::string_view suffix,
                 std::initializer_list<label> labels, const label* extra,
                 const std::string& value) {
    samples_ += name;
    samples_ += suffix;
    if (labels.size() != 0 || extra != nullptr) {
        samples_ += '{';
        bool first = true;
        const auto one = [&](const label& l) {
            if (!first) samples_ += ',';
            first = false;
            samples_ += l.first;
            samples_ += "=\"";
            samples_ += escape_label_value(l.second);
            samples_ += '"';
        };
        for (const auto& l : labels) one(l);
        if (extra != nullptr) one(*extra);
        samples_ += '}';
    }
    samples_ += ' ';
    samples_ += value;
    samples_ += '\n';
}

void family::histogram(std::initializer_list<label> labels, const std::vector<double>& bounds,
                       const uint64_t* counts, double sum) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
        cumulative += counts[i];
        const std::string le = format_value(bounds[i]);
        const label l{"le", le};
        add(name_, "_bucket", labels, &l, std::to_string(cumulative));
    }
    cumulative += counts[bounds.size()];
    const label inf{"le", "+Inf"};
    add(name_, "_bucket", labels, &inf, std::to_string(cumulative));
    add(name_, "_sum", labels, nullptr, format_value(sum));
    add(name_, "_count", labels, nullptr, std::to_string(cumulative));
}

void family::write(std::string& out) const {
    if (samples_.empty()) return;
    out += head_;
    out += samples_;
}

}  // namespace nvmf::metrics
