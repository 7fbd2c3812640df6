// One OCI hook (runtime/hooks.h): its args and env, the state on its stdin, its exit status,
// signal and timeout as one line; nothing thrown.
#include "minirun/runtime/hooks.h"

#include <gtest/gtest.h>

#include "minirun/runtime/spec.h"
#include "testutil.h"

namespace minirun::runtime {
namespace {

using test::TempDir;
using test::read_file;
using test::write_file;

class HookTest : public ::testing::Test {
 protected:
  std::string script(const std::string& name, const std::string& body) {
    std::string p = dir_ / name;
    write_file(p, "#!/bin/sh\n" + body, 0755);
    return p;
  }
  TempDir dir_{"minirun-hooks-"};
};

TEST_F(HookTest, GetsItsArgsEnvAndTheStateOnStdin) {
  Hook h;
  h.path = script("hook", "echo \"$0|$1|$2|$HOOK_VAR|$PATH\" > \"$1\"; cat >> \"$1\"\n");
  std::string out = dir_ / "out";
  h.args = {"name-as-argv0", out, "second"};
  h.env = {"HOOK_VAR=given", "PATH=/usr/bin:/bin"};
  EXPECT_EQ(run_hook(h, "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\"}"), "");
  // $0 of a script is the script's path; args[0] is what execve passes as argv[0].
  EXPECT_EQ(read_file(out), h.path + "|" + out + "|second|given|/usr/bin:/bin\n{\"ociVersion\":\"1.0.2\",\"id\":\"c1\"}");
}

TEST_F(HookTest, WithoutArgsItIsRunAsItsPathAndAnEmptyEnvironment) {
  Hook h;
  h.path = script("noargs", "[ -z \"$HOME$USER\" ] && [ \"$#\" = 0 ] || exit 9\n");
  EXPECT_EQ(run_hook(h, ""), "");
}

TEST_F(HookTest, AFailureIsOneLineWithTheExitStatusOrSignal) {
  Hook h;
  h.path = script("fails", "exit 3\n");
  EXPECT_EQ(run_hook(h, "{}"), "hook " + h.path + " failed (exit status 3)");
  h.path = script("killed", "kill -9 $$\n");
  EXPECT_EQ(run_hook(h, "{}"), "hook " + h.path + " failed (signal 9)");
  h.path = dir_ / "missing";
  EXPECT_EQ(run_hook(h, "{}"), "hook " + h.path + " failed (exit status 127)");
}

TEST_F(HookTest, AHookThatDoesNotReadALargeStateStillRuns) {
  Hook h;
  h.path = script("ignores", "exit 0\n");
  EXPECT_EQ(run_hook(h, std::string(1 << 20, 'x')), "");  // EPIPE, not SIGPIPE
}

TEST_F(HookTest, TimesOutAndIsKilled) {
  Hook h;
  h.path = script("sleeps", "exec sleep 30\n");
  h.timeout = 1;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(run_hook(h, "{}"), "hook " + h.path + " timed out");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

}  // namespace
}  // namespace minirun::runtime
