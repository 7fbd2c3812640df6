// container_spec.h — Docker's rules for a container, as a runtime::Spec: what `run`'s flags and
// the image config become (namespaces, Docker's default mounts, masked and read-only paths,
// capabilities, /etc/hostname|hosts|resolv.conf), and the files of a container's -init layer and
// state directory. The runtime executes the result; nothing here touches a process.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "minirun/runtime/spec.h"
#include "minirun/store/store.h"

namespace minirun {

struct BindMount {
  std::string source, target;
  bool readonly = false;
};

// What `run` asks for, already merged with the image config (process.h).
struct ContainerRequest {
  std::string id, hostname;
  std::vector<std::string> argv, env;  // env merged (merge_env); build_spec adds Docker's defaults
  std::string user, workdir;
  std::vector<BindMount> binds;
  // bridge (Docker's default) | none | host | container:<id> | a user-defined network's name
  // (container_network.h): every mode but host and container: gets a new network namespace.
  std::string network = "bridge";
  std::string network_ns_path;  // container:<id> — the namespace joined (/proc/<pid>/ns/net)
  bool read_only = false, init = false, interactive = false, tty = false, privileged = false,
       no_new_privileges = false;
  std::vector<std::string> cap_add, cap_drop;
  std::string state_dir;  // holds hostname, hosts, resolv.conf (write_state_files)
  // Limits, devices and ulimits (engine/resource_flags.h); the cgroup ("" = none,
  // --cgroups=disabled); the seccomp profile resolved for the container (none = unconfined;
  // `run` passes the compiled program from the store's cache instead, bundles the profile).
  std::optional<runtime::Resources> resources;
  std::vector<runtime::Device> devices;
  std::vector<runtime::Rlimit> rlimits;
  std::string cgroup_path;
  std::optional<runtime::Seccomp> seccomp;
  bool seccomp_unconfined = false;  // asked for (--security-opt seccomp=unconfined)
};

// Docker's capability set for a container: the 14 defaults, then --cap-drop, then --cap-add
// ("ALL" either way); every capability with --privileged. "CAP_…" names; Error on unknown ones.
std::vector<std::string> docker_capabilities(bool privileged, const std::vector<std::string>& add,
                                             const std::vector<std::string>& drop);

// The spec of a container whose root file system is mounted at root_path (the overlay to mount
// there goes in spec.minirun.overlay). Throws Error on a request Docker refuses.
runtime::Spec build_spec(const ContainerRequest& req, const std::string& root_path);

// What a stored container was run with, from its record's run options (ContainerRecord::config,
// as `run` writes it): the image's USER when none was given (image_user), the cgroup, its limits and
// ulimits, whether seccomp was lifted. state_dir is left to the caller.
ContainerRequest request_from_record(const ContainerRecord& rec, const std::string& image_user);

// Writes state_dir/{hostname,hosts,resolv.conf}.
void write_state_files(const ContainerRequest& req);

// What Docker's -init layer holds: mount points for /proc, /sys, /dev, /dev/pts, /dev/shm, empty
// /etc/hostname, /etc/hosts, /etc/resolv.conf, and /etc/mtab -> /proc/mounts.
void prepare_init_layer(const std::string& diff_dir);

}  // namespace minirun
