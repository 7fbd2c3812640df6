// Manual pages and shell completion (src/cli/manpage.h, complete.h) read the same CLI11
// registrations as --help: every verb gets a page naming each of its flags, and completion
// offers the verbs, flags and names the command line can take.
#include <gtest/gtest.h>

#include <algorithm>

#include "cli.h"
#include "complete.h"
#include "manpage.h"

using namespace minirun::cli;

namespace {

struct App {
  Globals g;
  CLI::App app{"minirun: assemble container root filesystems with overlayfs and run them, with no daemon"};
  App() {
    app.name("minirun");
    app.add_option("--root", g.root, "Store directory");
    app.add_option("--log-level", g.log_level, "debug, info, warn or error");
#define REGISTER(v) register_##v(app, g);
    MINIRUN_VERBS(REGISTER)
#undef REGISTER
  }
};

// How roff shows a flag: every '-' escaped.
std::string roff_flag(const std::string& f) {
  std::string out;
  for (char c : f) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

CompletionNames fake_names(const std::string& root) {
  CompletionNames n;
  n.images = {"busybox:latest", "debian:12", root.empty() ? "top:root" : "other:root"};
  n.containers = {"web", "db"};
  return n;
}

}  // namespace

TEST(ManPages, OnePagePerVerbNamingEveryFlag) {
  App a;
  auto pages = man_pages(a.app, "9.9.9");
  std::map<std::string, std::string> by_name(pages.begin(), pages.end());
  ASSERT_TRUE(by_name.count("minirun.1"));
  EXPECT_NE(by_name["minirun.1"].find(".TH MINIRUN 1 \"\" \"minirun 9.9.9\""), std::string::npos);
  EXPECT_NE(by_name["minirun.1"].find("MINIRUN_ROOT"), std::string::npos);
  size_t verbs = 0;
  for (const auto* verb : a.app.get_subcommands([](const CLI::App*) { return true; })) {
    verbs++;
    std::string page = "minirun-" + verb->get_name() + ".1";
    ASSERT_TRUE(by_name.count(page)) << page;
    const std::string& text = by_name[page];
    EXPECT_NE(text.find(".SH NAME\nminirun\\-" + roff_flag(verb->get_name()) + " \\- "), std::string::npos) << page;
    EXPECT_NE(by_name["minirun.1"].find("\\fBminirun\\-" + roff_flag(verb->get_name()) + "\\fR(1)"), std::string::npos);
    for (const auto* o : verb->get_options()) {
      for (const auto& l : o->get_lnames()) EXPECT_NE(text.find("\\-\\-" + roff_flag(l)), std::string::npos) << page << " --" << l;
      for (const auto& s : o->get_snames()) EXPECT_NE(text.find("\\fB\\-" + s + "\\fR"), std::string::npos) << page << " -" << s;
    }
    for (const auto* sub : verb->get_subcommands([](const CLI::App*) { return true; }))
      EXPECT_TRUE(by_name.count("minirun-" + verb->get_name() + "-" + sub->get_name() + ".1"));
  }
  EXPECT_GE(verbs, 17u);
  // run's synopsis comes from the usage its description ends with.
  EXPECT_NE(by_name["minirun-run.1"].find(".SH SYNOPSIS\n.B minirun run\n[OPTIONS] IMAGE|ARCHIVE"), std::string::npos)
      << by_name["minirun-run.1"];
  EXPECT_NE(by_name["minirun-inspect.1"].find("\\fIref\\fR..."), std::string::npos);
  // No line of any page starts with a stray control character.
  for (const auto& [name, text] : pages) EXPECT_EQ(text.find("\n'"), std::string::npos) << name;
}

TEST(ManPages, HiddenVerbsGetNoPage) {
  App a;
  a.app.add_subcommand("secret", "not for users")->group("");
  for (const auto& [name, text] : man_pages(a.app, "1")) {
    EXPECT_NE(name, "minirun-secret.1");
    EXPECT_EQ(text.find("secret"), std::string::npos) << name;
  }
}

TEST(Completion, VerbsFlagsValuesAndNames) {
  App a;
  auto c = [&](std::vector<std::string> words) { return complete(a.app, words, fake_names); };
  auto verbs = c({""});
  EXPECT_TRUE(has(verbs, "run") && has(verbs, "images") && has(verbs, "ps")) << verbs.size();
  EXPECT_EQ(c({"im"}), (std::vector<std::string>{"image", "images", "import"}));
  EXPECT_EQ(c({"log"}), (std::vector<std::string>{"login", "logout", "logs"}));
  EXPECT_EQ(c({"login", "--password-"}), (std::vector<std::string>{"--password-stdin"}));
  EXPECT_EQ(c({"--log-level", ""}), (std::vector<std::string>{"debug", "error", "info", "warn"}));
  EXPECT_TRUE(has(c({"--"}), "--root"));
  EXPECT_EQ(c({"--root", "/x", "ps", "--a"}), (std::vector<std::string>{"--all"}));
  EXPECT_TRUE(has(c({"run", "--"}), "--rm") && has(c({"run", "--"}), "--network"));
  EXPECT_EQ(c({"run", "--network", ""}), (std::vector<std::string>{"host", "none"}));
  EXPECT_EQ(c({"inspect", "--type", "c"}), (std::vector<std::string>{"container"}));
  EXPECT_EQ(c({"run", "--rm", "-e", "A=1", "b"}), (std::vector<std::string>{"busybox:latest"}));
  EXPECT_TRUE(c({"run", "busybox:latest", ""}).empty()) << "the container's command: files";
  EXPECT_EQ(c({"rm", "-f", "web", ""}), (std::vector<std::string>{"db", "web"}));
  EXPECT_EQ(c({"inspect", "d"}), (std::vector<std::string>{"db", "debian:12"}));
  EXPECT_EQ(c({"--root", "/r", "rmi", "o"}), (std::vector<std::string>{"other:root"})) << "--root reaches the store";
  EXPECT_EQ(c({"image", ""}), (std::vector<std::string>{"prune"}));
  EXPECT_EQ(c({"image", "prune", "--f"}), (std::vector<std::string>{"--force"}));
  EXPECT_TRUE(c({"load", "-i", ""}).empty()) << "a file: the shell completes it";
  EXPECT_TRUE(c({"nosuchverb", ""}).empty());
  EXPECT_TRUE(c({"tag", "busybox:latest", ""}).empty()) << "the new name is the user's";
}
