// container.cpp — namespace setup and the container's first process.
//
// The child is cloned like posix_spawn does it (CLONE_VM|CLONE_VFORK, a stack of its own):
// minirun's memory is shared, not copied, and minirun sleeps until the child's execve or _exit.
// With --init the child never execs, so it gets a copy of the memory (a plain clone).
// Order in the child (clone with new PID, mount, UTS, IPC [and network] namespaces):
//   1. PR_SET_PDEATHSIG: the container dies with minirun.
//   2. mount("/", MS_REC|MS_PRIVATE) before anything else, so no mount ever propagates to the host.
//   3. overlay at <layer>/merged (nodev): for an image of many layers the finished detached
//      mount that a RootfsBuilder thread of minirun made meanwhile (fsmount) arrives on a socket
//      and is attached with move_mount; else (or when none comes) the child mounts it; inside it, /proc, /sys (ro), /dev (nodev tmpfs with
//      the standard nodes bound from the host, devpts, shm, mqueue), masked and read-only paths, /etc/hostname|hosts|
//      resolv.conf and -v binds. Every mount point inside the root is opened with
//      openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd, so an image's symlinks can
//      never redirect a mount onto the host.
//   4. pivot_root(".", ".") + umount2(".", MNT_DETACH): the old root is gone from the namespace,
//      so `chroot(".."); chdir("..")` finds nothing. Only when pivot_root is impossible (ramfs or
//      initramfs root) MS_MOVE + chroot, with a warning, and without CAP_SYS_CHROOT for the
//      container (the old root is still there to walk to).
//   5. hostname, loopback up (network none), user lookup in the container's /etc/passwd,
//      workdir created, every descriptor above 2 close-on-exec, capability bounding set,
//      groups/gid/uid, capabilities, no_new_privs.
//   6. execve on the container's PATH.
// Every failing step writes {exit code, message} into a close-on-exec pipe and _exits: the
// parent reads the pipe until EOF (exec closed it) and turns a message into an Error. The child
// never throws. With --init, the child stays as pid 1 (reaping, forwarding signals) and a
// grandchild runs the command. For an image of many layers minirun holds the container's mount
// namespace (an nsfs fd) so that its unmounting, after the last process exits, runs on a thread
// while minirun records or removes the container instead of before wait4 returns; the thread is
// joined before exit.
#include "minirun/runtime/container.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <grp.h>
#include <termios.h>
#include <unistd.h>
#include <linux/magic.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/engine/process.h"

namespace minirun {

namespace {

constexpr size_t kMaxOverlayLowers = 500;  // the kernel's OVL_MAX_STACK

const std::map<std::string, int>& cap_names() {
  static const std::map<std::string, int> m = {
      {"CHOWN", 0},          {"DAC_OVERRIDE", 1},     {"DAC_READ_SEARCH", 2}, {"FOWNER", 3},         {"FSETID", 4},
      {"KILL", 5},           {"SETGID", 6},           {"SETUID", 7},          {"SETPCAP", 8},        {"LINUX_IMMUTABLE", 9},
      {"NET_BIND_SERVICE", 10}, {"NET_BROADCAST", 11}, {"NET_ADMIN", 12},     {"NET_RAW", 13},       {"IPC_LOCK", 14},
      {"IPC_OWNER", 15},     {"SYS_MODULE", 16},      {"SYS_RAWIO", 17},      {"SYS_CHROOT", 18},    {"SYS_PTRACE", 19},
      {"SYS_PACCT", 20},     {"SYS_ADMIN", 21},       {"SYS_BOOT", 22},       {"SYS_NICE", 23},      {"SYS_RESOURCE", 24},
      {"SYS_TIME", 25},      {"SYS_TTY_CONFIG", 26},  {"MKNOD", 27},          {"LEASE", 28},         {"AUDIT_WRITE", 29},
      {"AUDIT_CONTROL", 30}, {"SETFCAP", 31},         {"MAC_OVERRIDE", 32},   {"MAC_ADMIN", 33},     {"SYSLOG", 34},
      {"WAKE_ALARM", 35},    {"BLOCK_SUSPEND", 36},   {"AUDIT_READ", 37},     {"PERFMON", 38},       {"BPF", 39},
      {"CHECKPOINT_RESTORE", 40}};
  return m;
}

int last_cap() {
  static int last = [] {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int v = 40;
    in >> v;
    return v;
  }();
  return last;
}

int receive_fd(int sock);
ssize_t send_fd(int sock, char tag, int fd, int flags = 0);

// ---- the child's error channel ----

struct ChildError {
  int code;
  char msg[1000];
};

[[noreturn]] void child_fail(int fd, int code, const std::string& msg) {
  ChildError e{};
  e.code = code;
  snprintf(e.msg, sizeof e.msg, "%s", msg.c_str());
  if (::write(fd, &e, sizeof e) < 0) {
  }
  _exit(code);
}

std::string errstr(const std::string& what) { return what + ": " + strerror(errno); }

int openat2_in_root(int root, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, root, path.c_str(), &how, sizeof how));
}

