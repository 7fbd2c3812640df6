// seccomp_probe — a static program the root tests run under a seccomp filter: it tries the calls
// Docker's default profile is about (each in a child of its own, so that one call's effect, a new
// user namespace, cannot change the next) and prints one line per call: "<name> <ok|ERRNO>",
// then the Seccomp: line of /proc/self/status. Run under minirun's filter and under runc's with the
// same profile, the two outputs must be identical (tests/root/limits_root_test.cpp).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static const char* kNone = "/nonexistent-minirun-probe";
static long r(long rc) { return rc < 0 ? errno : 0; }

static long clone_flags(unsigned long flags) {
  long p = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (p == 0) _exit(0);
  if (p > 0) waitpid((pid_t)p, 0, 0);
  return r(p);
}

// Runs expr in a child of its own and prints its result.
#define P(name, expr)                                                   \
  do {                                                                  \
    int pp[2], e = -1;                                                  \
    if (pipe(pp) != 0) return 1;                                        \
    fflush(stdout);                                                     \
    pid_t g = fork();                                                   \
    if (g == 0) {                                                       \
      e = (int)(expr);                                                  \
      if (write(pp[1], &e, sizeof e) != sizeof e) _exit(1);             \
      _exit(0);                                                         \
    }                                                                   \
    close(pp[1]);                                                       \
    if (read(pp[0], &e, sizeof e) != sizeof e) e = -1;                  \
    close(pp[0]);                                                       \
    waitpid(g, 0, 0);                                                   \
    printf("%s %s\n", name, e == 0 ? "ok" : e < 0 ? "?" : strerrorname_np(e)); \
  } while (0)

int main(void) {
  P("unshare(CLONE_NEWUSER)", r(syscall(SYS_unshare, CLONE_NEWUSER)));
  P("unshare(CLONE_NEWNS)", r(syscall(SYS_unshare, CLONE_NEWNS)));
  P("clone(CLONE_NEWUSER)", clone_flags(CLONE_NEWUSER));
  P("clone3", r(syscall(SYS_clone3, NULL, 0)));
  P("keyctl", r(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)));
  P("add_key", r(syscall(SYS_add_key, "user", "minirun-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING)));
  P("request_key", r(syscall(SYS_request_key, "user", "minirun-probe-none", NULL, 0)));
  P("bpf", r(syscall(SYS_bpf, -1, NULL, 0)));
  P("userfaultfd", r(syscall(SYS_userfaultfd, ~0)));
  P("perf_event_open", r(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0)));
  P("kexec_load", r(syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL)));
  P("init_module", r(syscall(SYS_init_module, NULL, 0, "")));
  P("finit_module", r(syscall(SYS_finit_module, -1, "", 0)));
  P("delete_module", r(syscall(SYS_delete_module, "minirun_no_such_module", O_NONBLOCK)));
  P("swapon", r(syscall(SYS_swapon, kNone, 0)));
  P("swapoff", r(syscall(SYS_swapoff, kNone)));
  P("clock_settime", r(syscall(SYS_clock_settime, CLOCK_REALTIME, NULL)));
  P("settimeofday", r(syscall(SYS_settimeofday, NULL, NULL)));
  P("mount", r(syscall(SYS_mount, "none", kNone, "tmpfs", 0, NULL)));
  P("umount2", r(syscall(SYS_umount2, kNone, 0)));
  P("pivot_root", r(syscall(SYS_pivot_root, kNone, kNone)));
  P("setns", r(syscall(SYS_setns, -1, 0)));
  P("sethostname", r(syscall(SYS_sethostname, "x", 100000)));
  P("setdomainname", r(syscall(SYS_setdomainname, "x", 100000)));
  P("syslog", r(syscall(SYS_syslog, 10, NULL, 0)));
  P("reboot", r(syscall(SYS_reboot, 0, 0, 0, NULL)));
  P("acct", r(syscall(SYS_acct, "/nonexistent-minirun-probe/x")));
  P("open_by_handle_at", r(syscall(SYS_open_by_handle_at, -1, NULL, 0)));
  P("name_to_handle_at", r(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", NULL, NULL, 0)));
  P("personality(PER_BSD)", r(syscall(SYS_personality, 0x0006)));
  P("socket(AF_VSOCK)", r(syscall(SYS_socket, 40, SOCK_STREAM, 0)));
  P("iopl", r(syscall(SYS_iopl, 0)));
  P("set_mempolicy", r(syscall(SYS_set_mempolicy, 0, NULL, 0)));
  P("kcmp", r(syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0)));
  P("fsopen", r(syscall(SYS_fsopen, "minirun-nofs", 0)));
  P("fanotify_init", r(syscall(SYS_fanotify_init, 0, 0)));
  P("getpid", r(syscall(SYS_getpid)));
  P("clone(SIGCHLD)", clone_flags(0));
  P("chroot", r(syscall(SYS_chroot, kNone)));
  P("personality(query)", r(syscall(SYS_personality, 0xffffffffUL)));
  P("socket(AF_UNIX)", r(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0)));
  P("ptrace", r(syscall(SYS_ptrace, 0x7fff, 1, 0, 0)));
  P("mknodat", r(syscall(SYS_mknodat, AT_FDCWD, "/nonexistent-minirun-probe/x", S_IFIFO | 0600, 0)));
  P("io_uring_setup", r(syscall(SYS_io_uring_setup, 0, NULL)));
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Seccomp:", 8)) printf("%s", line);
  return 0;
}
