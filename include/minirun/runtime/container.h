// container.h — running a container: clone into new namespaces, mount the overlay and the
// runtime file systems, switch root, drop capabilities, exec the process; forward signals,
// relay a terminal, and report the exit status as the docker CLI does.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "minirun/runtime/overlay.h"

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
  int rootfs_sock = -1;  // RootfsBuilder::child_end(): the finished root file system arrives here
};

// Builds the container's root file system as a detached mount (overlay_mount_fd) on a thread of
// its own while minirun writes the container's records and clones the child, and sends it over
// a socket to the child, which only attaches it in its new mount namespace (move_mount). An image
// of more than 499 layers gets a read-only overlay of its own below the -init layer; the thread
// starts on it at construction, before the container's layers exist; finish() hands over the
// container's layout. After sending, for an image of many layers, the thread looks up, from the
// other end of the list, the names the child's setup resolves in the new root, so that on two
// CPUs the lookups through many layers run in parallel. Not with --init: the thread must not run while the child is a copy (a
// plain clone) of minirun's memory. The destructor joins the thread (call it before removing the
// container's layers).
class RootfsBuilder {
 public:
  // Worth a thread from this many lowers on: with a few layers the overlay is built in a fraction
  // of a millisecond, less than a hand-over between threads costs on a loaded machine.
  static constexpr size_t kMinLayers = 32;
  // image: the image's layers, nearest first, as lower_dirs ("<id>/diff") relative to overlay_root.
  explicit RootfsBuilder(const OverlayLayout& image);
  ~RootfsBuilder();
  RootfsBuilder(const RootfsBuilder&) = delete;
  RootfsBuilder& operator=(const RootfsBuilder&) = delete;
  void finish(const OverlayLayout& rootfs);
  int child_end() const { return sock_[1]; }

 private:
  void work();
  OverlayLayout image_, layout_;
  enum { kWaiting, kGo, kCancelled } state_ = kWaiting;
  std::mutex mu_;
  std::condition_variable cv_;
  int sock_[2] = {-1, -1};
  std::thread thread_;
};

// Writes state_dir/{hostname,hosts,resolv.conf}.
void write_state_files(const ContainerSpec& spec);

// What Docker's -init layer holds: mount points for /proc, /sys, /dev, /dev/pts, /dev/shm, empty
// /etc/hostname, /etc/hosts, /etc/resolv.conf, and /etc/mtab -> /proc/mounts.
void prepare_init_layer(const std::string& diff_dir);

// Capability numbers for names ("NET_ADMIN", "CAP_NET_ADMIN", "ALL"); Error on unknown names.
std::vector<int> capability_set(bool privileged, const std::vector<std::string>& add, const std::vector<std::string>& drop);

// Keeps a container's mount namespace after its last process exits, so that unmounting the
// container's file systems (the overlay: milliseconds with hundreds of layers; run uses it from
// RootfsBuilder::kMinLayers on) does not delay the exit status: release() drops it on a thread of its own while minirun records or removes the
// container, and the destructor waits for that thread: no mount of the container outlives the
// command.
class MountNamespaceHold {
 public:
  MountNamespaceHold() = default;
  ~MountNamespaceHold();
  MountNamespaceHold(const MountNamespaceHold&) = delete;
  MountNamespaceHold& operator=(const MountNamespaceHold&) = delete;
  void hold(pid_t pid);  // the namespace of pid, if it still has one
  void release();

 private:
  int fd_ = -1;
  std::thread thread_;
};

// Runs the container to completion. on_start(pid) runs in minirun once the container's first
// process exists (pid as the host sees it). Returns the command's exit status, or 128+signal.
// A failure before the command runs throws Error with Docker's code (125 setup, 126 cannot
// execute, 127 not found); the message comes from the child through a pipe.
// With mntns, the container's mount namespace is held there (MountNamespaceHold).
int run_container(const ContainerSpec& spec, const std::function<void(pid_t)>& on_start,
                  MountNamespaceHold* mntns = nullptr);

}  // namespace minirun
