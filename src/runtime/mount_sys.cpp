// mount_sys.cpp — the real MountSys: each call straight to the kernel.
#include "minirun/runtime/mount_sys.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
};

}  // namespace

MountSys& real_mount_sys() {
  static KernelMountSys sys;
  return sys;
}

}  // namespace minirun::runtime
