// The monitor's loop with plain fork/exec children (no container, no root): logs of both
// streams, exit codes, the restart policy with its back-off, stop through the control fifo
// (signal, then SIGKILL after the timeout), daemonize_monitor's readiness and errors, SIGHUP,
// and an idle monitor that takes no CPU.
#include <fcntl.h>
#include <sys/wait.h>
#include <cstring>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "minirun/monitor/log_reader.h"
#include "minirun/monitor/daemonize.h"
#include "minirun/monitor/monitor.h"
#include "minirun/monitor/monitor_client.h"
#include "minirun/util/error.h"
#include "monitor_start.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::monitor;
using minirun::test::read_file;
using minirun::test::sh_start;
using minirun::test::TempDir;

namespace {

std::pair<std::string, std::string> logs_of(const TempDir& t, const std::string& log) {
  std::string o1 = t / "o.txt", o2 = t / "e.txt";
  int a = ::open(o1.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int b = ::open(o2.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  logs::read_log(log, {}, a, b);
  ::close(a), ::close(b);
  return {read_file(o1), read_file(o2)};
}

// Runs the monitor in a child process (it blocks signals and becomes a subreaper, which a test
// process should not); the child writes "<event> ..." lines to a report file.
int monitored(const TempDir& t, MonitorOptions o, StartFn start, std::string& report) {
  std::string rep = t / "report.txt";
  pid_t pid = ::fork();
  if (pid == 0) {
    std::ofstream r(rep);
    o.on_start = [&r](pid_t, int count) { r << "start " << count << std::endl; };
    o.on_exit = [&r](const ExitInfo& e) {
      r << "exit " << e.exit_code << " stopped=" << e.manually_stopped << " restarting=" << e.restarting
        << " delay=" << e.restart_delay.count() << " count=" << e.restart_count << std::endl;
    };
    int rc = 100;
    try {
      rc = run_monitor(o, start);
    } catch (const Error& e) {
      r << "error " << e.exit_code() << " " << e.what() << std::endl;
      rc = 101;
    }
    ::_exit(rc);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  report = read_file(rep);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// A ProbeFn that runs `sh -c script` as a plain child (no container): stdout and stderr on the
// probe's pipe.
ProbeFn sh_probe(const std::string& script) {
  return [start = sh_start(script)](pid_t, int out) {
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = start(null, out, out);
    ::close(null);
    return pid;
  };
}

constexpr int64_t kMs = 1000000;

// Runs `container` under a monitor with this health check; every state the monitor reports is a
// line "<status> <streak> <entries> <last exit code> <last output>" (its newlines as '|').
std::vector<std::string> health_states(const TempDir& t, HealthCheck check, ProbeFn probe, const std::string& container) {
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.health = ProberOptions{};
  o.health->check = std::move(check);
  o.health->probe = std::move(probe);
  std::string rep = t / "health.txt";
  o.health->on_health = [rep](const HealthState& s) {
    std::ofstream r(rep, std::ios::app);
    r << s.status << " " << s.failing_streak << " " << s.log.size();
    std::string out = s.log.empty() ? "" : s.log.back().output;
    for (char& ch : out)
      if (ch == '\n') ch = '|';
    if (!s.log.empty()) r << " " << s.log.back().exit_code << " " << out;
    r << "\n";
  };
  std::string report;
  monitored(t, o, sh_start(container), report);
  std::vector<std::string> lines;
  std::istringstream in(read_file(rep));
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  return lines;
}

bool has(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines)
    if (l.rfind(prefix, 0) == 0) return true;
  return false;
}

// Gone, or a zombie waiting for init to reap it.
bool exited(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return stat.empty() || stat.substr(stat.rfind(')') + 2, 1) == "Z";
}

}  // namespace

TEST(Monitor, LogsBothStreamsAndReportsTheExitCode) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  std::string report;
  int rc = monitored(t, o, sh_start("echo out1; echo err1 >&2; printf 'no newline'; exit 3"), report);
  EXPECT_EQ(rc, 3);
  EXPECT_EQ(report, "start 0\nexit 3 stopped=0 restarting=0 delay=0 count=0\n");
  auto [out, err] = logs_of(t, o.log_path);
  EXPECT_EQ(out, "out1\nno newline");
  EXPECT_EQ(err, "err1\n");
}

TEST(Monitor, ASignalDeathIs128PlusTheSignal) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  std::string report;
  EXPECT_EQ(monitored(t, o, sh_start("kill -KILL $$"), report), 137);
}

TEST(Monitor, OnFailureRestartsWithBackOffThenGivesUp) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.restart = parse_restart_policy("on-failure:2");
  std::string report;
  auto t0 = std::chrono::steady_clock::now();
  int rc = monitored(t, o, sh_start("echo run; exit 2"), report);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(report,
            "start 0\nexit 2 stopped=0 restarting=1 delay=100 count=1\n"
            "start 1\nexit 2 stopped=0 restarting=1 delay=200 count=2\n"
            "start 2\nexit 2 stopped=0 restarting=0 delay=0 count=2\n");
  EXPECT_GE(took, std::chrono::milliseconds(300));  // the back-off was waited
  EXPECT_EQ(logs_of(t, o.log_path).first, "run\nrun\nrun\n");  // appended across runs
}

