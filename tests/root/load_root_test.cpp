// Load: many containers at once from one image, and long run/rm loops. After each, nothing may be
// left: no mount under the store, no container or layer directory beyond the image's, no
// temporary directory, no minirun process, and no file descriptor minirun holds may reach the
// container. MINIRUN_STRESS=N multiplies the counts (scripts/test.sh --stress sets 10).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

int stress_factor() {
  const char* s = std::getenv("MINIRUN_STRESS");
  int n = s ? std::atoi(s) : 1;
  return n > 0 ? n : 1;
}

CmdResult mr(const std::string& root, std::vector<std::string> args) {
  args.insert(args.begin(), {MINIRUN_BINARY, "--root", root});
  return run_cmd(args);
}

// Starts minirun without waiting; its stdout and stderr go to `log`. With `host_root_fd`,
// minirun also inherits descriptor 9 open on the host's "/" (not close-on-exec), as a careless
// caller might leave it: that must never reach the container (runc's CVE-2024-21626).
pid_t spawn(const std::string& root, std::vector<std::string> args, const std::string& log, bool host_root_fd = false) {
  args.insert(args.begin(), {MINIRUN_BINARY, "--root", root});
  return spawn_cmd(args, log, [host_root_fd] {
    if (host_root_fd && dup2(::open("/", O_RDONLY | O_DIRECTORY), 9) != 9) _exit(121);
  });
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> s;
  if (fs::exists(dir))
    for (auto& e : fs::directory_iterator(dir)) s.insert(e.path().filename());
  return s;
}

// Pids of live processes whose command line names `needle` (the store path: every minirun
// process of this test has it in its argv, and so would a forked helper that never exec'd).
std::vector<pid_t> processes_naming(const std::string& needle) {
  std::vector<pid_t> pids;
  for (auto& e : fs::directory_iterator("/proc")) {
    std::string n = e.path().filename();
    if (n.find_first_not_of("0123456789") != std::string::npos || std::stoi(n) == getpid()) continue;
    std::string cmd;
    try {
      cmd = read_file(e.path() / "cmdline");
    } catch (...) {
      continue;  // it exited meanwhile
    }
    if (cmd.find(needle) != std::string::npos) pids.push_back(std::stoi(n));
  }
  return pids;
}

// What the store holds besides its records: layer and container directories, short links,
// containers, name reservations, temporary work.
struct StoreShape {
  std::set<std::string> layers, links, containers, names, tmp;
  bool operator==(const StoreShape&) const = default;
};
StoreShape shape(const std::string& root) {
  StoreShape s{entries(root + "/overlay2"), entries(root + "/overlay2/l"), entries(root + "/containers"),
               entries(root + "/containers/names"), entries(root + "/tmp")};
  return s;
}

std::string describe(const StoreShape& s) {
  std::string out;
  auto add = [&out](const char* what, const std::set<std::string>& v) {
    out += std::string(what) + ":";
    for (auto& x : v) out += " " + x;
    out += "\n";
  };
  add("overlay2", s.layers), add("l", s.links), add("containers", s.containers), add("names", s.names), add("tmp", s.tmp);
  return out;
}

class Load : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    t_ = std::make_unique<TempDir>("minirun-load-");
    root_ = *t_ / "store";
    // On tmpfs: these tests count leaks, not disk syncs (on a disk every store change syncs,
    // which made a cycle 150 ms here). TempDir detaches it even when the test fails.
    ::mkdir(root_.c_str(), 0700);
    ASSERT_EQ(::mount("tmpfs", root_.c_str(), "tmpfs", 0, "size=512m,mode=0700"), 0) << strerror(errno);
    write_file(*t_ / "bb.tar", busybox_rootfs().build());
    auto r = mr(root_, {"import", *t_ / "bb.tar", "t/bb"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(mr(root_, {"ps", "-a"}).code, 0);  // the store exists with every directory
    before_ = shape(root_);
  }
  // Nothing of any container is left: the store looks as it did after the import.
  void expect_nothing_left(const std::string& when) {
    EXPECT_EQ(mounts_under(t_->path()), std::vector<std::string>{root_}) << when << ": only the store's tmpfs";
    EXPECT_TRUE(processes_naming(root_).empty()) << when << ": a minirun process outlived its command";
    StoreShape now = shape(root_);
    EXPECT_TRUE(now == before_) << when << ": before\n" << describe(before_) << "now\n" << describe(now);
    EXPECT_EQ(mr(root_, {"ps", "-aq"}).out, "") << when;
  }
  std::unique_ptr<TempDir> t_;
  std::string root_;
  StoreShape before_;
};

}  // namespace

