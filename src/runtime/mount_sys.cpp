// mount_sys.cpp — the real MountSys: each call straight to the kernel.
#include "minirun/runtime/mount_sys.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace minirun::runtime {

namespace {

class KernelMountSys final : public MountSys {
 public:
  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const void* data) override {
    return ::mount(source, target, fstype, flags, data);
  }
  int mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) override {
    return ::mknodat(dirfd, name, mode, dev);
  }
  int fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int flags) override {
    return ::fchownat(dirfd, name, uid, gid, flags);
  }
  int open_tree(int dirfd, const char* path, unsigned flags) override {
    return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
  }
  int mount_setattr(int dirfd, const char* path, unsigned flags, uint64_t attr_set) override {
    struct mount_attr attr = {};
    attr.attr_set = attr_set;
    return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr));
  }
  int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path, unsigned flags) override {
    return static_cast<int>(::syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags));
  }
  void mount_overlay(const OverlayLayout& layout, const std::string& target, unsigned long flags) override {
    minirun::mount_overlay(layout, target, flags);
  }
  int pivot_root(const char* new_root, const char* put_old) override {
    return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
  }
  int umount2(const char* target, int flags) override { return ::umount2(target, flags); }
  int chroot(const char* path) override { return ::chroot(path); }
  int chdir(const char* path) override { return ::chdir(path); }
  long fs_type(const char* path) override {
    struct statfs sf;
    return ::statfs(path, &sf) == 0 ? static_cast<long>(sf.f_type) : 0;
  }
};

}  // namespace

MountSys& real_mount_sys() {
  static KernelMountSys sys;
  return sys;
}

}  // namespace minirun::runtime
