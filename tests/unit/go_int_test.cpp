// Integers as Go's strconv.ParseInt reads them (util/go_int.h).
#include "minirun/util/go_int.h"

#include <gtest/gtest.h>

using minirun::parse_go_int;

TEST(GoInt, SignedDecimalNumbers) {
  EXPECT_EQ(parse_go_int("0"), 0);
  EXPECT_EQ(parse_go_int("1024"), 1024);
  EXPECT_EQ(parse_go_int("-1"), -1);
  EXPECT_EQ(parse_go_int("+7"), 7);
  EXPECT_EQ(parse_go_int("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_go_int("-9223372036854775808"), INT64_MIN);
}

TEST(GoInt, WhatParseIntRefuses) {
  for (const char* bad : {"", "+", "-", " 1", "1 ", "1k", "0x10", "+-1", "1.5", "9223372036854775808"})
    EXPECT_FALSE(parse_go_int(bad).has_value()) << '"' << bad << '"';
}
