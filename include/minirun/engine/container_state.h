// container_state.h — container lifecycle on top of the store records: noticing containers
// whose minirun process died, and removing containers (killing them first with force).
#pragma once

#include <optional>
#include <string>

#include "minirun/store/store.h"

namespace minirun {

// The container's record; a "running" container whose minirun process is gone is marked
// exited (exit code 137 like a killed container, or its recorded code) and saved.
std::optional<ContainerRecord> refresh_container_state(const Store& store, const std::string& cid);

// Removes a container: refused while it runs unless force, which kills it first (SIGKILL to
// its init; the kernel then kills the rest of its pid namespace). Takes it off its network
// first (veth, published ports, lease: container_network.h).
void remove_container(Store& store, const std::string& cid, bool force);

}  // namespace minirun
