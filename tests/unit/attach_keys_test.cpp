// Docker's detach keys (engine/attach.h): the syntax and the escape proxy's matching.
#include <gtest/gtest.h>

#include "minirun/engine/attach.h"
#include "minirun/util/error.h"

using namespace minirun;

TEST(DetachKeys, ParsesDockersSyntax) {
  EXPECT_EQ(parse_detach_keys("ctrl-p,ctrl-q"), std::string("\x10\x11"));
  EXPECT_EQ(parse_detach_keys("ctrl-a,d"), std::string("\x01" "d"));
  EXPECT_EQ(parse_detach_keys("ctrl-@"), std::string(1, '\0'));
  EXPECT_EQ(parse_detach_keys("ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_"), std::string("\x1b\x1c\x1d\x1e\x1f"));
  for (const char* bad : {"", "ctrl-1", "ctrl-", "ab", "ctrl-p,", "ctrl-pp"}) EXPECT_THROW(parse_detach_keys(bad), Error) << bad;
}

TEST(DetachKeys, HoldsAPartialMatchAndPassesItOnWhenItFails) {
  DetachKeys k(parse_detach_keys("ctrl-p,ctrl-q"));
  bool d = false;
  EXPECT_EQ(k.feed("ab", 2, &d), "ab");
  EXPECT_FALSE(d);
  EXPECT_EQ(k.feed("\x10", 1, &d), "");  // held back
  EXPECT_FALSE(d);
  EXPECT_EQ(k.feed("x", 1, &d), "\x10x");  // the match failed: both go on
  EXPECT_EQ(k.feed("\x10\x10\x11", 3, &d), "\x10");  // ^P ^P ^Q: the first ^P goes on, then detach
  EXPECT_TRUE(d);
  DetachKeys k2(parse_detach_keys("ctrl-p,ctrl-q"));
  EXPECT_EQ(k2.feed("ls\x10", 3, &d), "ls");
  EXPECT_EQ(k2.feed("\x11", 1, &d), "");  // across two reads
  EXPECT_TRUE(d);
}
