// --format as Docker users type it, on the binary: inspect -f, ps and images templates, table and
// json; a template minirun does not support fails alone (exit 125, one line, nothing on stdout).
// Also the shell completion of names from a real store (minirun __complete).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testutil.h"

using namespace minirun::test;

namespace {

class Format : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    dir_ = std::make_unique<TempDir>("minirun-format-");
    std::vector<TestImage> imgs(1);
    imgs[0].layers.push_back(busybox_rootfs().build());
    imgs[0].repo_tags = {"test/fmt:1"};
    imgs[0].env = {"PATH=/bin", "A=1"};
    std::string ar = *dir_ / "img.tar";
    write_file(ar, docker_archive(imgs));
    image_id_ = imgs[0].image_id;
    auto r = mr({"load", "-q", "-i", ar});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(mr({"tag", "test/fmt:1", "other/fmt:2"}).code, 0);
    r = mr({"run", "--name", "web", "test/fmt:1", "sh", "-c", "exit 3"});
    ASSERT_EQ(r.code, 3) << r.err;
  }
  CmdResult mr(std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", *dir_ / "store"});
    return run_cmd(args);
  }
  // A refused template: exit 125, one line on stderr naming the problem, nothing on stdout.
  void expect_refused(std::vector<std::string> args, const std::string& says) {
    auto r = mr(args);
    EXPECT_EQ(r.code, 125) << r.out << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  }
  std::unique_ptr<TempDir> dir_;
  std::string image_id_;
};

}  // namespace

TEST_F(Format, InspectTemplates) {
  auto r = mr({"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}} {{.Name}}", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "exited 3 0 /web\n");
  r = mr({"inspect", "--format", "{{.Id}}", "test/fmt:1", "other/fmt:2"});
  EXPECT_EQ(r.out, image_id_ + "\n" + image_id_ + "\n");
  r = mr({"inspect", "-f", "{{.Config.Env}}|{{join .Config.Env \",\"}}|{{index .Config.Env 1}}", "test/fmt:1"});
  EXPECT_EQ(r.out, "[PATH=/bin A=1]|PATH=/bin,A=1|A=1\n");
  r = mr({"inspect", "-f", "{{json .Config.Env}}", "test/fmt:1"});
  EXPECT_EQ(r.out, "[\"PATH=/bin\",\"A=1\"]\n");
  r = mr({"inspect", "-f", "{{json .Config}}", "web"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["Image"], "test/fmt:1");
  r = mr({"inspect", "-f", "{{range .RootFS.Layers}}{{.}}{{end}}", "test/fmt:1"});
  EXPECT_EQ(r.out.substr(0, 7), "sha256:");
  // The default and --format json stay the JSON array.
  EXPECT_EQ(nlohmann::json::parse(mr({"inspect", "web"}).out)[0]["State"]["ExitCode"], 3);
  EXPECT_EQ(nlohmann::json::parse(mr({"inspect", "--format", "json", "web"}).out)[0]["Name"], "/web");
}

TEST_F(Format, PsAndImagesTemplates) {
  auto r = mr({"ps", "-a", "--format", "{{.Names}} {{.Image}} {{.State}} {{.Status}}"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 33), "web test/fmt:1 exited Exited (3) ");
  r = mr({"ps", "-a", "--format", "{{.ID}}"});
  std::string id = nlohmann::json::parse(mr({"inspect", "web"}).out)[0]["Id"];
  EXPECT_EQ(r.out, id.substr(0, 12) + "\n");
  r = mr({"ps", "-a", "--format", "table {{.Names}}\\t{{.State}}"});
  EXPECT_EQ(r.out, "NAMES     STATE\nweb       exited\n");
  r = mr({"ps", "-a", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["Names"], "web");
  EXPECT_EQ(mr({"ps", "--format", "{{.Names}}"}).out, "") << "only running ones without -a";

  r = mr({"images", "--format", "{{.Repository}}:{{.Tag}}"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "other/fmt:2\ntest/fmt:1\n");
  r = mr({"images", "--format", "table {{.Repository}}\\t{{.Tag}}"});
  EXPECT_EQ(r.out, "REPOSITORY   TAG\nother/fmt    2\ntest/fmt     1\n");
  r = mr({"images", "--no-trunc", "--format", "{{.ID}} {{upper .Tag}}"});
  EXPECT_EQ(r.out, image_id_ + " 2\n" + image_id_ + " 1\n");
  r = mr({"images", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(r.out.substr(0, r.out.find('\n')))["Repository"], "other/fmt");
  // The default table is unchanged.
  EXPECT_EQ(mr({"images"}).out.substr(0, 10), "REPOSITORY");
}

TEST_F(Format, UnsupportedTemplatesFailAloneWithOneLine) {
  expect_refused({"inspect", "-f", "{{.State.Pidd}}", "web"}, "no field \"Pidd\"");
  expect_refused({"inspect", "-f", "{{template \"x\"}}", "web"}, "unsupported");
  expect_refused({"ps", "-a", "--format", "{{.Nope}}"}, "no field \"Nope\"");
  expect_refused({"images", "--format", "{{frobnicate .ID}}"}, "function \"frobnicate\" not defined");
  expect_refused({"images", "--format", "{{.ID"}, "unclosed action");
}

TEST_F(Format, CompletionNamesComeFromTheStore) {
  std::string root = *dir_ / "store";
  auto r = run_cmd({MINIRUN_BINARY, "__complete", "--root", root, "rm", ""});
  EXPECT_EQ(r.out, "web\n");
  r = run_cmd({MINIRUN_BINARY, "__complete", "--root", root, "inspect", ""});
  EXPECT_EQ(r.out, "other/fmt:2\ntest/fmt:1\nweb\n");
  r = run_cmd({MINIRUN_BINARY, "__complete", "--root", root, "run", "te"});
  EXPECT_EQ(r.out, "test/fmt:1\n");
  // No store there: nothing, and none is made.
  r = run_cmd({MINIRUN_BINARY, "__complete", "--root", *dir_ / "none", "rmi", ""});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(access((*dir_ / "none").c_str(), F_OK), 0);
}

TEST_F(Format, BashCompletionScriptCompletesNamesAndFlags) {
  // The installed script, sourced by a bash without bash-completion, as the shell calls it.
  std::string bin = MINIRUN_BINARY;
  std::string script = std::string("PATH=") + bin.substr(0, bin.rfind('/')) + ":$PATH\n" +
                       "source " MINIRUN_SOURCE_DIR "/contrib/completion/bash/minirun\n"
                       "c() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _minirun; echo \"${COMPREPLY[*]}\"; }\n"
                       "c minirun --root " + *dir_ / "store" + " rm ''\n"
                       "c minirun --root " + *dir_ / "store" + " inspect o\n"
                       "c minirun ps --n\n"
                       "c minirun ima\n";
  auto r = run_cmd({"/bin/bash", "--norc", "--noprofile", "-c", script});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web\nother/fmt:2\n--no-trunc\nimage images\n") << r.err;
}
