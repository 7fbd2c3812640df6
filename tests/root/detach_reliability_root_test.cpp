// Detached containers at the scale and under faults (engine/detached.h, monitor.h,
// container_state.h): 50 `run -d` at once from as many processes, listed and stopped by one `stop`
// (in parallel); 1,000 `exec`s that leak no process, descriptor or mount; the monitor SIGKILLed at
// random moments of a container's life (starting, running, stopping, in a restart back-off); and a
// running container's `diff`, `export` and `commit` (paused while it is read, unless -p=false),
// `exec` and `stats` under a --cgroup-parent. Black box through the minirun binary, on a busybox
// image made here, in a store in a TempDir; every container is removed with rm -f in TearDown.
#include <gtest/gtest.h>
#include <dirent.h>
#include <net/if.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <mutex>
#include <sstream>
#include <thread>

#include "container_fixture.h"
#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// A live process: a zombie (an orphan not yet reaped by whoever inherited it) is not.
bool alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  try {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() || (stat[paren + 2] != 'Z' && stat[paren + 2] != 'X');
  } catch (...) {
    return false;
  }
}

// Whether every pid is gone within a few seconds (an exiting monitor after its fifo closed).
bool all_gone(const std::set<int>& pids) {
  for (int i = 0; i < 100; i++) {
    if (std::none_of(pids.begin(), pids.end(), [](int p) { return alive(p); })) return true;
    usleep(50000);
  }
  return false;
}

int count_entries(const std::string& dir) {
  int n = 0;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.') n++;
    ::closedir(d);
  }
  return n;
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Every process: pid → (ppid, cmdline with NULs as spaces).
struct Proc {
  pid_t pid, ppid;
  std::string cmdline;
};
std::vector<Proc> processes() {
  std::vector<Proc> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::string base = std::string("/proc/") + e->d_name;
    std::string cmd, stat;
    try {
      cmd = read_file(base + "/cmdline");
      stat = read_file(base + "/stat");
    } catch (...) {
      continue;
    }
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    auto paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
    char state = stat[paren + 2];
    if (state == 'Z' || state == 'X') continue;
    pid_t ppid = static_cast<pid_t>(std::atoi(stat.c_str() + paren + 4));
    out.push_back({pid, ppid, cmd});
  }
  ::closedir(d);
  return out;
}

int count_procs_with(const std::string& needle) {
  int n = 0;
  for (const auto& p : processes()) n += p.cmdline.find(needle) != std::string::npos;
  return n;
}

// Directories of the container's cgroup under every mounted hierarchy (v1 controllers, v2).
std::vector<std::string> cgroup_dirs(const std::string& rel) {
  std::vector<std::string> out;
  if (fs::exists("/sys/fs/cgroup/" + rel)) out.push_back("/sys/fs/cgroup/" + rel);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec))
    if (e.is_directory(ec) && fs::exists(e.path() / rel)) out.push_back((e.path() / rel).string());
  return out;
}

class DetachReliability : public ContainerTest {
 public:  // expect_cleanly_dead uses the helpers too
  using ContainerTest::mr;
  using ContainerTest::state;
  using ContainerTest::t_;
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    make_store("minirun-reliab-");
  }
  void TearDown() override {
    if (!t_) return;
    remove_containers(120);
    expect_no_mounts_left();
    if (!cgroup_parent_.empty())
      for (const auto& d : cgroup_dirs(cgroup_parent_)) ::rmdir(d.c_str());
  }
  std::string id_of(const std::string& name) {
    auto r = mr({"inspect", "--format", "{{.Id}}", name});
    return r.code == 0 ? r.out.substr(0, r.out.find('\n')) : "";
  }
  std::string cgroup_parent_;
};