// A mount point inside the new root, created if missing (dir or empty file), resolved in root.
// Returns "/proc/self/fd/N" for mount(2) and keeps N open until the setup is done.
class RootPaths {
 public:
  explicit RootPaths(int root) : root_(root) {}
  ~RootPaths() {
    for (int fd : fds_) ::close(fd);
  }
  // Returns "" with errno set on failure.
  std::string point(const std::string& path, bool dir) {
    int fd = openat2_in_root(root_, path, O_PATH | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
      create(path, dir);
      fd = openat2_in_root(root_, path, O_PATH | O_NOFOLLOW);
    }
    if (fd < 0) return "";
    fds_.push_back(fd);
    return "/proc/self/fd/" + std::to_string(fd);
  }
  // Existing path only.
  std::string existing(const std::string& path) {
    int fd = openat2_in_root(root_, path, O_PATH | O_NOFOLLOW);
    if (fd < 0) return "";
    fds_.push_back(fd);
    return "/proc/self/fd/" + std::to_string(fd);
  }
  // The descriptor behind the last path point() or existing() returned.
  int last_fd() const { return fds_.empty() ? -1 : fds_.back(); }

 private:
  void create(const std::string& path, bool dir) {
    size_t slash = path.rfind('/');
    std::string parent = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    std::string base = path.substr(slash == std::string::npos ? 0 : slash + 1);
    int pfd = openat2_in_root(root_, parent, O_RDONLY | O_DIRECTORY);
    if (pfd < 0 && errno == ENOENT) {
      create(parent, true);
      pfd = openat2_in_root(root_, parent, O_RDONLY | O_DIRECTORY);
    }
    if (pfd < 0) return;
    if (dir) ::mkdirat(pfd, base.c_str(), 0755);
    else {
      int f = ::openat(pfd, base.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (f >= 0) ::close(f);
    }
    ::close(pfd);
  }
  int root_;
  std::vector<int> fds_;
};

struct Child {
  const ContainerSpec& spec;
  int err_fd;        // write end of the error pipe
  int tty_sock = -1; // sends the pty master to the parent

  [[noreturn]] void fail(const std::string& msg, int code = kExitFailed) { child_fail(err_fd, code, msg); }

  void mnt(const char* src, const std::string& dst, const char* type, unsigned long flags, const char* data,
           const std::string& what) {
    if (::mount(src, dst.c_str(), type, flags, data) != 0) fail(errstr("mount " + what));
  }

