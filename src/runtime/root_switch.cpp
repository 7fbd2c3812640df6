// root_switch.cpp — see root_switch.h.
#include "minirun/runtime/root_switch.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "minirun/util/error.h"

namespace minirun::runtime {

namespace {

void mnt(MountSys& sys, const ChildReporter& report, const char* src, const std::string& dst, const char* type,
         unsigned long flags, const std::string& what) {
  if (sys.mount(src, dst.c_str(), type, flags, nullptr) != 0) report.fail_errno("mount " + what);
}

}  // namespace

void make_root(MountSys& sys, const ChildReporter& report, const RootSetup& s) {
  if (!s.own_mount_ns) return;
  if (sys.mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) report.fail_errno("make / private");
  if (s.built_mount >= 0) {
    if (sys.move_mount(s.built_mount, "", AT_FDCWD, s.root.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
      report.fail_errno("attach the root file system at " + s.root);
    ::close(s.built_mount);
    return;
  }
  if (!s.overlay) {
    mnt(sys, report, s.root.c_str(), s.root, nullptr, MS_BIND | MS_REC, "root " + s.root);
    return;
  }
  try {
    OverlayLayout layout = *s.overlay;
    if (layout.lower_links.size() > kMaxOverlayLowers) {
      // The -init layer would make a 500-layer image one lower too many: the image's layers
      // become a read-only overlay of their own, and that the lower of the container's.
      std::string layer_dir = layout.upper.substr(0, layout.upper.rfind('/'));
      bool dirs = layout.lower_dirs.size() == layout.lower_links.size();
      OverlayLayout image{layout.overlay_root, {layout.lower_links.begin() + 1, layout.lower_links.end()}, {}, "", ""};
      if (dirs) image.lower_dirs.assign(layout.lower_dirs.begin() + 1, layout.lower_dirs.end());
      std::string image_dir = layer_dir + "/image";
      if (::mkdir(image_dir.c_str(), 0755) != 0 && errno != EEXIST) report.fail_errno(image_dir);
      sys.mount_overlay(image, image_dir, MS_RDONLY | MS_NODEV);
      // Relative to overlay_root like the other lowers (the store root may be relative).
      std::string image_rel = layer_dir.substr(layer_dir.rfind('/') + 1) + "/image";
      layout.lower_links = {layout.lower_links[0], image_rel};
      if (dirs) layout.lower_dirs = {layout.lower_dirs[0], image_rel};
    }
    sys.mount_overlay(layout, s.root, MS_NODEV);
  } catch (const Error& e) {
    report.fail(e.what());
  }
}

bool switch_root(MountSys& sys, const ChildReporter& report, const RootSetup& s) {
  if (!s.own_mount_ns) {
    // No mount namespace of its own: a chroot is all there is (as runc does).
    if (sys.chroot(s.root.c_str()) != 0 || sys.chdir("/") != 0) report.fail_errno("chroot " + s.root);
    return false;
  }
  bool chrooted = false;
  if (sys.chdir(s.root.c_str()) != 0) report.fail_errno("chdir " + s.root);
  if (sys.pivot_root(".", ".") == 0) {
    if (sys.umount2(".", MNT_DETACH) != 0) report.fail_errno("detach the old root");
    if (sys.chdir("/") != 0) report.fail_errno("chdir /");
  } else {
    int e = errno;
    long type = sys.fs_type("/");
    bool ramfs = type == static_cast<long>(RAMFS_MAGIC) || type == static_cast<long>(TMPFS_MAGIC);
    if (e != EINVAL || !ramfs) {
      errno = e;
      report.fail_errno("pivot_root");
    }
    // An initramfs root cannot be pivoted away from: move the new root over it and chroot.
    static const char warn[] = "minirun: warning: pivot_root is not possible on a ramfs root; using chroot (no CAP_SYS_CHROOT)\n";
    if (::write(2, warn, sizeof warn - 1) < 0) {
    }
    mnt(sys, report, ".", "/", nullptr, MS_MOVE, "move root");
    if (sys.chroot(".") != 0 || sys.chdir("/") != 0) report.fail_errno("chroot");
    chrooted = true;
  }
  if (s.readonly) mnt(sys, report, nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV, "read-only root");
  if (s.propagation) mnt(sys, report, nullptr, "/", nullptr, s.propagation, "root propagation");
  return chrooted;
}

}  // namespace minirun::runtime
