// Podman drives minirun-runtime: `podman --runtime .../minirun-runtime` runs, runs
// detached, execs into (plain and with a tty), stops and removes containers of a busybox image
// made here. Podman goes through conmon, which calls the runtime's runc command line (create,
// start, exec --detach [--tty --console-socket], kill 15/9, delete --force).
//
// Skipped with a message when podman or the runtime is missing. The runtime defaults to
// minirun-runtime beside the minirun binary; MINIRUN_PODMAN_RUNTIME=/usr/sbin/runc checks the test
// itself against runc.
//
// Isolation: podman's storage, run and tmp dirs (--root, --runroot, --tmpdir, vfs driver, cgroupfs,
// events to a file, its own network config dir) all live in a temp dir, and every podman command
// (and so conmon and the runtime) runs in one private mount namespace made here and kept by a bind
// of its nsfs file, in which that temp dir is also bound over /var/lib (podman's blob-info cache is
// hard-wired to /var/lib/containers/cache). Nothing lands in the machine's podman state.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

std::string runtime_path() {
  if (const char* r = std::getenv("MINIRUN_PODMAN_RUNTIME"); r && *r) return r;
  return (fs::path(MINIRUN_BINARY).parent_path() / "minirun-runtime").string();
}

// Makes a private mount namespace with `varlib` bound over /var/lib in it, and keeps it alive
// through a bind mount of its nsfs file at `nsfile` (in a private bind of its directory).
// Returns "" or what failed.
std::string make_private_mount_ns(const std::string& nsdir, const std::string& varlib) {
  if (::mount(nsdir.c_str(), nsdir.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
      ::mount(nullptr, nsdir.c_str(), nullptr, MS_PRIVATE, nullptr) != 0)
    return "private bind of " + nsdir + ": " + strerror(errno);
  std::string nsfile = nsdir + "/mnt";
  write_file(nsfile, "");
  int ready[2], go[2];
  if (::pipe(ready) != 0 || ::pipe(go) != 0) return "pipe";
  pid_t pid = ::fork();
  if (pid < 0) return "fork";
  if (pid == 0) {
    ::close(ready[0]);
    ::close(go[1]);
    char ok = 0;
    if (::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
        ::mount(varlib.c_str(), "/var/lib", nullptr, MS_BIND, nullptr) == 0)
      ok = 1;
    (void)!::write(ready[1], &ok, 1);
    char c;
    (void)!::read(go[0], &c, 1);  // parent has bound our namespace (or gave up): leave
    _exit(0);
  }
  ::close(ready[1]);
  ::close(go[0]);
  char ok = 0;
  std::string err;
  if (::read(ready[0], &ok, 1) != 1 || !ok) err = "unshare/mount in the child failed";
  if (err.empty()) {
    std::string src = "/proc/" + std::to_string(pid) + "/ns/mnt";
    if (::mount(src.c_str(), nsfile.c_str(), nullptr, MS_BIND, nullptr) != 0)
      err = "bind of " + src + ": " + strerror(errno);
  }
  ::close(go[1]);
  ::close(ready[0]);
  ::waitpid(pid, nullptr, 0);
  return err;
}

class Podman : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    podman_ = find_in_path("podman");
    nsenter_ = find_in_path("nsenter");
    runtime_ = runtime_path();
    if (podman_.empty()) GTEST_SKIP() << "podman is not installed (scripts/install-deps.sh --peers); skipped";
    if (nsenter_.empty()) GTEST_SKIP() << "nsenter (util-linux) missing; skipped";
    if (::access(runtime_.c_str(), X_OK) != 0)
      GTEST_SKIP() << runtime_ << " does not exist yet (build 'minirun'; or set MINIRUN_PODMAN_RUNTIME); skipped";

    had_libpod_cgroups_ = !libpod_cgroup_dirs().empty();
    t_ = std::make_unique<TempDir>("minirun-podman-");
    for (const char* d : {"ns", "varlib", "varlib/containers", "root", "runroot", "tmp", "net", "tmpfiles"})
      fs::create_directories(*t_ / d);
    std::string err = make_private_mount_ns(*t_ / "ns", *t_ / "varlib");
    ASSERT_EQ(err, "");

    // The busybox image as a docker-save archive, loaded offline.
    TestImage img;
    img.layers = {busybox_rootfs().build()};
    img.repo_tags = {"minirun-podman-test:latest"};
    std::vector<TestImage> imgs = {img};
    write_file(*t_ / "busybox.tar", docker_archive(imgs));
    auto r = podman({"load", "-q", "-i", *t_ / "busybox.tar"});
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }

  void TearDown() override {
    if (!t_) return;
    podman({"rm", "-a", "-f", "-t", "0"});
    // conmon must be gone with its containers: nothing may still run with our temp dir in argv.
    for (const auto& e : fs::directory_iterator("/proc")) {
      std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string cmd;
      try {
        cmd = read_file(e.path() / "cmdline");
      } catch (...) {
        continue;
      }
      EXPECT_EQ(cmd.find(t_->path()), std::string::npos) << "left running: pid " << name;
    }
    t_.reset();  // detaches the namespace's bind (the namespace dies with its last process) and removes all
    // With cgroupfs, Podman puts conmon in <controller>/libpod_parent/conmon and leaves both behind:
    // remove them (only when empty) unless they were there before this test.
    if (!had_libpod_cgroups_) {
      for (const auto& d : libpod_cgroup_dirs()) {
        ::rmdir((d + "/conmon").c_str());
        ::rmdir(d.c_str());
      }
    }
  }

  static std::vector<std::string> libpod_cgroup_dirs() {
    std::vector<std::string> out;
    std::error_code ec;
    if (fs::is_directory("/sys/fs/cgroup/libpod_parent", ec)) out.push_back("/sys/fs/cgroup/libpod_parent");
    for (const auto& c : fs::directory_iterator("/sys/fs/cgroup", ec)) {
      std::string d = c.path().string() + "/libpod_parent";
      if (fs::is_directory(d, ec)) out.push_back(d);
    }
    return out;
  }

  CmdResult podman(const std::vector<std::string>& args, int timeout_s = 60) {
    std::vector<std::string> a = {nsenter_,  "--mount=" + (*t_ / "ns/mnt"),
                                  podman_,   "--root",
                                  *t_ / "root", "--runroot",
                                  *t_ / "runroot", "--tmpdir",
                                  *t_ / "tmp", "--storage-driver",
                                  "vfs",     "--cgroup-manager",
                                  "cgroupfs", "--events-backend",
                                  "file",    "--network-config-dir",
                                  *t_ / "net", "--runtime",
                                  runtime_};
    a.insert(a.end(), args.begin(), args.end());
    return run_cmd(a, "", timeout_s);
  }
  // `podman run` flags every run here takes: no network, and rlimits the host allows (Podman's
  // default nofile of 1048576 is above this machine's hard limit).
  std::vector<std::string> run_flags(std::vector<std::string> more) {
    std::vector<std::string> a = {"run", "--pull", "never", "--network", "none", "--ulimit", "nofile=1024:1024",
                                  "--ulimit", "nproc=1024:1024"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }

  std::string podman_, nsenter_, runtime_;
  bool had_libpod_cgroups_ = true;
  std::unique_ptr<TempDir> t_;
};

}  // namespace

