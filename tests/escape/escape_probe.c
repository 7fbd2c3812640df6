/* escape_probe.c — a static program run as root inside a minirun container (default
 * capabilities, as Docker's) that tries the well-known ways out. Each attempt prints one line,
 * "contained: ..." or "ESCAPED: ...", and the exit status is the number of escapes.
 *
 * Usage: escape_probe HOST_MARKER [MAJOR:MINOR ...]
 *   HOST_MARKER   an absolute path that exists on the host only; seeing it means we got out
 *   MAJOR:MINOR   block devices of the host to try through mknod (e.g. its root disk)
 *
 * Attempts: the chroot(); chdir("..") walk, the same through a file descriptor kept open across
 * chroot, remounting /proc/sys (and /sys) read-write, unmounting the masks, a fresh proc mount,
 * writing /proc/sys and /proc/sysrq-trigger (with an invalid key, harmless if it got through),
 * mknod of the host's disks (and /dev/mem) in /dev, /tmp and /dev/shm then reading them,
 * reading /proc/kcore, whether kcore and the other masked /proc files are masked,
 * open_by_handle_at on the root ("shocker"), loading a kernel module, and the host marker
 * through /proc/1/root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int escapes;

static void result(int escaped, const char *what, const char *detail) {
  if (escaped) escapes++;
  printf("%s: %s%s%s\n", escaped ? "ESCAPED" : "contained", what, detail[0] ? " — " : "", detail);
  fflush(stdout);
}

static const char *err(int rc) { return rc == 0 ? "succeeded" : strerror(errno); }

static int file_exists(const char *p) {
  struct stat st;
  return lstat(p, &st) == 0;
}

/* The classic: chroot into a subdirectory while the cwd stays outside, walk up, chroot there. */
static void chroot_walk(const char *marker) {
  mkdir("/tmp/.probe-jail", 0700);
  int rootfd = open("/", O_RDONLY | O_DIRECTORY);
  if (chroot("/tmp/.probe-jail") != 0) {
    result(0, "chroot escape", strerror(errno));
    return;
  }
  for (int i = 0; i < 256; i++) (void)chdir("..");
  (void)chroot(".");
  int seen = file_exists(marker);
  result(seen, "chroot(); chdir(\"..\") walk", seen ? "host marker visible" : "host marker not visible");
  /* The same walk from a directory fd opened before the chroot. */
  if (rootfd >= 0 && fchdir(rootfd) == 0) {
    for (int i = 0; i < 256; i++) (void)chdir("..");
    (void)chroot(".");
    seen = file_exists(marker);
    result(seen, "fchdir(saved fd); chdir(\"..\") walk", seen ? "host marker visible" : "host marker not visible");
  }
  (void)chdir("/");
}

static void mounts(void) {
  int rc = mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL);
  result(rc == 0, "remount /proc/sys read-write", err(rc));
  rc = mount(NULL, "/sys", NULL, MS_REMOUNT, NULL);
  result(rc == 0, "remount /sys read-write", err(rc));
  rc = umount2("/proc/sys", MNT_DETACH);
  result(rc == 0, "unmount the read-only /proc/sys", err(rc));
  rc = umount2("/proc/kcore", MNT_DETACH);
  result(rc == 0, "unmount the /proc/kcore mask", err(rc));
  mkdir("/tmp/.probe-proc", 0700);
  rc = mount("proc", "/tmp/.probe-proc", "proc", 0, NULL);
  result(rc == 0, "mount a fresh proc", err(rc));
  if (rc == 0) umount2("/tmp/.probe-proc", MNT_DETACH);
  int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
  int wrote = fd >= 0 && write(fd, "1", 1) == 1;
  result(wrote, "write /proc/sys/vm/drop_caches", wrote ? "written" : strerror(errno));
  if (fd >= 0) close(fd);
  /* An invalid sysrq key: harmless even if the write got through. */
  fd = open("/proc/sysrq-trigger", O_WRONLY);
  wrote = fd >= 0 && write(fd, "_", 1) == 1;
  result(wrote, "write /proc/sysrq-trigger", wrote ? "written" : strerror(errno));
  if (fd >= 0) close(fd);
}