  void setup_dev(RootPaths& rp) {
    std::string dev = rp.point("/dev", true);
    if (dev.empty()) fail(errstr("/dev mount point"));
    // Docker keeps CAP_MKNOD and relies on the devices cgroup to make a node such as
    // `mknod /dev/sda b 8 0` useless. minirun has no cgroup, so the container's /dev is nodev and
    // its six standard nodes are bind mounts of the host's (a bind keeps the host devtmpfs's
    // flags). --privileged containers get plain nodes on a /dev that allows devices.
    unsigned long devflags = MS_NOSUID | MS_STRICTATIME | (spec.privileged ? 0 : MS_NODEV);
    mnt("tmpfs", dev, "tmpfs", devflags, "mode=755,size=65536k", "/dev");
    int dfd = openat2_in_root(rootfd(), "/dev", O_RDONLY | O_DIRECTORY);
    if (dfd < 0) fail(errstr("/dev"));
    struct Node {
      const char* name;
      unsigned maj, min;
      mode_t mode;
    };
    for (const Node& n : {Node{"null", 1, 3, 0666}, Node{"zero", 1, 5, 0666}, Node{"full", 1, 7, 0666},
                          Node{"random", 1, 8, 0666}, Node{"urandom", 1, 9, 0666}, Node{"tty", 5, 0, 0666}}) {
      if (spec.privileged) {
        if (::mknodat(dfd, n.name, S_IFCHR | n.mode, makedev(n.maj, n.min)) != 0) fail(errstr(std::string("mknod /dev/") + n.name));
        ::fchmodat(dfd, n.name, n.mode, 0);
        continue;
      }
      std::string host = std::string("/dev/") + n.name;
      struct stat st;
      if (::stat(host.c_str(), &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(n.maj, n.min))
        fail("host " + host + " is not the character device " + std::to_string(n.maj) + ":" + std::to_string(n.min));
      int f = ::openat(dfd, n.name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
      if (f < 0) fail(errstr(std::string("/dev/") + n.name));
      ::close(f);
      mnt(host.c_str(), "/proc/self/fd/" + std::to_string(dfd) + "/" + n.name, nullptr, MS_BIND, nullptr, host);
    }
    for (const char* d : {"pts", "shm", "mqueue"}) ::mkdirat(dfd, d, 0755);
    ::symlinkat("pts/ptmx", dfd, "ptmx");
    ::symlinkat("/proc/self/fd", dfd, "fd");
    ::symlinkat("/proc/self/fd/0", dfd, "stdin");
    ::symlinkat("/proc/self/fd/1", dfd, "stdout");
    ::symlinkat("/proc/self/fd/2", dfd, "stderr");
    ::symlinkat("/proc/kcore", dfd, "core");
    ::close(dfd);
    mnt("devpts", rp.point("/dev/pts", true), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5",
        "/dev/pts");
    mnt("shm", rp.point("/dev/shm", true), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", "/dev/shm");
    mnt("mqueue", rp.point("/dev/mqueue", true), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, "/dev/mqueue");
  }

  int root_fd = -1;
  int rootfd() const { return root_fd; }

  void mask_paths(RootPaths& rp) {
    for (const char* p : {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/proc/interrupts",
                          "/sys/firmware", "/sys/devices/virtual/powercap"}) {
      std::string at = rp.existing(p);
      if (at.empty()) continue;
      struct stat st;
      if (::fstat(rp.last_fd(), &st) != 0) continue;  // the O_PATH fd itself, not a walk through /proc
      if (S_ISDIR(st.st_mode)) mnt("tmpfs", at, "tmpfs", MS_RDONLY, nullptr, std::string("masking ") + p);
      else mnt("/dev/null", at, nullptr, MS_BIND, nullptr, std::string("masking ") + p);
    }
    for (const char* p : {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}) {
      std::string at = rp.existing(p);
      if (at.empty()) continue;
      mnt(at.c_str(), at, nullptr, MS_BIND | MS_REC, nullptr, std::string("read-only ") + p);
      // Remount through a fresh lookup: the old fd still names the mount below the bind.
      mnt(nullptr, rp.existing(p), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
          std::string("read-only ") + p);
    }
  }

  void binds(RootPaths& rp) {
    for (const char* f : {"hostname", "hosts", "resolv.conf"}) {
      std::string src = spec.state_dir + "/" + f;
      std::string at = rp.point(std::string("/etc/") + f, false);
      if (at.empty()) continue;  // e.g. /etc is a dangling symlink in the image
      mnt(src.c_str(), at, nullptr, MS_BIND, nullptr, std::string("/etc/") + f);
    }
    for (const auto& b : spec.binds) {
      struct stat st;
      if (::stat(b.source.c_str(), &st) != 0) fail(errstr("bind source " + b.source));
      std::string at = rp.point(b.target, S_ISDIR(st.st_mode));
      if (at.empty()) fail(errstr("bind target " + b.target));
      mnt(b.source.c_str(), at, nullptr, MS_BIND | MS_REC, nullptr, "bind " + b.source);
      if (b.readonly)
        mnt(nullptr, rp.existing(b.target), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr, "read-only bind " + b.target);
    }
  }

  void switch_root(const std::string& merged) {
    if (::chdir(merged.c_str()) != 0) fail(errstr("chdir " + merged));
    if (syscall(SYS_pivot_root, ".", ".") == 0) {
      if (::umount2(".", MNT_DETACH) != 0) fail(errstr("detach the old root"));
      if (::chdir("/") != 0) fail(errstr("chdir /"));
      return;
    }
    int e = errno;
    struct statfs sf;
    bool ramfs = ::statfs("/", &sf) == 0 && (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC);
    if (e != EINVAL || !ramfs) {
      errno = e;
      fail(errstr("pivot_root"));
    }
    // An initramfs root cannot be pivoted away from: move the new root over it and chroot.
    if (::write(2, "minirun: warning: pivot_root is not possible on a ramfs root; using chroot (no CAP_SYS_CHROOT)\n", 95) < 0) {
    }
    mnt(".", "/", nullptr, MS_MOVE, nullptr, "move root");
    if (::chroot(".") != 0 || ::chdir("/") != 0) fail(errstr("chroot"));
    chrooted = true;
  }
  // Under chroot the old root is still in the namespace: a process holding CAP_SYS_CHROOT could
  // walk out of it with chroot(subdir); chdir(".."). Such containers lose CAP_SYS_CHROOT.
  bool chrooted = false;

  void loopback_up() {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail(errstr("socket"));
    struct ifreq ifr = {};
    strcpy(ifr.ifr_name, "lo");
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) fail(errstr("lo flags"));
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail(errstr("lo up"));
    ::close(s);
  }

  void setup_tty() {
    int master = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) fail(errstr("open /dev/pts/ptmx"));
    if (::grantpt(master) != 0 || ::unlockpt(master) != 0) fail(errstr("unlockpt"));
    char name[128];
    if (::ptsname_r(master, name, sizeof name) != 0) fail(errstr("ptsname"));
    int slave = ::open(name, O_RDWR | O_NOCTTY);
    if (slave < 0) fail(errstr(std::string("open ") + name));
    // Hand the master to minirun outside.
    if (send_fd(tty_sock, 'T', master) < 0) fail(errstr("send pty"));
    ::close(master);
    ::close(tty_sock);
    ::setsid();
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) fail(errstr("controlling terminal"));
    for (int fd = 0; fd < 3; fd++) ::dup2(slave, fd);
    if (slave > 2) ::close(slave);
  }

