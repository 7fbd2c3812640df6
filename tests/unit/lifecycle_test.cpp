// The runtime's own containers (runtime/lifecycle.h) without starting any: the state derived
// from state.json and the state directory (stopped when the process is gone or its pid was
// reused, created while the exec fifo is there, running, paused), the state JSON of the OCI
// runtime spec, `list`, `delete` (refused while not stopped; poststop hooks get the state),
// container IDs, signal names and process start times.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "minirun/runtime/lifecycle.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::runtime;
using minirun::test::read_file;
using minirun::test::TempDir;
using minirun::test::write_file;
namespace fs = std::filesystem;

namespace {

// A container's state directory as `create` leaves it, for a process with `pid`.
void write_state(const TempDir& root, const std::string& id, pid_t pid, unsigned long long start_time) {
  fs::create_directories(root / id);
  nlohmann::json j = {{"id", id},           {"pid", pid},   {"start_time", start_time}, {"bundle", "/b/" + id},
                      {"rootfs", "/b/rootfs"}, {"created", "2024-01-01T00:00:00Z"},
                      {"annotations", {{"a", "b"}}}, {"cgroup", ""}};
  write_file(root / id + "/state.json", j.dump());
}

pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) _exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace

TEST(Lifecycle, SignalNamesAndNumbers) {
  EXPECT_EQ(Lifecycle::signal_number("KILL"), SIGKILL);
  EXPECT_EQ(Lifecycle::signal_number("SIGKILL"), SIGKILL);
  EXPECT_EQ(Lifecycle::signal_number("sigterm"), SIGTERM);
  EXPECT_EQ(Lifecycle::signal_number("9"), 9);
  EXPECT_EQ(Lifecycle::signal_number(""), SIGTERM);
  EXPECT_EQ(Lifecycle::signal_number("RTMIN+2"), SIGRTMIN + 2);
  EXPECT_THROW(Lifecycle::signal_number("SIGNOPE"), Error);
  EXPECT_THROW(Lifecycle::signal_number("0"), Error);
  EXPECT_THROW(Lifecycle::signal_number("65"), Error);
}

TEST(Lifecycle, ProcessStartTimes) {
  bool zombie = true;
  EXPECT_GT(process_start_time(::getpid(), &zombie), 0u);
  EXPECT_FALSE(zombie);
  EXPECT_EQ(process_start_time(dead_pid()), 0u);
  // A child that exited but is not reaped yet: a zombie, with its start time still there.
  pid_t z = ::fork();
  if (z == 0) _exit(0);
  siginfo_t info;
  ::waitid(P_PID, static_cast<id_t>(z), &info, WEXITED | WNOWAIT);
  EXPECT_GT(process_start_time(z, &zombie), 0u);
  EXPECT_TRUE(zombie);
  ::waitpid(z, nullptr, 0);
}

TEST(Lifecycle, TheStatusIsDerivedFromTheProcessAndTheStateDirectory) {
  TempDir root;
  Lifecycle lc(root.path());
  const pid_t me = ::getpid();
  const auto started = process_start_time(me);
  write_state(root, "created1", me, started);
  ASSERT_EQ(::mkfifo((root / "created1/exec.fifo").c_str(), 0622), 0);
  write_state(root, "running1", me, started);
  write_state(root, "paused1", me, started);
  write_file(root / "paused1/paused", "");
  write_state(root, "gone1", dead_pid(), started);
  write_state(root, "reused1", me, started + 1);  // another process now has its pid
  EXPECT_EQ(lc.state("created1").status, "created");
  EXPECT_EQ(lc.state("running1").status, "running");
  EXPECT_EQ(lc.state("paused1").status, "paused");
  EXPECT_EQ(lc.state("gone1").status, "stopped");
  EXPECT_EQ(lc.state("reused1").status, "stopped");

  auto s = lc.state("running1");
  EXPECT_EQ(s.id, "running1");
  EXPECT_EQ(s.pid, me);
  EXPECT_EQ(s.bundle, "/b/running1");
  EXPECT_EQ(s.annotations.at("a"), "b");
  auto j = lc.state_json(s);
  EXPECT_EQ(j["ociVersion"], "1.2.0");
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["pid"], me);
  EXPECT_EQ(j["bundle"], "/b/running1");
  EXPECT_EQ(j["annotations"]["a"], "b");
  EXPECT_EQ(lc.state_json(lc.state("gone1"))["pid"], 0);  // a stopped container has no pid

  // A broken state file is left out of the list; a missing one is an error.
  fs::create_directories(root / "broken1");
  write_file(root / "broken1/state.json", "{");
  EXPECT_EQ(lc.list().size(), 5u);
  EXPECT_THROW(lc.state("broken1"), Error);
  EXPECT_THROW(lc.state("missing1"), Error);
  EXPECT_THROW(lc.state("../escape"), Error);
  EXPECT_THROW(lc.state(".."), Error);
}

TEST(Lifecycle, DeleteRefusesARunningContainerAndRunsPoststopHooksForAStoppedOne) {
  TempDir root;
  Lifecycle lc(root.path());
  write_state(root, "running1", ::getpid(), process_start_time(::getpid()));
  EXPECT_THROW(lc.remove("running1", false), Error);
  EXPECT_TRUE(fs::exists(root / "running1"));

  write_state(root, "gone1", dead_pid(), 1);
  Spec spec;
  Hook h;
  h.path = "/bin/sh";
  h.args = {"sh", "-c", "cat > \"$0\"", root / "poststop.json"};
  spec.hooks.poststop.push_back(h);
  write_file(root / "gone1/config.json", spec_to_json(spec).dump());
  lc.remove("gone1", false);
  EXPECT_FALSE(fs::exists(root / "gone1"));
  auto state = nlohmann::json::parse(read_file(root / "poststop.json"));
  EXPECT_EQ(state["id"], "gone1");
  EXPECT_EQ(state["status"], "stopped");
}

// runc's delete of a container that does not exist: an error, but not with --force (containerd's
// shim asks that after its own delete); a directory without its state (an aborted create) goes.
TEST(Lifecycle, DeleteOfAMissingContainerIsAnErrorButNotWithForce) {
  TempDir root;
  Lifecycle lc(root.path());
  EXPECT_THROW(lc.remove("nosuch1", false), Error);
  EXPECT_NO_THROW(lc.remove("nosuch1", true));
  fs::create_directories(root / "aborted1");
  EXPECT_NO_THROW(lc.remove("aborted1", true));
  EXPECT_FALSE(fs::exists(root / "aborted1"));
}
