// The runtime's hooks of one kind (runtime/container.h run_hooks): each runs with the state JSON
// on stdin, in order; a failing one is an Error when fatal (prestart, createRuntime), else a
// warning and the others still run (poststart, poststop).
#include <gtest/gtest.h>

#include <filesystem>

#include "minirun/runtime/container.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::runtime;
using minirun::test::read_file;
using minirun::test::TempDir;
namespace fs = std::filesystem;

namespace {

Hook shell(const std::string& script, const std::string& arg) {
  Hook h;
  h.path = "/bin/sh";
  h.args = {"sh", "-c", script, arg};
  return h;
}

}  // namespace

TEST(ContainerHooks, EachHookGetsTheStateOnStdinInOrder) {
  TempDir t;
  std::string log = t / "log";
  std::vector<Hook> hooks = {shell("cat >> \"$0\"; echo >> \"$0\"", log), shell("echo second >> \"$0\"", log)};
  EXPECT_EQ(run_hooks(hooks, R"({"id":"c1","status":"created"})", true), "");
  EXPECT_EQ(read_file(log), "{\"id\":\"c1\",\"status\":\"created\"}\nsecond\n");
}

TEST(ContainerHooks, AFailingHookIsAnErrorWhenFatalElseAWarning) {
  TempDir t;
  std::string log = t / "log";
  std::vector<Hook> hooks = {shell("exit 3", ""), shell("echo ran >> \"$0\"", log)};
  EXPECT_THROW(run_hooks(hooks, "{}", true), Error);
  EXPECT_FALSE(fs::exists(log));  // the first failure stops the setup
  std::string warning = run_hooks(hooks, "{}", false);
  EXPECT_FALSE(warning.empty());
  EXPECT_EQ(read_file(log), "ran\n");  // the others still run
  Hook missing;
  missing.path = t / "no-such-hook";
  EXPECT_FALSE(run_hooks({missing}, "{}", false).empty());
  EXPECT_EQ(run_hooks({}, "{}", true), "");
}
