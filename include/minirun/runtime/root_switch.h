// root_switch.h — the container's root as its first process makes it and moves into it: the
// mount namespace made private (before anything, so no mount reaches the host), the root mounted
// (the store's overlay — an image of more layers than the kernel stacks becomes an overlay of its
// own below the container's —, a detached mount the runtime built and sent, or the bundle's
// directory bound onto itself), then pivot_root with the old root detached; chroot on a ramfs
// host root, where pivot_root is impossible, and without a mount namespace of its own.
// Every call goes through MountSys (mount_sys.h), so unit tests check the sequence without root.
// Failures go through the ChildReporter (the child never throws).
#pragma once

#include <optional>
#include <string>

#include "minirun/runtime/child_report.h"
#include "minirun/runtime/mount_sys.h"
#include "minirun/runtime/overlay.h"

namespace minirun::runtime {

struct RootSetup {
  std::string root;                      // the root's mount point (absolute, in the host's view)
  bool own_mount_ns = true;              // false: the container shares a mount namespace: chroot only
  std::optional<OverlayLayout> overlay;  // the store's layers; nullopt: root is a directory bound onto itself
  int built_mount = -1;                  // a detached mount to attach at root instead (closed here)
  bool readonly = false;                 // the root remounted read-only after the switch
  unsigned long propagation = 0;         // MS_SHARED/MS_SLAVE/… for the new root, 0 to keep private
};

// The kernel's limit of stacked overlay lowers (OVL_MAX_STACK).
constexpr size_t kMaxOverlayLowers = 500;

// Step 2 and 3 of child.cpp: the namespace private, the root mounted at s.root.
void make_root(MountSys& sys, const ChildReporter& report, const RootSetup& s);

// Step 5: into the root. Returns true when that was a chroot in a namespace of its own (the
// ramfs fallback: the container then gets no CAP_SYS_CHROOT). The working directory is "/".
bool switch_root(MountSys& sys, const ChildReporter& report, const RootSetup& s);

}  // namespace minirun::runtime
