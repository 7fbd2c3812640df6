// mounts.h — the spec's `mounts`, parsed before clone into mount(2) flags and data (parsing can
// fail and throw there), then mounted by the container's process inside its new root, in order:
// bind/rbind (with a remount for ro, nosuid, …), proc, sysfs (a recursive bind of the host's /sys
// where the kernel refuses a new one), cgroup (v1: a read-only tmpfs with the process's own
// cgroup of each controller bound in; v2: cgroup2), and any other file system type by name.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "minirun/runtime/child_report.h"
#include "minirun/runtime/mount_sys.h"
#include "minirun/runtime/root_paths.h"
#include "minirun/runtime/spec.h"

namespace minirun::runtime {

using CgroupSources = std::vector<std::pair<std::string, std::string>>;  // (directory name, what to bind)

// A container's v1 /sys/fs/cgroup as the runtime's cgroup thread hands it over (cgroup_task.h):
// the whole tree made already as a detached mount (tree >= 0), or what to bind.
struct CgroupMount {
  CgroupSources sources;
  int tree = -1;
};

struct MountPlan {
  std::string destination, type, source, data;
  unsigned long flags = 0;        // MS_* of the mount itself
  unsigned long propagation = 0;  // MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE (+MS_REC)
  bool bind = false, recursive = false;
  bool source_is_dir = true;  // for binds: what to create as the mount point
  // cgroup on v1, when the runtime made the container's group: each hierarchy's directory name
  // and what to bind there (Cgroup::v1_mount_sources). Empty: the child reads /proc/self/cgroup.
  CgroupSources cgroup_sources;
};

// Error on an option minirun cannot honour (idmap) or a relative destination.
MountPlan plan_mount(const Mount& m);
std::vector<MountPlan> plan_mounts(const std::vector<Mount>& mounts);
// "rprivate" → MS_REC|MS_PRIVATE …; 0 for ""; Error on others.
unsigned long propagation_flags(const std::string& name);

// In the container's process: every planned mount below rp's root, each mount(2) through `sys`
// (mount_sys.h; the kernel's unless a test records them). Fails through `report`.
// `at_cgroup`, when given, runs before the first cgroup mount (the child joins its cgroup there
// when it had to wait for it, cgroup_task.h) and returns what the v1 mount is made of instead of
// the plan's sources, or nullptr. Such a mount comes after the others unless one of those lies
// over or under it.
void mount_all(const ChildReporter& report, RootPaths& rp, const std::vector<MountPlan>& plans,
               const std::function<const CgroupMount*()>& at_cgroup = nullptr,
               MountSys& sys = real_mount_sys());

// Outside the container (the runtime's cgroup thread): a v1 /sys/fs/cgroup made whole as a
// detached mount — a tmpfs (nosuid, nodev, noexec, mode 755) with each source's copy bound in
// (ro when asked) and the co-mounted controllers' symlinks — for the child to attach with one
// move_mount. -1 when this kernel cannot mount onto a detached tree (before 6.15: the child then
// binds each source itself) or anything else fails (the child's own attempt reports it).
int make_cgroup_v1_tree(const CgroupSources& sources, bool read_only) noexcept;

// The spec's masked paths (a read-only tmpfs on a directory, /dev/null on anything else) and
// read-only paths (a read-only bind onto itself); missing paths are skipped.
void mask_paths(const ChildReporter& report, RootPaths& rp, const std::vector<std::string>& masked,
                MountSys& sys = real_mount_sys());
void readonly_paths(const ChildReporter& report, RootPaths& rp, const std::vector<std::string>& readonly,
                    MountSys& sys = real_mount_sys());

}  // namespace minirun::runtime
