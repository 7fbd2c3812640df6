// child.cpp — the container's first process, from clone() to execve(), as a sequence of named
// steps (order matters; each step fails through the report pipe and never throws):
//   1. die with the runtime (run only); join the cgroup; join namespaces given by path. (A group
//      still being made on the runtime's thread is joined late instead: await_cgroup.)
//   2. mount("/", MS_REC|MS_PRIVATE) before anything else: no mount ever propagates to the host.
//   3. the root: the overlay minirun's run mounts here (a detached mount a RootfsBuilder made
//      arrives on a socket and is attached with move_mount; else mounted now), or the bundle's
//      directory bound onto itself (2, 3 and 5: root_switch.h, through the MountSys seam).
//   4. the spec's mounts, devices, sysctls, masked and read-only paths, every mount point resolved
//      inside the root (root_paths.h).
//   5. pivot_root(".", ".") + umount2(".", MNT_DETACH): the old root leaves the namespace. Only on
//      a ramfs/initramfs host root, where pivot_root is impossible, MS_MOVE + chroot with a
//      warning, and without CAP_SYS_CHROOT for the container.
//   6. hostname, loopback up in a new network namespace, the user (numeric from the spec, or a
//      USER resolved in the container's own /etc/passwd), HOME, cwd, stdio or the terminal.
//   7. every descriptor above 2 close-on-exec, rlimits, capabilities (bounding; uid/gid/groups;
//      the other four sets), no_new_privs; the executable looked up on the container's PATH.
//   4b. hooks before pivot_root: report "mounted" and wait while the runtime runs prestart and
//      createRuntime; run createContainer. After the start (8), startContainer.
//   8. create mode: report "created" and wait until start opens the exec fifo; then execve. With
//      --init the process stays pid 1 (reaping, forwarding signals) and a grandchild execs.
#include "child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "minirun/runtime/child_report.h"
#include "minirun/runtime/devices.h"
#include "minirun/runtime/hooks.h"
#include "minirun/runtime/root_paths.h"
#include "minirun/runtime/root_switch.h"
#include "minirun/runtime/tty.h"
#include "minirun/runtime/user.h"
#include "minirun/util/error.h"

namespace minirun::runtime {

namespace {

bool has_env(const std::vector<std::string>& env, const char* key) {
  size_t n = strlen(key);
  for (const auto& e : env)
    if (e.size() > n && e.compare(0, n, key) == 0 && e[n] == '=') return true;
  return false;
}

struct Child {
  const ChildPlan& plan;
  const Spec& spec;
  ChildReporter report;
  bool chrooted = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::vector<std::string> env;
  std::string exe;
  bool cgroup_joined = false;
  CgroupMount late_cgroup;

  explicit Child(const ChildPlan& p) : plan(p), spec(*p.spec), report(p.report_fd) {}

  void join_cgroup() {
    if (!plan.cgroup_by_runtime) {
      for (int fd : plan.cgroup_fds)
        if (::write(fd, "0", 1) != 1) report.fail_errno("join the container's cgroup");
      for (const auto& procs : plan.cgroup_procs) {
        int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ::write(fd, "0", 1) != 1) report.fail_errno("join cgroup " + procs);
        ::close(fd);
      }
    }
    if (plan.new_cgroup_ns && ::unshare(CLONE_NEWCGROUP) != 0) report.fail_errno("cgroup namespace");
  }

