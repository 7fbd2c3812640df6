// `create` then `start`, through the binary, as Docker's: the container exists "Created" (no
// process, no cgroup) with everything run's options asked for, `start` runs it under a monitor
// (its output in `logs`, its code for `wait`), `start -a` attaches, `--rm` removes it after its
// first run, the restart policy and stop options given to create hold at start, and a create
// that fails leaves no container and no name. Containers are removed
// with rm -f in TearDown, even after a failure.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "minirun/runtime/cgroups.h"
#include "container_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class Create : public ContainerTest {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    make_store("minirun-create-");
  }
  void TearDown() override {
    remove_containers();
    expect_no_mounts_left();
  }
};

TEST_F(Create, MakesAContainerThatStartRuns) {
  auto c = mr({"create", "--name", "c1", "--network", "none", "-e", "WHO=created", "--memory", "64m", "t/bb", "sh", "-c",
               "echo hello $WHO; exit 3"});
  ASSERT_EQ(c.code, 0) << c.err;
  ASSERT_EQ(c.out.size(), 65u) << c.out;  // the ID and a newline
  const std::string id = c.out.substr(0, 64);
  auto st = state("c1");
  ASSERT_FALSE(st.is_null());
  EXPECT_EQ(st["State"]["Status"], "created");
  EXPECT_EQ(st["State"]["Pid"], 0);
  EXPECT_EQ(st["HostConfig"]["Memory"], 64 << 20);
  EXPECT_EQ(mr({"ps", "-a", "--format", "{{.Names}} {{.Status}}"}).out, "c1 Created\n");
  EXPECT_EQ(mr({"ps", "-q"}).out, "") << "a created container is not running";
  if (runtime::CgroupHierarchy::host().mode != runtime::CgroupHierarchy::Mode::none) {
    EXPECT_FALSE(runtime::Cgroup::exists(runtime::container_cgroup_path(id))) << "created: no cgroup yet";
  }
  EXPECT_NE(mr({"create", "--name", "c1", "t/bb", "true"}).code, 0) << "the name is taken";

  auto s = mr({"start", "c1"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out, "c1\n");
  EXPECT_EQ(mr({"wait", "c1"}).out, "3\n");
  EXPECT_EQ(mr({"logs", "c1"}).out, "hello created\n");
  EXPECT_EQ(state("c1")["State"]["ExitCode"], 3);
  // Started again, it runs again (on the same layer), as any stopped container.
  ASSERT_EQ(mr({"start", "-a", "c1"}).code, 3);
}

TEST_F(Create, StartAttachesAndRmGoesAfterTheFirstRun) {
  ASSERT_EQ(mr({"create", "--rm", "--name", "once", "--network", "none", "t/bb", "sh", "-c", "echo out; echo err >&2"}).code, 0);
  auto a = mr({"start", "-a", "once"});
  EXPECT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(a.out, "out\n");
  EXPECT_EQ(a.err, "err\n");
  for (int i = 0; i < 100 && !mr({"ps", "-aq"}).out.empty(); i++) usleep(20000);
  EXPECT_EQ(mr({"ps", "-aq"}).out, "") << "--rm: removed after its run";
  // -i: stdin reaches it (docker create -i + start -ai).
  ASSERT_EQ(mr({"create", "-i", "--name", "cat", "--network", "none", "t/bb", "cat"}).code, 0);
  auto i = mr({"start", "-ai", "cat"}, "from stdin\n");
  EXPECT_EQ(i.code, 0) << i.err;
  EXPECT_EQ(i.out, "from stdin\n");
}

// What `create` is given for the monitor (--restart, --log-opt, --stop-signal, --stop-timeout)
// is in inspect at once and applies at `start`, as with docker create.
TEST_F(Create, RestartPolicyAndStopOptionsHoldAtStart) {
  ASSERT_EQ(mr({"create", "--name", "r", "--network", "none", "--restart", "on-failure:2", "--stop-signal", "SIGUSR1",
                "--stop-timeout", "3", "--log-opt", "max-size=1m", "t/bb", "sh", "-c", "echo run; exit 1"})
                .code,
            0);
  auto st = state("r");
  ASSERT_FALSE(st.is_null());
  EXPECT_EQ(st["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
  EXPECT_EQ(st["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 2);
  EXPECT_EQ(st["Config"]["StopSignal"], "SIGUSR1");
  EXPECT_EQ(st["Config"]["StopTimeout"], 3);
  EXPECT_EQ(st["HostConfig"]["LogConfig"]["Config"]["max-size"], "1m");
  ASSERT_EQ(mr({"start", "r"}).code, 0);
  // on-failure:2: the first run and two restarts, then it stays exited.
  for (int i = 0; i < 300 && mr({"logs", "r"}).out != "run\nrun\nrun\n"; i++) usleep(20000);
  EXPECT_EQ(mr({"wait", "r"}).out, "1\n");
  EXPECT_EQ(mr({"logs", "r"}).out, "run\nrun\nrun\n");
  EXPECT_EQ(state("r")["RestartCount"], 2);
}

TEST_F(Create, AFailedCreateLeavesNothing) {
  auto bad = mr({"create", "--name", "nope", "--memory", "lots", "t/bb", "true"});
  EXPECT_EQ(bad.code, 125);
  auto missing = mr({"create", "--name", "nope", "no/such:image", "true"});
  EXPECT_EQ(missing.code, 125);
  EXPECT_EQ(mr({"ps", "-aq"}).out, "");
  EXPECT_EQ(mr({"create", "--name", "nope", "--network", "none", "t/bb", "true"}).code, 0) << "the name is free";
  EXPECT_TRUE(fs::is_empty(t_->path() + "/store/tmp"));
}

}  // namespace
