// Container lifecycle on store records in a TempDir (engine/container_state.h): which states are
// active, the cgroup a record names, a container whose runner died marked exited (and one whose
// runner lives left alone), and the refusals of rm and pause by state.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minirun/engine/container_state.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;

namespace {

// A pid that no process has any more (a child reaped).
pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) _exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

ContainerRecord record(const std::string& id, ContainerStatus status, pid_t pid) {
  ContainerRecord r;
  r.id = id;
  r.name = "n" + id.substr(0, 4);
  r.command = {"/bin/true"};
  r.status = status;
  r.pid = pid;
  r.container_pid = pid;
  return r;
}

}  // namespace

TEST(ContainerState, RunningPausedAndRestartingAreActive) {
  ContainerRecord r;
  for (auto s : {ContainerStatus::running, ContainerStatus::paused, ContainerStatus::restarting}) {
    r.status = s;
    EXPECT_TRUE(container_active(r)) << status_name(s);
  }
  for (auto s : {ContainerStatus::created, ContainerStatus::exited}) {
    r.status = s;
    EXPECT_FALSE(container_active(r)) << status_name(s);
  }
}

TEST(ContainerState, TheCgroupARecordNames) {
  ContainerRecord r;
  r.id = std::string(64, 'a');
  EXPECT_EQ(container_cgroup(r), runtime::container_cgroup_path(r.id, "minirun"));
  r.config = ContainerConfig::parse(R"({"CgroupParent":"/custom"})");
  EXPECT_EQ(container_cgroup(r), runtime::container_cgroup_path(r.id, "/custom"));
  r.config = ContainerConfig::parse(R"({"Cgroup":"/as/run","CgroupParent":"/custom"})");
  EXPECT_EQ(container_cgroup(r), "/as/run");
  r.config = ContainerConfig::parse(R"({"Cgroup":""})");  // --cgroups=disabled
  EXPECT_EQ(container_cgroup(r), "");
  r.config = ContainerConfig::parse("{not json");
  EXPECT_EQ(container_cgroup(r), runtime::container_cgroup_path(r.id, "minirun"));
  EXPECT_FALSE(container_has_cgroup(""));
  EXPECT_FALSE(container_has_cgroup("/minirun-unit-test-none/" + r.id));
}

TEST(ContainerState, AContainerWhoseRunnerDiedIsMarkedExited) {
  TempDir t;
  Store store(t / "store");
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  pid_t gone = dead_pid();
  store.put_container(record(a, ContainerStatus::running, gone));
  auto rb = record(b, ContainerStatus::restarting, gone);
  rb.exit_code = 3;
  store.put_container(rb);
  store.put_container(record(c, ContainerStatus::created, gone));

  auto ra = refresh_container_state(store, a);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->status, ContainerStatus::exited);
  EXPECT_EQ(ra->exit_code, 137);
  EXPECT_EQ(ra->pid, 0);
  EXPECT_EQ(ra->container_pid, 0);
  EXPECT_FALSE(ra->finished.empty());
  EXPECT_NE(ra->error.find("monitor"), std::string::npos) << ra->error;
  EXPECT_EQ(store.container(a)->status, ContainerStatus::exited);  // saved
  // Restarting: its last exit code stays.
  EXPECT_EQ(refresh_container_state(store, b)->exit_code, 3);
  EXPECT_EQ(store.container(b)->status, ContainerStatus::exited);
  // Created by a runner that is gone: exited too, saying so.
  auto rc = refresh_container_state(store, c);
  EXPECT_EQ(rc->status, ContainerStatus::exited);
  EXPECT_NE(rc->error.find("starting"), std::string::npos) << rc->error;
  EXPECT_FALSE(refresh_container_state(store, std::string(64, 'f')));
}

TEST(ContainerState, AContainerWhoseRunnerLivesOrThatNeverStartedIsLeftAlone) {
  TempDir t;
  Store store(t / "store");
  const std::string a(64, 'a'), b(64, 'b');
  // This test binary is the same executable as the caller's: a live runner.
  store.put_container(record(a, ContainerStatus::running, ::getpid()));
  store.put_container(record(b, ContainerStatus::created, 0));
  EXPECT_EQ(refresh_container_state(store, a)->status, ContainerStatus::running);
  EXPECT_EQ(refresh_container_state(store, b)->status, ContainerStatus::created);
  EXPECT_EQ(store.container(a)->pid, ::getpid());
}

TEST(ContainerState, RemoveAndPauseAreRefusedByState) {
  TempDir t;
  Store store(t / "store");
  const std::string a(64, 'a'), b(64, 'b');
  store.put_container(record(a, ContainerStatus::running, ::getpid()));
  store.put_container(record(b, ContainerStatus::exited, 0));
  try {
    remove_container(store, a, false);
    FAIL() << "removed a running container";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("container is running"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(store.container(a));
  try {
    set_container_paused(store, b, true);
    FAIL() << "paused an exited container";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("is not running"), std::string::npos) << e.what();
  }
  EXPECT_THROW(set_container_paused(store, b, false), Error);  // not paused
  EXPECT_THROW(set_container_paused(store, std::string(64, 'f'), true), Error);
  EXPECT_THROW(remove_container(store, std::string(64, 'f'), false), Error);
  // A running container without a cgroup cannot be paused (the freezer needs one).
  auto ra = *store.container(a);
  ra.config = ContainerConfig::parse(R"({"Cgroup":""})");
  store.put_container(ra);
  EXPECT_THROW(set_container_paused(store, a, true), Error);
  EXPECT_EQ(store.container(a)->status, ContainerStatus::running);
}
