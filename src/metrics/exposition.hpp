// Prometheus text exposition format 0.0.4: metric families (HELP, TYPE, then
// every sample of the family together, as the format requires), label
// values escaped.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nvmf::metrics {

using label = std::pair<std::string_view, std::string_view>;

// A label value as the format wants it: backslash, double quote and line
// feed escaped; bytes that are not UTF-8 (a host NQN is whatever a host
// sent) replaced by U+FFFD, as are other control characters.
std::string escape_label_value(std::string_view v);

// A sample value: integers exactly, others in the shortest form that reads back.
std::string format_value(double v);

class family {
public:
    // type: "counter", "gauge" or "histogram"; help: one line (escaped here).
    family(std::string name, std::string_view type, std::string_view help);

    void sample(std::initializer_list<label> labels, uint64_t value) {
        add(name_, {}, labels, {}, std::to_string(value));
    }
    void sample(std::initializer_list<label> labels, double value) {
        add(name_, {}, labels, {}, format_value(value));
    }
    // A histogram: cumulative _bucket series (bounds in the unit of the
    // metric, counts not cumulative: each bucket's own), _sum and _count.
    void histogram(std::initializer_list<label> labels, const std::vector<double>& bounds,
                   const uint64_t* counts, double sum);

    bool empty() const { return samples_.empty(); }
    // HELP and TYPE lines and the samples; nothing for a family without samples.
    void write(std::string& out) const;

private:
    void add(std::string_view name, std::string_view suffix, std::initializer_list<label> labels,
             const label* extra, const std::string& value);

    std::string name_;
    std::string head_;
    std::string samples_;
};

}  // namespace nvmf::metrics
