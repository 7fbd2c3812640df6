// Go's time.Duration text, both ways: what Docker's --health-* flags accept and what its
// messages print.
#include <gtest/gtest.h>

#include "minirun/util/go_duration.h"

using minirun::format_go_duration;
using minirun::parse_go_duration;

TEST(GoDuration, ParsesGoForms) {
  EXPECT_EQ(parse_go_duration("30s"), 30000000000);
  EXPECT_EQ(parse_go_duration("1m30s"), 90000000000);
  EXPECT_EQ(parse_go_duration("1.5h"), 5400000000000);
  EXPECT_EQ(parse_go_duration("500ms"), 500000000);
  EXPECT_EQ(parse_go_duration("2us"), 2000);
  EXPECT_EQ(parse_go_duration("2\xc2\xb5s"), 2000);
  EXPECT_EQ(parse_go_duration("7ns"), 7);
  EXPECT_EQ(parse_go_duration("0"), 0);
  EXPECT_EQ(parse_go_duration("-1s"), -1000000000);
  EXPECT_EQ(parse_go_duration("+2s"), 2000000000);
  EXPECT_EQ(parse_go_duration(".5s"), 500000000);
  EXPECT_EQ(parse_go_duration("1.s"), 1000000000);
  EXPECT_EQ(parse_go_duration("2562047h"), int64_t{2562047} * 3600 * 1000000000);
}

TEST(GoDuration, RefusesWhatGoRefuses) {
  for (const char* bad : {"", "10", "s", "1x", "1 s", "1s2", ".s", "-", "1S", "9223372036854775808ns", "2562048h"})
    EXPECT_FALSE(parse_go_duration(bad)) << bad;
}

TEST(GoDuration, FormatsAsGoPrintsIt) {
  EXPECT_EQ(format_go_duration(0), "0s");
  EXPECT_EQ(format_go_duration(30000000000), "30s");
  EXPECT_EQ(format_go_duration(60000000000), "1m0s");
  EXPECT_EQ(format_go_duration(3600000000000), "1h0m0s");
  EXPECT_EQ(format_go_duration(5400000000000), "1h30m0s");
  EXPECT_EQ(format_go_duration(1500000000), "1.5s");
  EXPECT_EQ(format_go_duration(500000000), "500ms");
  EXPECT_EQ(format_go_duration(1500000), "1.5ms");
  EXPECT_EQ(format_go_duration(2000), "2\xc2\xb5s");
  EXPECT_EQ(format_go_duration(7), "7ns");
  EXPECT_EQ(format_go_duration(-2000000000), "-2s");
  EXPECT_EQ(format_go_duration(61000000001), "1m1.000000001s");
}