// What a dead monitor must leave: its container exited with a reason in a consistent record, no
// process of it, no cgroup, no veth, no mount; `start` and `rm` work on it.
void expect_cleanly_dead(DetachReliability& f, const std::string& name, const std::string& marker,
                         const std::string& what) {
  SCOPED_TRACE(what);
  // The container's processes went with the monitor (PDEATHSIG), before any minirun command
  // looked at it.
  int left = 0;
  for (int i = 0; i < 100 && (left = count_procs_with(marker)) > 0; i++) usleep(50000);
  EXPECT_EQ(left, 0) << "a process of the container outlived its monitor";
  json st = f.state(name);
  ASSERT_TRUE(st.is_object()) << "no record for " << name;
  const std::string id = st["Id"];
  EXPECT_EQ(st["State"]["Status"], "exited");
  EXPECT_EQ(st["State"]["Running"], false);
  EXPECT_EQ(st["State"]["Restarting"], false);
  EXPECT_EQ(st["State"]["Pid"], 0);
  EXPECT_NE(st["State"]["FinishedAt"], "");
  EXPECT_NE(st["State"]["ExitCode"], 0);
  EXPECT_NE(st["State"]["Error"], "") << "exited with no reason";
  auto ps = f.mr({"ps", "-a", "-f", "name=" + name}).out;  // "Created" when it never started, as Docker
  EXPECT_TRUE(ps.find("Exited (") != std::string::npos || ps.find("Created") != std::string::npos) << ps;
  EXPECT_TRUE(cgroup_dirs("minirun/" + id).empty()) << "its cgroup is left";
  // The veth's host end goes when the kernel destroys the namespace (asynchronously).
  const std::string veth = "mr" + id.substr(0, 12);
  bool veth_left = true;
  for (int i = 0; i < 100 && (veth_left = ::if_nametoindex(veth.c_str()) != 0); i++) usleep(50000);
  EXPECT_FALSE(veth_left) << veth << " is left";
  EXPECT_TRUE(mounts_under(f.t_->path()).empty()) << "a mount was left on the host";
  // The same verdict on every later look.
  EXPECT_EQ(f.state(name)["State"]["Status"], "exited");
  auto start = f.mr({"start", name});
  EXPECT_EQ(start.code, 0) << start.err;
  std::string now = f.state(name)["State"]["Status"];
  EXPECT_TRUE(now == "running" || now == "restarting") << now;
  auto stop = f.mr({"stop", "-t", "0", name});
  EXPECT_EQ(stop.code, 0) << stop.err;
  auto rm = f.mr({"rm", name});
  EXPECT_EQ(rm.code, 0) << rm.err;
  EXPECT_FALSE(fs::exists(f.t_->path() + "/store/containers/" + id));
}

// The monitor of container `name`: a process with the starting `run -d`'s command line (it is
// forked, not exec'd) that is neither that command nor its direct child (the intermediate fork),
// nor the container's process before its exec (a child of the monitor, with the same line).
pid_t find_monitor(pid_t starter, const std::string& name_arg) {
  std::vector<Proc> same;
  for (const auto& p : processes())
    if (p.pid != starter && p.ppid != starter && p.cmdline.find(name_arg) != std::string::npos &&
        p.cmdline.find(" run -d ") != std::string::npos)
      same.push_back(p);
  for (const auto& p : same)
    if (std::none_of(same.begin(), same.end(), [&](const Proc& q) { return q.pid == p.ppid; })) return p.pid;
  return 0;
}

}  // namespace

