// The patterns of ${V#p} ${V%p} ${V/p/r}: shortest and longest matches, characters rather than
// bytes, Go's rules for replacing every match, and long values.
#include <gtest/gtest.h>

#include "minirun/dockerfile/shell_lex.h"
#include "minirun/dockerfile/shell_pattern.h"
#include "minirun/util/error.h"

using minirun::Error;
using minirun::dockerfile::ShellPattern;

TEST(ShellPattern, PrefixAndSuffix) {
  ShellPattern star_slash("*/");
  EXPECT_EQ(star_slash.remove_prefix("a/b/c", false), "b/c");
  EXPECT_EQ(star_slash.remove_prefix("a/b/c", true), "c");
  ShellPattern dot_star(".*");
  EXPECT_EQ(dot_star.remove_suffix("f.tar.gz", false), "f.tar");
  EXPECT_EQ(dot_star.remove_suffix("f.tar.gz", true), "f");
  EXPECT_EQ(ShellPattern("x").remove_prefix("abc", true), "abc");
  EXPECT_EQ(ShellPattern("").remove_prefix("abc", true), "abc");
  // * and ? do not match a newline, as Go's "." does not.
  EXPECT_EQ(ShellPattern("*b").remove_prefix("a\nb", true), "a\nb");
  EXPECT_EQ(ShellPattern("a?").remove_prefix("a\nb", false), "a\nb");
}

TEST(ShellPattern, CharactersNotBytes) {
  EXPECT_EQ(ShellPattern("?").remove_prefix("한국어", false), "국어");
  EXPECT_EQ(ShellPattern("?").remove_suffix("한국어", false), "한국");
  EXPECT_EQ(ShellPattern("국").replace("한국어", "-", false), "한-어");
  // Bytes that are not UTF-8 come back as they were.
  EXPECT_EQ(ShellPattern("a").replace("\xff" "a\xfe", "b", true), "\xff" "b\xfe");
}

TEST(ShellPattern, ReplaceAsGo) {
  EXPECT_EQ(ShellPattern("").replace("xy", "-", true), "-x-y-");
  EXPECT_EQ(ShellPattern("").replace("xy", "-", false), "-xy");
  EXPECT_EQ(ShellPattern("a*").replace("baaac", "X", true), "bX");  // * is any text
  EXPECT_EQ(ShellPattern("a?").replace("baaac", "X", true), "bXX");
  EXPECT_EQ(ShellPattern("a").replace("banana", "o", true), "bonono");
  EXPECT_EQ(ShellPattern("a").replace("banana", "o", false), "bonana");
  EXPECT_EQ(ShellPattern("\\*").replace("a*b*", "+", true), "a+b+");
}

TEST(ShellPattern, RefusesUnknownEscapes) {
  EXPECT_THROW(ShellPattern("\\x"), Error);
  EXPECT_THROW(ShellPattern("a\\"), Error);
  EXPECT_NO_THROW(ShellPattern("\\}\\/\\\\"));
}

TEST(ShellPattern, LongValuesNeitherCrashNorCrawl) {
  std::string big(300000, 'a');
  auto env = minirun::dockerfile::env_lookup({{"V", big + "x"}});
  minirun::dockerfile::ShellLex lex;
  EXPECT_EQ(lex.process_word("${V#*x}", env), "");
  EXPECT_EQ(lex.process_word("${V%%a*}", env), "");
  EXPECT_EQ(lex.process_word("${V##*a}", env), "x");
  EXPECT_EQ(lex.process_word("${V//a/}", env), "x");
  EXPECT_EQ(lex.process_word("${V/zz/y}", env).size(), big.size() + 1);
}