  // The late join (cgroup_task.h): one message from the runtime's thread once the group is made
  // and its limits applied — the byte 1, whether the v1 /sys/fs/cgroup comes made, the mount
  // sources; the join files and that tree as descriptors — or the byte 0 (the runtime reports
  // why). Returns what the cgroup mount is made of.
  const CgroupMount* await_cgroup() {
    if (plan.cgroup_late < 0 || cgroup_joined) return &late_cgroup;
    cgroup_joined = true;
    char buf[16384];
    union {
      char buf[CMSG_SPACE(sizeof(int) * 32)];
      struct cmsghdr align;
    } control;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n;
    do n = ::recvmsg(plan.cgroup_late, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) report.fail_errno("wait for the container's cgroup");
    ::close(plan.cgroup_late);
    std::vector<int> fds;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        fds.push_back(fd);
      }
    }
    if (n < 2 || buf[0] != 1 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (buf[1] == 1 && fds.empty()))
      report.fail("the container's cgroup could not be made");
    if (buf[1] == 1) {
      late_cgroup.tree = fds.back();
      fds.pop_back();
    }
    for (int fd : fds) {
      if (::write(fd, "0", 1) != 1) report.fail_errno("join the container's cgroup");
      ::close(fd);
    }
    std::vector<std::string> words;  // dir, source, dir, source, …
    for (ssize_t i = 2; i < n;) {
      size_t len = strnlen(buf + i, static_cast<size_t>(n - i));
      words.emplace_back(buf + i, len);
      i += static_cast<ssize_t>(len) + 1;
    }
    for (size_t i = 0; i + 1 < words.size(); i += 2) late_cgroup.sources.emplace_back(words[i], words[i + 1]);
    if (plan.new_cgroup_ns && ::unshare(CLONE_NEWCGROUP) != 0) report.fail_errno("cgroup namespace");
    return &late_cgroup;
  }

  void join_namespaces() {
    for (auto [fd, type] : plan.join)
      if (::setns(fd, type) != 0) report.fail_errno("join namespace");
  }

  // A new user namespace: once the runtime has written its uid and gid maps, become its root.
  void enter_userns() {
    if (plan.userns_wait < 0) return;
    char c;
    if (::read(plan.userns_wait, &c, 1) != 1) _exit(kExitFailed);  // the runtime gave up
    ::close(plan.userns_wait);
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) report.fail_errno("become root in the user namespace");
  }

  RootSetup root_setup(int built_mount) const {
    RootSetup r;
    r.root = plan.root;
    r.own_mount_ns = plan.own_mount_ns;
    r.overlay = spec.minirun.overlay;
    r.built_mount = built_mount;
    r.readonly = spec.root.readonly;
    r.propagation = plan.root_propagation;
    return r;
  }

  void mount_root() {
    if (!plan.own_mount_ns) return;
    // A root the runtime built arrives as a detached mount; -1: it is mounted here.
    int built = spec.minirun.overlay && spec.minirun.rootfs_sock >= 0 ? receive_fd(spec.minirun.rootfs_sock) : -1;
    make_root(real_mount_sys(), report, root_setup(built));
  }

  void write_sysctls(RootPaths& rp) {
    for (const auto& [path, value] : plan.sysctl) {
      int fd = openat2_in_root(rp.root(), path, O_WRONLY | O_TRUNC);
      if (fd < 0 || ::write(fd, value.data(), value.size()) != static_cast<ssize_t>(value.size()))
        report.fail_errno("sysctl " + path);
      ::close(fd);
    }
  }

  void populate_root() {
    int root_fd = ::open(plan.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) report.fail_errno(plan.root);
    {
      RootPaths rp(root_fd);
      if (plan.cgroup_late >= 0) mount_all(report, rp, plan.mounts, [this] { return await_cgroup(); });
      else mount_all(report, rp, plan.mounts);
      create_devices(report, rp, plan.devices, plan.devices_by_bind);
      write_sysctls(rp);
      readonly_paths(report, rp, spec.linux.readonly_paths);
      mask_paths(report, rp, spec.linux.masked_paths);
    }
    ::close(root_fd);
  }

  // One hook, here: its stdin the state (with this process's pid, as its namespace sees it), its
  // path as this process sees it (runtime-spec: createContainer's path resolves in the runtime's
  // namespace, before pivot_root; startContainer's in the container's). Waits for it, within its
  // timeout; a failure fails the container's setup.
  void run_hook(const Hook& h, const std::string& state_without_pid, const char* kind) {
    std::string state = "{\"pid\":" + std::to_string(::getpid()) + (state_without_pid.size() > 2 ? "," : "") +
                        state_without_pid.substr(1);
    std::string what = runtime::run_hook(h, state);
    if (!what.empty()) report.fail(std::string(kind) + " " + what);
  }

  // The mounts are made, pivot_root comes next: the runtime's prestart and createRuntime hooks
  // (it waits for "mounted", runs them, writes a byte), then createContainer hooks, here.
  void setup_hooks() {
    if (plan.hooks_gate >= 0) {
      if (!report.mounted()) _exit(kExitFailed);
      char c;
      if (::read(plan.hooks_gate, &c, 1) != 1) _exit(kExitFailed);  // the runtime gave up (a hook failed)
      ::close(plan.hooks_gate);
    }
    for (const auto& h : spec.hooks.create_container) run_hook(h, plan.create_container_state, "createContainer");
  }

  void switch_root() { chrooted = runtime::switch_root(real_mount_sys(), report, root_setup(-1)); }

  void loopback_up() {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) report.fail_errno("socket");
    struct ifreq ifr = {};
    strcpy(ifr.ifr_name, "lo");
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) report.fail_errno("lo flags");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) report.fail_errno("lo up");
    ::close(s);
  }

  void identity() {
    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
      report.fail_errno("sethostname");
    if (!spec.domainname.empty() && ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0)
      report.fail_errno("setdomainname");
    if (plan.new_net_ns) loopback_up();
  }

  void resolve_identity() {
    const Process& p = *spec.process;
    env = plan.env;
    int rfd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::string home;
    if (spec.minirun.user_name) {
      ResolvedUser u;
      try {
        u = resolve_user(rfd, *spec.minirun.user_name);
      } catch (const Error& e) {
        report.fail(e.what(), e.exit_code());
      }
      uid = u.uid;
      gid = u.gid;
      groups = u.groups;
      home = u.home;
    } else {
      uid = p.user.uid;
      gid = p.user.gid;
      groups.assign(p.user.additional_gids.begin(), p.user.additional_gids.end());
      if (!has_env(env, "HOME")) home = home_of_uid(rfd, uid);
    }
    ::close(rfd);
    if (!has_env(env, "HOME")) env.push_back("HOME=" + (home.empty() ? std::string("/") : home));
    // The working directory, created (0755, root) if missing, resolved inside the new root.
    RootPaths rp(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    rp.point(p.cwd, true);
  }

  void stdio() {
    const Process& p = *spec.process;
    for (int fd = 0; fd < 3; fd++)
      if (plan.stdio[fd] >= 0 && ::dup2(plan.stdio[fd], fd) < 0) report.fail_errno("stdio");
    if (!p.terminal && !spec.minirun.keep_stdin && plan.stdio[0] < 0) {
      int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) {
        ::dup2(null, 0);
        if (null) ::close(null);
      }
    }
    if (p.terminal) {
      const char* what = "";
      if (int e = attach_new_pty(plan.tty_sock, &what)) {
        errno = e;
        report.fail_errno(what);
      }
    }
    // Only stdin, stdout and stderr reach the command, as with runc and Podman: a descriptor
    // the runtime inherited from its caller (a host directory, a socket) would otherwise be a way
    // out of the container (runc's CVE-2024-21626). The report pipe is close-on-exec already.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) report.fail_errno("close_range");
  }

  void limits() {
    size_t failed = 0;
    if (int e = apply_rlimits(plan.rlimits.data(), plan.rlimits.size(), &failed)) {
      errno = e;
      report.fail_errno("setrlimit " + spec.process->rlimits[failed].type);
    }
    const Process& p = *spec.process;
    if (p.oom_score_adj) {
      std::string v = std::to_string(*p.oom_score_adj);
      int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, v.data(), v.size()) < 0) report.fail_errno("oom_score_adj");
      ::close(fd);
    }
    if (spec.linux.personality_domain) {
      unsigned long pers = *spec.linux.personality_domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;
      if (::personality(pers) < 0) report.fail_errno("personality");
    }
  }

  void privileges() {
    const Process& p = *spec.process;
    uint64_t never = chrooted ? 1ull << 18 /* CAP_SYS_CHROOT */ : 0;
    const char* what = "";
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the user and
    // capabilities change (as runc); the profile allows what follows.
    if (plan.seccomp && !p.no_new_privileges) {
      if (int e = install_seccomp(*plan.seccomp, false)) {
        errno = e;
        report.fail_errno("seccomp");
      }
    }
    if (int e = drop_bounding(plan.caps, never, &what)) {
      errno = e;
      report.fail_errno(what);
    }
    if (::setgroups(groups.size(), groups.data()) != 0) report.fail_errno("setgroups");
    if (::setresgid(gid, gid, gid) != 0) report.fail_errno("setgid");
    if (::setresuid(uid, uid, uid) != 0) report.fail_errno("setuid");
    if (p.user.umask) ::umask(static_cast<mode_t>(*p.user.umask));
    CapabilitySets sets = plan.caps;
    if (spec.minirun.user_name && uid != 0) sets.effective = sets.permitted = sets.inheritable = sets.ambient = 0;
    if (int e = apply_capabilities(sets, never, &what)) {
      errno = e;
      report.fail_errno(what);
    }
    if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) report.fail_errno("no_new_privs");
    if (::chdir(p.cwd.c_str()) != 0) report.fail_errno("chdir to working directory " + p.cwd, kExitCannotExec);
  }

  // The executable on the container's PATH, with Docker's messages and codes.
  void find_executable() {
    const std::string& cmd = spec.process->args[0];
    if (cmd.find('/') != std::string::npos) {
      struct stat st;
      if (::stat(cmd.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
          report.fail("exec: \"" + cmd + "\": stat " + cmd + ": no such file or directory", kExitNotFound);
        report.fail("exec: \"" + cmd + "\": " + strerror(errno), kExitCannotExec);
      }
      exe = cmd;
      return;
    }
    std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& e : env)
      if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    int denied = 0;
    size_t start = 0;
    while (start <= path.size()) {
      size_t c = path.find(':', start);
      std::string dir = path.substr(start, c == std::string::npos ? std::string::npos : c - start);
      std::string full = (dir.empty() ? "." : dir) + "/" + cmd;
      struct stat st;
      if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        if (::access(full.c_str(), X_OK) == 0) {
          exe = full;
          return;
        }
        denied = errno;
      }
      if (c == std::string::npos) break;
      start = c + 1;
    }
    if (denied) {
      errno = denied;
      report.fail("exec: \"" + cmd + "\": " + strerror(denied), kExitCannotExec);
    }
    report.fail("exec: \"" + cmd + "\": executable file not found in $PATH", kExitNotFound);
  }

  // Create mode: "created", then wait for start.
  void wait_for_start() {
    if (plan.start_fd < 0) return;
    if (!report.created()) _exit(kExitFailed);
    if (plan.start_is_fifo) {
      std::string fifo = "/proc/self/fd/" + std::to_string(plan.start_fd);
      // Blocks until `start` opens it to read; stays open (close-on-exec) so that `start`, reading
      // on to end of file, returns only once the command runs.
      int w = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
      if (w < 0 || ::write(w, "0", 1) != 1) _exit(kExitFailed);
    } else {
      char c;
      if (::read(plan.start_fd, &c, 1) != 1) _exit(kExitFailed);  // the runtime gave up
    }
    ::close(plan.start_fd);
  }

  [[noreturn]] void exec() {
    std::vector<char*> argv, envp;
    for (const auto& a : spec.process->args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    // The command starts with default dispositions and nothing blocked, whatever its starter
    // (a monitor blocks SIGTERM, SIGCHLD, … for its signalfd) had: handlers first, then the mask.
    for (int sig = 1; sig < NSIG; sig++)
      if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(exe.c_str(), argv.data(), envp.data());
    int e = errno;
    if (e == ENOENT || e == ENOTDIR)
      report.fail("exec: \"" + spec.process->args[0] + "\": stat " + exe + ": no such file or directory", kExitNotFound);
    errno = e;
    report.fail("exec: \"" + spec.process->args[0] + "\": " + strerror(e), kExitCannotExec);
  }

  // --init: pid 1 forwards signals to the command and reaps every child; exits as the command.
  [[noreturn]] void run_init() {
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t cmd = fork();
    if (cmd < 0) report.fail_errno("fork");
    if (cmd == 0) {
      sigprocmask(SIG_SETMASK, &old, nullptr);
      ::setpgid(0, 0);
      exec();
    }
    ::close_range(3, ~0U, 0);  // pid 1 never execs: close what the command alone was to lose
    for (;;) {
      siginfo_t si;
      if (sigwaitinfo(&all, &si) < 0) continue;
      if (si.si_signo == SIGCHLD) {
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
          if (p == cmd) _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
      } else {
        ::kill(cmd, si.si_signo);
      }
    }
  }

  [[noreturn]] void run() {
    if (plan.pdeathsig) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      // A runtime killed between the clone and that prctl sends nothing: its pidfd says so. (In a
      // new pid namespace getppid() is 0 either way.) Gone: leave at once, before holding anyone's
      // pipe open (a monitor's readiness pipe kept `run -d` waiting forever).
      struct pollfd pf = {plan.parent_pidfd, POLLIN, 0};
      if (plan.parent_pidfd >= 0 && ::poll(&pf, 1, 0) > 0) _exit(kExitFailed);
    }
    if (plan.start_peer_fd >= 0) ::close(plan.start_peer_fd);
    if (plan.started_fd >= 0) {
      if (::write(plan.started_fd, "1", 1) != 1) _exit(kExitFailed);
      ::close(plan.started_fd);
    }
    enter_userns();
    if (plan.cgroup_late < 0) join_cgroup();
    join_namespaces();
    if (plan.exec_mode) {
      if (::chdir("/") != 0) report.fail_errno("chdir /");
    } else {
      mount_root();
      populate_root();
      await_cgroup();  // (when no cgroup mount came first)
      setup_hooks();
      switch_root();
      identity();
    }
    resolve_identity();
    stdio();
    limits();
    privileges();
    find_executable();
    wait_for_start();
    for (const auto& h : spec.hooks.start_container) run_hook(h, plan.start_container_state, "startContainer");
    if (plan.seccomp && spec.process->no_new_privileges) {
      if (int e = install_seccomp(*plan.seccomp, true)) {
        errno = e;
        report.fail_errno("seccomp");
      }
    }
    if (spec.minirun.init) run_init();
    exec();
  }
};

}  // namespace

void child_main(const ChildPlan& plan) {
  Child c(plan);
  c.run();
}

}  // namespace minirun::runtime