TEST_F(DetachReliability, FiftyAtOnceFromSeparateProcessesListedAndStoppedByOneStop) {
  const int n = 50;
  // Fifty minirun processes started together, each its own `run -d`.
  std::vector<pid_t> starters;
  auto t0 = Clock::now();
  for (int i = 0; i < n; i++)
    starters.push_back(spawn_cmd(cmd({"run", "-d", "--name", "c" + std::to_string(i), "t/bb", "sleep", "1000"}),
                                 *t_ / ("start" + std::to_string(i))));
  int failed = 0;
  for (pid_t p : starters) {
    int st = 0;
    ::waitpid(p, &st, 0);
    failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  const double start_s = seconds_since(t0);
  EXPECT_EQ(failed, 0) << read_file(*t_ / "start0");
  std::set<std::string> printed;
  for (int i = 0; i < n; i++) printed.insert(read_file(*t_ / ("start" + std::to_string(i))));
  EXPECT_EQ(printed.size(), static_cast<size_t>(n)) << "each printed its own ID";

  auto ps = mr({"ps", "-q", "--no-trunc"});
  EXPECT_EQ(lines(ps.out), n) << ps.out;
  for (const auto& id : printed) EXPECT_NE(ps.out.find(id), std::string::npos) << id << " not listed";
  EXPECT_EQ(lines(mr({"ps", "-f", "status=running"}).out), n + 1);  // the header and n rows
  EXPECT_EQ(mr({"ps", "-q", "-f", "name=c1"}).out.size(), 11u * 13u);  // c1, c10…c19
  // Every one really runs: its own monitor, its own sleep.
  std::set<int> monitors, inits;
  for (int i = 0; i < n; i++) {
    std::string id = id_of("c" + std::to_string(i));
    monitors.insert(record(id)["pid"].get<int>());
    inits.insert(state(id)["State"]["Pid"].get<int>());
  }
  EXPECT_EQ(monitors.size(), static_cast<size_t>(n));
  EXPECT_EQ(inits.size(), static_cast<size_t>(n));
  for (int p : inits) EXPECT_TRUE(alive(p));

  // One stop for all: sleep ignores SIGTERM as pid 1, so each takes the 1 s timeout and a SIGKILL;
  // one after the other that would be 50 s.
  std::vector<std::string> stop = {"stop", "-t", "1"};
  for (int i = 0; i < n; i++) stop.push_back("c" + std::to_string(i));
  t0 = Clock::now();
  auto r = mr(stop, 120);
  const double stop_s = seconds_since(t0);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out), n);
  EXPECT_LT(stop_s, 15.0) << "the containers were not stopped in parallel";
  EXPECT_EQ(mr({"ps", "-q"}).out, "");
  auto exited = mr({"ps", "-aq", "-f", "status=exited"});
  EXPECT_EQ(lines(exited.out), n);
  EXPECT_TRUE(all_gone(inits)) << "a container's process outlived the stop";
  EXPECT_TRUE(all_gone(monitors)) << "a monitor outlived the stop";
  for (const auto& id : printed) {
    std::string full = id.substr(0, 64);
    EXPECT_EQ(state(full)["State"]["ExitCode"], 137);
    EXPECT_TRUE(cgroup_dirs("minirun/" + full).empty());
  }
  std::cout << "[ figures  ] " << n << " run -d at once: " << start_s << " s; one stop of all: " << stop_s << " s\n";
}

TEST_F(DetachReliability, ThousandExecsLeakNothing) {
  std::string id = run_d({"--name", "box", "t/bb", "sleep", "1000"});
  pid_t init = state("box")["State"]["Pid"].get<int>();
  pid_t mon = record(id)["pid"].get<int>();
  std::string ns = "/proc/" + std::to_string(init);
  auto procs = [&] { return lines(mr({"top", "box"}).out); };
  // The container's first process's children: an exec'd process nobody reaped ends up there (a
  // zombie, which `top` does not list).
  auto children = [&] {
    std::istringstream in(read_file(ns + "/task/" + std::to_string(init) + "/children"));
    int k = 0;
    for (std::string c; in >> c;) k++;
    return k;
  };
  ASSERT_EQ(mr({"exec", "box", "true"}).code, 0);
  int procs0 = procs();
  int fds0 = count_entries("/proc/" + std::to_string(mon) + "/fd");
  int initfds0 = count_entries(ns + "/fd");
  std::string mounts0 = read_file(ns + "/mountinfo");
  std::string host0 = read_file("/proc/self/mountinfo");
  int minirun0 = count_procs_with(*t_ / "store");
  // 1,000 execs, four at a time (each a minirun process joining the container).
  const int total = 1000, lanes = 4;
  std::atomic<int> failures{0}, next{0};
  std::string first_error;
  std::mutex mu;
  auto t0 = Clock::now();
  std::vector<std::thread> th;
  for (int l = 0; l < lanes; l++)
    th.emplace_back([&] {
      while (next++ < total) {
        auto r = mr({"exec", "box", "true"});
        if (r.code != 0) {
          failures++;
          std::lock_guard<std::mutex> g(mu);
          if (first_error.empty()) first_error = r.err;
        }
      }
    });
  for (auto& t : th) t.join();
  const double secs = seconds_since(t0);
  EXPECT_EQ(failures.load(), 0) << first_error;
  EXPECT_EQ(procs(), procs0) << "an exec'd process is left in the container";
  EXPECT_EQ(children(), 0) << "the container's first process inherited exec'd processes (zombies)";
  EXPECT_EQ(count_entries("/proc/" + std::to_string(mon) + "/fd"), fds0) << "the monitor gained descriptors";
  EXPECT_EQ(count_entries(ns + "/fd"), initfds0) << "the container's process gained descriptors";
  EXPECT_EQ(read_file(ns + "/mountinfo"), mounts0) << "the execs left mounts in the container";
  EXPECT_EQ(read_file("/proc/self/mountinfo"), host0) << "the execs left mounts on the host";
  EXPECT_EQ(count_procs_with(*t_ / "store"), minirun0) << "an exec's minirun process is left";
  EXPECT_EQ(state("box")["State"]["Status"], "running");
  std::cout << "[ figures  ] " << total << " execs (" << lanes << " at a time): " << secs << " s, "
            << secs * 1000 / total * lanes << " ms each\n";
}

