// flags.h's rewrite of pflag's "-p=false" (a shorthand bool flag given its value), which CLI11
// does not parse, into the flag's long form; nothing else is touched.
#include <gtest/gtest.h>

#include "cli.h"
#include "flags.h"

using namespace minirun::cli;

namespace {

struct App {
  Globals g;
  CLI::App app{"minirun"};
  App() {
    register_commit(app, g);
    register_run(app, g);
  }
  // Rewrites args (args[verb_at] the verb) and returns them joined by spaces.
  std::string rewrite(std::vector<std::string> args, int verb_at = 1) {
    rewrite_shorthand_flag_values(app, verb_at, args);
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
  }
};

}  // namespace

TEST(FlagsRewrite, ShorthandBoolFlagWithAValueBecomesItsLongForm) {
  App a;
  EXPECT_EQ(a.rewrite({"minirun", "commit", "-p=false", "web"}), "minirun commit --pause=false web");
  EXPECT_EQ(a.rewrite({"minirun", "--root", "/s", "commit", "-p=true", "web"}, 3),
            "minirun --root /s commit --pause=true web");
  // Untouched: the long form, a bare flag, an option that takes a value, after "--", unknown flags.
  EXPECT_EQ(a.rewrite({"minirun", "commit", "--pause=false", "-p", "-m=x", "web"}),
            "minirun commit --pause=false -p -m=x web");
  EXPECT_EQ(a.rewrite({"minirun", "commit", "--", "-p=false"}), "minirun commit -- -p=false");
  EXPECT_EQ(a.rewrite({"minirun", "commit", "-z=1", "web"}), "minirun commit -z=1 web");
  // A prefix-command verb: what follows the image is the command's.
  EXPECT_EQ(a.rewrite({"minirun", "run", "img", "sh", "-p=false"}), "minirun run img sh -p=false");
}
