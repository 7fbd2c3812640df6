// floor.c — the kernel's share of a default `minirun run --rm IMAGE /bin/true`, with nothing of
// minirun around it: no store, no records, no configuration, no checks, no error reporting.
//
// One run of this program makes what such a run makes, with the same system calls minirun's
// runtime ends up making (or cheaper ones): a group in each cgroup v1 hierarchy with Docker's
// device rules; a clone into new mount, pid, network, UTS and IPC namespaces; the overlay root;
// Docker's mounts (proc, /dev tmpfs, devpts, sysfs, mqueue, shm, the container's own
// /sys/fs/cgroup read-only, /etc/hostname, hosts and resolv.conf bound), real device nodes and
// /dev's links, Docker's read-only and masked paths; pivot_root; the host name; loopback up;
// Docker's seccomp filter (minirun's compiled program, from its store's cache) and capability
// set; execve. Then the wait and the removal of the groups and directories. bench/floor.sh times
// it beside minirun and the shell baseline: how much of a run is the kernel's, whatever the
// engine around it does.
//
// A measuring tool, not minirun: it does not check what it cannot afford to (a failed mount is
// reported, and the run exits 125, but no path is resolved safely). Run it only as bench/floor.sh
// does, on the benchmark's own image and scratch directory.
//
// usage: floor LOWERDIRS SCRATCH SECCOMP.bpf|bare   (bare: as `run --cgroups=disabled --security-opt
// seccomp=unconfined`: no groups, no filter, /dev nodev with the host's nodes bound; LOWERDIRS: overlay's lowerdir= value; SCRATCH
// holds etc/{hostname,hosts,resolv.conf} to bind and init/etc/ with the same names, empty)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* kCtl[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices", "blkio"};
enum { kNCtl = sizeof kCtl / sizeof kCtl[0] };
static const char* kDeviceRules[] = {"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                                     "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"};
// Docker's default capabilities (CAP_ numbers).
static const int kCaps[] = {0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31};

static char g_group[kNCtl][200];
static const char* g_lower;
static char g_dir[256];  // SCRATCH/<pid>
static const char* g_scratch;
static struct sock_fprog g_filter;
static int g_bare;

static void die(const char* what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  _exit(125);
}

static void write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) die(path);
  close(fd);
}

static void copy_file_value(const char* from, const char* to) {
  char buf[256];
  int fd = open(from, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (n < 0) die(from);
  close(fd);
  buf[n] = 0;
  write_file(to, buf);
}

static void mnt(const char* src, const char* dst, const char* type, unsigned long flags, const char* data) {
  if (mount(src, dst, type, flags, data) != 0) die(dst);
}

static void load_filter(const char* file) {
  // minirun's cache file: "MRSC", u32 key length, u32 flags, u32 count, the key, the instructions.
  static char data[1 << 20];
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, data, sizeof data);
  if (n < 16 || memcmp(data, "MRSC", 4) != 0) die(file);
  close(fd);
  uint32_t klen, count;
  memcpy(&klen, data + 4, 4);
  memcpy(&count, data + 12, 4);
  g_filter.len = (unsigned short)count;
  g_filter.filter = (struct sock_filter*)(data + 16 + klen);
}

static void make_groups(void) {
  char path[300];
  for (int i = 0; i < kNCtl; i++) {
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s/minirun", kCtl[i]);
    if (mkdir(path, 0755) == 0 && strcmp(kCtl[i], "cpuset") == 0) {
      copy_file_value("/sys/fs/cgroup/cpuset/cpuset.cpus", "/sys/fs/cgroup/cpuset/minirun/cpuset.cpus");
      copy_file_value("/sys/fs/cgroup/cpuset/cpuset.mems", "/sys/fs/cgroup/cpuset/minirun/cpuset.mems");
    }
    snprintf(g_group[i], sizeof g_group[i], "/sys/fs/cgroup/%s/minirun/floor-%d", kCtl[i], (int)getpid());
    if (mkdir(g_group[i], 0755) != 0) die(g_group[i]);
  }
  snprintf(path, sizeof path, "%s/cpuset.cpus", g_group[3]);
  copy_file_value("/sys/fs/cgroup/cpuset/minirun/cpuset.cpus", path);
  snprintf(path, sizeof path, "%s/cpuset.mems", g_group[3]);
  copy_file_value("/sys/fs/cgroup/cpuset/minirun/cpuset.mems", path);
  snprintf(path, sizeof path, "%s/devices.deny", g_group[6]);
  write_file(path, "a");
  snprintf(path, sizeof path, "%s/devices.allow", g_group[6]);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  for (size_t i = 0; i < sizeof kDeviceRules / sizeof kDeviceRules[0]; i++)
    if (write(fd, kDeviceRules[i], strlen(kDeviceRules[i])) < 0) die("devices.allow");
  close(fd);
}

