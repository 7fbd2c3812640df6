// cgroups.h — a container's control group on either hierarchy (cgroup_hierarchy.h): creation
// with runtime::Resources applied, adding a process,
// statistics, OOM-kill detection from the memory events, freeze/thaw, destruction (every process
// killed, every directory removed) and the clean-up of groups left by a killed minirun.
//
// Paths are relative to the root of each hierarchy ("minirun/<id>"; a leading '/' is ignored):
// on v1 the same relative path exists under every mounted controller. Everything here runs in the
// parent (create + add_pid between clone and the child's exec); nothing is called after clone.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "minirun/runtime/cgroup_hierarchy.h"
#include "minirun/runtime/spec.h"

namespace minirun::runtime {

struct CgroupStats {
  uint64_t cpu_usage_ns = 0;            // total CPU time of the group's processes
  uint64_t memory_usage = 0;            // bytes charged, page cache included
  uint64_t memory_cache = 0;            // inactive file pages (Docker's stats subtract them)
  std::optional<uint64_t> memory_limit; // none: unlimited
  uint64_t pids_current = 0;
  std::optional<uint64_t> pids_limit;   // none: unlimited
  uint64_t blkio_read_bytes = 0, blkio_write_bytes = 0;
};

class Cgroup {
 public:
  // Creates the group (and its missing parents) under every hierarchy and applies `res`.
  // A group that already exists is reused (its limits are rewritten). On an error after the
  // first mkdir, whatever was created is removed again. Throws Error "cgroup <path>: …".
  static Cgroup create(const std::string& path, const Resources& res,
                       const CgroupHierarchy& h = CgroupHierarchy::host());
  // An existing group (stats, freeze, destroy of a container started earlier). Throws when the
  // group exists under none of the hierarchies.
  static Cgroup open(const std::string& path, const CgroupHierarchy& h = CgroupHierarchy::host());
  static bool exists(const std::string& path, const CgroupHierarchy& h = CgroupHierarchy::host());

  // Rewrites the limits (`update`). Devices rules replace the previous ones.
  void apply(const Resources& res);
  // Moves a process (and on v1 all its threads stay with it) into the group everywhere.
  void add_pid(pid_t pid);
  std::vector<pid_t> pids() const;
  CgroupStats stats() const;
  // True once the kernel's OOM killer killed a process of this group (memory events' oom_kill
  // counter; v1 memory.oom_control "oom_kill").
  bool oom_killed() const;
  // Freezes (true) or thaws every process; returns once the kernel reports the new state.
  void freeze(bool frozen);
  // SIGKILLs every process still inside (thawing a frozen group first), waits until the group is
  // empty (at most ~2 s), and removes the directories. Idempotent; throws if one stays busy.
  void destroy();

  // Closes the directory descriptors this process keeps while it makes and writes groups (each
  // control file is opened by its own name through them): a foreground run holds none while its
  // container runs.
  static void release_descriptors();

  const std::string& path() const { return path_; }
  CgroupHierarchy::Mode mode() const { return h_.mode; }
  // Directory of this group for a v1 controller ("" if not mounted), or the v2 directory.
  std::string dir(const std::string& controller = "") const;
  // The files a new single-threaded process writes "0" into to join the group: cgroup.procs on v2,
  // each hierarchy's tasks file on v1 (no global lock; see cgroups.cpp). The container's process
  // joins itself before its setup, so that nothing of it runs outside.
  std::vector<std::string> procs_files() const;
  // The same files opened for writing (O_CLOEXEC; the caller closes them): the runtime opens them
  // before clone, so that the child joins with a write each and no path walk.
  std::vector<int> open_join_files() const;
  // cgroup v1: what the container's /sys/fs/cgroup shows. Each hierarchy the calling process
  // belongs to (as its /proc/self/cgroup lists them; "name=systemd" as "systemd"), with the
  // directory to bind there: this group's own where it has one, else the caller's group. (Paths,
  // not descriptors: a bind's source must be in the container's new mount namespace.)
  std::vector<std::pair<std::string, std::string>> v1_mount_sources() const;

 private:
  Cgroup(std::string path, CgroupHierarchy h) : path_(std::move(path)), h_(std::move(h)) {}
  std::vector<std::string> all_dirs() const;  // unique directories, deepest mount order
  std::string path_;
  CgroupHierarchy h_;
};

// minirun's default group of a container: "minirun/<id>" (under --cgroup-parent when given).
std::string container_cgroup_path(const std::string& container_id, const std::string& parent = "minirun");

// Startup recovery: destroys every group under `parent` ("minirun") whose name is not in
// `live_ids` (containers whose process is still alive). Returns the names removed. Errors on
// one group are skipped (it is retried at the next start).
std::vector<std::string> cleanup_stale_cgroups(const std::set<std::string>& live_ids,
                                               const std::string& parent = "minirun",
                                               const CgroupHierarchy& h = CgroupHierarchy::host());

// --- translation helpers (pure; unit-tested) ---
// cgroup v2 cpu.weight from v1 shares (runc's formula: 2…262144 → 1…10000).
uint64_t cpu_shares_to_weight(uint64_t shares);
// cgroup v2 io.weight from blkio weight (10…1000 → 1…10000).
uint64_t blkio_weight_to_io_weight(uint64_t weight);
// A devices rule as the v1 devices.allow/deny line: "c 1:3 rwm", "a *:* rwm".
std::string device_rule_v1(const DeviceRule& r);

// The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program equivalent to the rules
// applied in order (the last matching rule wins; nothing matching denies). Exposed for tests.
struct BpfInsn {
  uint8_t code;
  uint8_t regs;  // dst:4 | src:4 (low nibble dst)
  int16_t off;
  int32_t imm;
};
std::vector<BpfInsn> device_filter_program(const std::vector<DeviceRule>& rules);
// Loads the program and attaches it to the cgroup2 directory (replacing a program minirun
// attached before). Throws Error.
void attach_device_filter(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules);

}  // namespace minirun::runtime
