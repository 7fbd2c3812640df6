// device_flags.h — Docker's device flags: --device (the node from the host's stat(2) and its
// access rule), --device-cgroup-rule, and the device rules of a non-privileged container, with the
// docker CLI's error messages.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "minirun/runtime/spec.h"

namespace minirun {

// "c 1:3 rwm", "a *:* m" → a rule (allow). Throws "invalid device cgroup format '<s>'".
runtime::DeviceRule parse_device_cgroup_rule(const std::string& s);
// The default rules of a non-privileged container (deny all first).
std::vector<runtime::DeviceRule> docker_default_device_rules();

struct DeviceMapping {
  std::string host_path, container_path, permissions = "rwm";
};
// --device /dev/X[:/dev/Y][:rwm]. Throws "invalid device specification: <s>", "bad mode
// specified: <mode>", "bad format for path: <path>".
DeviceMapping parse_device_flag(const std::string& s);
// The node and its rule, from stat(2) of host_path (following symlinks). Throws "error gathering
// device information while adding custom device \"<path>\": <reason>".
std::pair<runtime::Device, runtime::DeviceRule> device_from_mapping(const DeviceMapping& m);

}  // namespace minirun
