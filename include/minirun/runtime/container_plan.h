// container_plan.h — what the runtime decides from a spec for the container's setup, before
// clone() and apart from any system call: the mounts to make (mounts.h), the device nodes and
// whether they are bound from the host (a nodev /dev, a user namespace: devices.h), the
// capability sets, the rlimits, the sysctl files with their values, the root's propagation.
// container.cpp hands it to the child (child.h), which only carries it out; unit tests check it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "minirun/runtime/capabilities.h"
#include "minirun/runtime/mounts.h"
#include "minirun/runtime/rlimits.h"
#include "minirun/runtime/spec.h"

namespace minirun::runtime {

struct SetupPlan {
  std::vector<MountPlan> mounts;
  std::vector<Device> devices;
  bool devices_by_bind = false;  // /dev is mounted nodev, or the container has a user namespace
  CapabilitySets caps;
  std::vector<ResolvedRlimit> rlimits;
  std::vector<std::pair<std::string, std::string>> sysctl;  // /proc/sys/… path, value
  unsigned long root_propagation = 0;                      // MS_* of linux.rootfsPropagation
};

// Throws Error on what the spec asks that the runtime cannot do (an unknown capability, rlimit or
// propagation, a relative mount destination, a bind without a source, …).
SetupPlan plan_setup(const Spec& spec);

}  // namespace minirun::runtime
