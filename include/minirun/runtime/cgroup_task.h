// cgroup_task.h — a container's cgroup made and removed beside the engine's own work.
//
// Making a group costs a directory per hierarchy, each with its control files (a few hundred
// microseconds of kernel time on a v1 host with eight hierarchies), and removing it as much
// again. Neither needs anything but the group's path, so a foreground `run` starts the creation
// on a thread as soon as the container has an ID and writes its records and layers meanwhile.
// Then either the runtime takes the group just before clone (take(): it applies the limits and
// the child joins by the files the thread opened), or it hands the limits over and clones at once
// (deliver()): the thread applies them while the child makes its mounts, and sends the child the
// files it joins by, with its /sys/fs/cgroup sources (v1), over a socket; the child waits for
// them before its cgroup mount, its hooks or its command, whichever comes first (child.cpp).
// After the exit the removal runs on a thread while the engine removes the container: after
// deliver(), the same thread, which has waited for it since (a sleeping thread starts at once; a
// new one, on this VM, only once the caller blocks: README "Speed"). The object's destructor
// waits for every thread, and removes a group that was made but never taken.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
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
  // The group, once made (and, after deliver(), its limits applied); rethrows the thread's
  // error. Once only.
  Cgroup take();
  // Before take(), instead of applying `res` itself: the thread applies it once the group is
  // made, then sends on `sock` (a SOCK_SEQPACKET socket it closes) one message: the bytes 1 and
  // T, then the v1 mount sources as "dir\0source\0" pairs, with the join files as SCM_RIGHTS
  // and, when T is 1, the container's whole v1 /sys/fs/cgroup after them as a detached mount
  // (made when `v1_tree_read_only` is given and the kernel can: make_cgroup_v1_tree); or the byte
  // 0 alone when making the group or applying the limits failed (take() rethrows why).
  void deliver(Resources res, int sock, std::optional<bool> v1_tree_read_only);
  // take()'s open_join_files() (the caller's to close) and v1_mount_sources(), as the thread
  // found them.
  std::vector<int> take_join_files();
  const std::vector<std::pair<std::string, std::string>>& mount_sources() const { return sources_; }
  // Removes `group` on a thread (errors are dropped: the next start's recovery retries): the
  // task's own after deliver(), else a new one.
  void destroy_later(Cgroup group);

 private:
  void join();
  void send(bool ok);
  std::string path_;
  std::thread thread_;
  std::optional<Cgroup> made_;
  std::vector<int> join_fds_;
  std::vector<std::pair<std::string, std::string>> sources_;
  std::exception_ptr error_;
  bool taken_ = false;
  // What the thread does once the group is made: wait (for deliver() or take()), then apply.
  std::mutex mu_;
  std::condition_variable cv_;
  enum class Next { wait, deliver, done } next_ = Next::wait;
  std::optional<Resources> res_;
  std::optional<bool> tree_ro_;
  int sock_ = -1;
  int tree_ = -1;
  bool sent_ = false;              // after deliver(): the message is sent, take() may return
  std::optional<Cgroup> doomed_;   // then: the group to remove on the same thread
  bool quit_ = false;
};

}  // namespace minirun::runtime
