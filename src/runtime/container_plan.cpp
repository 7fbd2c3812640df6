// container_plan.cpp — the container's setup decided from its spec, without a system call
// (plan_mount's stat of a bind's source aside, which tells a file from a directory).
#include "minirun/runtime/container_plan.h"

#include <sys/mount.h>

#include "minirun/runtime/devices.h"

namespace minirun::runtime {

SetupPlan plan_setup(const Spec& spec) {
  SetupPlan plan;
  plan.mounts = plan_mounts(spec.mounts);
  plan.devices = container_devices(spec.linux.devices);
  // A /dev mounted nodev cannot hold working nodes: bind the host's instead.
  for (const auto& m : plan.mounts)
    if (m.destination == "/dev") plan.devices_by_bind = (m.flags & MS_NODEV) != 0;
  if (spec.linux.find_namespace("user")) plan.devices_by_bind = true;  // no mknod in a user namespace
  if (spec.process) {
    plan.caps = capability_sets(spec.process->capabilities);
    plan.rlimits = resolve_rlimits(spec.process->rlimits);
  }
  // net.ipv4.ip_forward → /proc/sys/net/ipv4/ip_forward (the dots of the key only).
  for (const auto& [key, value] : spec.linux.sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); i++)
      if (path[i] == '.') path[i] = '/';
    plan.sysctl.emplace_back(path, value);
  }
  if (!spec.linux.rootfs_propagation.empty()) plan.root_propagation = propagation_flags(spec.linux.rootfs_propagation);
  return plan;
}

}  // namespace minirun::runtime