  void drop_privileges(const ResolvedUser& u) {
    std::vector<int> caps;
    try {
      caps = capability_set(spec.privileged, spec.cap_add, spec.cap_drop);
    } catch (const Error& e) {
      fail(e.what());
    }
    uint64_t keep = 0;
    for (int c : caps) keep |= 1ull << c;
    if (chrooted) keep &= ~(1ull << CAP_SYS_CHROOT);
    // Never more than minirun itself holds (--privileged or --cap-add ALL in a restricted root).
    struct __user_cap_header_struct hh = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct have[2] = {};
    if (syscall(SYS_capget, &hh, have) == 0) keep &= (static_cast<uint64_t>(have[1].permitted) << 32) | have[0].permitted;
    for (int c = 0; c <= last_cap(); c++)
      if (!(keep & (1ull << c)) && ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
        fail(errstr("drop capability " + std::to_string(c)));
    if (::setgroups(u.groups.size(), u.groups.data()) != 0) fail(errstr("setgroups"));
    if (::setresgid(u.gid, u.gid, u.gid) != 0) fail(errstr("setgid"));
    if (::setresuid(u.uid, u.uid, u.uid) != 0) fail(errstr("setuid"));
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {};
    if (u.uid == 0) {
      d[0].effective = d[0].permitted = static_cast<uint32_t>(keep);
      d[1].effective = d[1].permitted = static_cast<uint32_t>(keep >> 32);
    }
    if (syscall(SYS_capset, &h, d) != 0) fail(errstr("capset"));
    if (spec.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(errstr("no_new_privs"));
  }

  // execvpe on the container's PATH, with Docker's messages and codes.
  [[noreturn]] void exec(const std::vector<std::string>& env) {
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    const std::string& cmd = spec.argv[0];
    if (cmd.find('/') != std::string::npos) {
      ::execve(cmd.c_str(), argv.data(), envp.data());
      int e = errno;
      if (e == ENOENT || e == ENOTDIR)
        fail("exec: \"" + cmd + "\": stat " + cmd + ": no such file or directory", kExitNotFound);
      errno = e;
      fail("exec: \"" + cmd + "\": " + strerror(e), kExitCannotExec);
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
          ::execve(full.c_str(), argv.data(), envp.data());
        }
        denied = errno;
      }
      if (c == std::string::npos) break;
      start = c + 1;
    }
    if (denied) {
      errno = denied;
      fail("exec: \"" + cmd + "\": " + strerror(denied), kExitCannotExec);
    }
    fail("exec: \"" + cmd + "\": executable file not found in $PATH", kExitNotFound);
  }

