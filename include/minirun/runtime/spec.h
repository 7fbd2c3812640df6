// spec.h — the OCI runtime spec (runtime-spec 1.x config.json) as plain C++: the contract between
// the engine, which builds it from an image and flags, and the runtime, which executes it. Field
// names follow the spec (camelCase in JSON, snake_case here); defaults are the spec's. Reading and
// writing config.json is spec_json.h; what minirun adds for its own run path (the overlay it mounts
// in the container's mount namespace, a user name resolved inside the root) is in `Spec::minirun`
// and never written to config.json.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "minirun/runtime/overlay.h"

namespace minirun::runtime {

struct SeccompProgram;

struct ConsoleSize {
  unsigned height = 0, width = 0;
};

struct User {
  uint32_t uid = 0, gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE", …
  uint64_t soft = 0, hard = 0;
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;  // "CAP_CHOWN", …
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile, selinux_label;
};

struct Root {
  std::string path = "rootfs";  // relative to the bundle
  bool readonly = false;
};

struct Mount {
  std::string destination, type, source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args, env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  // prestart and createRuntime run in the runtime's namespaces once the container's mounts are
  // made, before pivot_root; createContainer in the container's namespaces at the same moment;
  // startContainer in the container after `start`, before the command; poststart and poststop in
  // the runtime's (runtime/container.cpp, child.cpp).
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
  bool empty() const {
    return prestart.empty() && create_runtime.empty() && create_container.empty() && start_container.empty() &&
           poststart.empty() && poststop.empty();
  }
  // Any hook that runs while the container is being set up (the runtime then waits for it).
  bool during_setup() const {
    return !prestart.empty() || !create_runtime.empty() || !create_container.empty() || !start_container.empty();
  }
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;  // join this one instead of creating a new one
};

struct IdMapping {
  uint32_t container_id = 0, host_id = 0, size = 0;
};

struct Device {
  std::string type;  // c, b, u, p
  std::string path;
  int64_t major = 0, minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid, gid;
};

struct DeviceRule {  // linux.resources.devices
  bool allow = false;
  std::string type;  // a, c, b ("" = a)
  std::optional<int64_t> major, minor;
  std::string access;  // rwm
};

struct MemoryResources {
  std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer, use_hierarchy;
};

struct CpuResources {
  std::optional<uint64_t> shares, period;
  std::optional<int64_t> quota, realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus, mems;
  std::optional<int64_t> idle;
};

struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};

struct BlockIoResources {
  std::optional<uint16_t> weight, leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps_device, throttle_write_bps_device, throttle_read_iops_device,
      throttle_write_iops_device;
};

struct HugepageLimit {
  std::string page_size;
  uint64_t limit = 0;
};

struct NetworkResources {
  std::optional<uint32_t> class_id;
  std::vector<std::pair<std::string, uint32_t>> priorities;  // interface name, priority
};

struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<int64_t> pids_limit;
  std::optional<BlockIoResources> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<NetworkResources> network;
  std::map<std::string, std::string> unified;  // cgroup v2 files, written as given
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0, value_two = 0;
  std::string op;  // SCMP_CMP_EQ, …
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, …
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_X86_64, …
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path, listener_metadata;
  std::vector<SeccompSyscall> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths, readonly_paths;
  std::string mount_label;
  std::optional<std::string> personality_domain;  // LINUX, LINUX32

  const Namespace* find_namespace(const std::string& type) const {
    for (const auto& n : namespaces)
      if (n.type == type) return &n;
    return nullptr;
  }
};

// What minirun's own `run` adds: never read from or written to config.json.
struct MinirunExtensions {
  // When set, root.path is this overlay's mount point: the runtime mounts it inside the
  // container's mount namespace (so it is never visible on the host) instead of using root.path
  // as a ready directory.
  std::optional<OverlayLayout> overlay;
  // A RootfsBuilder's child end: the finished overlay arrives on it as a detached mount.
  int rootfs_sock = -1;
  // "", "name", "uid", "name:group", "uid:gid": resolved through the container's /etc/passwd and
  // /etc/group after pivot_root (replaces process.user's uid, gid and additional gids).
  std::optional<std::string> user_name;
  // --init: pid 1 stays minirun's reaper and forwards signals to the command.
  bool init = false;
  // Without a terminal: stdin is /dev/null unless this is set (`run -i`).
  bool keep_stdin = true;
  // linux.seccomp already compiled (the engine's cache): used instead of compiling the profile.
  std::shared_ptr<const struct SeccompProgram> seccomp_program;
};

struct Spec {
  std::string oci_version = "1.2.0";
  std::optional<Process> process;
  Root root;
  std::string hostname, domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;
  MinirunExtensions minirun;
};

}  // namespace minirun::runtime
