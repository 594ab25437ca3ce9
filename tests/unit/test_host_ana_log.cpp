// The host's ANA log parser: what the target's builder writes parses back,
// and counts that run past the data are refused, never read beyond it.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "host/ana_log.hpp"
#include "nvme/spec/log.hpp"
#include "nvmf/cmd/log_builder.hpp"

namespace nvmf::test {
namespace {

TEST(host_ana_log, parses_what_the_builder_writes) {
    const std::vector<cmd::ana_group> groups = {{2, 0x1, {1, 3}}, {7, 0x3, {4}}};
    const auto img = cmd::build_ana_log(groups, 42, false);
    auto log = host::parse_ana_log(img);
    ASSERT_TRUE(log) << log.err().message;
    EXPECT_EQ(log->chgcnt, 42u);
    ASSERT_EQ(log->groups.size(), 2u);
    EXPECT_EQ(log->groups[2].nsids, (std::vector<uint32_t>{1, 3}));
    EXPECT_EQ(log->groups[7].state, 0x3);
    EXPECT_STREQ(host::ana_state_name(log->groups[7].state), "inaccessible");
    EXPECT_EQ(log->bytes, img.size());
}

TEST(host_ana_log, refuses_counts_past_the_data) {
    const std::vector<cmd::ana_group> groups = {{1, 0x1, {1, 2, 3}}};
    auto img = cmd::build_ana_log(groups, 1, false);
    EXPECT_FALSE(host::parse_ana_log(std::span<const uint8_t>(img).first(8)));
    // Cut inside the NSID list.
    EXPECT_FALSE(host::parse_ana_log(std::span<const uint8_t>(img).first(img.size() - 4)));
    // NGRPS larger than what follows.
    auto more = img;
    more[8] = 2;
    EXPECT_FALSE(host::parse_ana_log(more));
    // NNSIDS huge: no allocation or read past the buffer.
    auto huge = img;
    const uint32_t n = 0xffffffffu;
    std::memcpy(huge.data() + 16 + 4, &n, 4);
    EXPECT_FALSE(host::parse_ana_log(huge));
    // Group ID 0 is not a group.
    auto zero = img;
    std::memset(zero.data() + 16, 0, 4);
    EXPECT_FALSE(host::parse_ana_log(zero));
}

}  // namespace
}  // namespace nvmf::test