TEST(Monitor, StopThroughTheFifoEndsAlwaysRestarting) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  o.restart = parse_restart_policy("always");
  std::thread stopper([&] {
    while (!send_monitor_command(o.ctl_path, "stop 15 10")) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(wait_monitor_exit(o.ctl_path, 10000));
  });
  std::string report;
  int rc = monitored(t, o, sh_start("echo up; exec sleep 100"), report);
  stopper.join();
  EXPECT_EQ(rc, 143);
  EXPECT_EQ(report, "start 0\nexit 143 stopped=1 restarting=0 delay=0 count=0\n");
  EXPECT_FALSE(send_monitor_command(o.ctl_path, "stop 15 10"));  // nobody listens any more
  struct stat st;
  EXPECT_NE(::stat(o.ctl_path.c_str(), &st), 0) << "the fifo is removed with the monitor";
}

// A stop marked in the lead's record (stop_marked) before its fifo request is read: an exit on
// the container's own is not followed by a restart, nor is a pending back-off.
TEST(Monitor, AMarkedStopEndsThePolicyBeforeItsRequestArrives) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.restart = parse_restart_policy("always");
  const std::string mark = t / "stopped";
  o.stop_marked = [mark] { return ::access(mark.c_str(), F_OK) == 0; };
  std::string report;
  EXPECT_EQ(monitored(t, o, sh_start("touch " + mark + "; exit 2"), report), 2);
  EXPECT_EQ(report, "start 0\nexit 2 stopped=1 restarting=0 delay=0 count=0\n");
  // Marked during the back-off: no restart after it.
  ::unlink(mark.c_str());
  int calls = 0;
  o.stop_marked = [&calls] { return ++calls > 1; };  // not at the exit, then after the back-off
  EXPECT_EQ(monitored(t, o, sh_start("exit 3"), report), 3);
  EXPECT_EQ(report,
            "start 0\nexit 3 stopped=0 restarting=1 delay=100 count=1\n"
            "exit 3 stopped=1 restarting=0 delay=100 count=1\n");
}

