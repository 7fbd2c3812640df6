// cgroup_task.h — a container's cgroup made and removed beside the engine's own work.
//
// Making a group costs a directory per hierarchy, each with its control files (a few hundred
// microseconds of kernel time on a v1 host with eight hierarchies), and removing it as much
// again. Neither needs anything but the group's path, so a foreground `run` starts the creation
// on a thread as soon as the container has an ID, writes its records and layers meanwhile, and
// the runtime takes the group (and applies the limits) just before clone; the thread also opens
// the files the child joins by and finds the sources of the container's /sys/fs/cgroup (v1); after the exit the
// removal runs on a thread while the engine removes the container. The object's destructor waits
// for both, and removes a group that was made but never taken.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "minirun/runtime/cgroups.h"

namespace minirun::runtime {

class CgroupTask {
 public:
  // Starts making the group at `path` (no limits yet) on a thread.
  explicit CgroupTask(std::string path);
  ~CgroupTask();
  CgroupTask(const CgroupTask&) = delete;
  CgroupTask& operator=(const CgroupTask&) = delete;

  const std::string& path() const { return path_; }
  // The group, once made; rethrows the creation's error. Once only.
  Cgroup take();
  // After take(): the group's Cgroup::open_join_files() (the caller's to close) and
  // v1_mount_sources(), as the thread found them.
  std::vector<int> take_join_files();
  const std::vector<std::pair<std::string, std::string>>& mount_sources() const { return sources_; }
  // Removes `group` on a thread (errors are dropped: the next start's recovery retries).
  void destroy_later(Cgroup group);

 private:
  void join();
  std::string path_;
  std::thread thread_;
  std::optional<Cgroup> made_;
  std::vector<int> join_fds_;
  std::vector<std::pair<std::string, std::string>> sources_;
  std::exception_ptr error_;
  bool taken_ = false;
};

}  // namespace minirun::runtime
