// Power cycles and unsafe shutdowns of file bdevs (src/bdev/power_state.hpp):
// the record's text, the step of a power-on, and the record kept in a file's
// extended attribute across opens, clean closes and closes that never came.
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "bdev/power_state.hpp"

namespace nvmf::bdev {
namespace {

TEST(power_state, record_text_round_trip_and_refusals) {
    auto r = parse_power_record("12 3 open");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->cycles, 12u);
    EXPECT_EQ(r->unsafe_shutdowns, 3u);
    EXPECT_TRUE(r->open);
    EXPECT_EQ(format_power_record(*r), "12 3 open");
    r = parse_power_record("1 0 clean");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->open);
    for (const char* bad : {"", "1", "1 2", "1 2 ", "1 2 dirty", "x 2 open", "1  2 open",
                            "-1 2 open", "1 2 open ", "18446744073709551616 0 open"}) {
        EXPECT_FALSE(parse_power_record(bad)) << '"' << bad << '"';
    }
}

TEST(power_state, power_on_counts_a_cycle_and_an_unclean_last_close) {
    const power_record clean{4, 1, false};
    EXPECT_EQ(format_power_record(power_on(clean)), "5 1 open");
    const power_record left_open{4, 1, true};
    EXPECT_EQ(format_power_record(power_on(left_open)), "5 2 open");
    EXPECT_EQ(format_power_record(power_on(power_record{})), "1 0 open");
}

class power_file : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = "/var/tmp/nvmf-power-" + std::to_string(::getpid()) + ".img";
        const int fd = ::open(path_.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
        ASSERT_GE(fd, 0);
        ::close(fd);
    }
    void TearDown() override { ::unlink(path_.c_str()); }
    int open_rw() const { return ::open(path_.c_str(), O_RDWR); }
    std::string stored() const {
        char buf[64];
        const ssize_t n = ::getxattr(path_.c_str(), power_xattr, buf, sizeof(buf));
        return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
    }
    std::string path_;
};

TEST_F(power_file, clean_closes_and_a_lost_one) {
    int fd = open_rw();
    ASSERT_GE(fd, 0);
    power_state s = power_on_file(fd, true);
    ASSERT_TRUE(s.kept) << "/var/tmp keeps no user extended attributes";
    EXPECT_EQ(s.record.cycles, 1u);
    EXPECT_EQ(s.record.unsafe_shutdowns, 0u);
    EXPECT_EQ(stored(), "1 0 open");
    power_off_file(fd, s);
    EXPECT_EQ(stored(), "1 0 clean");
    ::close(fd);

    fd = open_rw();
    s = power_on_file(fd, true);
    EXPECT_EQ(s.record.cycles, 2u);
    EXPECT_EQ(s.record.unsafe_shutdowns, 0u);
    ::close(fd);  // no power_off_file: as after kill -9

    fd = open_rw();
    s = power_on_file(fd, true);
    EXPECT_EQ(s.record.cycles, 3u);
    EXPECT_EQ(s.record.unsafe_shutdowns, 1u);
    EXPECT_EQ(stored(), "3 1 open");
    // Read-only: the record as it is, unchanged, and a close changes nothing.
    const int ro = ::open(path_.c_str(), O_RDONLY);
    const power_state r = power_on_file(ro, false);
    EXPECT_TRUE(r.kept);
    EXPECT_EQ(r.record.cycles, 3u);
    power_off_file(ro, r);
    EXPECT_EQ(stored(), "3 1 open");
    ::close(ro);
    power_off_file(fd, s);
    ::close(fd);
    EXPECT_EQ(stored(), "3 1 clean");
}

TEST_F(power_file, garbage_in_the_attribute_starts_again) {
    ASSERT_EQ(::setxattr(path_.c_str(), power_xattr, "junk", 4, 0), 0);
    const int fd = open_rw();
    const power_state s = power_on_file(fd, true);
    EXPECT_TRUE(s.kept);
    EXPECT_EQ(stored(), "1 0 open");
    ::close(fd);
}

}  // namespace
}  // namespace nvmf::bdev