  [[noreturn]] void run() {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(errstr("make / private"));
    std::string layer_dir = spec.rootfs.upper.substr(0, spec.rootfs.upper.rfind('/'));
    std::string merged = layer_dir + "/merged";
    int built = spec.rootfs_sock >= 0 ? receive_fd(spec.rootfs_sock) : -1;  // -1: mount it here
    if (built >= 0) {
      if (syscall(SYS_move_mount, built, "", AT_FDCWD, merged.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
        fail(errstr("attach the root file system at " + merged));
      ::close(built);
    } else try {
      OverlayLayout layout = spec.rootfs;
      if (layout.lower_links.size() > kMaxOverlayLowers) {
        // The -init layer would make a 500-layer image one lower too many: the image's layers
        // become a read-only overlay of their own, and that the lower of the container's.
        bool dirs = layout.lower_dirs.size() == layout.lower_links.size();
        OverlayLayout image{layout.overlay_root, {layout.lower_links.begin() + 1, layout.lower_links.end()},
                            {}, "", ""};
        if (dirs) image.lower_dirs.assign(layout.lower_dirs.begin() + 1, layout.lower_dirs.end());
        std::string image_dir = layer_dir + "/image";
        if (::mkdir(image_dir.c_str(), 0755) != 0 && errno != EEXIST) fail(errstr(image_dir));
        mount_overlay(image, image_dir, MS_RDONLY | MS_NODEV);
        // Relative to overlay_root like the other lowers (the store root may be relative).
        std::string image_rel = layer_dir.substr(layer_dir.rfind('/') + 1) + "/image";
        layout.lower_links = {layout.lower_links[0], image_rel};
        if (dirs) layout.lower_dirs = {layout.lower_dirs[0], image_rel};
      }
      mount_overlay(layout, merged, MS_NODEV);
    } catch (const Error& e) {
      fail(e.what());
    }
    root_fd = ::open(merged.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) fail(errstr(merged));
    {
      RootPaths rp(root_fd);
      mnt("proc", rp.point("/proc", true), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, "/proc");
      std::string sys = rp.point("/sys", true);
      unsigned long sysflags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (spec.privileged ? 0 : MS_RDONLY);
      if (::mount("sysfs", sys.c_str(), "sysfs", sysflags, nullptr) != 0) {
        mnt("/sys", sys, nullptr, MS_BIND | MS_REC, nullptr, "/sys");
        mnt(nullptr, rp.existing("/sys"), nullptr, MS_BIND | MS_REMOUNT | sysflags, nullptr, "/sys read-only");
      }
      setup_dev(rp);
      if (!spec.privileged) mask_paths(rp);
      binds(rp);
    }
    ::close(root_fd);
    switch_root(merged);
    if (spec.read_only)
      mnt(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV, nullptr, "read-only root");
    if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) fail(errstr("sethostname"));
    if (spec.network_none) loopback_up();

    int rfd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ResolvedUser user;
    try {
      user = resolve_user(rfd, spec.user);
    } catch (const Error& e) {
      fail(e.what(), e.exit_code());
    }
    ::close(rfd);
    std::string wd = spec.workdir.empty() ? "/" : spec.workdir;
    if (wd[0] != '/') fail("the working directory '" + wd + "' is invalid, it needs to be an absolute path");
    {
      // Created (0755, root) if missing; resolved inside the new root, which is now "/".
      RootPaths rp(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      rp.point(wd, true);
    }
    auto env = finish_env(spec.env, spec.hostname, user.home, spec.tty);
    if (!spec.interactive && !spec.tty) {
      int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) {
        ::dup2(null, 0);
        if (null) ::close(null);
      }
    }
    if (spec.tty) setup_tty();
    // Only stdin, stdout and stderr reach the command, as with runc and Podman: a descriptor
    // minirun inherited from its caller (a host directory, a socket) would otherwise be a way
    // out of the container (runc's CVE-2024-21626). The error pipe is close-on-exec already.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail(errstr("close_range"));
    drop_privileges(user);
    if (::chdir(wd.c_str()) != 0) fail(errstr("chdir to working directory " + wd), kExitCannotExec);
    if (spec.init) run_init(env);
    exec(env);
  }

  // --init: pid 1 forwards signals to the command and reaps every child; exits as the command.
  [[noreturn]] void run_init(const std::vector<std::string>& env) {
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t cmd = fork();
    if (cmd < 0) fail(errstr("fork"));
    if (cmd == 0) {
      sigprocmask(SIG_SETMASK, &old, nullptr);
      ::setpgid(0, 0);
      exec(env);
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
};

struct ChildStart {
  const ContainerSpec* spec;
  int* errp;  // error pipe
  int* sock;  // tty socket pair (-1 without --tty)
};

int child_main(void* arg) {
  auto* start = static_cast<ChildStart*>(arg);
  ::close(start->errp[0]);  // the child's own descriptor table (no CLONE_FILES)
  if (start->sock[0] >= 0) ::close(start->sock[0]);
  Child c{*start->spec, start->errp[1], start->sock[1]};
  c.run();
}

// ---- the parent ----

volatile pid_t g_child = 0;
volatile sig_atomic_t g_winch = 0;

void forward(int sig) {
  if (sig == SIGWINCH) g_winch = 1;
  if (g_child > 0) ::kill(g_child, sig);
}

// Sends the byte `tag` and, when fd >= 0, the descriptor fd with it (SCM_RIGHTS).
ssize_t send_fd(int sock, char tag, int fd, int flags) {
  struct msghdr msg = {};
  struct iovec io = {&tag, 1};
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = ctl;
    msg.msg_controllen = sizeof ctl;
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  }
  return ::sendmsg(sock, &msg, flags);
}

int receive_fd(int sock) {
  struct msghdr msg = {};
  char c;
  struct iovec io = {&c, 1};
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  if (::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

void copy_winsize(int master) {
  struct winsize ws;
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

// Relays the terminal until the pty closes (the container exited).
void relay_tty(int master) {
  struct termios saved;
  bool raw = ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
  }
  copy_winsize(master);
  char buf[65536];
  bool in_open = true;
  for (;;) {
    if (g_winch) {
      g_winch = 0;
      copy_winsize(master);
    }
    struct pollfd fds[2] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(master, buf, sizeof buf);
      if (r <= 0) break;
      if (::write(1, buf, static_cast<size_t>(r)) < 0) {
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t r = ::read(0, buf, sizeof buf);
      if (r <= 0) in_open = false;
      else if (::write(master, buf, static_cast<size_t>(r)) < 0) {
      }
    }
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
}

}  // namespace

std::vector<int> capability_set(bool privileged, const std::vector<std::string>& add, const std::vector<std::string>& drop) {
  std::set<int> caps;
  if (privileged) {
    for (int c = 0; c <= last_cap(); c++) caps.insert(c);
    return {caps.begin(), caps.end()};
  }
  for (const char* d : {"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
                        "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"})
    caps.insert(cap_names().at(d));
  auto parse = [](std::string n) {
    for (auto& ch : n) ch = static_cast<char>(toupper(ch));
    if (n.rfind("CAP_", 0) == 0) n = n.substr(4);
    return n;
  };
  for (const auto& d : drop) {
    std::string n = parse(d);
    if (n == "ALL") caps.clear();
    else if (cap_names().count(n)) caps.erase(cap_names().at(n));
    else throw Error("unknown capability to drop: \"" + d + "\"");
  }
  for (const auto& a : add) {
    std::string n = parse(a);
    if (n == "ALL")
      for (int c = 0; c <= last_cap(); c++) caps.insert(c);
    else if (cap_names().count(n)) caps.insert(cap_names().at(n));
    else throw Error("unknown capability to add: \"" + a + "\"");
  }
  return {caps.begin(), caps.end()};
}

void write_state_files(const ContainerSpec& spec) {
  write_file_atomic(spec.state_dir + "/hostname", spec.hostname + "\n");
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                      "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
  hosts += "127.0.1.1\t" + spec.hostname + "\n";
  write_file_atomic(spec.state_dir + "/hosts", hosts);
  std::string resolv;
  if (!spec.network_none) {
    auto host = read_file_if_exists("/etc/resolv.conf", 1 << 20);
    // A resolver on the host's loopback is unreachable from a container with its own network.
    if (host) resolv = *host;
  }
  if (resolv.empty()) resolv = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
  write_file_atomic(spec.state_dir + "/resolv.conf", resolv);
}

void prepare_init_layer(const std::string& diff) {
  for (const char* d : {"/dev", "/dev/pts", "/dev/shm", "/proc", "/sys", "/etc"})
    if (::mkdir((diff + d).c_str(), 0755) != 0 && errno != EEXIST) throw sys_error(diff + d);
  for (const char* f : {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/console"}) {
    int fd = ::open((diff + f).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
    if (fd < 0) throw sys_error(diff + f);
    ::close(fd);
  }
  if (::symlink("/proc/mounts", (diff + "/etc/mtab").c_str()) != 0 && errno != EEXIST) throw sys_error(diff + "/etc/mtab");
}

RootfsBuilder::RootfsBuilder(const OverlayLayout& image) : image_(image) {
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock_) != 0) throw sys_error("socketpair");
  thread_ = std::thread([this] { work(); });
}

void RootfsBuilder::finish(const OverlayLayout& rootfs) {
  std::lock_guard<std::mutex> lock(mu_);
  layout_ = rootfs;
  state_ = kGo;
  cv_.notify_one();
}

RootfsBuilder::~RootfsBuilder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == kWaiting) state_ = kCancelled;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : sock_)
    if (fd >= 0) ::close(fd);
}

void RootfsBuilder::work() {
  // A working directory of its own: overlay_mount_fd changes it for a moment.
  bool own_fs = ::unshare(CLONE_FS) == 0;
  auto image_of = [](const OverlayLayout& l) {
    bool dirs = l.lower_dirs.size() == l.lower_links.size();
    OverlayLayout image{l.overlay_root, {l.lower_links.begin() + 1, l.lower_links.end()}, {}, "", ""};
    if (dirs) image.lower_dirs.assign(l.lower_dirs.begin() + 1, l.lower_dirs.end());
    return image;
  };
  int img = -1;
  try {
    if (own_fs && image_.lower_dirs.size() >= kMaxOverlayLowers) img = overlay_mount_fd(image_, MS_RDONLY | MS_NODEV);
  } catch (const Error&) {
    img = -1;
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return state_ != kWaiting; });
    if (state_ == kCancelled) {
      if (img >= 0) ::close(img);
      return;
    }
  }
  int fd = -1;
  try {
    const OverlayLayout& l = layout_;
    if (own_fs && l.lower_links.size() > kMaxOverlayLowers) {
      // As in Child::run: the image's layers as an overlay of their own, below the -init layer.
      OverlayLayout image = image_of(l);
      if (img >= 0 && image.lower_dirs != image_.lower_dirs) {
        ::close(img);  // not the layers this container got
        img = -1;
      }
      if (img < 0) img = overlay_mount_fd(image, MS_RDONLY | MS_NODEV);
      OverlayLayout top{l.overlay_root, {l.lower_links[0]}, {}, l.upper, l.work};
      if (l.lower_dirs.size() == l.lower_links.size()) top.lower_dirs = {l.lower_dirs[0]};
      if (img >= 0) fd = overlay_mount_fd(top, MS_NODEV, img);
    } else if (own_fs) {
      fd = overlay_mount_fd(l, MS_NODEV);
    }
  } catch (const Error&) {
    fd = -1;  // the child mounts it itself and reports the error
  }
  if (img >= 0) ::close(img);
  // With a few layers a lookup costs microseconds: warming would only take CPU from the child.
  constexpr size_t kWarmFrom = 32;
  if (send_fd(sock_[0], fd >= 0 ? 'F' : 'E', fd, MSG_NOSIGNAL) < 0 || fd < 0 || layout_.lower_links.size() < kWarmFrom) {
    if (fd >= 0) ::close(fd);
    return;
  }
  // Warm the overlay's dentry cache from the end of the child's list (setup mount points, bind
  // targets, the user lookup, the usual PATH), never leaving the new root or following a link.
  for (const char* p : {"bin", "etc/group", "etc/passwd", "etc/resolv.conf", "etc/hosts", "etc/hostname", "etc",
                        "dev", "sys", "proc"}) {
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    int f = static_cast<int>(syscall(SYS_openat2, fd, p, &how, sizeof how));
    if (f >= 0) ::close(f);
  }
  ::close(fd);
}

