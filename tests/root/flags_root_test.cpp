// Unknown flags are rejected by name, in Docker's words, before any verb runs: a
// mistyped flag before the image was taken for the image ("Unable to find image '-d'").
// Arguments after run's image stay the command's.
#include <gtest/gtest.h>

#include "testutil.h"

using namespace minirun::test;

namespace {

class Flags : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    store_ = std::make_unique<TempDir>("minirun-flags-");
  }
  CmdResult mr(std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", store_->path() + "/store"});
    return run_cmd(args);
  }
  void load_busybox() {
    TestImage img;
    img.layers = {busybox_rootfs().build()};
    img.repo_tags = {"flags/busybox:1"};
    std::vector<TestImage> imgs = {img};
    std::string ar = *store_ / "bb.tar";
    write_file(ar, docker_archive(imgs));
    auto r = mr({"load", "-q", "-i", ar});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::unique_ptr<TempDir> store_;
};

}  // namespace

TEST_F(Flags, RunRejectsAnUnknownFlagBeforeTheImage) {
  load_busybox();
  struct Case {
    std::vector<std::string> args;
    std::string first_line;
  };
  for (const Case& c : std::vector<Case>{
           {{"run", "-Q", "flags/busybox:1"}, "unknown shorthand flag: 'Q' in -Q"},
           {{"run", "--foo", "flags/busybox:1"}, "unknown flag: --foo"},
           {{"run", "-l", "a=b", "flags/busybox:1"}, "unknown shorthand flag: 'l' in -l"},  // -p, -P, -d, -m, -c exist
           {{"run", "--rm", "-itz", "flags/busybox:1"}, "unknown shorthand flag: 'z' in -itz"},
           {{"run", "--rm", "--foo=bar", "flags/busybox:1", "true"}, "unknown flag: --foo"},
           {{"run", "--name", "x", "--no-such-flag", "flags/busybox:1"}, "unknown flag: --no-such-flag"},
       }) {
    auto r = mr(c.args);
    EXPECT_EQ(r.code, 125) << c.args[1];
    EXPECT_EQ(r.err, c.first_line + "\nSee 'minirun run --help'.\n") << c.args[1];
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(mr({"ps", "-aq"}).out, "");  // nothing was created
}

TEST_F(Flags, ArgumentsAfterTheImageAreTheCommands) {
  load_busybox();
  auto r = mr({"run", "--rm", "-e", "A=1", "-w", "/tmp", "--name=n1", "-h", "box", "flags/busybox:1", "echo", "-d",
               "--foo", "-p", "80:80"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "-d --foo -p 80:80\n");
  // A value that looks like a flag is the option's value, as in Docker.
  r = mr({"run", "--rm", "-h", "-box", "flags/busybox:1", "hostname"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "-box\n");
}

TEST_F(Flags, EveryVerbRejectsAnUnknownFlagByName) {
  // Every verb `minirun --help` lists (a verb added later is covered too), and image prune.
  std::vector<std::vector<std::string>> verbs = {{"image", "prune"}};
  std::string help = run_cmd({MINIRUN_BINARY, "--help"}).out;
  auto at = help.find("Subcommands:\n");
  ASSERT_NE(at, std::string::npos) << help;
  for (size_t p = at + 13; p < help.size();) {
    size_t eol = help.find('\n', p);
    std::string line = help.substr(p, eol == std::string::npos ? std::string::npos : eol - p);
    p = eol == std::string::npos ? help.size() : eol + 1;
    size_t b = line.find_first_not_of(' ');
    if (b != 2) break;  // the end of the list
    verbs.push_back({line.substr(2, line.find(' ', 2) - 2)});
  }
  ASSERT_GE(verbs.size(), 18u) << help;
  for (const std::vector<std::string>& verb : verbs) {
    std::string path = "minirun";
    for (const auto& v : verb) path += " " + v;
    auto args = verb;
    args.insert(args.end(), {"--foo", "x"});
    auto r = mr(args);
    EXPECT_EQ(r.code, 125) << path;
    EXPECT_EQ(r.err, "unknown flag: --foo\nSee '" + path + " --help'.\n") << path;
    args = verb;
    args.insert(args.end(), {"x", "-Z"});  // after an argument too (but for run: the command's)
    r = mr(args);
    if (verb[0] == "run" || verb[0] == "create" || verb[0] == "exec") continue;  // exec CONTAINER CMD…: the command's too
    EXPECT_EQ(r.code, 125) << path;
    EXPECT_EQ(r.err, "unknown shorthand flag: 'Z' in -Z\nSee '" + path + " --help'.\n") << path;
  }
  auto r = mr({"--foo", "images"});
  EXPECT_EQ(r.code, 125);
  EXPECT_EQ(r.err, "unknown flag: --foo\nSee 'minirun --help'.\n");
  // Known flags still work, with values given either way.
  EXPECT_EQ(mr({"images", "-q", "--format=json"}).code, 0);
  EXPECT_EQ(mr({"--log-level=error", "ps", "-a", "--no-trunc"}).code, 0);
}