/* mknod of a device and then reading it: mknod itself may succeed (Docker keeps CAP_MKNOD). */
static void try_device(const char *dir, mode_t type, unsigned maj, unsigned min) {
  char path[256], what[300];
  snprintf(path, sizeof path, "%s/.probe-dev-%u-%u", dir, maj, min);
  snprintf(what, sizeof what, "mknod %s %c %u:%u and read it", path, S_ISBLK(type) ? 'b' : 'c', maj, min);
  unlink(path);
  char detail[128];
  if (mknod(path, type | 0600, makedev(maj, min)) != 0) {
    snprintf(detail, sizeof detail, "mknod: %s", strerror(errno));
    result(0, what, detail);
    return;
  }
  int fd = open(path, O_RDONLY);
  char buf[512];
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  snprintf(detail, sizeof detail, "%s%s", n > 0 ? "read device data" : fd < 0 ? "open: " : "read: ",
           n > 0 ? "" : strerror(errno));
  result(n > 0, what, detail);
  if (fd >= 0) close(fd);
  unlink(path);
}

static void devices(int argc, char **argv) {
  const char *dirs[] = {"/dev", "/tmp", "/dev/shm"};
  for (int d = 0; d < 3; d++) {
    for (int i = 2; i < argc; i++) {
      unsigned maj, min;
      if (sscanf(argv[i], "%u:%u", &maj, &min) == 2) try_device(dirs[d], S_IFBLK, maj, min);
    }
    try_device(dirs[d], S_IFCHR, 1, 1); /* /dev/mem */
  }
}

static void kernel(const char *marker) {
  int fd = open("/proc/kcore", O_RDONLY);
  char buf[64];
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  result(n > 0, "read /proc/kcore", n > 0 ? "read kernel memory" : n == 0 ? "empty" : strerror(errno));
  if (fd >= 0) close(fd);
  /* Without CAP_SYS_RAWIO the read above fails anyway: the /dev/null masks must be there too,
   * on kcore and on the files that leak host information (absent ones need none). */
  const char *masked[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats"};
  for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
    struct stat st;
    char what[64];
    snprintf(what, sizeof what, "%s is masked", masked[i]);
    int exists = stat(masked[i], &st) == 0, unmasked = exists && !S_ISCHR(st.st_mode);
    result(unmasked, what, !exists ? "absent" : unmasked ? "the kernel's file, not the /dev/null mask" : "a /dev/null bind");
  }

  /* "shocker": a file handle for the root of the file system the container lives on. */
  struct {
    struct file_handle fh;
    unsigned char data[MAX_HANDLE_SZ];
  } h;
  h.fh.handle_bytes = MAX_HANDLE_SZ;
  int mount_id;
  if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) == 0) {
    int rc = open_by_handle_at(open("/", O_RDONLY), &h.fh, O_RDONLY);
    result(rc >= 0, "open_by_handle_at", rc >= 0 ? "opened a file by handle" : strerror(errno));
    if (rc >= 0) close(rc);
  } else {
    result(0, "open_by_handle_at", strerror(errno));
  }

  /* The capability check comes first: any error but EPERM (or ENOSYS) means it passed. */
  long rc = syscall(SYS_finit_module, 0, "", 0);
  result(rc == 0 || (errno != EPERM && errno != ENOSYS), "finit_module", rc == 0 ? "succeeded" : strerror(errno));

  /* /proc/1 must be the container's own init, whose root is the container's. */
  char p[4096];
  snprintf(p, sizeof p, "/proc/1/root%s", marker);
  int seen = file_exists(p);
  result(seen, "/proc/1/root", seen ? "host marker visible" : "host marker not visible");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: escape_probe HOST_MARKER [MAJOR:MINOR ...]\n");
    return 100;
  }
  if (file_exists(argv[1])) {
    printf("ESCAPED: host marker visible before any attempt\n");
    return 101;
  }
  chroot_walk(argv[1]);
  mounts();
  devices(argc, argv);
  kernel(argv[1]);
  printf("%d escape(s)\n", escapes);
  return escapes;
}
