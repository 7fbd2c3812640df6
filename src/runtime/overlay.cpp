// overlay.cpp — overlay mounts of store layers.
//
// The new mount API (fsopen/fsconfig/fsmount/move_mount) with "lowerdir+" appends one lower per
// call and lifts the one-page limit of mount(2) option data; it exists from Linux 6.8. Older
// kernels take "lowerdir=l/A:l/B:…" relative to overlay2/ (26-character short links, like
// Docker), which fits about 137 layers in a page. Both pass index=off as Docker does, and both
// resolve relative names with overlay2/ as the working directory: the new API takes the layers
// as "<id>/diff" when the caller gives them (lower_dirs), which spares the kernel the store's
// prefix and a short link per layer.
#include "minirun/runtime/overlay.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "minirun/util/error.h"

namespace minirun {

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kMaxStack = 500;  // OVL_MAX_STACK

int sys_fsopen(const char* fs, unsigned flags) { return static_cast<int>(syscall(SYS_fsopen, fs, flags)); }
int sys_fsconfig(int fd, unsigned cmd, const char* key, const void* val, int aux) {
  return static_cast<int>(syscall(SYS_fsconfig, fd, cmd, key, val, aux));
}
int sys_fsmount(int fd, unsigned flags, unsigned attrs) { return static_cast<int>(syscall(SYS_fsmount, fd, flags, attrs)); }
int sys_move_mount(int from, const char* from_path, int to, const char* to_path, unsigned flags) {
  return static_cast<int>(syscall(SYS_move_mount, from, from_path, to, to_path, flags));
}

std::string kernel_release() {
  struct utsname u;
  uname(&u);
  return u.release;
}

// Relative to overlay_root when inside it (shorter mount data), else absolute.
std::string rel(const OverlayLayout& l, const std::string& p) {
  std::string prefix = l.overlay_root + "/";
  return p.rfind(prefix, 0) == 0 ? p.substr(prefix.size()) : p;
}

std::string legacy_data(const OverlayLayout& l) {
  std::string data = "lowerdir=";
  for (size_t i = 0; i < l.lower_links.size(); i++) data += (i ? ":" : "") + l.lower_links[i];
  if (!l.upper.empty()) data += ",upperdir=" + rel(l, l.upper) + ",workdir=" + rel(l, l.work);
  data += ",index=off";
  return data;
}

unsigned attrs_of(unsigned long flags) {
  unsigned a = 0;
  if (flags & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  return a;
}

// Whether overlay takes "lowerdir+" (Linux 6.8). Before 6.5 overlay has no fs_context of its
// own: fsconfig then accepts any key and only the final create fails, so ask the version.
bool has_lowerdir_plus() {
  static const bool yes = [] {
    int major = 0, minor = 0;
    return sscanf(kernel_release().c_str(), "%d.%d", &major, &minor) == 2 && (major > 6 || (major == 6 && minor >= 8));
  }();
  return yes;
}

// The working directory set to overlay_root for the relative names of the mount options, and
// restored on scope exit.
class InOverlayRoot {
 public:
  explicit InOverlayRoot(const std::string& root) : cwd_(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) {
    if (::chdir(root.c_str()) != 0) {
      int e = errno;
      if (cwd_ >= 0) ::close(cwd_);
      throw sys_error(root, e);
    }
  }
  ~InOverlayRoot() {
    if (cwd_ >= 0) {
      if (::fchdir(cwd_) != 0) {
      }
      ::close(cwd_);
    }
  }
  InOverlayRoot(const InOverlayRoot&) = delete;
  InOverlayRoot& operator=(const InOverlayRoot&) = delete;

 private:
  int cwd_;
};

// Returns false when the kernel lacks "lowerdir+" (the caller falls back), throws on other errors.
bool mount_new_api(const OverlayLayout& l, const std::string& target, unsigned long flags) {
  int mnt = overlay_mount_fd(l, flags);
  if (mnt < 0) return false;
  if (sys_move_mount(mnt, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    int e = errno;
    ::close(mnt);
    throw sys_error("overlay mount: move to " + target, e);
  }
  ::close(mnt);
  return true;
}

void mount_legacy(const OverlayLayout& l, const std::string& target, unsigned long flags) {
  std::string data = legacy_data(l);
  if (data.size() >= kPage)
    throw Error("image has " + std::to_string(l.lower_links.size()) + " layers; on this kernel (" + kernel_release() +
                ", no overlay \"lowerdir+\") minirun can stack at most " + std::to_string(legacy_overlay_layer_limit(l)) +
                " layers (mount options must fit in one page); Linux 6.8 or later runs up to 500");
  int cwd = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (::chdir(l.overlay_root.c_str()) != 0) {
    int e = errno;
    if (cwd >= 0) ::close(cwd);
    throw sys_error(l.overlay_root, e);
  }
  int r = ::mount("overlay", target.c_str(), "overlay", flags, data.c_str());
  int e = errno;
  if (cwd >= 0) {
    if (::fchdir(cwd) != 0) {
    }
    ::close(cwd);
  }
  if (r != 0) throw sys_error("overlay mount of " + std::to_string(l.lower_links.size()) + " layers at " + target, e);
}

}  // namespace

int overlay_mount_fd(const OverlayLayout& l, unsigned long flags, int bottom_fd) {
  if (!has_lowerdir_plus()) return -1;
  int fs = sys_fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  auto fail = [&](const std::string& what) {
    int e = errno;
    ::close(fs);
    return sys_error("overlay mount: " + what, e);
  };
  const auto& lowers = l.lower_dirs.size() == l.lower_links.size() ? l.lower_dirs : l.lower_links;
  {  // the names are resolved in fsconfig, while the working directory is overlay2/
    InOverlayRoot in_root(l.overlay_root);
    for (size_t i = 0; i < lowers.size(); i++) {
      if (sys_fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i].c_str(), 0) != 0) {
        if (i == 0 && errno == EINVAL) {
          ::close(fs);
          return -1;  // no lowerdir+ in this kernel
        }
        throw fail("lower layer " + l.lower_links[i]);
      }
    }
    if (bottom_fd >= 0 && sys_fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", nullptr, bottom_fd) != 0) {
      ::close(fs);
      return -1;  // layers by descriptor came with Linux 6.13
    }
    if (!l.upper.empty()) {
      if (sys_fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", rel(l, l.upper).c_str(), 0) != 0) throw fail("upperdir");
      if (sys_fsconfig(fs, FSCONFIG_SET_STRING, "workdir", rel(l, l.work).c_str(), 0) != 0) throw fail("workdir");
    }
  }
  sys_fsconfig(fs, FSCONFIG_SET_STRING, "index", "off", 0);
  if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) throw fail("create");
  int mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, attrs_of(flags));
  if (mnt < 0) throw fail("fsmount");
  ::close(fs);
  return mnt;
}

