// exec's process without root (engine/exec.h): the container's process with the request on top
// (arguments, environment and env files, working directory, terminal, privileges, user), the
// user resolved in the container's root (here the test process's own, /proc/PID/root) with
// Docker's 126 for one that cannot be found, and exec's refusal of a container that is not there.
#include "minirun/engine/exec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;

namespace {

runtime::Spec container_spec() {
  runtime::Spec s;
  runtime::Process p;
  p.args = {"/bin/sh", "-c", "sleep 100"};
  p.env = {"PATH=/usr/bin:/bin", "KEEP=1", "OVER=image"};
  p.cwd = "/srv";
  p.user.uid = 7;
  p.user.gid = 8;
  p.capabilities = runtime::Capabilities{{"CAP_CHOWN"}, {"CAP_CHOWN"}, {}, {"CAP_CHOWN"}, {}};
  p.no_new_privileges = true;
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  s.process = p;
  return s;
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST(Exec, TheContainersProcessWithTheRequestOnTop) {
  TempDir dir;
  minirun::test::write_file(dir / "env", "FROMFILE=yes\n# a comment\n");
  ExecRequest req;
  req.argv = {"id", "-u"};
  req.env = {"OVER=exec", "NEW=2"};
  req.env_files = {dir / "env"};
  req.workdir = "/tmp";
  req.tty = true;
  auto p = exec_process_for(container_spec(), ::getpid(), req);
  EXPECT_EQ(p.args, req.argv);
  EXPECT_TRUE(has(p.env, "KEEP=1"));
  EXPECT_TRUE(has(p.env, "OVER=exec"));
  EXPECT_FALSE(has(p.env, "OVER=image"));
  EXPECT_TRUE(has(p.env, "NEW=2"));
  EXPECT_TRUE(has(p.env, "FROMFILE=yes"));
  EXPECT_EQ(p.cwd, "/tmp");
  EXPECT_TRUE(p.terminal);
  // What the request does not name stays the container's: user, capabilities, rlimits, no_new_privs.
  EXPECT_EQ(p.user.uid, 7u);
  EXPECT_EQ(p.user.gid, 8u);
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, std::vector<std::string>{"CAP_CHOWN"});
  EXPECT_TRUE(p.no_new_privileges);
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
}

TEST(Exec, WithoutAWorkdirTheContainersIsKept) {
  ExecRequest req;
  req.argv = {"pwd"};
  auto p = exec_process_for(container_spec(), ::getpid(), req);
  EXPECT_EQ(p.cwd, "/srv");
  EXPECT_FALSE(p.terminal);
}

TEST(Exec, PrivilegedGivesEveryCapability) {
  ExecRequest req;
  req.argv = {"true"};
  req.privileged = true;
  auto p = exec_process_for(container_spec(), ::getpid(), req);
  ASSERT_TRUE(p.capabilities);
  EXPECT_GT(p.capabilities->bounding.size(), 30u);
  EXPECT_TRUE(has(p.capabilities->effective, "CAP_SYS_ADMIN"));
  EXPECT_EQ(p.capabilities->bounding, p.capabilities->permitted);
}

TEST(Exec, ANumericUserIsTakenAsIs) {
  ExecRequest req;
  req.argv = {"id"};
  req.user = "4242:4343";
  auto p = exec_process_for(container_spec(), ::getpid(), req);
  EXPECT_EQ(p.user.uid, 4242u);
  EXPECT_EQ(p.user.gid, 4343u);
}

TEST(Exec, TheContainersUserNameIsResolvedInItsRoot) {
  auto spec = container_spec();
  spec.minirun.user_name = "0";
  ExecRequest req;
  req.argv = {"id"};
  auto p = exec_process_for(spec, ::getpid(), req);
  EXPECT_EQ(p.user.uid, 0u);
  EXPECT_EQ(p.user.gid, 0u);  // root's group, from the root's /etc/passwd
}

TEST(Exec, AnUnknownUserCannotBeStarted126) {
  ExecRequest req;
  req.argv = {"id"};
  req.user = "no-such-user-in-this-root";
  try {
    exec_process_for(container_spec(), ::getpid(), req);
    FAIL() << "an unknown user was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 126);
    EXPECT_NE(std::string(e.what()).find("no-such-user-in-this-root"), std::string::npos) << e.what();
  }
}

TEST(Exec, AContainerWithoutAProcessIsAnError) {
  ExecRequest req;
  req.argv = {"id"};
  EXPECT_THROW(exec_process_for(runtime::Spec{}, ::getpid(), req), Error);
}

TEST(Exec, NoSuchContainerExits1) {
  TempDir dir;
  Store store(dir.path());
  ExecRequest req;
  req.argv = {"true"};
  try {
    exec_container(store, "nothere", req);
    FAIL() << "exec into a missing container succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("No such container"), std::string::npos) << e.what();
  }
}