TEST(Monitor, StopKillsAfterTheTimeoutWhenTheSignalIsIgnored) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  std::thread stopper([&] {
    // Give sh the time to set its trap before the signal.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    while (!send_monitor_command(o.ctl_path, "stop 15 1")) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  std::string report;
  auto t0 = std::chrono::steady_clock::now();
  int rc = monitored(t, o, sh_start("trap '' TERM; exec sleep 100"), report);
  auto took = std::chrono::steady_clock::now() - t0;
  stopper.join();
  EXPECT_EQ(rc, 137);
  EXPECT_GE(took, std::chrono::milliseconds(1200));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(Monitor, AFailedFirstStartIsTheCallersError) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  std::string report;
  int rc = monitored(t, o, [](int, int, int) -> pid_t { throw Error("exec: \"nope\": executable file not found", 127); },
                     report);
  EXPECT_EQ(rc, 101);
  EXPECT_EQ(report, "error 127 exec: \"nope\": executable file not found\n");
}

TEST(Monitor, DaemonizedMonitorReportsReadinessSurvivesSighupAndStops) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  DetachedMonitor d = daemonize_monitor([&](int ready) {
    o.ready_fd = ready;
    return run_monitor(o, sh_start("echo started; exec sleep 100"));
  });
  ASSERT_GT(d.monitor_pid, 0);
  ASSERT_GT(d.container_pid, 0);
  EXPECT_NE(::getsid(d.monitor_pid), ::getsid(0)) << "the monitor has a session of its own";
  EXPECT_EQ(::kill(d.container_pid, 0), 0);
  // The terminal closing: SIGHUP to the monitor changes nothing.
  ::kill(d.monitor_pid, SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(::kill(d.monitor_pid, 0), 0);
  EXPECT_TRUE(send_monitor_command(o.ctl_path, "stop 15 10"));
  EXPECT_TRUE(wait_monitor_exit(o.ctl_path, 10000));
  EXPECT_EQ(logs_of(t, o.log_path).first, "started\n");
}

TEST(Monitor, DaemonizedStartErrorComesBackWithItsCode) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  try {
    daemonize_monitor([&](int ready) {
      o.ready_fd = ready;
      return run_monitor(o, [](int, int, int) -> pid_t { throw Error("unable to find user nobody2", 126); });
    });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 126);
    EXPECT_STREQ(e.what(), "unable to find user nobody2");
  }
  try {
    daemonize_monitor([](int) { return 0; });  // never reports
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 125);
  }
}

TEST(Monitor, FollowingReaderEndsWhenTheMonitorExits) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  DetachedMonitor d = daemonize_monitor([&](int ready) {
    o.ready_fd = ready;
    return run_monitor(o, sh_start("i=0; while [ $i -lt 5 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done"));
  });
  int watch = watch_monitor(o.ctl_path);
  ASSERT_GE(watch, 0);
  std::string out = t / "f.txt";
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  logs::ReadOptions r;
  r.follow = true;
  r.stop_fd = watch;
  logs::read_log(o.log_path, r, fd, fd);  // returns once the monitor is gone
  ::close(fd), ::close(watch);
  EXPECT_EQ(read_file(out), "tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n");
  // The kernel closes the fifo while the process exits, a moment before it becomes a zombie.
  for (int i = 0; i < 200 && !exited(d.monitor_pid); i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(exited(d.monitor_pid));
}

TEST(Monitor, AnIdleMonitorUsesNoCpu) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  DetachedMonitor d = daemonize_monitor([&](int ready) {
    o.ready_fd = ready;
    return run_monitor(o, sh_start("echo hi; exec sleep 100"));
  });
  auto cpu_ticks = [&] {
    std::string stat = read_file("/proc/" + std::to_string(d.monitor_pid) + "/stat");
    std::istringstream in(stat.substr(stat.rfind(')') + 2));
    std::string f;
    long long ut = 0, st = 0;
    for (int i = 3; i <= 15 && in >> f; i++) {
      if (i == 14) ut = std::stoll(f);
      if (i == 15) st = std::stoll(f);
    }
    return ut + st;
  };
  auto wakeups = [&] {
    std::string s = read_file("/proc/" + std::to_string(d.monitor_pid) + "/status");
    size_t p = s.find("voluntary_ctxt_switches:");
    return std::stoll(s.substr(p + 24));
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the one idle wake-up
  long long c0 = cpu_ticks(), w0 = wakeups();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(cpu_ticks(), c0);
  EXPECT_EQ(wakeups(), w0) << "the monitor woke up while nothing happened";
  EXPECT_TRUE(send_monitor_command(o.ctl_path, "stop 9 0"));
  EXPECT_TRUE(wait_monitor_exit(o.ctl_path, 10000));
}

