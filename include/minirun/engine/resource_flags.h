// resource_flags.h — Docker's `run` flags for limits, devices and ulimits → runtime::Resources,
// runtime::Device and runtime::Rlimit, with Docker's units, defaults and error messages
// (docker CLI's opts, go-units' RAMInBytes, the daemon's verifyPlatformContainerResources). The
// device and ulimit flags alone are device_flags.h and ulimit_flags.h; all of them at once here.
// Pure functions; the only system access is stat(2) of the device paths a flag names and, where
// a check needs the host, the HostInfo passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "minirun/engine/device_flags.h"
#include "minirun/engine/ulimit_flags.h"
#include "minirun/runtime/spec.h"

namespace minirun {

// The flags as given (absent = not given).
struct ResourceFlags {
  std::optional<std::string> memory, memory_swap, memory_reservation;
  bool oom_kill_disable = false;
  std::optional<std::string> cpus, cpu_shares, cpu_period, cpu_quota, cpuset_cpus, cpuset_mems;
  std::optional<std::string> pids_limit, blkio_weight;
  std::vector<std::string> device_read_bps, device_write_bps, device_read_iops, device_write_iops;
  std::vector<std::string> devices;              // --device
  std::vector<std::string> device_cgroup_rules;  // --device-cgroup-rule
  std::vector<std::string> ulimits;              // --ulimit
  bool privileged = false;
};

struct HostInfo {
  unsigned online_cpus = 0;      // 0: read from the system
  std::string cpuset_available;  // "" : read from the system (sched_getaffinity)
  bool swap_accounting = true;   // memory.memsw / memory.swap.max exist
};

struct ResourceSettings {
  runtime::Resources resources;
  std::vector<runtime::Device> devices;  // linux.devices (nodes to create in the container's /dev)
  std::vector<runtime::Rlimit> rlimits;  // process.rlimits
  std::vector<std::string> warnings;     // Docker's warnings ("WARNING: …"), printed by the CLI
};

// All flags at once, as `docker run` + dockerd do: memory-swap defaults to twice --memory (when
// swap accounting exists), --cpus becomes quota/period 100000, the device rules start with
// Docker's defaults (deny all, then mknod of anything, null, zero, full, random, urandom, tty,
// console, ptmx, pts, tun) and add each --device and --device-cgroup-rule; --privileged allows
// every device. Throws Error (exit 125) with Docker's message.
ResourceSettings resources_from_flags(const ResourceFlags& f, const HostInfo& host = {});

// --- the pieces, exposed for tests and for `update` ---

// go-units RAMInBytes: "64m", "1.5g", "512", "64MiB", "10 kb" (binary units). Throws "invalid size: '<s>'".
int64_t parse_ram_in_bytes(const std::string& s);
// --cpus: a decimal number of CPUs → nano CPUs. Throws "failed to parse <s> as a rational number".
int64_t parse_nano_cpus(const std::string& s);

// --device-read-bps /dev/sda:1mb (bps: RAMInBytes; iops: a plain number) → major:minor by stat.
runtime::ThrottleDevice parse_throttle_device(const std::string& s, bool iops);

}  // namespace minirun