TEST_F(Load, HundredConcurrentRunsAllSucceedAndLeaveNothing) {
  const int rounds = stress_factor();
  for (int round = 0; round < rounds; round++) {
    const int n = 100;
    std::vector<pid_t> pids;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; i++)
      pids.push_back(spawn(root_, {"run", "--rm", "t/bb", "sh", "-c", "echo ok-$0", std::to_string(i)},
                           *t_ / ("log" + std::to_string(i))));
    int failures = 0;
    for (int i = 0; i < n; i++) {
      int st = 0;
      ASSERT_EQ(waitpid(pids[i], &st, 0), pids[i]);
      std::string log = read_file(*t_ / ("log" + std::to_string(i)));
      bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && log == "ok-" + std::to_string(i) + "\n";
      failures += !ok;
      EXPECT_TRUE(ok) << "container " << i << " (status " << st << "): " << log;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("round %d: %d concurrent run --rm: %d failures, %.0f containers/s\n", round, n, failures, n / secs);
    EXPECT_EQ(failures, 0);
    expect_nothing_left("round " + std::to_string(round));
  }
}

TEST_F(Load, ThousandRunRmCyclesLeakNoMountsDescriptorsOrDirectories) {
  const int cycles = 1000 * stress_factor();
  const int sample = 100;  // every 100th cycle also checks descriptors while the container runs
  std::string first_minirun_fds;
  // The first run on the default bridge creates it and minirun's nft table: that run keeps
  // libnftables' socket open while its container runs (network/nft.h), no later one does.
  ASSERT_EQ(mr(root_, {"run", "--rm", "t/bb", "true"}).code, 0);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < cycles; i++) {
    std::string name = "c" + std::to_string(i);
    if (i % sample != 0) {
      auto r = mr(root_, {"run", "--name", name, "t/bb", "true"});
      ASSERT_EQ(r.code, 0) << "cycle " << i << ": " << r.err;
    } else {
      // The container lists its descriptors, then waits until told to go; meanwhile the test
      // reads which descriptors minirun holds.
      std::string go = *t_ / "go", log = *t_ / "fdlog";
      fs::remove(go);
      pid_t pid = spawn(root_, {"run", "--name", name, "-v", t_->path() + ":/t", "t/bb", "sh", "-c",
                                "echo $(ls /proc/self/fd); while [ ! -e /t/go ]; do sleep 0.01; done"},
                        log, true);
      auto logged = [&log] { return fs::exists(log) ? read_file(log) : std::string(); };
      for (int w = 0; w < 1000 && logged().find('\n') == std::string::npos; w++) usleep(10000);
      // minirun may still be finishing its records when the container speaks: read its
      // descriptors until two readings 50 ms apart agree.
      auto fd_list = [pid] {
        std::string l;
        for (auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) l += e.path().filename().string() + " ";
        return l;
      };
      std::string fds = fd_list();
      for (std::string prev; prev != fds;) {
        prev = fds;
        usleep(50000);
        fds = fd_list();
      }
      write_file(go, "");
      int st = 0;
      ASSERT_EQ(waitpid(pid, &st, 0), pid);
      ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "cycle " << i << ": " << read_file(log);
      // busybox ls holds 3 for the directory it lists: nothing of minirun's reaches the
      // container, nor the host directory minirun was handed as 9.
      EXPECT_EQ(read_file(log), "0 1 2 3\n") << "cycle " << i;
      // A foreground run holds its log's file and the read ends of the output pipes beside the
      // rest; the count (not which numbers: the threads open and close some) must not grow.
      size_t nfds = std::count(fds.begin(), fds.end(), ' ');
      EXPECT_LE(nfds, 20u) << "cycle " << i << ": minirun holds " << fds;
      if (first_minirun_fds.empty()) first_minirun_fds = fds;
      EXPECT_EQ(nfds, static_cast<size_t>(std::count(first_minirun_fds.begin(), first_minirun_fds.end(), ' ')))
          << "cycle " << i << ": minirun's descriptors changed: " << first_minirun_fds << "-> " << fds;
    }
    auto rm = mr(root_, {"rm", name});
    ASSERT_EQ(rm.code, 0) << "cycle " << i << ": " << rm.err;
    if ((i + 1) % 250 == 0) expect_nothing_left("after cycle " + std::to_string(i));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d run/rm cycles in %.1f s (%.1f ms a cycle)\n", cycles, secs, secs * 1000 / cycles);
  expect_nothing_left("at the end");
}