size_t legacy_overlay_layer_limit(const OverlayLayout& l) {
  OverlayLayout probe = l;
  probe.lower_links.clear();
  size_t fixed = legacy_data(probe).size();
  size_t per = l.lower_links.empty() ? 29 : l.lower_links[0].size() + 1;
  return std::min(kMaxStack, (kPage - 1 - fixed) / per);
}

void mount_overlay(const OverlayLayout& l, const std::string& target, unsigned long flags) {
  if (l.lower_links.empty()) throw Error("overlay mount: no layers");
  if (l.lower_links.size() > kMaxStack)
    throw Error("image has " + std::to_string(l.lower_links.size()) + " layers; overlayfs stacks at most " +
                std::to_string(kMaxStack));
  if (l.upper.empty() && l.lower_links.size() == 1) {
    // overlayfs wants two lowers without an upper: a read-only bind of the one layer is the same view.
    const std::string& link = l.lower_links[0];
    std::string src = link[0] == '/' ? link : l.overlay_root + "/" + link;
    if (::mount(src.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) throw sys_error("bind mount of " + src);
    if (::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, nullptr) != 0)
      throw sys_error("read-only remount of " + target);
    return;
  }
  if (mount_new_api(l, target, flags)) return;
  mount_legacy(l, target, flags);
}

}  // namespace minirun
