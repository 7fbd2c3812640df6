// container.h — running a container: clone into new namespaces, mount the overlay and the
// runtime file systems, switch root, drop capabilities, exec the process; forward signals,
// relay a terminal, and report the exit status as the docker CLI does.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "minirun/overlay.h"

namespace minirun {

struct BindMount {
  std::string source, target;
  bool readonly = false;
};

struct ContainerSpec {
  std::string id, hostname;
  OverlayLayout rootfs;    // lowers: the container's -init layer first, then the image's
  std::string state_dir;   // holds hostname, hosts, resolv.conf (write_state_files)
  std::vector<std::string> argv, env;  // merged (process.h); finish_env adds the defaults
  std::string user, workdir;
  std::vector<BindMount> binds;
  bool read_only = false, network_none = false, init = false, interactive = false, tty = false,
       privileged = false, no_new_privileges = false;
  std::vector<std::string> cap_add, cap_drop;
};

// Writes state_dir/{hostname,hosts,resolv.conf}.
void write_state_files(const ContainerSpec& spec);

// What Docker's -init layer holds: mount points for /proc, /sys, /dev, /dev/pts, /dev/shm, empty
// /etc/hostname, /etc/hosts, /etc/resolv.conf, and /etc/mtab -> /proc/mounts.
void prepare_init_layer(const std::string& diff_dir);

// Capability numbers for names ("NET_ADMIN", "CAP_NET_ADMIN", "ALL"); Error on unknown names.
std::vector<int> capability_set(bool privileged, const std::vector<std::string>& add, const std::vector<std::string>& drop);

// Runs the container to completion. on_start(pid) runs in minirun once the container's first
// process exists (pid as the host sees it). Returns the command's exit status, or 128+signal.
// A failure before the command runs throws Error with Docker's code (125 setup, 126 cannot
// execute, 127 not found); the message comes from the child through a pipe.
int run_container(const ContainerSpec& spec, const std::function<void(pid_t)>& on_start);

}  // namespace minirun
