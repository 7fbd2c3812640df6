// container_state.h — container lifecycle on top of the store records: noticing containers
// whose minirun process died, and removing containers (killing them first with force).
#pragma once

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
void recover_container_cgroups(const Store& store) noexcept;

// Removes a container: refused while it runs unless force, which kills it first (through its
// monitor, or SIGKILL to its init), waits until its runner is gone, then removes it. Takes it off
// its network first (veth, published ports, lease: container_network.h).
void remove_container(Store& store, const std::string& cid, bool force);

// The container's cgroup path (minirun/<id>, under the --cgroup-parent it ran with).
std::string container_cgroup_of(const ContainerRecord& rec);

// pause/unpause: freezes or thaws the container's cgroup (container_cgroup_path) and records
// "paused"/"running". Error(1) when it is not running/paused, or has no cgroup.
void set_container_paused(const Store& store, const std::string& cid, bool paused);

}  // namespace minirun
