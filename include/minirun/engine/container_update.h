// container_update.h — `update`: new limits for an existing container, as `docker update`. Only
// the limits given change; the record keeps the merged set (a later start applies them), and a
// running or paused container's cgroup gets them at once.
#pragma once

#include <string>
#include <vector>

#include "minirun/engine/resource_flags.h"
#include "minirun/runtime/spec.h"
#include "minirun/store/store.h"

namespace minirun {

// The container's limits with the given flags merged in (pure; Docker's checks and messages:
// "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the
// same time", the run checks for each value). Device and ulimit flags are not update's: refused.
runtime::Resources merge_resource_update(const runtime::Resources& current, const ResourceFlags& changes,
                                         const HostInfo& host = {});

// Merges, records, and applies to the running container's cgroup (Error 1 with the kernel's
// reason when it refuses a value, e.g. a memory limit below what the container uses: the record
// is then left as it was).
void update_container(const Store& store, const std::string& cid, const ResourceFlags& changes);

}  // namespace minirun