TEST_F(Podman, RunRmPrintsAndPassesTheExitCode) {
  auto r = podman(run_flags({"--rm", "minirun-podman-test:latest", "echo", "hi"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi\n") << r.err;
  r = podman(run_flags({"--rm", "minirun-podman-test:latest", "sh", "-c", "echo $$ $(hostname) >&2; exit 3"}));
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.err.substr(0, 2), "1 ") << r.err;  // the command is PID 1 of its own namespace
  r = podman({"ps", "-a", "-q"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "") << "--rm left a container";
}

TEST_F(Podman, DetachedExecStopRm) {
  auto r = podman(run_flags({"-d", "--name", "mr-podman-c1", "minirun-podman-test:latest", "sleep", "1000"}));
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = trim(r.out);
  EXPECT_EQ(id.size(), 64u) << r.out;

  r = podman({"inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "mr-podman-c1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 8), "running ") << r.out;
  pid_t pid = std::atoi(r.out.substr(8).c_str());
  ASSERT_GT(pid, 1) << r.out;
  EXPECT_EQ(read_file("/proc/" + std::to_string(pid) + "/cmdline"), std::string("sleep\0" "1000\0", 11));

  r = podman({"exec", "mr-podman-c1", "sh", "-c", "echo from-exec $$; cat /proc/1/cmdline | tr '\\0' ' '"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 10), "from-exec ") << r.out << r.err;
  EXPECT_NE(r.out.find("sleep 1000"), std::string::npos) << "exec did not join the container's PID namespace: " << r.out;
  r = podman({"exec", "mr-podman-c1", "sh", "-c", "exit 7"});
  EXPECT_EQ(r.code, 7) << r.err;
  r = podman({"exec", "-t", "mr-podman-c1", "sh", "-c", "[ -t 1 ] && echo tty"});  // --tty --console-socket
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(trim(r.out), "tty") << r.err;

  // sleep as PID 1 ignores SIGTERM: podman stop sends 15, waits 1 s, then 9.
  r = podman({"stop", "-t", "1", "mr-podman-c1"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = podman({"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "mr-podman-c1"});
  EXPECT_EQ(trim(r.out), "exited 137") << r.err;
  EXPECT_NE(::kill(pid, 0), 0) << "the container's process survived stop";

  r = podman({"rm", "mr-podman-c1"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = podman({"ps", "-a", "-q"});
  EXPECT_EQ(r.out, "");
}