TEST(Monitor, AKilledMonitorTakesTheContainerWithIt) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  DetachedMonitor d = daemonize_monitor([&](int ready) {
    o.ready_fd = ready;
    return run_monitor(o, sh_start("exec sleep 100"));
  });
  ASSERT_EQ(::kill(d.container_pid, 0), 0);
  ::kill(d.monitor_pid, SIGKILL);
  // PR_SET_PDEATHSIG in the StartFn's child: the kernel kills it with its parent.
  for (int i = 0; i < 200 && !exited(d.container_pid); i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(exited(d.container_pid)) << read_file("/proc/" + std::to_string(d.container_pid) + "/status").substr(0, 400);
  EXPECT_FALSE(send_monitor_command(o.ctl_path, "stop 15 10")) << "a dead monitor's fifo has no reader";
}

TEST(Monitor, SigtermToTheMonitorStopsTheContainerWithItsStopSignal) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  o.stop_signal = SIGUSR1;
  o.restart = parse_restart_policy("unless-stopped");
  std::string report = t / "report";
  DetachedMonitor d = daemonize_monitor([&](int ready) {
    o.ready_fd = ready;
    o.on_exit = [&](const ExitInfo& e) {
      std::ofstream(report, std::ios::app) << e.exit_code << " " << e.manually_stopped << " " << e.restarting << "\n";
    };
    return run_monitor(o, sh_start("trap 'echo got usr1; exit 7' USR1; while :; do sleep 0.05; done"));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the trap is set
  ::kill(d.monitor_pid, SIGTERM);
  EXPECT_TRUE(wait_monitor_exit(o.ctl_path, 10000));
  EXPECT_EQ(read_file(report), "7 1 0\n");
  EXPECT_EQ(logs_of(t, o.log_path).first, "got usr1\n");
}

TEST(Monitor, KillThroughTheFifoForwardsTheSignalAndKeepsThePolicy) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  o.restart = parse_restart_policy("on-failure:1");
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the trap is set
    while (!send_monitor_command(o.ctl_path, "kill 10")) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  std::string report;
  // The first run exits 3 on SIGUSR1 (10); the restart (on-failure) exits 0 by itself.
  std::string marker = t / "ran";
  int rc = monitored(t, o, sh_start("if [ -e " + marker + " ]; then echo second; exit 0; fi; touch " + marker +
                              "; trap 'echo usr1; exit 3' USR1; while :; do sleep 0.05; done"),
                     report);
  killer.join();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(report,
            "start 0\nexit 3 stopped=0 restarting=1 delay=100 count=1\n"
            "start 1\nexit 0 stopped=0 restarting=0 delay=0 count=1\n");
  EXPECT_EQ(logs_of(t, o.log_path).first, "usr1\nsecond\n");
}

// ---- health checks: the monitor's timer, probes as its children, results through health.h ----

TEST(MonitorHealth, StartingThenHealthyThenUnhealthyOnceStopped) {
  TempDir t;
  HealthCheck c;
  c.interval = 100 * kMs;
  c.timeout = 5000 * kMs;
  auto lines = health_states(t, c, sh_probe("echo ok; echo err >&2"), "sleep 1");
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.front(), "starting 0 0") << "recorded at the start, before any probe";
  EXPECT_TRUE(has(lines, "healthy 0 1 0 ok|err|")) << "stdout and stderr both kept";
  EXPECT_EQ(lines.back().substr(0, 10), "unhealthy ") << "the container exited: Docker marks it unhealthy";
  EXPECT_GE(lines.size(), 4u) << "probed every 100 ms for a second";
  EXPECT_LE(lines.size(), 13u);
}

