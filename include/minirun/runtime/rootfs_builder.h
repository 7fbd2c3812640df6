// rootfs_builder.h — for images of many layers: the container's overlay built as a detached mount
// on a thread while minirun writes its records and clones the child, and the container's mount
// namespace held so that its unmounting runs beside minirun's own bookkeeping.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "minirun/runtime/overlay.h"

namespace minirun {

// Builds the container's root file system as a detached mount (overlay_mount_fd) on a thread of
// its own while minirun writes the container's records and clones the child, and sends it over
// a socket to the child, which only attaches it in its new mount namespace (move_mount). An image
// of more than 499 layers gets a read-only overlay of its own below the -init layer; the thread
// starts on it at construction, before the container's layers exist; finish() hands over the
// container's layout. After sending, for an image of many layers, the thread looks up, from the
// other end of the list, the names the child's setup resolves in the new root, so that on two
// CPUs the lookups through many layers run in parallel. Not with --init: the thread must not run
// while the child is a copy (a plain clone) of minirun's memory. The destructor joins the thread (call it before removing the
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

}  // namespace minirun