void MountNamespaceHold::hold(pid_t pid) {
  if (fd_ >= 0) return;
  fd_ = ::open(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
}

void MountNamespaceHold::release() {
  if (fd_ < 0 || thread_.joinable()) return;
  int fd = fd_;
  fd_ = -1;
  thread_ = std::thread([fd] { ::close(fd); });  // the unmounting runs as this close returns
}

MountNamespaceHold::~MountNamespaceHold() {
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

int run_container(const ContainerSpec& spec, const std::function<void(pid_t)>& on_start,
                  MountNamespaceHold* mntns) {
  if (spec.argv.empty()) throw Error("no command specified");
  capability_set(spec.privileged, spec.cap_add, spec.cap_drop);  // validate before cloning
  int errp[2];
  if (::pipe2(errp, O_CLOEXEC) != 0) throw sys_error("pipe");
  int sock[2] = {-1, -1};
  if (spec.tty && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) != 0) throw sys_error("socketpair");
  unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
  if (spec.network_none) flags |= CLONE_NEWNET;
  std::fflush(stdout);
  std::fflush(stderr);
  long pid;
  if (!spec.init) {
    // Like posix_spawn: the child shares minirun's memory on a stack of its own and minirun's
    // calling thread sleeps until the child's execve (or _exit). No page tables are copied and
    // the child takes no copy-on-write faults. The one thing that may run beside the child in
    // the shared memory is a RootfsBuilder thread (deep images): it touches only its own
    // members and the heap, whose locks are shared like everything else. With --init the child
    // stays as pid 1 and never execs: it gets its own copy of the memory.
    constexpr size_t kStack = 1 << 20;
    void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) throw sys_error("child stack");
    ChildStart start{&spec, errp, sock};
    pid = ::clone(child_main, static_cast<char*>(stack) + kStack, static_cast<int>(flags | CLONE_VM | CLONE_VFORK),
                  &start);
    int e = errno;
    ::munmap(stack, kStack);
    errno = e;
  } else {
    pid = syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0);
    if (pid == 0) {
      ChildStart start{&spec, errp, sock};
      child_main(&start);
    }
  }
  if (pid < 0) throw sys_error("clone");
  if (mntns) mntns->hold(static_cast<pid_t>(pid));
  ::close(errp[1]);
  if (sock[1] >= 0) ::close(sock[1]);
  g_child = static_cast<pid_t>(pid);
  struct sigaction sa = {};
  sa.sa_handler = forward;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  std::vector<int> sigs = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  if (spec.tty) sigs.push_back(SIGWINCH);
  for (int s : sigs) ::sigaction(s, &sa, nullptr);
  try {
    on_start(static_cast<pid_t>(pid));
  } catch (...) {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    throw;
  }
  if (spec.tty) {
    int master = receive_fd(sock[0]);
    ::close(sock[0]);
    if (master >= 0) {
      relay_tty(master);
      ::close(master);
    }
  }
  ChildError ce{};
  ssize_t n;
  do n = ::read(errp[0], &ce, sizeof ce);
  while (n < 0 && errno == EINTR);
  ::close(errp[0]);
  int st = 0;
  while (::waitpid(static_cast<pid_t>(pid), &st, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  if (n == static_cast<ssize_t>(sizeof ce)) throw Error(ce.msg, ce.code);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace minirun