TEST(MonitorHealth, UnhealthyAfterRetriesFailures) {
  TempDir t;
  HealthCheck c;
  c.interval = 50 * kMs;
  c.retries = 2;
  auto lines = health_states(t, c, sh_probe("echo down; exit 3"), "sleep 1");
  EXPECT_TRUE(has(lines, "starting 1 1 3 down"));
  EXPECT_TRUE(has(lines, "unhealthy 2 2 3 down"));
  EXPECT_FALSE(has(lines, "healthy"));
}

TEST(MonitorHealth, AProbePastItsTimeoutIsKilledAndFails) {
  TempDir t;
  HealthCheck c;
  c.interval = 50 * kMs;
  c.timeout = 200 * kMs;
  c.retries = 1;
  auto t0 = std::chrono::steady_clock::now();
  auto lines = health_states(t, c, sh_probe("echo started; exec sleep 10"), "sleep 1");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << "no probe outlived the container";
  EXPECT_TRUE(has(lines, "unhealthy 1 1 -1 Health check exceeded timeout (200ms): started"));
}

TEST(MonitorHealth, AProbeThatCannotStartFailsWithItsMessage) {
  TempDir t;
  HealthCheck c;
  c.interval = 100 * kMs;
  c.retries = 1;
  ProbeFn fail = [](pid_t, int) -> pid_t { throw Error("exec: \"nosuch\": executable file not found", 127); };
  auto lines = health_states(t, c, fail, "sleep 0.5");
  EXPECT_TRUE(has(lines, "unhealthy 1 1 -1 exec: \"nosuch\": executable file not found"));
}

TEST(MonitorHealth, OutputPast4096BytesIsTruncated) {
  TempDir t;
  HealthCheck c;
  c.interval = 100 * kMs;
  auto lines = health_states(t, c, sh_probe("head -c 10000 /dev/zero | tr '\\0' x"), "sleep 0.5");
  EXPECT_TRUE(has(lines, "healthy 0 1 0 " + std::string(4096, 'x') + "..."));
}

TEST(MonitorHealth, AnIdleMonitorWakesOnlyForProbes) {
  TempDir t;
  MonitorOptions o;
  o.log_path = t / "c-json.log";
  o.ctl_path = t / "ctl";
  HealthCheck c;
  c.interval = 2500 * kMs;
  o.health = ProberOptions{};
  o.health->check = c;
  o.health->probe = sh_probe("true");
  std::string states = t / "states";
  o.health->on_health = [states](const HealthState& s) { std::ofstream(states, std::ios::app) << s.log.size() << "\n"; };
  DetachedMonitor d = daemonize_monitor([&](int ready) {
    o.ready_fd = ready;
    return run_monitor(o, sh_start("exec sleep 100"));
  });
  auto sample = [&] {
    std::string stat = read_file("/proc/" + std::to_string(d.monitor_pid) + "/stat");
    std::istringstream in(stat.substr(stat.rfind(')') + 2));
    std::string f;
    long long ut = 0, st = 0;
    for (int i = 3; i <= 15 && in >> f; i++) {
      if (i == 14) ut = std::stoll(f);
      if (i == 15) st = std::stoll(f);
    }
    std::string s = read_file("/proc/" + std::to_string(d.monitor_pid) + "/status");
    return std::pair{ut + st, std::stoll(s.substr(s.find("voluntary_ctxt_switches:") + 24))};
  };
  auto text_of = [](const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  // Just after the first probe's result, the next is 2.5 s away: 1.5 s with nothing.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (text_of(states).find("1\n") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(text_of(states).find("1\n"), std::string::npos) << "the first probe ran";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto [cpu0, wake0] = sample();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto [cpu1, wake1] = sample();
  EXPECT_EQ(cpu1, cpu0) << "CPU time between probes";
  EXPECT_EQ(wake1, wake0) << "the monitor woke up between probes";
  EXPECT_TRUE(send_monitor_command(o.ctl_path, "stop 9 0"));
  EXPECT_TRUE(wait_monitor_exit(o.ctl_path, 10000));
}
