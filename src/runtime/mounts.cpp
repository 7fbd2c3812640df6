// mounts.cpp — mounting the spec's list inside the new root. Every destination is resolved in
// the root (root_paths.h) and mounted through /proc/self/fd/N; a bind's extra flags (ro, nosuid,
// nodev, noexec) take a second, remounting call, as the kernel ignores them on MS_BIND (the
// container's /sys/fs/cgroup on v1, nine of them on every run, takes the newer calls instead).
#include "minirun/runtime/mounts.h"

#include "minirun/runtime/cgroups.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "minirun/util/error.h"

namespace minirun::runtime {

namespace {

struct Opt {
  unsigned long set, clear;
};

const std::map<std::string, Opt>& option_table() {
  static const std::map<std::string, Opt> t = {
      {"ro", {MS_RDONLY, 0}},          {"rw", {0, MS_RDONLY}},           {"nosuid", {MS_NOSUID, 0}},
      {"suid", {0, MS_NOSUID}},        {"nodev", {MS_NODEV, 0}},         {"dev", {0, MS_NODEV}},
      {"noexec", {MS_NOEXEC, 0}},      {"exec", {0, MS_NOEXEC}},         {"sync", {MS_SYNCHRONOUS, 0}},
      {"async", {0, MS_SYNCHRONOUS}},  {"dirsync", {MS_DIRSYNC, 0}},     {"remount", {MS_REMOUNT, 0}},
      {"mand", {MS_MANDLOCK, 0}},      {"nomand", {0, MS_MANDLOCK}},     {"atime", {0, MS_NOATIME}},
      {"noatime", {MS_NOATIME, 0}},    {"diratime", {0, MS_NODIRATIME}}, {"nodiratime", {MS_NODIRATIME, 0}},
      {"relatime", {MS_RELATIME, 0}},  {"norelatime", {0, MS_RELATIME}}, {"strictatime", {MS_STRICTATIME, 0}},
      {"nostrictatime", {0, MS_STRICTATIME}}, {"silent", {MS_SILENT, 0}}, {"loud", {0, MS_SILENT}},
      {"iversion", {MS_I_VERSION, 0}}, {"noiversion", {0, MS_I_VERSION}}, {"lazytime", {MS_LAZYTIME, 0}},
      {"nolazytime", {0, MS_LAZYTIME}}, {"defaults", {0, 0}}};
  return t;
}

constexpr unsigned long kBindRemountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                            MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

std::string errstr(const std::string& what) { return what + ": " + strerror(errno); }

void do_mount(MountSys& sys, const ChildReporter& report, const char* src, const std::string& dst, const char* type,
              unsigned long flags, const char* data, const std::string& what) {
  if (sys.mount(src, dst.c_str(), type, flags, data) != 0) report.fail(errstr("mount " + what));
}

// A detached copy of src (recursive) with nosuid, nodev, noexec and ro (when asked) set before it
// is attached at dfd/name: open_tree, mount_setattr, move_mount — three calls, no path looked up
// twice. Returns the call that failed (errno is its error), or none. For the child (attach_copy)
// and the cgroup thread (make_cgroup_v1_tree) alike.
enum class CopyStep { none, open_tree, mount_setattr, move_mount };
CopyStep copy_mount(MountSys& sys, int dfd, const std::string& name, const std::string& src, bool ro) noexcept {
  int tree = sys.open_tree(AT_FDCWD, src.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return CopyStep::open_tree;
  const uint64_t attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | (ro ? MOUNT_ATTR_RDONLY : 0);
  CopyStep failed = CopyStep::none;
  if (sys.mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, attr) != 0)
    failed = CopyStep::mount_setattr;
  else if (sys.move_mount(tree, "", dfd, name.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    failed = CopyStep::move_mount;
  int e = errno;
  ::close(tree);
  errno = e;
  return failed;
}

// copy_mount in the child: false when this kernel lacks open_tree or mount_setattr (nothing done).
bool attach_copy(MountSys& sys, const ChildReporter& report, int dfd, const std::string& name, const std::string& src,
                 unsigned long ro, const std::string& what) {
  CopyStep failed = copy_mount(sys, dfd, name, src, ro != 0);
  if (failed == CopyStep::none) return true;
  if (failed != CopyStep::move_mount && (errno == ENOSYS || errno == EINVAL)) return false;
  report.fail_errno("mount " + what + (failed == CopyStep::open_tree ? " (" + src + ")" : ""));
}

// cpu,cpuacct mounted together: the usual symlink for each name, beside the directory.
void link_comounted(int dfd, const std::string& dir) noexcept {
  if (dir.find(',') == std::string::npos) return;
  for (size_t b = 0, e; b <= dir.size(); b = e + 1) {
    e = dir.find(',', b);
    if (e == std::string::npos) e = dir.size();
    ::symlinkat(dir.c_str(), dfd, dir.substr(b, e - b).c_str());
  }
}

// cgroup v1 (every controller its own hierarchy, as on this kind of host): a tmpfs with each
// controller's directory of this process's own cgroup bound in (read-only as asked), as runc.
void mount_cgroup_v1(MountSys& sys, const ChildReporter& report, RootPaths& rp, const MountPlan& p,
                     const std::string& at, const CgroupMount* ready) {
  if (ready && ready->tree >= 0) {
    // (`at` is a /proc/self/fd/N link: followed only when asked)
    if (sys.move_mount(ready->tree, "", AT_FDCWD, at.c_str(), MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) != 0)
      report.fail_errno("mount " + p.destination);
    return;
  }
  do_mount(sys, report, "tmpfs", at, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", p.destination);
  CgroupSources binds;
  if (ready && !ready->sources.empty()) {
    binds = ready->sources;
  } else if (!p.cgroup_sources.empty()) {
    binds = p.cgroup_sources;
  } else {
    std::ifstream in("/proc/self/cgroup");
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& l : parse_proc_cgroup_v1(text.str())) {
      std::string host = "/sys/fs/cgroup/" + l.dir;
      struct stat st;
      if (::stat(host.c_str(), &st) != 0) continue;
      std::string src = host + l.path;
      if (::stat(src.c_str(), &st) != 0) src = host;
      binds.emplace_back(l.dir, src);
    }
  }
  // Each directory as a detached copy with its flags set before it is attached (open_tree,
  // mount_setattr, move_mount: three calls, no path looked up twice), into directories made
  // relative to the fresh tmpfs, which only this process has written to. A kernel without these
  // calls (before 5.12) takes a bind + remount from then on.
  int tfd = openat2_in_root(rp.root(), p.destination, O_PATH | O_DIRECTORY);
  if (tfd < 0) report.fail_errno(p.destination);
  const unsigned long ro = p.flags & MS_RDONLY;
  bool new_calls = true;
  for (const auto& [dir, src] : binds) {
    const std::string where = p.destination + "/" + dir;
    if (::mkdirat(tfd, dir.c_str(), 0755) != 0 && errno != EEXIST) report.fail_errno(where);
    new_calls = new_calls && attach_copy(sys, report, tfd, dir, src, ro, where);
    if (!new_calls) {
      std::string dst = rp.point(where, true);
      if (dst.empty()) report.fail_errno(where);
      do_mount(sys, report, src.c_str(), dst, nullptr, MS_BIND | MS_REC, nullptr, where);
      do_mount(sys, report, nullptr, rp.existing(where), nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | ro,
               nullptr, where);
    }
    link_comounted(tfd, dir);
  }
  ::close(tfd);
  // The tmpfs itself stays writable, as runc leaves it (Docker's containers on v1 show it so).
}

}  // namespace

int make_cgroup_v1_tree(const CgroupSources& sources, bool read_only) noexcept {
  int fs = static_cast<int>(::syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
  if (fs < 0) return -1;
  int tmp = -1;
  if (::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) == 0 &&
      ::syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "755", 0) == 0 &&
      ::syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0)
    tmp = static_cast<int>(::syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  ::close(fs);
  if (tmp < 0) return -1;
  for (const auto& [dir, src] : sources) {
    if (::mkdirat(tmp, dir.c_str(), 0755) != 0 || copy_mount(real_mount_sys(), tmp, dir, src, read_only) != CopyStep::none) {
      ::close(tmp);
      return -1;
    }
    link_comounted(tmp, dir);
  }
  return tmp;
}

namespace {

bool cgroup2_host() {
  struct stat st;
  return ::stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
}

// A propagation's flags, or 0 for a word that names none.
unsigned long propagation_of(const std::string& n) {
  if (n == "private") return MS_PRIVATE;
  if (n == "rprivate") return MS_REC | MS_PRIVATE;
  if (n == "shared") return MS_SHARED;
  if (n == "rshared") return MS_REC | MS_SHARED;
  if (n == "slave") return MS_SLAVE;
  if (n == "rslave") return MS_REC | MS_SLAVE;
  if (n == "unbindable") return MS_UNBINDABLE;
  if (n == "runbindable") return MS_REC | MS_UNBINDABLE;
  return 0;
}

}  // namespace

unsigned long propagation_flags(const std::string& n) {
  if (n.empty()) return 0;
  if (unsigned long f = propagation_of(n)) return f;
  throw Error("unknown mount propagation \"" + n + "\"");
}

MountPlan plan_mount(const Mount& m) {
  if (m.destination.empty() || m.destination[0] != '/')
    throw Error("mount destination \"" + m.destination + "\" is not an absolute path");
  MountPlan p;
  p.destination = m.destination;
  p.type = m.type;
  p.source = m.source;
  std::string data;
  for (const auto& o : m.options) {
    if (o == "bind" || o == "rbind") {
      p.bind = true;
      p.recursive = p.recursive || o == "rbind";
      continue;
    }
    if (o == "idmap" || o == "ridmap") throw Error("mount " + m.destination + ": idmapped mounts are not supported");
    if (o == "tmpcopyup") continue;  // nothing to copy up from: minirun's roots start empty there
    auto it = option_table().find(o);
    if (it != option_table().end()) {
      p.flags = (p.flags | it->second.set) & ~it->second.clear;
      continue;
    }
    // (Not through propagation_flags: a throw per file-system option, mode=755 and the like, cost
    // every run about 10 µs each, eight of them.)
    if (unsigned long prop = propagation_of(o)) {
      p.propagation = prop;
      continue;
    }
    data += (data.empty() ? "" : ",") + o;
  }
  if (m.type == "bind") p.bind = true;
  p.data = data;
  if (p.bind) {
    if (p.source.empty()) throw Error("bind mount " + m.destination + " has no source");
    struct stat st;
    if (::stat(p.source.c_str(), &st) != 0) throw sys_error("mount source " + p.source);
    p.source_is_dir = S_ISDIR(st.st_mode);
  }
  return p;
}

std::vector<MountPlan> plan_mounts(const std::vector<Mount>& mounts) {
  std::vector<MountPlan> out;
  out.reserve(mounts.size());
  for (const auto& m : mounts) out.push_back(plan_mount(m));
  return out;
}

namespace {

// Whether one path is the other or lies below it (a mount at one covers or is covered by the other).
bool overlapping(const std::string& a, const std::string& b) {
  auto under = [](const std::string& x, const std::string& parent) {
    return x.size() > parent.size() && x.compare(0, parent.size(), parent) == 0 &&
           (parent.back() == '/' || x[parent.size()] == '/');
  };
  return a == b || under(a, b) || under(b, a);
}

}  // namespace

void mount_all(const ChildReporter& report, RootPaths& rp, const std::vector<MountPlan>& plans,
               const std::function<const CgroupMount*()>& at_cgroup, MountSys& sys) {
  const CgroupMount* ready = nullptr;
  bool cgroup_ready = !at_cgroup;
  auto mount_one = [&](const MountPlan& p) {
    std::string at = rp.point(p.destination, !p.bind || p.source_is_dir);
    if (at.empty()) report.fail_errno("mount point " + p.destination);
    unsigned long flags = p.flags & ~MS_REMOUNT;
    if (p.bind) {
      do_mount(sys, report, p.source.c_str(), at, nullptr, MS_BIND | (p.recursive ? MS_REC : 0), nullptr,
               p.destination);
      if (flags & kBindRemountFlags)
        do_mount(sys, report, nullptr, rp.existing(p.destination), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr,
                 p.destination + " (" + p.source + ")");
    } else if (p.type == "sysfs") {
      if (sys.mount("sysfs", at.c_str(), "sysfs", flags, p.data.empty() ? nullptr : p.data.c_str()) != 0) {
        // A network namespace minirun did not create (or none): bind the host's /sys instead.
        do_mount(sys, report, "/sys", at, nullptr, MS_BIND | MS_REC, nullptr, p.destination);
        do_mount(sys, report, nullptr, rp.existing(p.destination), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr,
                 p.destination);
      }
    } else if (p.type == "cgroup" || p.type == "cgroup2") {
      if (!cgroup_ready) {
        ready = at_cgroup();
        cgroup_ready = true;
      }
      if (cgroup2_host()) {
        if (sys.mount("cgroup2", at.c_str(), "cgroup2", flags, nullptr) != 0) {
          do_mount(sys, report, "/sys/fs/cgroup", at, nullptr, MS_BIND | MS_REC, nullptr, p.destination);
          do_mount(sys, report, nullptr, rp.existing(p.destination), nullptr, MS_BIND | MS_REMOUNT | flags, nullptr,
                   p.destination);
        }
      } else {
        mount_cgroup_v1(sys, report, rp, p, at, ready);
      }
    } else {
      const char* src = p.source.empty() ? p.type.c_str() : p.source.c_str();
      do_mount(sys, report, src, at, p.type.empty() ? nullptr : p.type.c_str(), flags,
               p.data.empty() ? nullptr : p.data.c_str(), p.destination);
    }
    if (p.propagation) do_mount(sys, report, nullptr, rp.existing(p.destination), nullptr, p.propagation, nullptr,
                                p.destination + " propagation");
  };
  // A cgroup mount that waits for the container's group (at_cgroup) comes last when nothing after
  // it in the list mounts over or under it: the other mounts are made while the group is.
  std::vector<const MountPlan*> last;
  for (size_t i = 0; i < plans.size(); i++) {
    const auto& p = plans[i];
    bool defer = at_cgroup && (p.type == "cgroup" || p.type == "cgroup2");
    for (size_t j = i + 1; defer && j < plans.size(); j++) defer = !overlapping(p.destination, plans[j].destination);
    if (defer) last.push_back(&p);
    else mount_one(p);
  }
  for (const auto* p : last) mount_one(*p);
}

void mask_paths(const ChildReporter& report, RootPaths& rp, const std::vector<std::string>& masked, MountSys& sys) {
  // The container's own /dev/null when it has one (as runc), else the host's.
  std::string null = rp.existing("/dev/null");
  if (null.empty()) null = "/dev/null";
  for (const auto& p : masked) {
    std::string at = rp.existing(p);
    if (at.empty()) continue;
    struct stat st;
    if (::fstat(rp.last_fd(), &st) != 0) continue;  // the O_PATH fd itself, not a walk through /proc
    if (S_ISDIR(st.st_mode)) do_mount(sys, report, "tmpfs", at, "tmpfs", MS_RDONLY, nullptr, "masking " + p);
    else do_mount(sys, report, null.c_str(), at, nullptr, MS_BIND, nullptr, "masking " + p);
  }
}

void readonly_paths(const ChildReporter& report, RootPaths& rp, const std::vector<std::string>& readonly,
                    MountSys& sys) {
  for (const auto& p : readonly) {
    std::string at = rp.existing(p);
    if (at.empty()) continue;
    do_mount(sys, report, at.c_str(), at, nullptr, MS_BIND | MS_REC, nullptr, "read-only " + p);
    // Remount through a fresh lookup: the old fd still names the mount below the bind.
    do_mount(sys, report, nullptr, rp.existing(p), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
             nullptr, "read-only " + p);
  }
}

}  // namespace minirun::runtime
