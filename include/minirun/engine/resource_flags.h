// resource_flags.h — Docker's `run` flags for limits, devices and ulimits → runtime::Resources,
// runtime::Device and runtime::Rlimit, with Docker's units, defaults and error messages
// (docker CLI's opts, go-units' RAMInBytes and ParseUlimit, the daemon's verifyPlatformContainerResources).
// Pure functions; the only system access is stat(2) of the device paths a flag names and, where
// a check needs the host, the HostInfo passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

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
// --ulimit name=soft[:hard] → {"RLIMIT_NOFILE", soft, hard}; -1 is unlimited.
runtime::Rlimit parse_ulimit(const std::string& s);
// Docker's default rlimits of a container: RLIMIT_NOFILE 1048576:1048576 (what a container
// under a stock docker.service shows; capped at the kernel's fs.nr_open).
std::vector<runtime::Rlimit> docker_default_rlimits();
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

// --device-read-bps /dev/sda:1mb (bps: RAMInBytes; iops: a plain number) → major:minor by stat.
runtime::ThrottleDevice parse_throttle_device(const std::string& s, bool iops);

}  // namespace minirun
