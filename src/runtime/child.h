// child.h — (private to src/runtime) everything the container's first process needs, prepared
// by the runtime before clone() so that the child only makes system calls, and the child's entry.
#pragma once

#include <sys/resource.h>

#include <string>
#include <utility>
#include <vector>

#include "minirun/runtime/capabilities.h"
#include "minirun/runtime/mounts.h"
#include "minirun/runtime/rlimits.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/runtime/spec.h"

namespace minirun::runtime {

struct ChildPlan {
  const Spec* spec = nullptr;
  std::string root;  // absolute: the directory that becomes "/"
  std::vector<MountPlan> mounts;
  std::vector<Device> devices;
  bool devices_by_bind = false;
  CapabilitySets caps;
  std::vector<ResolvedRlimit> rlimits;
  const SeccompProgram* seccomp = nullptr;  // installed last (before the capabilities go without no_new_privs)
  std::vector<std::pair<int, int>> join;  // (namespace fd, CLONE_NEW*) to setns, in order
  bool new_mount_ns = false, new_uts_ns = false, new_net_ns = false;
  bool own_mount_ns = false;  // new or joined: set up privately and pivot; else mounts land in the caller's
  int userns_wait = -1;
  bool cgroup_by_runtime = false;  // (a new user namespace) the runtime puts the process in its cgroup       // a new user namespace: wait here until the runtime has written the id maps
  bool new_cgroup_ns = false;  // unshared after joining the cgroup, so that it is the namespace's root
  unsigned long root_propagation = 0;
  std::vector<std::pair<std::string, std::string>> sysctl;  // /proc/sys/… path, value
  std::vector<std::string> cgroup_procs;  // cgroup files the child joins first (by "0": itself)
  std::vector<int> cgroup_fds;            // the same, opened by the runtime (Cgroup::open_join_files)
  // Or, while the runtime's thread still makes the group (cgroup_task.h deliver()): a socket on
  // which the join files and the v1 mount sources arrive; the child joins late, before its cgroup
  // mount, its hooks or its command, whichever is first.
  int cgroup_late = -1;
  std::vector<std::string> env;  // process.env (HOME added in the child when missing)

  int stdio[3] = {-1, -1, -1};  // dup'ed onto 0, 1, 2 when >= 0
  int report_fd = -1;     // ChildReporter's pipe
  int started_fd = -1;    // one byte written first: the child exists (on_created on a thread, container.cpp)
  int start_peer_fd = -1; // the start pipe's write end, closed first: the runtime's closing it ends the wait
  int tty_sock = -1;      // where the pty master goes (terminal)
  int start_fd = -1;      // create mode: the exec fifo (O_PATH) to open for writing, or a pipe to read
  bool start_is_fifo = false;
  bool pdeathsig = true;  // dies with the runtime (run, not create)
  int parent_pidfd = -1;  // the runtime's pidfd: a runtime killed before PR_SET_PDEATHSIG took is seen
  bool exec_mode = false; // `exec`: join a running container's namespaces; no root to set up
  // prestart/createRuntime hooks: once the mounts are made (before pivot_root) the child reports
  // "mounted" and waits here for one byte, written when the runtime has run them.
  int hooks_gate = -1;
  // createContainer/startContainer hooks: their state on stdin, without "pid" (the child's own,
  // as its namespace sees it, goes in first, as runc does).
  std::string create_container_state, start_container_state;
};

[[noreturn]] void child_main(const ChildPlan& plan);

}  // namespace minirun::runtime
