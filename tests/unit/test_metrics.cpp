// The metrics endpoint's pieces without a daemon: the HTTP request parser,
// the exposition writer (label escaping, histograms) and the per-reactor
// I/O counters it sums.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/exposition.hpp"
#include "metrics/http_request.hpp"
#include "nvmf/io_metrics.hpp"

namespace nvmf::metrics {
namespace {

using kind = http_verdict::kind;

TEST(MetricsHttp, AcceptsGetMetrics) {
    EXPECT_EQ(parse_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").what, kind::ok);
    EXPECT_EQ(parse_request("GET /metrics?name[]=a HTTP/1.0\r\n\r\n").what, kind::ok);
    EXPECT_EQ(parse_request("GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").what, kind::ok);
}

TEST(MetricsHttp, WaitsForTheWholeHead) {
    EXPECT_EQ(parse_request("").what, kind::incomplete);
    EXPECT_EQ(parse_request("GET /metrics HTTP/1.1\r\nHost: x\r\n").what, kind::incomplete);
    EXPECT_EQ(parse_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r").what, kind::incomplete);
}

TEST(MetricsHttp, RefusesWhatItDoesNotServe) {
    const auto status = [](std::string_view r) { return parse_request(r).status; };
    EXPECT_EQ(status("POST /metrics HTTP/1.1\r\n\r\n"), 405);
    EXPECT_EQ(status("HEAD /metrics HTTP/1.1\r\n\r\n"), 405);
    EXPECT_EQ(status("GET / HTTP/1.1\r\n\r\n"), 404);
    EXPECT_EQ(status("GET /metricsx HTTP/1.1\r\n\r\n"), 404);
    EXPECT_EQ(status("GET /metrics HTTP/2.0\r\n\r\n"), 505);
    EXPECT_EQ(status("GET /metrics\r\n\r\n"), 400);            // HTTP/0.9
    EXPECT_EQ(status("GET  /metrics HTTP/1.1\r\n\r\n"), 400);  // empty target
    EXPECT_EQ(status("G(T /metrics HTTP/1.1\r\n\r\n"), 400);   // not a token
    EXPECT_EQ(status("GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
    EXPECT_EQ(status("GET /metrics HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), 400);  // folding
    EXPECT_EQ(status("GET /metrics HTTP/1.1\r\nA: b\rc\r\n\r\n"), 400);     // bare CR
    EXPECT_EQ(status("GET /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), 400);
    EXPECT_EQ(status("GET /metrics HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"), 400);
    // A malformed header wins over a wrong path: 400, not 404.
    EXPECT_EQ(status("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
}

TEST(MetricsHttp, HugeHeadIs431WithOrWithoutItsEnd) {
    std::string r = "GET /metrics HTTP/1.1\r\nX: " + std::string(max_request_head, 'a');
    EXPECT_EQ(parse_request(r).status, 431);
    r += "\r\n\r\n";
    EXPECT_EQ(parse_request(r).status, 431);
    // Just under the limit is fine.
    std::string ok = "GET /metrics HTTP/1.1\r\nX: ";
    ok += std::string(max_request_head - ok.size() - 4, 'a') + "\r\n\r\n";
    ASSERT_EQ(ok.size(), max_request_head);
    EXPECT_EQ(parse_request(ok).what, kind::ok);
}

TEST(MetricsExposition, EscapesLabelValues) {
    EXPECT_EQ(escape_label_value("nqn.2016-06.io.spdk:cnode1"), "nqn.2016-06.io.spdk:cnode1");
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(escape_label_value("caf\xC3\xA9"), "caf\xC3\xA9");            // UTF-8 kept
    EXPECT_EQ(escape_label_value("x\xFFy"), "x\xEF\xBF\xBDy");              // not UTF-8
    EXPECT_EQ(escape_label_value("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
    EXPECT_EQ(escape_label_value("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(escape_label_value(std::string_view("t\0\r", 3)), "t\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(escape_label_value("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
}

TEST(MetricsExposition, FamilyWithHelpTypeAndSamples) {
    family f("nvmf_x_total", "counter", "Things\ncounted \\ here");
    std::string out;
    f.write(out);
    EXPECT_EQ(out, "");  // no samples, no lines
    f.sample({{"subsystem", "nqn.a:b"}, {"kind", "read"}}, uint64_t{42});
    f.sample({}, 1.5);
    f.write(out);
    EXPECT_EQ(out,
              "# HELP nvmf_x_total Things\\ncounted \\\\ here\n"
              "# TYPE nvmf_x_total counter\n"
              "nvmf_x_total{subsystem=\"nqn.a:b\",kind=\"read\"} 42\n"
              "nvmf_x_total 1.5\n");
}

TEST(MetricsExposition, HistogramIsCumulative) {
    family f("lat_seconds", "histogram", "h");
    const uint64_t counts[] = {1, 0, 2, 3};
    f.histogram({{"k", "v"}}, {0.00001, 0.001, 1}, counts, 2.5);
    std::string out;
    f.write(out);
    EXPECT_EQ(out,
              "# HELP lat_seconds h\n# TYPE lat_seconds histogram\n"
              "lat_seconds_bucket{k=\"v\",le=\"1e-05\"} 1\n"
              "lat_seconds_bucket{k=\"v\",le=\"0.001\"} 1\n"
              "lat_seconds_bucket{k=\"v\",le=\"1\"} 3\n"
              "lat_seconds_bucket{k=\"v\",le=\"+Inf\"} 6\n"
              "lat_seconds_sum{k=\"v\"} 2.5\n"
              "lat_seconds_count{k=\"v\"} 6\n");
}

TEST(IoMetrics, LatencyBuckets) {
    EXPECT_EQ(latency_bucket(0), 0u);
    EXPECT_EQ(latency_bucket(10'000), 0u);  // le is inclusive
    EXPECT_EQ(latency_bucket(10'001), 1u);
    EXPECT_EQ(latency_bucket(999'999'999), 15u);
    EXPECT_EQ(latency_bucket(1'000'000'000), 15u);
    EXPECT_EQ(latency_bucket(1'000'000'001), 16u);  // +Inf
}

TEST(IoMetrics, SumsReactorSlotsAndErrorsByStatus) {
    io_metrics m;
    const auto lba_range = spec::make_status(spec::sct::generic, 0x80, true);
    const auto invalid_ns = spec::make_status(spec::sct::generic, 0x0b);
    // Two reactors at once, each in its own slot.
    std::thread a([&] {
        for (int i = 0; i < 1000; ++i) m.add(0, io_kind::write, 0, 4096, 20'000);
    });
    std::thread b([&] {
        for (int i = 0; i < 500; ++i) m.add(1, io_kind::read, 0, 8192, 5'000);
        m.add(1, io_kind::read, lba_range, 8192, 3'000'000'000);
    });
    a.join();
    b.join();
    m.add(65, io_kind::other, invalid_ns, 0, 100);  // slot 1 again (65 % 64)
    m.add(2, io_kind::other, invalid_ns, 0, 100);
    const io_metrics_totals t = m.sum();
    EXPECT_EQ(t.commands[0], 501u);
    EXPECT_EQ(t.commands[1], 1000u);
    EXPECT_EQ(t.commands[2], 2u);
    EXPECT_EQ(t.bytes[0], 500u * 8192);  // the failed read moved nothing
    EXPECT_EQ(t.bytes[1], 1000u * 4096);
    EXPECT_EQ(t.latency_buckets[1][1], 1000u);  // 20 us: (10, 25]
    EXPECT_EQ(t.latency_buckets[0][0], 500u);
    EXPECT_EQ(t.latency_buckets[0][16], 1u);  // 3 s: +Inf
    EXPECT_EQ(t.latency_sum_ns[1], 1000u * 20'000);
    ASSERT_EQ(t.error_kinds, 2u);
    uint64_t lba = 0, ns = 0;
    for (unsigned i = 0; i < t.error_kinds; ++i) {
        if (t.errors[i].status == status_key(lba_range)) lba = t.errors[i].count;
        if (t.errors[i].status == status_key(invalid_ns)) ns = t.errors[i].count;
    }
    EXPECT_EQ(lba, 1u);  // DNR does not make it another status
    EXPECT_EQ(ns, 2u);
}

TEST(IoMetrics, StatusesPastTheTableCountAsOther) {
    io_metrics m;
    for (unsigned sc = 1; sc <= status_slots + 3; ++sc) {
        m.add(0, io_kind::other, spec::make_status(spec::sct::command_specific, sc), 0, 1);
    }
    const io_metrics_totals t = m.sum();
    EXPECT_EQ(t.error_kinds, status_slots);
    EXPECT_EQ(t.errors_other, 3u);
}

}  // namespace
}  // namespace nvmf::metrics