TEST_F(DetachReliability, MonitorKilledAtRandomMomentsLeavesNothingAndAConsistentRecord) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(time(nullptr)));
  std::cout << "[ seed     ] " << (static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(time(nullptr))) << "\n";
  auto ms = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int rounds = 3;
  // The container's command carries a marker that every process of it (sh and its children
  // through sh's command line) shows; TERM is ignored, so a stop waits for its timeout.
  auto service = [](const std::string& marker) {
    return std::vector<std::string>{"t/bb", "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done # " + marker};
  };
  for (int round = 0; round < rounds; round++) {
    // 1. During the start: the monitor killed 0-60 ms after `run -d` began (often before the
    //    container's exec, sometimes before the monitor even exists: then just after it appears).
    {
      std::string name = "start" + std::to_string(round), marker = "mk-" + name + "-" + std::to_string(getpid());
      auto args = cmd({"run", "-d", "--name", name});
      for (auto& a : service(marker)) args.push_back(a);
      std::set<std::string> before;
      for (const auto& e : fs::directory_iterator(*t_ / "store/containers")) before.insert(e.path().filename());
      pid_t starter = spawn_cmd(args, *t_ / (name + ".out"));
      // Round 0: the moment its cgroup appears (the monitor has begun the spawn, the command has not
      // run yet); later rounds: a random moment.
      if (round > 0) usleep(static_cast<useconds_t>(ms(0, 60)) * 1000);
      pid_t mon = 0;
      std::string id;
      for (int i = 0; i < 20000; i++) {
        int st;
        if (::waitpid(starter, &st, WNOHANG) == starter) {
          starter = -1;
          break;
        }
        if (round == 0 && id.empty())
          for (const auto& e : fs::directory_iterator(*t_ / "store/containers"))
            if (!before.count(e.path().filename())) id = e.path().filename();
        bool now = round > 0 || (!id.empty() && !cgroup_dirs("minirun/" + id).empty());
        if (now && (mon = find_monitor(starter, "--name " + name + " "))) break;
        usleep(round > 0 ? 500 : 50);
      }
      // `run -d` returned before the moment came (a quick start): the monitor it recorded.
      if (mon <= 0 && starter < 0)
        if (std::string cid = id_of(name); !cid.empty() && record(cid).contains("pid")) mon = record(cid)["pid"].get<int>();
      ASSERT_GT(mon, 0) << "no monitor found for " << name;
      ::kill(mon, SIGKILL);
      if (starter > 0) {
        // `run -d` must come back. Known failure (runtime, not fixed here): a container child
        // cloned by the monitor and not yet past its PDEATHSIG keeps the readiness pipe open
        // while it waits for its dead parent; run -d then waits for ever. Fail, and free it.
        auto t0 = Clock::now();
        while (::waitpid(starter, nullptr, WNOHANG) == 0 && seconds_since(t0) < 20) usleep(20000);
        if (seconds_since(t0) >= 20) {
          ADD_FAILURE() << "run -d of " << name << " still waits 20 s after its monitor was killed";
          std::string cid = id_of(name);
          for (const auto& d : cgroup_dirs("minirun/" + cid)) {
            std::istringstream procs(read_file(d + "/cgroup.procs"));
            for (int p; procs >> p;) ::kill(p, SIGKILL);
          }
          ::waitpid(starter, nullptr, 0);
        }
      }
      expect_cleanly_dead(*this, name, marker, "killed during the start of " + name);
    }
    // 2. While it runs.
    {
      std::string name = "run" + std::to_string(round), marker = "mk-" + name + "-" + std::to_string(getpid());
      auto a = service(marker);
      a.insert(a.begin(), {"--name", name});
      std::string id = run_d(a);
      usleep(static_cast<useconds_t>(ms(0, 300)) * 1000);
      pid_t mon = record(id)["pid"].get<int>();
      ASSERT_TRUE(alive(mon));
      ::kill(mon, SIGKILL);
      expect_cleanly_dead(*this, name, marker, "killed while " + name + " ran");
    }
    // 3. While a stop waits for the container (TERM ignored, 30 s timeout): the stop returns too.
    {
      std::string name = "stop" + std::to_string(round), marker = "mk-" + name + "-" + std::to_string(getpid());
      auto a = service(marker);
      a.insert(a.begin(), {"--name", name});
      std::string id = run_d(a);
      pid_t mon = record(id)["pid"].get<int>();
      pid_t stopper = spawn_cmd(cmd({"stop", "-t", "30", name}), *t_ / (name + ".stop"));
      usleep(static_cast<useconds_t>(ms(50, 400)) * 1000);
      ::kill(mon, SIGKILL);
      auto t0 = Clock::now();
      int st = 0;
      while (::waitpid(stopper, &st, WNOHANG) == 0 && seconds_since(t0) < 20) usleep(20000);
      EXPECT_LT(seconds_since(t0), 10.0) << "stop kept waiting for a dead monitor";
      if (seconds_since(t0) >= 20) {
        ::kill(stopper, SIGKILL);
        ::waitpid(stopper, &st, 0);
      }
      EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << read_file(*t_ / (name + ".stop"));
      expect_cleanly_dead(*this, name, marker, "killed while " + name + " was being stopped");
    }
    // 4. In a restart back-off (--restart always, a command that fails at once): killed while
    //    "restarting", or in one of its short runs.
    {
      std::string name = "backoff" + std::to_string(round), marker = "mk-" + name + "-" + std::to_string(getpid());
      std::string id = run_d({"--name", name, "--restart", "always", "t/bb", "sh", "-c", "sleep 0.05; exit 3 # " + marker});
      bool restarting = false;
      for (int i = 0; i < 200 && !restarting; i++) {
        json st = state(name);
        restarting = st.is_object() && st["RestartCount"].get<int>() >= 1 && st["State"]["Status"] == "restarting";
        if (!restarting) usleep(10000);
      }
      EXPECT_TRUE(restarting) << "never seen restarting";
      usleep(static_cast<useconds_t>(ms(0, 80)) * 1000);
      pid_t mon = record(id)["pid"].get<int>();
      ASSERT_TRUE(alive(mon));
      ::kill(mon, SIGKILL);
      expect_cleanly_dead(*this, name, marker, "killed in the restart back-off of " + name);
      if (HasFailure()) return;
    }
  }
}

