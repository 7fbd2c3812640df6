// Limits on the real kernel, on the modules directly (the end-to-end `minirun run` tests come with
// the run path): each workload is a forked child in a private mount namespace that waits until the
// parent has put it in a cgroup named minirun-test-<pid>/…, removed again even when a test fails.
// On this hybrid host the v1 driver is exercised; the v2 driver (freeze, kill, the device eBPF
// program) runs on the cgroup2 mount that exists beside v1 (/sys/fs/cgroup/unified), and on pure
// v2 hosts everything runs on v2. The seccomp probe compares call by call with what Docker's
// default profile gives a container with Docker's default capabilities.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sys/prctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "minirun/engine/resource_flags.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/store/store.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::runtime;

namespace {

const std::string kTestParent = "minirun-test-" + std::to_string(getpid());

// Removes every group under minirun-test-<pid> (and the parent itself) in every hierarchy.
void remove_test_groups(const CgroupHierarchy& h) {
  try {
    cleanup_stale_cgroups({}, kTestParent, h);
  } catch (...) {
  }
  std::vector<std::string> roots;
  for (const auto& [c, m] : h.v1) roots.push_back(m);
  if (!h.v2_root.empty()) roots.push_back(h.v2_root);
  for (const auto& r : roots) ::rmdir((r + "/" + kTestParent).c_str());
}

std::string read_file_maybe(const std::string& p) {
  try {
    return test::read_file(p);
  } catch (...) {
    return "";
  }
}

std::optional<uint64_t> read_num(const std::string& dir, const std::string& file) {
  try {
    return std::stoull(test::read_file(dir + "/" + file));
  } catch (...) {
    return std::nullopt;
  }
}

// Alive and not a zombie (killed grandchildren wait for their new parent to reap them).
bool running(pid_t pid) {
  auto stat = read_file_maybe("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' && stat[close + 2] != 'X';
}

bool exists_anywhere(const std::string& rel, const CgroupHierarchy& h) {
  struct stat st;
  for (const auto& [c, m] : h.v1)
    if (::stat((m + "/" + rel).c_str(), &st) == 0) return true;
  if (!h.v2_root.empty() && ::stat((h.v2_root + "/" + rel).c_str(), &st) == 0) return true;
  return false;
}

// A forked child in a private mount namespace, held until go(); its body's return value is
// its exit status. Results travel back on out().
class Child {
 public:
  explicit Child(std::function<int(int out_fd)> body) {
    if (pipe2(go_, O_CLOEXEC) != 0 || pipe2(out_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      close(go_[1]);
      close(out_[0]);
      if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(120);
      char c;
      if (read(go_[0], &c, 1) != 1) _exit(121);
      _exit(body(out_[1]));
    }
    close(go_[0]);
    close(out_[1]);
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(go_[1]);
    close(out_[0]);
  }
  pid_t pid() const { return pid_; }
  void go() { ASSERT_EQ(write(go_[1], "g", 1), 1); }
  int wait() {
    int st = 0;
    waitpid(pid_, &st, 0);
    reaped_ = true;
    return st;
  }
  // Reads exactly n bytes of results (blocks).
  bool read_out(void* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
      ssize_t r = read(out_[0], static_cast<char*>(buf) + got, n - got);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }

 private:
  pid_t pid_ = -1;
  int go_[2], out_[2];
  bool reaped_ = false;
};

class Limits : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    h_ = CgroupHierarchy::host();
    if (h_.mode == CgroupHierarchy::Mode::none) GTEST_SKIP() << "no cgroup file system mounted";
  }
  void TearDown() override {
    if (h_.mode != CgroupHierarchy::Mode::none && test::is_root()) {
      remove_test_groups(h_);
      EXPECT_FALSE(exists_anywhere(kTestParent, h_)) << "a test cgroup was left behind";
    }
  }
  std::string path(const std::string& name) const { return kTestParent + "/" + name; }
  bool has(const char* controller) const {
    return h_.mode == CgroupHierarchy::Mode::v2 || h_.has_v1(controller);
  }
  CgroupHierarchy h_;
};

// Allocations stored here are not elided by the compiler.
char* volatile g_sink;

// Charges a few MB to the group (memory is charged where it is touched), then spins.
int touch_then_spin(int) {
  char* p = static_cast<char*>(mmap(nullptr, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  for (size_t i = 0; i < (4u << 20); i += 4096) p[i] = 7;
  g_sink = p;  // keeps the compiler from eliding the stores
  volatile unsigned long x = 0;
  for (;;) x = x + 1;
}

int busy_loop(int) {
  volatile unsigned long x = 0;
  for (;;) x = x + 1;
}

}  // namespace

TEST_F(Limits, MemoryLimitOomKillsAndIsReported) {
  if (!has("memory")) GTEST_SKIP() << "no memory controller";
  ResourceFlags f;
  f.memory = "32m";  // Docker's default swap: twice that
  Resources res = resources_from_flags(f).resources;
  res.devices.clear();
  auto cg = Cgroup::create(path("oom"), res, h_);
  Child hog([](int) {
    const size_t chunk = 1 << 20;
    for (int i = 0; i < 100; i++) {
      char* p = static_cast<char*>(malloc(chunk));
      if (!p) return 3;
      memset(p, i + 1, chunk);
      g_sink = p;
    }
    return 0;  // not reached under the limit
  });
  cg.add_pid(hog.pid());
  hog.go();
  int st = hog.wait();
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "status " << st;
  EXPECT_TRUE(cg.oom_killed());
  cg.destroy();

  // The same limit with a small allocation: no OOM, and oom_killed says so.
  auto calm = Cgroup::create(path("calm"), res, h_);
  EXPECT_FALSE(calm.oom_killed());
  Child small([](int) {
    char* p = static_cast<char*>(malloc(8 << 20));
    memset(p, 1, 8 << 20);
    g_sink = p;
    return p[4 << 20] == 1 ? 0 : 4;
  });
  calm.add_pid(small.pid());
  small.go();
  st = small.wait();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  EXPECT_FALSE(calm.oom_killed());
  calm.destroy();
  EXPECT_FALSE(exists_anywhere(path("oom"), h_));
}

TEST_F(Limits, PidsLimitStopsAForkBomb) {
  if (!has("pids")) GTEST_SKIP() << "no pids controller";
  Resources res;
  res.pids_limit = 16;
  auto cg = Cgroup::create(path("pids"), res, h_);
  Child bomb([](int out) {
    int forked = 0, err = 0;
    for (int i = 0; i < 200; i++) {
      pid_t p = fork();
      if (p == 0) {
        pause();
        _exit(0);
      }
      if (p < 0) {
        err = errno;
        break;
      }
      forked++;
    }
    int res[2] = {forked, err};
    (void)!write(out, res, sizeof res);
    pause();  // keep the children: destroy must kill them all
    return 0;
  });
  cg.add_pid(bomb.pid());
  bomb.go();
  int res2[2] = {0, 0};
  ASSERT_TRUE(bomb.read_out(res2, sizeof res2));
  EXPECT_EQ(res2[0], 15);  // 16 processes with the parent
  EXPECT_EQ(res2[1], EAGAIN);
  EXPECT_EQ(cg.stats().pids_current, 16u);
  EXPECT_EQ(*cg.stats().pids_limit, 16u);
  const auto members = cg.pids();
  EXPECT_EQ(members.size(), 16u);
  cg.destroy();
  bomb.wait();
  for (pid_t p : members)
    if (p != bomb.pid()) {
      EXPECT_FALSE(running(p)) << "pid " << p << " survived destroy";
    }
  EXPECT_FALSE(exists_anywhere(path("pids"), h_));
}

TEST_F(Limits, CpuQuotaGivesHalfACpu) {
  if (!has("cpu") || (h_.mode == CgroupHierarchy::Mode::v1 && !h_.has_v1("cpuacct")))
    GTEST_SKIP() << "no cpu controller";
  ResourceFlags f;
  f.cpus = "0.5";
  Resources res = resources_from_flags(f).resources;
  res.devices.clear();
  auto cg = Cgroup::create(path("cpu"), res, h_);
  if (h_.mode == CgroupHierarchy::Mode::v1) {
    EXPECT_EQ(*read_num(cg.dir("cpu"), "cpu.cfs_quota_us"), 50000u);
  }
  // A sibling without a limit shows how much CPU the machine had to give meanwhile (this host
  // is shared): the lower bound is only asserted when it got most of a CPU.
  auto free_cg = Cgroup::create(path("cpu-free"), Resources{}, h_);
  Child spin(busy_loop), free_spin(busy_loop);
  cg.add_pid(spin.pid());
  free_cg.add_pid(free_spin.pid());
  spin.go();
  free_spin.go();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  uint64_t a = cg.stats().cpu_usage_ns, fa = free_cg.stats().cpu_usage_ns;
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  uint64_t b = cg.stats().cpu_usage_ns, fb = free_cg.stats().cpu_usage_ns;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double share = static_cast<double>(b - a) / 1e9 / wall;
  double free_share = static_cast<double>(fb - fa) / 1e9 / wall;
  EXPECT_LT(share, 0.65);
  if (free_share > 0.8) {
    EXPECT_GT(share, 0.35) << "the unlimited sibling got " << free_share;
  } else {
    EXPECT_GT(share, 0.0) << "the limited loop did not run at all";
  }
  RecordProperty("cpu_share", std::to_string(share));
  RecordProperty("free_share", std::to_string(free_share));
  free_cg.destroy();
  free_spin.wait();
  cg.destroy();
  spin.wait();
}

TEST_F(Limits, CpusetPinsToOneCpu) {
  if (!has("cpuset")) GTEST_SKIP() << "no cpuset controller";
  Resources res;
  res.cpu = CpuResources{};
  res.cpu->cpus = "0";
  res.cpu->mems = "0";
  auto cg = Cgroup::create(path("cpuset"), res, h_);
  Child probe([](int out) {
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    int r[2] = {CPU_COUNT(&set), CPU_ISSET(0, &set) ? 1 : 0};
    (void)!write(out, r, sizeof r);
    return 0;
  });
  cg.add_pid(probe.pid());
  probe.go();
  int r[2] = {0, 0};
  ASSERT_TRUE(probe.read_out(r, sizeof r));
  EXPECT_EQ(r[0], 1);
  EXPECT_EQ(r[1], 1);
  probe.wait();
  cg.destroy();
}

namespace {
// Opens /dev/null (allowed) and /dev/zero (not) and reports both errnos.
int open_two(int out) {
  int r[2];
  int fd = open("/dev/null", O_RDWR);
  r[0] = fd >= 0 ? 0 : errno;
  fd = open("/dev/zero", O_RDONLY);
  r[1] = fd >= 0 ? 0 : errno;
  (void)!write(out, r, sizeof r);
  return 0;
}

void expect_only_dev_null(Cgroup& cg) {
  Child c(open_two);
  cg.add_pid(c.pid());
  c.go();
  int r[2] = {-1, -1};
  ASSERT_TRUE(c.read_out(r, sizeof r));
  EXPECT_EQ(r[0], 0) << "/dev/null: " << strerror(r[0]);
  EXPECT_EQ(r[1], EPERM) << "/dev/zero was not refused";
  c.wait();
}

Resources only_dev_null() {
  Resources res;
  DeviceRule deny;  // deny all
  res.devices = {deny, parse_device_cgroup_rule("c 1:3 rwm")};
  return res;
}
}  // namespace

TEST_F(Limits, DeviceRuleAllowsExactlyOneNode) {
  if (!has("devices")) GTEST_SKIP() << "no devices controller";
  auto cg = Cgroup::create(path("devices"), only_dev_null(), h_);
  expect_only_dev_null(cg);
  cg.destroy();
}

TEST_F(Limits, V2DriverOnTheUnifiedMount) {
  // The v2 driver where this host has a cgroup2 tree: the device eBPF program, freeze and
  // cgroup.kill need no controller. On a pure v2 host this is the host hierarchy itself.
  if (h_.v2_root.empty()) GTEST_SKIP() << "no cgroup2 mount";
  CgroupHierarchy v2 = CgroupHierarchy::v2_at(h_.v2_root);
  auto cg = Cgroup::create(path("v2"), only_dev_null(), v2);
  EXPECT_EQ(cg.mode(), CgroupHierarchy::Mode::v2);
  expect_only_dev_null(cg);
  // Rules replaced by an update: now /dev/zero too.
  Resources more = only_dev_null();
  more.devices.push_back(parse_device_cgroup_rule("c 1:5 r"));
  cg.apply(more);
  {
    Child c(open_two);
    cg.add_pid(c.pid());
    c.go();
    int r[2] = {-1, -1};
    ASSERT_TRUE(c.read_out(r, sizeof r));
    EXPECT_EQ(r[0], 0);
    EXPECT_EQ(r[1], 0);
    c.wait();
  }
  Child spin(busy_loop);
  cg.add_pid(spin.pid());
  spin.go();
  cg.freeze(true);
  EXPECT_EQ(read_num(cg.dir(), "cgroup.freeze").value_or(0), 1u);
  cg.freeze(false);
  EXPECT_EQ(cg.pids().size(), 1u);
  cg.destroy();
  int st = spin.wait();
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_FALSE(Cgroup::exists(path("v2"), v2));
  remove_test_groups(v2);
}

TEST_F(Limits, FreezeStopsTheClockAndStatsAreRead) {
  if (!has("freezer") && h_.mode == CgroupHierarchy::Mode::v1) GTEST_SKIP() << "no freezer";
  Resources res;
  res.pids_limit = 100;
  auto cg = Cgroup::create(path("freeze"), res, h_);
  Child spin(touch_then_spin);
  cg.add_pid(spin.pid());
  spin.go();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto s = cg.stats();
  EXPECT_EQ(s.pids_current, 1u);
  EXPECT_EQ(*s.pids_limit, 100u);
  if (has("memory")) {
    EXPECT_GT(s.memory_usage, 4u << 20);
  }
  cg.freeze(true);
  uint64_t a = cg.stats().cpu_usage_ns;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  uint64_t b = cg.stats().cpu_usage_ns;
  EXPECT_LT(b - a, 5000000u) << "a frozen group kept running";
  cg.freeze(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_GT(cg.stats().cpu_usage_ns - b, 20000000u) << "a thawed group did not run";  // 200 ms, busy machines too
  // destroy() of a frozen group: thawed, killed, removed.
  cg.freeze(true);
  cg.destroy();
  int st = spin.wait();
  EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  EXPECT_FALSE(exists_anywhere(path("freeze"), h_));
}

TEST_F(Limits, CleanupStaleKeepsLiveGroups) {
  Resources none;
  auto live = Cgroup::create(path("stale/live"), none, h_);
  Cgroup::create(path("stale/dead1"), none, h_);
  auto dead2 = Cgroup::create(path("stale/dead2"), none, h_);
  Child orphan(busy_loop);  // a process left in a stale group is killed
  dead2.add_pid(orphan.pid());
  orphan.go();
  auto removed = cleanup_stale_cgroups({"live"}, kTestParent + "/stale", h_);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{"dead1", "dead2"}));
  EXPECT_TRUE(Cgroup::exists(path("stale/live"), h_));
  EXPECT_FALSE(exists_anywhere(path("stale/dead1"), h_));
  EXPECT_FALSE(exists_anywhere(path("stale/dead2"), h_));
  int st = orphan.wait();
  EXPECT_TRUE(WIFSIGNALED(st));
  live.destroy();
}

TEST_F(Limits, CreateFailureLeavesNothing) {
  Resources bad;
  bad.cpu = CpuResources{};
  bad.cpu->cpus = "9999";  // no such CPU: the kernel refuses
  if (!has("cpuset")) GTEST_SKIP() << "no cpuset controller";
  EXPECT_THROW(Cgroup::create(path("bad"), bad, h_), Error);
  EXPECT_FALSE(exists_anywhere(path("bad"), h_));
  EXPECT_THROW(Cgroup::create("../escape", Resources{}, h_), Error);
  EXPECT_THROW(Cgroup::open(path("never-made"), h_), Error);
}

// --- seccomp ---

namespace {

struct Probe {
  const char* name;
  long (*call)();
  int docker;          // Docker's result under its default caps: EPERM, ENOSYS, or 0 = allowed (any other result)
  bool kernel_may_eperm;  // the kernel itself may refuse it unconfined (missing capability in the bounding set, sysctl)
};

long r(long rc) { return rc < 0 ? errno : 0; }
const char* kNone = "/nonexistent-minirun-probe";

long p_clone_newuser() {
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return r(pid);
}
long p_clone_plain() {
  long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return r(pid);
}

const std::vector<Probe>& probes() {
  static const std::vector<Probe> p = {
      {"unshare(CLONE_NEWUSER)", [] { return r(syscall(SYS_unshare, CLONE_NEWUSER)); }, EPERM, false},
      {"unshare(CLONE_NEWNS)", [] { return r(syscall(SYS_unshare, CLONE_NEWNS)); }, EPERM, false},
      {"clone(CLONE_NEWUSER)", p_clone_newuser, EPERM, false},
      {"clone3", [] { return r(syscall(SYS_clone3, nullptr, 0)); }, ENOSYS, false},
      {"keyctl", [] { return r(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)); }, EPERM, false},
      {"add_key", [] { return r(syscall(SYS_add_key, "user", "minirun-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING)); }, EPERM, false},
      {"request_key", [] { return r(syscall(SYS_request_key, "user", "minirun-probe-none", nullptr, 0)); }, EPERM, false},
      {"bpf", [] { return r(syscall(SYS_bpf, -1, nullptr, 0)); }, EPERM, false},
      {"userfaultfd", [] { return r(syscall(SYS_userfaultfd, ~0)); }, EPERM, false},
      {"perf_event_open", [] { return r(syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0)); }, EPERM, false},
      {"kexec_load", [] { return r(syscall(SYS_kexec_load, 0, 0, nullptr, 0xdead0000UL)); }, EPERM, true},
      {"init_module", [] { return r(syscall(SYS_init_module, nullptr, 0, "")); }, EPERM, true},
      {"finit_module", [] { return r(syscall(SYS_finit_module, -1, "", 0)); }, EPERM, true},
      {"delete_module", [] { return r(syscall(SYS_delete_module, "minirun_no_such_module", O_NONBLOCK)); }, EPERM, true},
      {"swapon", [] { return r(syscall(SYS_swapon, kNone, 0)); }, EPERM, false},
      {"swapoff", [] { return r(syscall(SYS_swapoff, kNone)); }, EPERM, false},
      {"clock_settime", [] { return r(syscall(SYS_clock_settime, CLOCK_REALTIME, nullptr)); }, EPERM, false},
      {"settimeofday", [] { return r(syscall(SYS_settimeofday, nullptr, nullptr)); }, EPERM, false},
      {"mount", [] { return r(syscall(SYS_mount, "none", kNone, "tmpfs", 0, nullptr)); }, EPERM, false},
      {"umount2", [] { return r(syscall(SYS_umount2, kNone, 0)); }, EPERM, false},
      {"pivot_root", [] { return r(syscall(SYS_pivot_root, kNone, kNone)); }, EPERM, false},
      {"setns", [] { return r(syscall(SYS_setns, -1, 0)); }, EPERM, false},
      {"sethostname", [] { return r(syscall(SYS_sethostname, "x", 100000)); }, EPERM, false},
      {"setdomainname", [] { return r(syscall(SYS_setdomainname, "x", 100000)); }, EPERM, false},
      {"syslog", [] { return r(syscall(SYS_syslog, 10, nullptr, 0)); }, EPERM, false},
      {"reboot", [] { return r(syscall(SYS_reboot, 0, 0, 0, nullptr)); }, EPERM, false},
      {"acct", [] { return r(syscall(SYS_acct, "/nonexistent-minirun-probe/x")); }, EPERM, false},
      {"open_by_handle_at", [] { return r(syscall(SYS_open_by_handle_at, -1, nullptr, 0)); }, EPERM, false},
      {"name_to_handle_at", [] { return r(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", nullptr, nullptr, 0)); }, EPERM, false},
      {"personality(PER_BSD)", [] { return r(syscall(SYS_personality, 0x0006)); }, EPERM, false},
      {"socket(AF_VSOCK)", [] { return r(syscall(SYS_socket, 40, SOCK_STREAM, 0)); }, EPERM, false},
      {"iopl", [] { return r(syscall(SYS_iopl, 0)); }, EPERM, false},
      {"set_mempolicy", [] { return r(syscall(SYS_set_mempolicy, 0, nullptr, 0)); }, EPERM, false},
      {"kcmp", [] { return r(syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0)); }, EPERM, false},
      {"fsopen", [] { return r(syscall(SYS_fsopen, "minirun-nofs", 0)); }, EPERM, false},
      {"fanotify_init", [] { return r(syscall(SYS_fanotify_init, 0, 0)); }, EPERM, false},
      // Allowed by Docker's default profile:
      {"getpid", [] { return r(syscall(SYS_getpid)); }, 0, false},
      {"clone(SIGCHLD)", p_clone_plain, 0, false},
      {"chroot", [] { return r(syscall(SYS_chroot, kNone)); }, 0, false},
      {"personality(query)", [] { return r(syscall(SYS_personality, 0xffffffffUL)); }, 0, false},
      {"socket(AF_UNIX)", [] { return r(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0)); }, 0, false},
      {"ptrace", [] { return r(syscall(SYS_ptrace, 0x7fff, 1, 0, 0)); }, 0, false},
      {"mknodat", [] { return r(syscall(SYS_mknodat, AT_FDCWD, "/nonexistent-minirun-probe/x", S_IFIFO | 0600, 0)); }, 0, false},
      {"io_uring_setup", [] { return r(syscall(SYS_io_uring_setup, 0, nullptr)); }, 0, false},
  };
  return p;
}

struct ProbeResult {
  std::vector<int> errs;
  bool seccomp_mode_2 = false;
  int install = -1;
};

// In a child with a private mount namespace: installs the filter (no_new_privs off, as runc does
// for Docker's default: the child still has CAP_SYS_ADMIN), then runs each probe in a grandchild
// of its own so that one probe's effect (a new user namespace) cannot change the next.
ProbeResult run_probe(const SeccompProgram* prog) {
  const auto& ps = probes();
  Child c([prog, &ps](int out) {
    int rc = prog ? install_seccomp(*prog, false) : 0;
    (void)!write(out, &rc, sizeof rc);
    int mode2 = 0;
    int fd = open("/proc/self/status", O_RDONLY);
    char buf[4096];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n > 0) {
      buf[n] = 0;
      mode2 = strstr(buf, "\nSeccomp:\t2\n") != nullptr;
    }
    (void)!write(out, &mode2, sizeof mode2);
    for (const auto& p : ps) {
      int pp[2];
      if (pipe(pp) != 0) return 2;
      pid_t g = fork();
      if (g == 0) {
        int e = static_cast<int>(p.call());
        (void)!write(pp[1], &e, sizeof e);
        _exit(0);
      }
      close(pp[1]);
      int e = -1;
      if (read(pp[0], &e, sizeof e) != sizeof e) e = -1;
      close(pp[0]);
      waitpid(g, nullptr, 0);
      (void)!write(out, &e, sizeof e);
    }
    return 0;
  });
  c.go();
  ProbeResult res;
  int mode2 = 0;
  if (!c.read_out(&res.install, sizeof res.install) || !c.read_out(&mode2, sizeof mode2)) return res;
  res.seccomp_mode_2 = mode2 != 0;
  for (size_t i = 0; i < ps.size(); i++) {
    int e = -2;
    if (!c.read_out(&e, sizeof e)) break;
    res.errs.push_back(e);
  }
  c.wait();
  return res;
}

std::string show(int e) { return e == 0 ? "ok" : strerrorname_np(e) ? strerrorname_np(e) : std::to_string(e); }

}  // namespace

TEST(LimitsSeccomp, DockerDefaultProfileMatchesDockerCallByCall) {
  MINIRUN_REQUIRE_ROOT();
  auto prog = compile_seccomp(docker_default_seccomp(SeccompTarget{docker_default_capabilities(), "", std::nullopt}));
  auto res = run_probe(&prog);
  ASSERT_EQ(res.install, 0) << strerror(res.install);
  EXPECT_TRUE(res.seccomp_mode_2) << "/proc/self/status does not show Seccomp: 2";
  const auto& ps = probes();
  ASSERT_EQ(res.errs.size(), ps.size());
  for (size_t i = 0; i < ps.size(); i++) {
    if (ps[i].docker == 0)
      EXPECT_TRUE(res.errs[i] != EPERM && res.errs[i] != ENOSYS) << ps[i].name << ": " << show(res.errs[i]);
    else
      EXPECT_EQ(res.errs[i], ps[i].docker) << ps[i].name << ": " << show(res.errs[i]) << ", Docker gives "
                                           << show(ps[i].docker);
  }
}

TEST(LimitsSeccomp, UnconfinedLiftsIt) {
  MINIRUN_REQUIRE_ROOT();
  auto res = run_probe(nullptr);
  ASSERT_EQ(res.install, 0);
  EXPECT_FALSE(res.seccomp_mode_2);
  const auto& ps = probes();
  ASSERT_EQ(res.errs.size(), ps.size());
  for (size_t i = 0; i < ps.size(); i++) {
    if (ps[i].kernel_may_eperm) continue;
    EXPECT_NE(res.errs[i], EPERM) << ps[i].name << " refused without a filter";
    if (std::string(ps[i].name) == "clone3") {
      EXPECT_NE(res.errs[i], ENOSYS);
    }
  }
  // Without a filter a root child makes a user namespace (the issue's `unshare -U -r`).
  EXPECT_EQ(res.errs[0], 0);
}

TEST(LimitsSeccomp, CapSysAdminOpensTheNamespaceCalls) {
  MINIRUN_REQUIRE_ROOT();
  auto caps = docker_default_capabilities();
  caps.push_back("CAP_SYS_ADMIN");
  auto prog = compile_seccomp(docker_default_seccomp(SeccompTarget{caps, "", std::nullopt}));
  auto res = run_probe(&prog);
  ASSERT_EQ(res.install, 0);
  const auto& ps = probes();
  ASSERT_EQ(res.errs.size(), ps.size());
  std::map<std::string, int> by_name;
  for (size_t i = 0; i < ps.size(); i++) by_name[ps[i].name] = res.errs[i];
  EXPECT_EQ(by_name["unshare(CLONE_NEWUSER)"], 0);
  EXPECT_EQ(by_name["clone(CLONE_NEWUSER)"], 0);
  EXPECT_EQ(by_name["mount"], ENOENT);
  EXPECT_EQ(by_name["clone3"], EINVAL);
  EXPECT_EQ(by_name["keyctl"], EPERM);   // never in Docker's profile
  EXPECT_EQ(by_name["clock_settime"], EPERM);  // needs CAP_SYS_TIME
}

// --- the stats verb, on a container of the current run path given a cgroup by hand ---

TEST(LimitsStats, VerbReadsTheContainersCgroup) {
  MINIRUN_REQUIRE_ROOT();
  const auto& h = CgroupHierarchy::host();
  if (h.mode == CgroupHierarchy::Mode::none) GTEST_SKIP() << "no cgroup file system";
  test::TempDir t("minirun-stats-");
  test::write_file(t / "rootfs.tar", test::busybox_rootfs().build());
  const std::string store = t / "store";
  auto mr = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", store});
    return test::run_cmd(args);
  };
  ASSERT_EQ(mr({"import", t / "rootfs.tar", "t/bb"}).code, 0);
  pid_t runner = test::spawn_cmd({MINIRUN_BINARY, "--root", store, "run", "--name", "spin", "t/bb", "sh", "-c",
                                  "while :; do :; done"});
  std::string id;
  pid_t cpid = 0;
  for (int i = 0; i < 500 && cpid == 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    Store s(store);
    auto found = s.find_container("spin");
    if (!found) continue;
    auto rec = s.container(*found);
    if (rec && rec->status == ContainerStatus::running && rec->container_pid > 0) id = rec->id, cpid = rec->container_pid;
  }
  ASSERT_GT(cpid, 0) << "the container did not start";
  std::optional<Cgroup> cg;
  try {
    ResourceFlags f;
    f.memory = "64m";
    f.cpus = "0.5";
    f.pids_limit = "50";
    Resources res = resources_from_flags(f).resources;
    res.devices.clear();
    cg = Cgroup::create(container_cgroup_path(id), res);
    cg->add_pid(cpid);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto out = mr({"stats", "--no-stream", "--format", "json", "spin"});
    EXPECT_EQ(out.code, 0) << out.err;
    auto j = nlohmann::json::parse(out.out);
    EXPECT_EQ(j["Name"], "spin");
    EXPECT_EQ(j["ID"], id.substr(0, 12));
    EXPECT_EQ(j["PIDs"], "1");
    const std::string mem = j["MemUsage"];
    EXPECT_NE(mem.find(" / 64MiB"), std::string::npos) << mem;
    const double cpu = std::stod(std::string(j["CPUPerc"]));
    EXPECT_GT(cpu, 1.0);
    EXPECT_LT(cpu, 70.0);  // quota 0.5 CPU
    auto table = mr({"stats", "--no-stream"});  // every running container
    EXPECT_EQ(table.code, 0);
    EXPECT_NE(table.out.find("CONTAINER ID   NAME   CPU %"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find(id.substr(0, 12) + "   spin"), std::string::npos) << table.out;
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();
  }
  mr({"rm", "-f", "spin"});
  waitpid(runner, nullptr, 0);
  if (cg) cg->destroy();
  for (const auto& [c, m] : h.v1) ::rmdir((m + "/minirun").c_str());  // only when empty
  if (h.mode == CgroupHierarchy::Mode::v2) ::rmdir((h.v2_root + "/minirun").c_str());
  EXPECT_FALSE(Cgroup::exists(container_cgroup_path(id)));
}

// --- the static probe under minirun's filter and under runc 1.1 (Docker 20.10's runtime) ---

namespace {

nlohmann::json oci_seccomp(const Seccomp& s) {
  nlohmann::json j = {{"defaultAction", s.default_action}, {"architectures", s.architectures},
                      {"syscalls", nlohmann::json::array()}};
  if (s.default_errno_ret) j["defaultErrnoRet"] = *s.default_errno_ret;
  for (const auto& c : s.syscalls) {
    nlohmann::json x = {{"names", c.names}, {"action", c.action}};
    if (c.errno_ret) x["errnoRet"] = *c.errno_ret;
    for (const auto& a : c.args)
      x["args"].push_back({{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
    j["syscalls"].push_back(x);
  }
  return j;
}

// The probe's output under minirun's filter, in a child given Docker's capability set the way
// runc does it: bounding set dropped, filter installed (no no_new_privs), then capset.
std::string probe_under_minirun(const SeccompProgram& prog) {
  static const int keep[] = {0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31};  // Docker's 14 caps
  int out[2];
  if (pipe(out) != 0) return "";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(120);
    for (int c = 0; c <= 63; c++)
      if (std::find(std::begin(keep), std::end(keep), c) == std::end(keep)) prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {};
    for (int c : keep) {
      data[c / 32].effective |= 1u << (c % 32);
      data[c / 32].permitted |= 1u << (c % 32);
    }
    if (install_seccomp(prog, false) != 0) _exit(121);
    if (syscall(SYS_capset, &hdr, data) != 0) _exit(122);
    execl(SECCOMP_PROBE, "seccomp_probe", nullptr);
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  waitpid(pid, nullptr, 0);
  return text;
}

}  // namespace

TEST(LimitsSeccomp, StaticProbeMatchesRuncCallByCall) {
  MINIRUN_REQUIRE_ROOT();
  const Seccomp profile = docker_default_seccomp(SeccompTarget{docker_default_capabilities(), "", std::nullopt});
  const std::string mine = probe_under_minirun(compile_seccomp(profile));
  // The expectations of the in-process probe, line by line.
  for (const auto& p : probes()) {
    auto at = mine.find(std::string(p.name) + " ");
    ASSERT_NE(at, std::string::npos) << p.name << " missing in:\n" << mine;
    std::string got = mine.substr(at + strlen(p.name) + 1, mine.find('\n', at) - at - strlen(p.name) - 1);
    if (p.docker == 0)
      EXPECT_TRUE(got != "EPERM" && got != "ENOSYS") << p.name << ": " << got;
    else
      EXPECT_EQ(got, strerrorname_np(p.docker)) << p.name;
  }
  EXPECT_NE(mine.find("Seccomp:\t2"), std::string::npos);

  const char* runc = "/usr/sbin/runc";
  if (access(runc, X_OK) != 0) GTEST_SKIP() << "runc not installed: compared with the expected table only";
  test::TempDir t("minirun-runc-");
  const std::string bundle = t / "bundle";
  for (const char* d : {"", "/rootfs", "/rootfs/bin", "/rootfs/proc", "/rootfs/dev", "/rootfs/sys"})
    mkdir((bundle + d).c_str(), 0755);
  test::write_file(bundle + "/rootfs/bin/probe", test::read_file(SECCOMP_PROBE), 0755);
  ASSERT_EQ(test::run_cmd({runc, "spec", "--bundle", bundle}).code, 0);
  auto config = nlohmann::json::parse(test::read_file(bundle + "/config.json"));
  std::vector<std::string> caps = docker_default_capabilities();
  config["process"]["terminal"] = false;
  config["process"]["args"] = {"/bin/probe"};
  config["process"]["noNewPrivileges"] = false;
  config["process"]["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  config["root"]["readonly"] = true;
  config["linux"]["seccomp"] = oci_seccomp(profile);
  config["linux"]["cgroupsPath"] = "/" + kTestParent + "-runc";
  auto& ns = config["linux"]["namespaces"];
  for (auto it = ns.begin(); it != ns.end();)
    it = (*it)["type"] == "network" ? ns.erase(it) : it + 1;
  test::write_file(bundle + "/config.json", config.dump());
  const std::string id = kTestParent + "-runc";
  auto res = test::run_cmd({runc, "--root", t / "state", "run", "--bundle", bundle, id});
  test::run_cmd({runc, "--root", t / "state", "delete", "-f", id});
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(mine, res.out) << "minirun:\n" << mine << "runc:\n" << res.out;
  EXPECT_FALSE(exists_anywhere(id, CgroupHierarchy::host()));
}
