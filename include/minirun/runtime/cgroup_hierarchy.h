// cgroup_hierarchy.h — where the cgroup file systems are: cgroup v2 unified, v1 per controller,
// or the hybrid layout where every controller is v1 and the unified mount holds none (treated as
// v1, as runc does); read from mountinfo. And the v1 lines of a /proc/PID/cgroup.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace minirun::runtime {

// Where the cgroup file systems are.
struct CgroupHierarchy {
  enum class Mode { none, v1, v2 } mode = Mode::none;
  // v1: controller name ("memory", "cpu", "cpuacct", "name=systemd" is left out) → mount point.
  // Co-mounted controllers ("cpu,cpuacct") share one mount point.
  std::map<std::string, std::string> v1;
  // v2: the cgroup2 mount point (on v1/hybrid hosts, the unified mount if there is one: the
  // devices eBPF program can be attached there too).
  std::string v2_root;

  // The running system's layout (read once per process from /proc/self/mountinfo).
  static const CgroupHierarchy& host();
  // A layout read from a mountinfo text (tests).
  static CgroupHierarchy from_mountinfo(const std::string& mountinfo);
  // Only a cgroup2 tree at `root` (tests drive the v2 driver with a cgroup2 mount of their own).
  static CgroupHierarchy v2_at(const std::string& root);
  bool has_v1(const std::string& controller) const { return v1.count(controller) != 0; }
  // The file that lists a group's processes and takes one joining: "cgroup.procs" on v2, "tasks"
  // on v1 (where a single-threaded process joins through it without the global lock; cgroups.cpp).
  const char* procs_file() const { return mode == Mode::v2 ? "cgroup.procs" : "tasks"; }
};

// The v1 hierarchies of a /proc/<pid>/cgroup text: (directory name under /sys/fs/cgroup — the
// controllers as listed, "name=systemd" as "systemd" —, the controllers, the group's path).
// cgroup2's "0::…" line is left out. Pure.
struct ProcCgroupLine {
  std::string dir, controllers, path;
};
std::vector<ProcCgroupLine> parse_proc_cgroup_v1(const std::string& text);

}  // namespace minirun::runtime
