// The image-spec conversion rules: argv, env, users from the container's own files.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "minirun/util/error.h"
#include "minirun/engine/process.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;
using minirun::test::write_file;

TEST(Process, ArgvRules) {
  std::vector<std::string> ep = {"/entry"}, cmd = {"a", "b"};
  EXPECT_EQ(merge_argv(ep, cmd, std::nullopt, {}), (std::vector<std::string>{"/entry", "a", "b"}));
  EXPECT_EQ(merge_argv(ep, cmd, std::nullopt, {"x"}), (std::vector<std::string>{"/entry", "x"}));
  EXPECT_EQ(merge_argv(ep, cmd, std::string("/sh"), {}), (std::vector<std::string>{"/sh"}));  // drops Cmd
  EXPECT_EQ(merge_argv(ep, cmd, std::string("/sh"), {"-c", "x"}), (std::vector<std::string>{"/sh", "-c", "x"}));
  EXPECT_EQ(merge_argv({}, cmd, std::nullopt, {}), cmd);
  try {
    merge_argv({}, {}, std::nullopt, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 125);
  }
}

TEST(Process, EnvRules) {
  setenv("MINIRUN_TEST_PASS", "from-host", 1);
  unsetenv("MINIRUN_TEST_UNSET");
  auto env = merge_env({"PATH=/bin", "A=1", "B=2"}, {"A=3", "MINIRUN_TEST_PASS", "MINIRUN_TEST_UNSET", "C=4", "A=5"});
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "A=5", "B=2", "MINIRUN_TEST_PASS=from-host", "C=4"}));
  auto fin = finish_env({"A=1"}, "box", "/root", true);
  EXPECT_EQ(fin[0].rfind("PATH=", 0), 0u);
  EXPECT_NE(std::find(fin.begin(), fin.end(), "HOSTNAME=box"), fin.end());
  EXPECT_NE(std::find(fin.begin(), fin.end(), "HOME=/root"), fin.end());
  EXPECT_NE(std::find(fin.begin(), fin.end(), "TERM=xterm"), fin.end());
  auto keep = finish_env({"PATH=/x", "HOME=/h"}, "b", "/root", false);
  EXPECT_NE(std::find(keep.begin(), keep.end(), "PATH=/x"), keep.end());
  EXPECT_NE(std::find(keep.begin(), keep.end(), "HOME=/h"), keep.end());
  TempDir t;
  write_file(t / "env", "# comment\n\nK=V\n  L=with spaces\nMINIRUN_TEST_PASS\n");
  EXPECT_EQ(read_env_file(t / "env"), (std::vector<std::string>{"K=V", "L=with spaces", "MINIRUN_TEST_PASS"}));
  EXPECT_THROW(merge_env({}, {"=x"}), Error);
}

TEST(Process, UsersFromTheContainersOwnFiles) {
  TempDir t;
  ::mkdir((t / "etc").c_str(), 0755);
  write_file(t / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
  write_file(t / "etc/group", "root:x:0:\napp:x:1000:\nwheel:x:10:app,other\nstaff:x:50:app\n");
  int fd = ::open(t.path().c_str(), O_RDONLY | O_DIRECTORY);
  auto root = resolve_user(fd, "");
  EXPECT_EQ(root.uid, 0u);
  EXPECT_EQ(root.home, "/root");
  auto app = resolve_user(fd, "app");
  EXPECT_EQ(app.uid, 1000u);
  EXPECT_EQ(app.gid, 1000u);
  EXPECT_EQ(app.home, "/home/app");
  EXPECT_EQ(app.groups, (std::vector<gid_t>{1000, 10, 50}));
  auto by_uid = resolve_user(fd, "1000");
  EXPECT_EQ(by_uid.home, "/home/app");
  auto with_group = resolve_user(fd, "app:wheel");
  EXPECT_EQ(with_group.gid, 10u);
  // A group given: no memberships, but the primary group is a supplementary group (Docker's).
  EXPECT_EQ(with_group.groups, (std::vector<gid_t>{10}));
  auto numeric = resolve_user(fd, "4242:4343");
  EXPECT_EQ(numeric.uid, 4242u);
  EXPECT_EQ(numeric.gid, 4343u);
  EXPECT_EQ(numeric.groups, (std::vector<gid_t>{4343}));
  EXPECT_EQ(resolve_user(fd, "4242").groups, (std::vector<gid_t>{0}));
  EXPECT_EQ(resolve_user(fd, "4242").gid, 0u);
  EXPECT_THROW(resolve_user(fd, "nosuch"), Error);
  EXPECT_THROW(resolve_user(fd, "app:nosuch"), Error);
  // An /etc/passwd that is a symlink out of the root is read inside the root.
  ::unlink((t / "etc/passwd").c_str());
  ASSERT_EQ(::symlink("/etc/passwd", (t / "etc/passwd").c_str()), 0);
  EXPECT_THROW(resolve_user(fd, "app"), Error);
  ::close(fd);
}
