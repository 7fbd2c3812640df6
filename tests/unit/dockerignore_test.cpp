// .dockerignore: reading the file and matching context paths, against moby/patternmatcher's
// cases, plus the question the context walker asks of excluded directories.
#include <gtest/gtest.h>

#include "minirun/dockerfile/dockerignore.h"
#include "minirun/util/error.h"

using minirun::Error;
using minirun::dockerfile::clean_path;
using minirun::dockerfile::DockerIgnore;
using minirun::dockerfile::read_dockerignore;

namespace {

struct SingleCase {
  const char* pattern;
  const char* text;
  bool pass;
};
struct MultiCase {
  std::vector<std::string> patterns;
  const char* text;
  bool pass;
};

#include "dockerignore_cases.inc"

bool matches(const std::vector<std::string>& patterns, const std::string& path) {
  return DockerIgnore(patterns).excluded(path);
}

}  // namespace

TEST(DockerIgnore, PatternMatcherCases) {
  for (const auto& c : kSingleCases)
    EXPECT_EQ(matches({c.pattern}, c.text), c.pass) << c.pattern << " vs " << c.text;
  for (const auto& c : kMultiCases) EXPECT_EQ(matches(c.patterns, c.text), c.pass) << c.text;
  EXPECT_TRUE(matches({"a\\*b"}, "a*b"));
}

TEST(DockerIgnore, ExceptionsAndLastMatchWins) {
  EXPECT_TRUE(matches({"*"}, "fileutils.go"));
  EXPECT_TRUE(matches({"*.go"}, "fileutils.go"));
  EXPECT_TRUE(matches({"!fileutils.go", "*.go"}, "fileutils.go"));
  EXPECT_FALSE(matches({"*.go", "!fileutils.go"}, "fileutils.go"));
  EXPECT_FALSE(matches({"docs", "!docs/README.md"}, "docs/README.md"));
  EXPECT_FALSE(matches({"docs/", "!docs/README.md"}, "docs/README.md"));
  EXPECT_FALSE(matches({"docs/*", "!docs/README.md"}, "docs/README.md"));
  EXPECT_TRUE(matches({"docs"}, "docs/sub/file"));
  EXPECT_FALSE(matches({"*.go"}, "."));
  EXPECT_FALSE(matches({}, "any/path/there"));
  EXPECT_TRUE(matches({"**/node_modules"}, "a/b/node_modules/x/y"));
  EXPECT_FALSE(matches({"*.md"}, "docs/a.md"));  // * does not cross a /
  EXPECT_THROW(DockerIgnore({"!"}), Error);
  EXPECT_THROW(DockerIgnore({"["}), Error);
  EXPECT_THROW(DockerIgnore({"a[]b"}), Error);
}

TEST(DockerIgnore, ReadsTheFileAsDocker) {
  const char* content =
      "test1\n"
      "/test2\n"
      "/a/file/here\n"
      "\n"
      "lastfile\n"
      "# this is a comment\n"
      "! /inverted/abs/path\n"
      "!\n"
      "! ";
  EXPECT_EQ(read_dockerignore(content), (std::vector<std::string>{"test1", "test2", "a/file/here", "lastfile",
                                                                 "!inverted/abs/path", "!", "!"}));
  EXPECT_EQ(read_dockerignore("\xEF\xBB\xBF" "a\r\n  b/../c/  \n #not a comment\n"),
            (std::vector<std::string>{"a", "c", "#not a comment"}));
  auto ig = DockerIgnore::from_text("# build output\n/build\n*.log\n!keep.log\n");
  EXPECT_TRUE(ig.excluded("build"));
  EXPECT_TRUE(ig.excluded("build/x.o"));
  EXPECT_TRUE(ig.excluded("./build/x.o"));
  EXPECT_FALSE(ig.excluded("src/build"));
  EXPECT_TRUE(ig.excluded("a.log"));
  EXPECT_FALSE(ig.excluded("keep.log"));
  EXPECT_FALSE(ig.excluded("Dockerfile"));
}

TEST(DockerIgnore, WhetherAnExcludedDirectoryMustBeEntered) {
  auto ig = DockerIgnore({"docs", "!docs/README.md", "vendor/**", "!**/LICENSE", "node_modules"});
  EXPECT_TRUE(ig.excluded("docs"));
  EXPECT_TRUE(ig.may_include_below("docs"));
  EXPECT_TRUE(ig.may_include_below("vendor/x"));  // **/LICENSE may be anywhere
  auto plain = DockerIgnore({"docs", "!docs/README.md", "build"});
  EXPECT_FALSE(plain.may_include_below("build"));
  EXPECT_TRUE(plain.may_include_below("docs"));
  EXPECT_FALSE(plain.may_include_below("docs/sub"));
  EXPECT_FALSE(DockerIgnore({"build"}).may_include_below("build"));
  EXPECT_TRUE(DockerIgnore({"*", "!src/*/main.go"}).may_include_below("src/app"));
  EXPECT_FALSE(DockerIgnore({"*", "!src/*/main.go"}).may_include_below("lib"));
}

TEST(DockerIgnore, CleansPathsAsGo) {
  EXPECT_EQ(clean_path(""), ".");
  EXPECT_EQ(clean_path("a//b/./c/.."), "a/b");
  EXPECT_EQ(clean_path("/../a"), "/a");
  EXPECT_EQ(clean_path("../../a"), "../../a");
  EXPECT_EQ(clean_path("a/../.."), "..");
  EXPECT_EQ(clean_path("/"), "/");
}

TEST(DockerIgnore, ClassesCharactersAndLongPaths) {
  EXPECT_TRUE(matches({"file[0-9].txt"}, "file7.txt"));
  EXPECT_FALSE(matches({"file[^0-9].txt"}, "file7.txt"));
  EXPECT_TRUE(matches({"file[^0-9].txt"}, "filex.txt"));
  EXPECT_TRUE(matches({"[\\]]x"}, "]x"));
  EXPECT_TRUE(matches({"caf?"}, "café"));  // ? is one character
  EXPECT_FALSE(matches({"?"}, "a/b") && !matches({"?"}, "a"));
  EXPECT_TRUE(matches({"**/*.tmp"}, "a/b/c.tmp"));
  std::string deep;
  for (int i = 0; i < 60000; ++i) deep += "d/";
  deep += "x.tmp";
  EXPECT_TRUE(matches({"**/*.tmp"}, deep));
  EXPECT_TRUE(matches({"d/**/x.tmp"}, deep));
  EXPECT_FALSE(matches({"d/*/x.tmp"}, deep));
  EXPECT_TRUE(matches({"d"}, deep));
}
