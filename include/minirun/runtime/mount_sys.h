// mount_sys.h — the seam between what the container's mounting decides (root_switch.h, mounts.h,
// devices.h: the root's overlay and the switch to it; which file system goes where, with which
// flags and data; which node to make; on cgroup v1, which group directory is copied where) and
// the system calls that carry it out. The runtime's child uses the real calls (real_mount_sys()); unit tests
// pass a recording fake (tests/support/recording_mount_sys.h) and check the calls without root.
// Paths and descriptors are those of the real call: targets are /proc/self/fd/N paths in the
// container's root (root_paths.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "minirun/runtime/overlay.h"

namespace minirun::runtime {

class MountSys {
 public:
  virtual ~MountSys() = default;
  // mount(2): 0, or -1 with errno.
  virtual int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
                    const void* data) = 0;
  // mknodat(2) and fchownat(2) of a device node: 0, or -1 with errno.
  virtual int mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) = 0;
  virtual int fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int flags) = 0;
  // The new mount API, as the system calls (-1 with errno on failure): open_tree(2) returns the
  // detached tree's descriptor; mount_setattr(2) sets attr_set (MOUNT_ATTR_*) on it; move_mount(2)
  // attaches it.
  virtual int open_tree(int dirfd, const char* path, unsigned flags) = 0;
  virtual int mount_setattr(int dirfd, const char* path, unsigned flags, uint64_t attr_set) = 0;
  virtual int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path,
                         unsigned flags) = 0;
  // An overlay of store layers at target (overlay.h's mount_overlay); throws Error as it does.
  virtual void mount_overlay(const OverlayLayout& layout, const std::string& target, unsigned long flags) = 0;
  // pivot_root(2), umount2(2), chroot(2), chdir(2): 0, or -1 with errno.
  virtual int pivot_root(const char* new_root, const char* put_old) = 0;
  virtual int umount2(const char* target, int flags) = 0;
  virtual int chroot(const char* path) = 0;
  virtual int chdir(const char* path) = 0;
  // The f_type statfs(2) gives for path (RAMFS_MAGIC, …), 0 when it fails.
  virtual long fs_type(const char* path) = 0;
};

// The kernel's calls.
MountSys& real_mount_sys();

}  // namespace minirun::runtime
