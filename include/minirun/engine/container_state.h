// container_state.h — container lifecycle on top of the store records: noticing containers
// whose minirun process died, and removing containers (killing them first with force).
#pragma once

#include <signal.h>

#include <optional>
#include <string>

#include "minirun/store/store.h"

namespace minirun {

// The container's record; a running, paused or restarting container whose minirun process (the
// foreground `run` or its monitor) is gone is marked exited (137, or its last code while it was
// restarting) with the reason in `error`, and saved. After a reboot every such container shows
// exited: its pid is then no minirun process.
// A container whose runner died while starting it (status created, the runner's pid recorded) is
// marked exited too: its cgroup may exist already.
std::optional<ContainerRecord> refresh_container_state(const Store& store, const std::string& cid);

// Start-up recovery of cgroups (every verb, beside the networks' in open_store): each group
// under the default parent `minirun` that belongs to a container of this store is refreshed as
// above, so that the group of a container whose minirun was killed goes at the next command,
// not only at its `ps`/`rm`. One readdir when no container runs; groups of other stores are left.
// A group with a process in it is passed over unread (its container's processes die with their
// minirun or monitor), so that a command costs one small read per running container, not the
// refresh of every record.
void recover_container_cgroups(const Store& store) noexcept;

// Removes a container: refused while it runs unless force, which kills it first (through its
// monitor, or SIGKILL to its init), waits until its runner is gone, then removes it. Takes it off
// its network first (veth, published ports, lease: container_network.h).
void remove_container(Store& store, const std::string& cid, bool force);

// pause/unpause: freezes or thaws the container's cgroup (container_cgroup_path) and records
// "paused"/"running". Error(1) when it is not running/paused, or has no cgroup.
void set_container_paused(const Store& store, const std::string& cid, bool paused);

// Running, paused or restarting: its process (or its monitor, between restarts) is there. Docker
// shows these as Running (inspect), and `ps` without -a lists them.
bool container_active(const ContainerRecord& rec);

// Whether the cgroup at `path` (container_cgroup's) exists on this host; false for "".
bool container_has_cgroup(const std::string& path);

// The container's cgroup as it was run (the record's "Cgroup", i.e. under its --cgroup-parent;
// records without it: <CgroupParent or minirun>/<id>); "" when it ran with --cgroups=disabled.
// exec joins it, stats reads it, pause freezes it.
std::string container_cgroup(const ContainerRecord& rec);

// `commit`'s pause (Docker's default, --pause=false skips it): freezes a running container for
// the guard's lifetime, recorded "paused" as by `pause`, and thaws it on destruction whatever
// happened meanwhile (an exception, the container's exit). Nothing when the container is not
// running (already paused: left paused) or has no cgroup (frozen() false). SIGINT, SIGTERM and
// SIGHUP are held while it is frozen: an interrupted commit thaws before it dies.
class ContainerPause {
 public:
  ContainerPause(const Store& store, const std::string& cid);
  ~ContainerPause();
  ContainerPause(const ContainerPause&) = delete;
  ContainerPause& operator=(const ContainerPause&) = delete;
  bool frozen() const { return frozen_; }

 private:
  const Store& store_;
  std::string cid_, cgroup_;
  bool frozen_ = false;
  bool masked_ = false;
  sigset_t old_mask_{};
};

}  // namespace minirun
