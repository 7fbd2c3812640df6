// devices.h — the container's device nodes: the six every container gets (null, zero, full,
// random, urandom, tty), then linux.devices, and the /dev symlinks (fd, stdin, stdout, stderr,
// ptmx, core). On a /dev that allows devices they are created with mknod; on a nodev /dev
// (minirun's default without a devices cgroup, or any spec that asks for it) each is a bind mount
// of the host's node, which keeps the host devtmpfs's flags. Run in the container's process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "minirun/runtime/child_report.h"
#include "minirun/runtime/mount_sys.h"
#include "minirun/runtime/root_paths.h"
#include "minirun/runtime/spec.h"

namespace minirun::runtime {

// The runtime-spec's default devices followed by `extra` (a later path replaces an earlier one).
std::vector<Device> container_devices(const std::vector<Device>& extra);

// The kernel's name of a device number under devtmpfs ("ram0", "dri/card0"), from sysfs; "" when
// the number has none. Nodes are bound from "/dev/" + that name when the container's path is
// another (--device /dev/ram0:/dev/disk).
std::string host_device_name(bool block, int64_t major, int64_t minor);

// Each node by mknod (and chown when the spec gives owners) or, by_bind, a bind mount of the host's
// node; through `sys` (mount_sys.h).
void create_devices(const ChildReporter& report, RootPaths& rp, const std::vector<Device>& devices, bool by_bind,
                    MountSys& sys = real_mount_sys());

}  // namespace minirun::runtime
