#include "minirun/runtime/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

namespace minirun::runtime {

std::vector<Device> container_devices(const std::vector<Device>& extra) {
  std::vector<Device> out;
  for (auto [name, maj, min] : {std::tuple{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8},
                                {"urandom", 1, 9}, {"tty", 5, 0}}) {
    Device d;
    d.type = "c";
    d.path = std::string("/dev/") + name;
    d.major = maj;
    d.minor = min;
    d.file_mode = 0666;
    d.uid = 0;
    d.gid = 0;
    out.push_back(d);
  }
  for (const auto& d : extra) {
    bool replaced = false;
    for (auto& o : out)
      if (o.path == d.path) {
        o = d;
        replaced = true;
      }
    if (!replaced) out.push_back(d);
  }
  return out;
}

std::string host_device_name(bool block, int64_t major, int64_t minor) {
  // /sys/dev/{block,char}/MAJ:MIN/uevent has DEVNAME=<the node's path under devtmpfs>.
  std::string p = std::string("/sys/dev/") + (block ? "block/" : "char/") + std::to_string(major) + ":" +
                  std::to_string(minor) + "/uevent";
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  auto at = s.find("DEVNAME=");
  if (at == std::string::npos) return "";
  std::string name = s.substr(at + 8, s.find('\n', at) - at - 8);
  if (name.empty() || name.find("..") != std::string::npos || name[0] == '/') return "";
  return name;
}

void create_devices(const ChildReporter& report, RootPaths& rp, const std::vector<Device>& devices, bool by_bind,
                    MountSys& sys) {
  // The directory of the previous node stays open for the next one in it (all of /dev's, usually).
  std::string open_parent;
  int dfd = -1;
  for (const auto& d : devices) {
    mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
    dev_t rdev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    mode_t perm = d.file_mode ? (*d.file_mode & 07777) : 0666;
    std::string path = d.path;
    size_t slash = path.rfind('/');
    std::string parent = slash == 0 ? "/" : path.substr(0, slash), base = path.substr(slash + 1);
    if (dfd < 0 || parent != open_parent) {
      if (dfd >= 0) ::close(dfd);
      if (rp.point(parent, true).empty()) report.fail_errno("device directory " + parent);
      dfd = openat2_in_root(rp.root(), parent, O_RDONLY | O_DIRECTORY);
      if (dfd < 0) report.fail_errno("device directory " + parent);
      open_parent = parent;
    }
    ::unlinkat(dfd, base.c_str(), 0);
    if (by_bind && type != S_IFIFO) {
      // The host's node with the same number; a bind keeps the host devtmpfs's (dev) flags.
      // The same name under /dev first, else the kernel's name for the number (--device
      // /dev/ram0:/dev/disk puts the host's ram0 at the container's /dev/disk).
      struct stat st;
      auto same = [&](const std::string& p) {
        return ::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == type && st.st_rdev == rdev;
      };
      std::string host = path.rfind("/dev/", 0) == 0 ? "/dev/" + path.substr(5) : "";
      if (host.empty() || !same(host)) {
        std::string kname = host_device_name(type == S_IFBLK, d.major, d.minor);
        if (!kname.empty() && same("/dev/" + kname)) host = "/dev/" + kname;
      }
      if (host.empty() || !same(host)) {
        if (host.empty()) host = path;
        report.fail("device " + path + ": the host has no " + (type == S_IFBLK ? "block" : "character") +
                    " device " + std::to_string(d.major) + ":" + std::to_string(d.minor) + " at " + host +
                    " to bind, and /dev does not allow device nodes");
      }
      int f = ::openat(dfd, base.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
      if (f < 0) report.fail_errno("/dev/" + base);
      ::close(f);
      std::string at = "/proc/self/fd/" + std::to_string(dfd) + "/" + base;
      if (sys.mount(host.c_str(), at.c_str(), nullptr, MS_BIND, nullptr) != 0) report.fail_errno("mount " + host);
    } else {
      if (sys.mknodat(dfd, base.c_str(), type | perm, rdev) != 0) report.fail_errno("mknod " + path);
      ::fchmodat(dfd, base.c_str(), perm, 0);
      // (Made by root outside a user namespace, where mknod runs: 0:0 already unless the spec
      // asks for other owners.)
      if ((d.uid.value_or(0) != 0 || d.gid.value_or(0) != 0) &&
          sys.fchownat(dfd, base.c_str(), d.uid.value_or(0), d.gid.value_or(0), AT_SYMLINK_NOFOLLOW) != 0)
        report.fail_errno("chown " + path);
    }
  }
  int dev = dfd >= 0 && open_parent == "/dev" ? dfd : openat2_in_root(rp.root(), "/dev", O_RDONLY | O_DIRECTORY);
  if (dev != dfd && dfd >= 0) ::close(dfd);
  if (dev < 0) return;
  // /dev/ptmx: the devpts instance's own, when one is mounted at /dev/pts.
  struct stat st;
  if (::fstatat(dev, "pts/ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0) {
    ::unlinkat(dev, "ptmx", 0);
    ::symlinkat("pts/ptmx", dev, "ptmx");
  }
  for (auto [target, name] : {std::pair{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
                              {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}})
    ::symlinkat(target, dev, name);
  if (::stat("/proc/kcore", &st) == 0) ::symlinkat("/proc/kcore", dev, "core");
  ::close(dev);
}

}  // namespace minirun::runtime