// ---- a running container's layer: diff, export, commit ----

TEST_F(DetachReliability, DiffAndExportOfARunningContainerShowItsChangesWhileItWrites) {
  // Changes made, then files created one by one (f0…f999 by two loops, over and over) while three
  // others remove them all with one rm after another: a reader walking /churn in name order meets
  // files that go between its readdir and its stat, and now and then between its stat and its
  // open (tests/mutants/survivors/export-fails-on-vanished-file.patch: too rare to count on).
  run_d({"--name", "live", "t/bb", "sh", "-c",
         "mkdir /data; echo hi > /data/f; rm /bin/vi; echo more >> /etc/passwd; mkdir /churn; "
         "for k in 1 2 3; do (while :; do rm -f /churn/f*; done) & done; "
         "(while :; do i=1000; while [ $i -gt 0 ]; do echo $i > /churn/f$i; i=$((i-1)); done; done) & "
         "while :; do i=0; while [ $i -lt 1000 ]; do echo $i > /churn/f$i; i=$((i+1)); done; done"});
  for (int i = 0; i < 200 && mr({"exec", "live", "ls", "-d", "/churn"}).code != 0; i++) usleep(20000);
  auto diff = mr({"diff", "live"});
  EXPECT_EQ(diff.code, 0) << diff.err;
  for (const char* want : {"A /data\n", "A /data/f\n", "D /bin/vi\n", "C /etc/passwd\n", "A /churn\n", "C /bin\n"})
    EXPECT_NE(diff.out.find(want), std::string::npos) << want << " missing from\n" << diff.out;
  // Every export and diff succeeds while the churn goes on, and shows the running state.
  for (int i = 0; i < 40; i++) {
    auto d = mr({"diff", "live"});
    ASSERT_EQ(d.code, 0) << "diff " << i << ": " << d.err;
    auto e = mr({"export", "-o", *t_ / "live.tar", "live"});
    ASSERT_EQ(e.code, 0) << "export " << i << ": " << e.err;
  }
  // The last export: the merged view as the running container sees it.
  fs::create_directory(*t_ / "x");
  auto tar = run_cmd({"/bin/tar", "-xf", *t_ / "live.tar", "-C", *t_ / "x"});
  EXPECT_EQ(tar.code, 0) << tar.err;
  EXPECT_EQ(read_file(*t_ / "x/data/f"), "hi\n");
  EXPECT_FALSE(fs::exists(*t_ / "x/bin/vi"));
  EXPECT_TRUE(fs::exists(*t_ / "x/bin/sh"));
  EXPECT_NE(read_file(*t_ / "x/etc/passwd").find("more\n"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(*t_ / "x/churn"));
  EXPECT_EQ(state("live")["State"]["Status"], "running");
}

namespace {
// A container that appends a line to /a, then one to /z, over and over: at any instant /a has as
// many lines as /z or one more (appends: no moment where a file is empty). /m holds 600 files
// between them in the layer's (sorted) order: a reader that does not freeze it reads /z well after
// /a, thousands of lines later.
const char* kCounter =
    "mkdir /m; i=0; while [ $i -lt 600 ]; do echo $i > /m/f$i; i=$((i+1)); done; touch /ready; "
    "while :; do echo x >> /a; echo x >> /z; done";

// "" when the line counts of /a and /z (two lines of output) are consistent, else what they are.
std::string inconsistency(const std::string& out) {
  std::istringstream in(out);
  long long a = -1, z = -1;
  in >> a >> z;
  return a >= 0 && z >= 0 && (a == z || a == z + 1) ? "" : "lines of /a, /z: " + out;
}
}  // namespace

TEST_F(DetachReliability, CommitPausesARunningContainerForAConsistentLayerAndResumesIt) {
  std::string id = run_d({"--name", "w", "t/bb", "sh", "-c", kCounter});
  for (int i = 0; i < 300 && mr({"exec", "w", "cat", "/ready"}).code != 0; i++) usleep(20000);
  // Watch the record while commit runs: it shows "paused" (as `docker ps` does during a commit).
  auto watch = [&](std::atomic<bool>& stop) {
    bool seen = false;
    while (!stop) {
      if (record(id).value("status", "") == "paused") seen = true;
      usleep(200);
    }
    return seen;
  };
  for (int k = 0; k < 3; k++) {
    std::atomic<bool> stop{false};
    bool paused_seen = false;
    std::thread w([&] { paused_seen = watch(stop); });
    auto c = mr({"commit", "w", "t/snap" + std::to_string(k)});
    stop = true;
    w.join();
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_TRUE(paused_seen) << "commit did not pause the container";
    // The layer is one instant of the container.
    auto r = mr({"run", "--rm", "--network", "none", "t/snap" + std::to_string(k), "sh", "-c", "wc -l < /a; wc -l < /z"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(inconsistency(r.out), "") << "commit " << k << " read /a and /z at different times";
    EXPECT_EQ(lines(mr({"run", "--rm", "--network", "none", "t/snap" + std::to_string(k), "ls", "/m"}).out), 600);
  }
  // It runs on after each commit: running, not frozen (the counter moves).
  EXPECT_EQ(state("w")["State"]["Status"], "running");
  EXPECT_EQ(state("w")["State"]["Paused"], false);
  auto a1 = mr({"exec", "w", "wc", "-c", "/z"}).out;
  usleep(100000);
  auto a2 = mr({"exec", "w", "wc", "-c", "/z"}).out;
  EXPECT_NE(a1, a2) << "the container stayed frozen after the commit";

  // A commit that fails while it is paused (an unknown change, found after the read) thaws it too.
  auto bad = mr({"commit", "-c", "BOGUS x", "w", "t/bad"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("unsupported change"), std::string::npos) << bad.err;
  EXPECT_EQ(mr({"images", "-q", "t/bad"}).out, "");
  EXPECT_EQ(state("w")["State"]["Status"], "running");
  a1 = mr({"exec", "w", "wc", "-c", "/z"}).out;
  usleep(100000);
  a2 = mr({"exec", "w", "wc", "-c", "/z"}).out;
  EXPECT_NE(a1, a2) << "a failed commit left the container frozen";

  // --pause=false / -p=false: never paused; the commit still works.
  for (const char* flag : {"--pause=false", "-p=false"}) {
    std::atomic<bool> stop{false};
    bool paused_seen = false;
    std::thread w([&] { paused_seen = watch(stop); });
    auto c = mr({"commit", flag, "w", "t/nopause"});
    stop = true;
    w.join();
    EXPECT_EQ(c.code, 0) << flag << ": " << c.err;
    EXPECT_FALSE(paused_seen) << flag << " paused the container";
  }
  EXPECT_EQ(mr({"run", "--rm", "--network", "none", "t/nopause", "cat", "/m/f599"}).out, "599\n");

  // A container paused by the user stays paused after a commit.
  ASSERT_EQ(mr({"pause", "w"}).code, 0);
  EXPECT_EQ(mr({"commit", "w", "t/whilepaused"}).code, 0);
  EXPECT_EQ(state("w")["State"]["Status"], "paused");
  EXPECT_EQ(mr({"unpause", "w"}).code, 0);
}

// ---- exec and stats under --cgroup-parent ----

TEST_F(DetachReliability, ExecAndStatsUseTheCgroupTheContainerRanIn) {
  cgroup_parent_ = "minirun-test-" + std::to_string(getpid());
  std::string id = run_d({"--name", "cg", "--cgroup-parent", cgroup_parent_, "t/bb", "sleep", "1000"});
  ASSERT_FALSE(cgroup_dirs(cgroup_parent_ + "/" + id).empty()) << "the container has no cgroup under its parent";
  EXPECT_TRUE(cgroup_dirs("minirun/" + id).empty());
  // An exec'd process is in the container's cgroups: the same lines as its first process's.
  auto r = mr({"exec", "cg", "sh", "-c", "cat /proc/1/cgroup; echo --; cat /proc/self/cgroup"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto sep = r.out.find("--\n");
  ASSERT_NE(sep, std::string::npos) << r.out;
  auto pick = [](const std::string& s) {  // the pids and memory lines (v1), the unified line (v2)
    std::istringstream in(s);
    std::set<std::string> out;
    for (std::string l; std::getline(in, l);) {
      auto c1 = l.find(':'), c2 = l.find(':', c1 + 1);
      if (c1 == std::string::npos || c2 == std::string::npos) continue;
      std::string ctl = l.substr(c1 + 1, c2 - c1 - 1);
      if (ctl == "pids" || ctl == "memory" || (ctl.empty() && s.find(":pids:") == std::string::npos)) out.insert(l);
    }
    return out;
  };
  auto init_cg = pick(r.out.substr(0, sep)), exec_cg = pick(r.out.substr(sep + 3));
  EXPECT_FALSE(init_cg.empty()) << r.out;
  EXPECT_EQ(init_cg, exec_cg) << r.out;
  // stats reads that cgroup: one process now, two with an exec'd sleep.
  auto stats = [&] {
    auto s = mr({"stats", "--no-stream", "--format", "json", "cg"});
    EXPECT_EQ(s.code, 0) << s.err;
    return s.code == 0 ? json::parse(s.out) : json();
  };
  json s = stats();
  EXPECT_EQ(s["PIDs"], "1") << s.dump();
  EXPECT_NE(s["MemUsage"], "0B / 0B") << s.dump();
  ASSERT_EQ(mr({"exec", "-d", "cg", "sleep", "1000"}).code, 0);
  EXPECT_EQ(stats()["PIDs"], "2");
  // pause freezes it there; rm -f removes it there.
  ASSERT_EQ(mr({"pause", "cg"}).code, 0);
  EXPECT_EQ(state("cg")["State"]["Status"], "paused");
  ASSERT_EQ(mr({"unpause", "cg"}).code, 0);
  EXPECT_EQ(mr({"rm", "-f", "cg"}).code, 0);
  EXPECT_TRUE(cgroup_dirs(cgroup_parent_ + "/" + id).empty()) << "its cgroup is left";
}
