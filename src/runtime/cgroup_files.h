// cgroup_files.h — internal to the cgroup modules: reading and writing control files, and the
// two drivers (cgroup_v1.cpp, cgroup_v2.cpp) behind runtime::Cgroup (cgroups.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "minirun/runtime/cgroups.h"

namespace minirun::runtime::cg {

// Writes `value` into dir/file (one write(2), as the kernel expects); throws
// "<dir>/<file>: write <value>: <error>".
void write(const std::string& dir, const std::string& file, const std::string& value);
// Each value by its own write(2) on one open file (devices.allow takes one rule per write).
void write_each(const std::string& dir, const std::string& file, const std::vector<std::string>& values);
// openat(2) of dir/file through a cached descriptor of dir (-1 with errno on failure).
int open_in(const std::string& dir, const std::string& file, int flags);
// The cached O_PATH descriptor of dir (-1 with errno when it cannot be opened). Not to be closed.
int dir_fd(const std::string& dir);
// Drops the cached descriptor of dir (before it is removed).
void forget_dir(const std::string& dir);
// Drops every cached descriptor (Cgroup::release_descriptors).
void forget_all_dirs();
// Like write, but a file that does not exist is skipped (returns false).
bool write_if_exists(const std::string& dir, const std::string& file, const std::string& value);
std::optional<std::string> read(const std::string& dir, const std::string& file);
// The first line of dir/file as a number ("max" and values ≥ 2^62 → nullopt).
std::optional<uint64_t> read_u64(const std::string& dir, const std::string& file);
// "key value" lines (memory.stat, cpu.stat, memory.events, oom_control): the value of `key`.
std::optional<uint64_t> read_keyed(const std::string& dir, const std::string& file, const std::string& key);
std::vector<pid_t> read_pids(const std::string& dir);
// Sleeps of 20 µs doubling up to 2 ms, for at most ~2 s in all: a kernel state change (a group
// emptying, a freeze) usually takes microseconds, sometimes a scheduler tick.
class Backoff {
 public:
  explicit Backoff(int total_ms = 2000)
      : deadline_(std::chrono::steady_clock::now() + std::chrono::milliseconds(total_ms)) {}
  bool wait();  // false once the time is up

 private:
  std::chrono::steady_clock::time_point deadline_;
  int step_us_ = 20;
};

// rmdir, retried while the kernel still reports the group busy (at most ~2 s).
void remove_dir(const std::string& dir);
// Waits until dir/cgroup.procs is empty (at most ~2 s); false on timeout.
bool wait_empty(const std::string& dir);

// Relative path components of a group path ("/minirun//x" → {"minirun", "x"}); rejects "..".
std::vector<std::string> split_path(const std::string& path);

namespace v1 {
// Directories of the group under each distinct mount point (co-mounted controllers once).
std::vector<std::string> dirs(const CgroupHierarchy& h, const std::string& rel);
// Creates the directories (cpuset groups get their parent's cpus and mems); returns those created.
std::vector<std::string> create(const CgroupHierarchy& h, const std::string& rel);
void apply(const CgroupHierarchy& h, const std::string& rel, const Resources& res);
CgroupStats stats(const CgroupHierarchy& h, const std::string& rel);
bool oom_killed(const CgroupHierarchy& h, const std::string& rel);
void freeze(const CgroupHierarchy& h, const std::string& rel, bool frozen);
}  // namespace v1

namespace v2 {
std::string dir(const CgroupHierarchy& h, const std::string& rel);
// Enables the controllers along the path and creates the directories; returns those created.
std::vector<std::string> create(const CgroupHierarchy& h, const std::string& rel);
void apply(const CgroupHierarchy& h, const std::string& rel, const Resources& res);
CgroupStats stats(const CgroupHierarchy& h, const std::string& rel);
bool oom_killed(const CgroupHierarchy& h, const std::string& rel);
void freeze(const CgroupHierarchy& h, const std::string& rel, bool frozen);
// cgroup.kill when the kernel has it (5.14); false if not.
bool kill_all(const CgroupHierarchy& h, const std::string& rel);
}  // namespace v2

}  // namespace minirun::runtime::cg