static int child(void* arg) {
  (void)arg;
  char path[512], opts[4096];
  for (int i = 0; i < kNCtl && !g_bare; i++) {
    snprintf(path, sizeof path, "%.200s/tasks", g_group[i]);  // (tasks: see runtime/cgroups.cpp)
    write_file(path, "0");
  }
  mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  snprintf(path, sizeof path, "%s/merged", g_dir);
  // SCRATCH/init on top: the empty files /etc's binds land on (minirun's init layer).
  snprintf(opts, sizeof opts, "lowerdir=%s/init:%s,upperdir=%s/upper,workdir=%s/work", g_scratch, g_lower, g_dir, g_dir);
  mnt("overlay", path, "overlay", MS_NODEV, opts);
  if (chdir(path) != 0) die("chdir");
  mnt("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mnt("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME | (g_bare ? MS_NODEV : 0), "mode=755,size=65536k");
  mkdir("dev/pts", 0755);
  mnt("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  mnt("sysfs", "sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL);
  mkdir("dev/mqueue", 0755);
  mnt("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
  mkdir("dev/shm", 0755);
  mnt("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k");
  // The container's own groups at /sys/fs/cgroup: a tmpfs, each hierarchy's group bound read-only.
  if (!g_bare) mnt("tmpfs", "sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=755");
  for (int i = 0; i <= kNCtl && !g_bare; i++) {
    const char* name = i < kNCtl ? kCtl[i] : "systemd";
    const char* src = i < kNCtl ? g_group[i] : "/sys/fs/cgroup/systemd";
    snprintf(path, sizeof path, "sys/fs/cgroup/%s", name);
    mkdir(path, 0755);
    mnt(src, path, NULL, MS_BIND, NULL);
    mnt(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
  }
  for (const char* const* f = (const char* const[]){"hostname", "hosts", "resolv.conf", NULL}; *f; f++) {
    char src[300], dst[64];
    snprintf(src, sizeof src, "%s/etc/%s", g_scratch, *f);
    snprintf(dst, sizeof dst, "etc/%s", *f);
    mnt(src, dst, NULL, MS_BIND, NULL);
  }
  static const struct { const char* name; int major, minor; } nodes[] = {
      {"dev/null", 1, 3}, {"dev/zero", 1, 5}, {"dev/full", 1, 7}, {"dev/random", 1, 8}, {"dev/urandom", 1, 9}, {"dev/tty", 5, 0}};
  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
    if (!g_bare) {
      if (mknod(nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) != 0) die(nodes[i].name);
      continue;
    }
    int fd = open(nodes[i].name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) die(nodes[i].name);
    close(fd);
    char host[32];
    snprintf(host, sizeof host, "/%s", nodes[i].name);
    mnt(host, nodes[i].name, NULL, MS_BIND, NULL);
  }
  symlink("pts/ptmx", "dev/ptmx");
  symlink("/proc/self/fd", "dev/fd");
  symlink("/proc/self/fd/0", "dev/stdin");
  symlink("/proc/self/fd/1", "dev/stdout");
  symlink("/proc/self/fd/2", "dev/stderr");
  for (const char* const* p = (const char* const[]){"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger", NULL}; *p; p++) {
    if (access(*p, F_OK) != 0) continue;
    mnt(*p, *p, NULL, MS_BIND | MS_REC, NULL);
    mnt(NULL, *p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  }
  for (const char* const* p = (const char* const[]){"proc/asound", "proc/acpi", "proc/kcore", "proc/keys", "proc/latency_stats",
                                                    "proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi",
                                                    "sys/firmware", "sys/devices/virtual/powercap", NULL};
       *p; p++) {
    struct stat st;
    if (stat(*p, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) mnt("tmpfs", *p, "tmpfs", MS_RDONLY, NULL);
    else mnt("/dev/null", *p, NULL, MS_BIND, NULL);
  }
  if (syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) die("umount old root");
  if (chdir("/") != 0) die("chdir /");
  if (sethostname("floor", 5) != 0) die("sethostname");
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) die("lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die("lo up");
  close(s);
  uint64_t keep = 0;
  for (size_t i = 0; i < sizeof kCaps / sizeof kCaps[0]; i++) keep |= 1ULL << kCaps[i];
  for (int c = 0; c <= CAP_LAST_CAP; c++)
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) die("bounding set");
  if (!g_bare && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &g_filter) != 0) die("seccomp");
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {{(uint32_t)keep, (uint32_t)keep, 0}, {(uint32_t)(keep >> 32), (uint32_t)(keep >> 32), 0}};
  if (syscall(SYS_capset, &hdr, data) != 0) die("capset");
  char* argv[] = {"/bin/true", NULL};
  char* envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=floor", NULL};
  execve(argv[0], argv, envp);
  die("execve");
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: floor LOWERDIRS SCRATCH SECCOMP.bpf|bare\n");
    return 2;
  }
  g_lower = argv[1];
  g_scratch = argv[2];
  g_bare = strcmp(argv[3], "bare") == 0;
  if (!g_bare) load_filter(argv[3]);
  snprintf(g_dir, sizeof g_dir, "%s/%d", g_scratch, (int)getpid());
  char upper[300], work[300], merged[300], workwork[310];
  snprintf(upper, sizeof upper, "%s/upper", g_dir);
  snprintf(work, sizeof work, "%s/work", g_dir);
  snprintf(merged, sizeof merged, "%s/merged", g_dir);
  snprintf(workwork, sizeof workwork, "%s/work/work", g_dir);
  if (mkdir(g_dir, 0700) != 0 || mkdir(upper, 0755) != 0 || mkdir(work, 0700) != 0 || mkdir(merged, 0755) != 0) die(g_dir);
  if (!g_bare) make_groups();
  static char stack[1 << 16];
  pid_t pid = clone(child, stack + sizeof stack,
                    CLONE_VM | CLONE_VFORK | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, NULL);
  if (pid < 0) die("clone");
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  for (int i = 0; i < kNCtl && !g_bare; i++) rmdir(g_group[i]);
  rmdir(workwork);
  rmdir(work);
  rmdir(upper);
  rmdir(merged);
  rmdir(g_dir);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
