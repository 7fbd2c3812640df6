// Detached containers (engine/detached.h, monitor.h): run -d, logs, exec, stop, start, wait,
// kill, restart policy, --rm, rm -f, a killed monitor (at scale and under faults:
// detach_reliability_root_test.cpp). Black box
// through the minirun binary, on a busybox image made here, in a store in a TempDir; every
// container is removed with rm -f in TearDown, even after a failure.
#include <gtest/gtest.h>
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "container_fixture.h"
#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

int count_lines(const std::string& s, const std::string& line) {
  int n = 0;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) n += l == line;
  return n;
}

class Detach : public ContainerTest {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    make_store("minirun-detach-");
  }
  void TearDown() override {
    if (!t_) return;
    remove_containers();
    expect_no_mounts_left();
  }
};

const char* kService = "echo out; echo err >&2; trap 'echo bye; exit 3' TERM; while true; do sleep 0.1; done";

}  // namespace

TEST_F(Detach, RunLogsExecStopStartWait) {
  std::string id = run_d({"--name", "web", "t/bb", "sh", "-c", kService});
  auto st = state("web");
  ASSERT_TRUE(st.is_object());
  EXPECT_EQ(st["Id"], id);
  EXPECT_EQ(st["State"]["Status"], "running");
  EXPECT_EQ(st["State"]["Running"], true);
  pid_t init = st["State"]["Pid"].get<int>();
  EXPECT_TRUE(alive(init));
  EXPECT_NE(mr({"ps"}).out.find("Up "), std::string::npos);

  // The log keeps stdout and stderr apart (give the monitor a moment to write the first lines).
  CmdResult logs;
  for (int i = 0; i < 50; i++) {
    logs = mr({"logs", "web"});
    if (logs.out == "out\n" && logs.err == "err\n") break;
    usleep(100000);
  }
  EXPECT_EQ(logs.out, "out\n");
  EXPECT_EQ(logs.err, "err\n");

  // exec: same pid namespace and root, Docker's env/user/workdir rules, status propagated.
  EXPECT_EQ(mr({"exec", "web", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"}).out, std::string("sh -c ") + kService + " ");
  EXPECT_EQ(mr({"exec", "web", "sh", "-c", "exit 7"}).code, 7);
  EXPECT_EQ(mr({"exec", "-e", "X=1", "web", "sh", "-c", "echo $X $HOME $PATH"}).out,
            "1 /root /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
  EXPECT_EQ(mr({"exec", "-u", "app", "-w", "/tmp", "web", "sh", "-c", "id -u; pwd"}).out, "1000\n/tmp\n");
  EXPECT_EQ(mr({"exec", "web", "grep", "CapEff", "/proc/self/status"}).out, "CapEff:\t00000000a80425fb\n");
  auto nf = mr({"exec", "web", "no-such-command"});
  EXPECT_EQ(nf.code, 126);  // docker exec: any process that cannot be started (run: 127)
  EXPECT_EQ(lines(nf.err), 1) << nf.err;
  EXPECT_EQ(mr({"exec", "web", "/etc"}).code, 126);
  EXPECT_EQ(mr({"exec", "-u", "nosuch", "web", "true"}).code, 126);
  EXPECT_EQ(mr({"exec", "-d", "web", "sleep", "100"}).code, 0);

  // stop: SIGTERM, the trap's exit code recorded; wait prints it.
  auto stop = mr({"stop", "-t", "5", "web"});
  EXPECT_EQ(stop.code, 0) << stop.err;
  EXPECT_EQ(stop.out, "web\n");
  EXPECT_FALSE(alive(init));
  st = state("web");
  EXPECT_EQ(st["State"]["Status"], "exited");
  EXPECT_EQ(st["State"]["ExitCode"], 3);
  EXPECT_EQ(st["State"]["Pid"], 0);
  EXPECT_NE(st["State"]["FinishedAt"], "");
  EXPECT_EQ(mr({"wait", "web"}).out, "3\n");
  EXPECT_NE(mr({"ps", "-a"}).out.find("Exited (3)"), std::string::npos);
  EXPECT_EQ(mr({"exec", "web", "true"}).code, 1);
  EXPECT_EQ(mr({"ps", "-q"}).out, "");

  // start: the same upper layer, the log appended.
  EXPECT_EQ(mr({"exec", "-d", "web", "true"}).code, 1);
  auto start = mr({"start", "web"});
  EXPECT_EQ(start.code, 0) << start.err;
  st = state("web");
  EXPECT_EQ(st["State"]["Status"], "running");
  EXPECT_EQ(mr({"exec", "web", "sh", "-c", "echo kept > /kept"}).code, 0);
  for (int i = 0; i < 50 && count_lines(mr({"logs", "web"}).out, "out") < 2; i++) usleep(100000);
  EXPECT_EQ(mr({"logs", "web"}).out, "out\nbye\nout\n");

  // kill: 137, and restart brings it back; the file written in the upper layer is still there.
  EXPECT_EQ(mr({"kill", "web"}).code, 0);
  EXPECT_EQ(mr({"wait", "web"}).out, "137\n");
  EXPECT_EQ(mr({"kill", "web"}).code, 1);  // not running
  EXPECT_EQ(mr({"restart", "-t", "1", "web"}).code, 0);
  EXPECT_EQ(mr({"exec", "web", "cat", "/kept"}).out, "kept\n");
  auto top = mr({"top", "web"}).out;
  EXPECT_NE(top.find("sh -c echo out"), std::string::npos) << top;
  EXPECT_EQ(top.find("sleep 100\n"), std::string::npos) << top;  // the exec -d sleep went with the stop

  // rm refuses a running container; rm -f stops it and removes it.
  auto rm = mr({"rm", "web"});
  EXPECT_EQ(rm.code, 1);
  EXPECT_NE(rm.err.find("container is running"), std::string::npos) << rm.err;
  pid_t init2 = state("web")["State"]["Pid"].get<int>();
  EXPECT_EQ(mr({"rm", "-f", "web"}).code, 0);
  EXPECT_FALSE(alive(init2));
  EXPECT_FALSE(state("web").is_object());
  EXPECT_FALSE(fs::exists(*t_ / ("store/containers/" + id)));
}

// exec'd processes get the container's seccomp filter, as with runc: the same one
// whatever exec's own flags (--privileged included); none when the container runs unconfined.
// (The exec'd process is cloned like posix_spawn: its status and errors still come back.)
TEST_F(Detach, ExecGetsTheContainersSeccompFilter) {
  run_d({"--name", "conf", "t/bb", "sleep", "1000"});
  run_d({"--name", "unconf", "--security-opt", "seccomp=unconfined", "t/bb", "sleep", "1000"});
  const std::vector<std::string> probe = {"sh", "-c", "grep '^Seccomp:' /proc/self/status; unshare -U true 2>/dev/null; echo $?"};
  auto with = [&](std::vector<std::string> a) {
    a.insert(a.end(), probe.begin(), probe.end());
    return mr(a);
  };
  EXPECT_EQ(with({"exec", "conf"}).out, "Seccomp:\t2\n1\n");
  EXPECT_EQ(with({"exec", "--privileged", "conf"}).out, "Seccomp:\t2\n1\n");
  EXPECT_EQ(with({"exec", "-u", "1000", "conf"}).out, "Seccomp:\t2\n1\n");
  EXPECT_EQ(with({"exec", "unconf"}).out.substr(0, 11), "Seccomp:\t0\n");
  EXPECT_EQ(mr({"exec", "conf", "nosuch"}).code, 126);
  EXPECT_EQ(mr({"exec", "conf", "sh", "-c", "exit 9"}).code, 9);
}

// A profile given with --security-opt seccomp=FILE is the container's for good: exec'd processes,
// start, restart (and a created container's first start) get it, not Docker's default, although
// the file is gone by then.
TEST_F(Detach, CustomSeccompProfileHoldsInExecAndRestart) {
  const std::string profile = *t_ / "no-mkdir.json";
  write_file(profile, R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)"
                      R"({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})");
  run_d({"--name", "p", "--security-opt", "seccomp=" + profile, "t/bb", "sleep", "1000"});
  auto created = mr({"create", "--name", "c", "--security-opt", "seccomp=" + profile, "t/bb", "sleep", "1000"});
  ASSERT_EQ(created.code, 0) << created.err;
  ASSERT_EQ(::unlink(profile.c_str()), 0);
  auto denied = [&](const std::string& ctr) {
    auto r = mr({"exec", ctr, "mkdir", "/y"});
    return r.code == 1 && r.err.find("Operation not permitted") != std::string::npos;
  };
  EXPECT_TRUE(denied("p"));
  EXPECT_EQ(mr({"exec", "p", "sh", "-c", "grep '^Seccomp:' /proc/self/status"}).out, "Seccomp:\t2\n");
  EXPECT_EQ(mr({"restart", "-t", "1", "p"}).code, 0);
  EXPECT_TRUE(denied("p"));
  EXPECT_EQ(mr({"exec", "p", "sh", "-c", "mkdir /y 2>/dev/null; echo $?"}).out, "1\n");
  EXPECT_EQ(mr({"stop", "-t", "1", "p"}).code, 0);
  EXPECT_EQ(mr({"start", "p"}).code, 0);
  EXPECT_TRUE(denied("p"));
  auto start = mr({"start", "c"});
  EXPECT_EQ(start.code, 0) << start.err;
  EXPECT_TRUE(denied("c"));
  // Docker's default profile allows mkdir: the others are unchanged.
  run_d({"--name", "d", "t/bb", "sleep", "1000"});
  EXPECT_EQ(mr({"exec", "d", "mkdir", "/y"}).code, 0);
}

// What `run` was given holds at every later start: a --device node and no-new-privileges, after
// restart and after stop + start, in the container and in exec.
TEST_F(Detach, DevicesAndNoNewPrivilegesHoldAfterRestart) {
  run_d({"--name", "dv", "--device", "/dev/null:/dev/mynull", "--security-opt", "no-new-privileges", "t/bb", "sleep",
         "1000"});
  auto holds = [&] {
    auto dev = mr({"exec", "dv", "sh", "-c", "test -c /dev/mynull && echo dev"});
    auto nnp = mr({"exec", "dv", "sh", "-c", "grep '^NoNewPrivs:' /proc/1/status"});
    return dev.out == "dev\n" && nnp.out == "NoNewPrivs:\t1\n";
  };
  EXPECT_TRUE(holds());
  EXPECT_EQ(mr({"restart", "-t", "1", "dv"}).code, 0);
  EXPECT_TRUE(holds());
  EXPECT_EQ(mr({"stop", "-t", "1", "dv"}).code, 0);
  EXPECT_EQ(mr({"start", "dv"}).code, 0);
  EXPECT_TRUE(holds());
}

TEST_F(Detach, StartErrorsComeBackAsOneLine) {
  auto nf = mr({"run", "-d", "--name", "nf", "t/bb", "no-such-command"});
  EXPECT_EQ(nf.code, 127);
  EXPECT_EQ(nf.out, "");
  EXPECT_EQ(lines(nf.err), 1) << nf.err;
  EXPECT_EQ(state("nf")["State"]["Status"], "exited");
  EXPECT_EQ(state("nf")["State"]["ExitCode"], 127);
  EXPECT_EQ(mr({"run", "-d", "t/bb", "/etc"}).code, 126);
  EXPECT_EQ(mr({"run", "-d", "-u", "nosuch", "t/bb", "true"}).code, 125);
  EXPECT_EQ(mr({"run", "-d", "--restart", "sometimes", "t/bb", "true"}).code, 125);
  EXPECT_EQ(mr({"run", "-d", "--log-driver", "syslog", "t/bb", "true"}).code, 125);
  // None of the refused ones left a container behind (validated before the record).
  // nf, /etc and nosuch were created (the child found the error); the flags' errors were not.
  EXPECT_EQ(lines(mr({"ps", "-aq"}).out), 3);
}

TEST_F(Detach, RestartOnFailureCountsAndRmRemoves) {
  run_d({"--name", "flaky", "--restart", "on-failure:2", "t/bb", "sh", "-c", "echo try; exit 1"});
  EXPECT_EQ(mr({"wait", "flaky"}).out, "1\n");
  auto st = state("flaky");
  EXPECT_EQ(st["RestartCount"], 2);
  EXPECT_EQ(st["State"]["Status"], "exited");
  EXPECT_EQ(count_lines(mr({"logs", "flaky"}).out, "try"), 3);

  // always: restarting until stop, which ends it.
  run_d({"--name", "always", "--restart", "always", "t/bb", "sh", "-c", "exit 2"});
  for (int i = 0; i < 50 && state("always")["RestartCount"].get<int>() < 1; i++) usleep(100000);
  EXPECT_GE(state("always")["RestartCount"].get<int>(), 1);
  EXPECT_EQ(mr({"stop", "always"}).code, 0);
  EXPECT_EQ(state("always")["State"]["Status"], "exited");

  // wait on an --rm container prints its exit code, although it is removed as it exits.
  std::string id = run_d({"--rm", "--name", "gone", "t/bb", "sh", "-c", "sleep 1; exit 4"});
  auto w = mr({"wait", "gone"});
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(w.out, "4\n");
  for (int i = 0; i < 50 && fs::exists(*t_ / ("store/containers/" + id)); i++) usleep(100000);
  EXPECT_FALSE(fs::exists(*t_ / ("store/containers/" + id)));
  EXPECT_EQ(mr({"inspect", "gone"}).code, 1);

  // --log-driver none: no log written, logs says nothing.
  run_d({"--name", "quiet", "--log-driver", "none", "t/bb", "sh", "-c", "echo hidden"});
  mr({"wait", "quiet"});
  EXPECT_EQ(mr({"logs", "quiet"}).out, "");
}

// The same for a foreground run --rm, which removes its container itself.
TEST_F(Detach, WaitGetsTheExitCodeOfAForegroundRmContainer) {
  pid_t fg = spawn_cmd(cmd({"run", "--rm", "--name", "fg", "t/bb", "sh", "-c", "sleep 2; exit 5"}));
  for (int i = 0; i < 100 && state("fg")["State"]["Status"] != "running"; i++) usleep(20000);
  auto w = mr({"wait", "fg"});
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(w.out, "5\n");
  int status = 0;
  ASSERT_EQ(::waitpid(fg, &status, 0), fg);
  EXPECT_EQ(WEXITSTATUS(status), 5);
  EXPECT_EQ(mr({"inspect", "fg"}).code, 1);
}

// A foreground container is logged too, as Docker logs every container, its output still
// printed; with -t its terminal's output (as stdout). A reader that goes away still ends it.
TEST_F(Detach, ForegroundRunIsLogged) {
  auto r = mr({"run", "--name", "fg", "t/bb", "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  auto l = mr({"logs", "fg"});
  EXPECT_EQ(l.out, "out\n");
  EXPECT_EQ(l.err, "err\n");
  auto t = mr({"run", "-t", "--name", "fgt", "t/bb", "echo", "tty"});
  EXPECT_EQ(t.out, "tty\r\n");
  EXPECT_EQ(mr({"logs", "fgt"}).out, "tty\r\n");
  EXPECT_EQ(mr({"run", "--name", "quiet", "--log-driver", "none", "t/bb", "echo", "x"}).out, "x\n");
  EXPECT_EQ(mr({"logs", "quiet"}).out, "");
  std::string line;
  // (Its writes fail with EPIPE, or SIGPIPE kills it when the caller did not ignore SIGPIPE.)
  for (const auto& a : cmd({"run", "--name", "yes", "t/bb", "sh", "-c", "while echo y; do :; done"})) line += "'" + a + "' ";
  auto y = run_cmd({"/bin/sh", "-c", line + "| head -1"}, "", 30);
  EXPECT_EQ(y.code, 0) << y.err;
  EXPECT_EQ(y.out, "y\n");
  EXPECT_EQ(state("yes")["State"]["Status"], "exited");
}

// Times never set are Go's zero time, as in Docker's inspect.
TEST_F(Detach, UnsetTimesAreGosZeroTime) {
  auto created = mr({"create", "--name", "c", "t/bb", "sleep", "1000"});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_EQ(mr({"inspect", "-f", "{{.State.StartedAt}} {{.State.FinishedAt}}", "c"}).out,
            "0001-01-01T00:00:00Z 0001-01-01T00:00:00Z\n");
  run_d({"--name", "r", "t/bb", "sleep", "1000"});
  EXPECT_EQ(mr({"inspect", "-f", "{{.State.FinishedAt}}", "r"}).out, "0001-01-01T00:00:00Z\n");
  EXPECT_NE(mr({"inspect", "-f", "{{.State.StartedAt}}", "r"}).out, "0001-01-01T00:00:00Z\n");
  EXPECT_EQ(mr({"stop", "-t", "1", "r"}).code, 0);
  EXPECT_NE(mr({"inspect", "-f", "{{.State.FinishedAt}}", "r"}).out, "0001-01-01T00:00:00Z\n");
}

// stop marks the record (manually_stopped) before it asks the monitor, which reads the mark at
// each exit: an exit that overtakes the request is not followed by a restart. start clears it.
TEST_F(Detach, StoppedRestartingContainerStaysStopped) {
  std::string id = run_d({"--name", "flap", "--restart", "always", "t/bb", "sh", "-c", "sleep 0.1; exit 2"});
  for (int round = 0; round < 5; round++) {
    usleep(static_cast<useconds_t>(round) * 70000);
    EXPECT_EQ(mr({"stop", "-t", "1", "flap"}).code, 0);
    EXPECT_EQ(record(id)["manually_stopped"], true);
    int count = state("flap")["RestartCount"].get<int>();
    usleep(400000);
    auto st = state("flap");
    EXPECT_EQ(st["State"]["Status"], "exited");
    EXPECT_EQ(st["RestartCount"].get<int>(), count) << "restarted after the stop";
    EXPECT_EQ(mr({"start", "flap"}).code, 0);
    EXPECT_FALSE(record(id).value("manually_stopped", false));
  }
}

TEST_F(Detach, KilledMonitorTakesItsContainer) {
  std::string id = run_d({"--name", "victim", "t/bb", "sleep", "1000"});
  pid_t init = state("victim")["State"]["Pid"].get<int>();
  pid_t mon = record(id)["pid"].get<int>();
  ASSERT_TRUE(alive(mon));
  ASSERT_TRUE(alive(init));
  EXPECT_NE(mon, getpid());
  // The monitor is in its own session, not the starting command's (SIGHUP cannot reach it).
  EXPECT_NE(::getsid(mon), ::getsid(0));
  ASSERT_EQ(::kill(mon, SIGKILL), 0);
  for (int i = 0; i < 100 && (alive(init) || alive(mon)); i++) usleep(50000);
  EXPECT_FALSE(alive(init)) << "the container outlived its monitor";
  auto st = state("victim");
  EXPECT_EQ(st["State"]["Status"], "exited");
  EXPECT_EQ(st["State"]["ExitCode"], 137);
  EXPECT_NE(st["State"]["Error"].get<std::string>().find("monitor"), std::string::npos);
  EXPECT_NE(mr({"ps", "-a"}).out.find("Exited (137)"), std::string::npos);
  // start again, then rm works.
  EXPECT_EQ(mr({"start", "victim"}).code, 0);
  EXPECT_EQ(state("victim")["State"]["Status"], "running");
  EXPECT_EQ(mr({"rm", "-f", "victim"}).code, 0);
}

// 50 at once, 1,000 execs, the monitor killed at random moments: detach_reliability_root_test.cpp.

TEST_F(Detach, PauseNeedsTheFreezer) {
  run_d({"--name", "p", "t/bb", "sleep", "1000"});
  auto r = mr({"pause", "p"});
  if (r.code == 0) {
    EXPECT_EQ(state("p")["State"]["Status"], "paused");
    EXPECT_EQ(state("p")["State"]["Paused"], true);
    EXPECT_NE(mr({"ps"}).out.find("(Paused)"), std::string::npos);
    EXPECT_EQ(mr({"unpause", "p"}).code, 0);
    EXPECT_EQ(state("p")["State"]["Status"], "running");
  } else {
    EXPECT_NE(r.err.find("cgroup"), std::string::npos) << r.err;
    EXPECT_EQ(state("p")["State"]["Status"], "running");
  }
}
