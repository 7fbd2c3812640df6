#include "minirun/runtime/rootfs_builder.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "minirun/runtime/tty.h"
#include "minirun/util/error.h"

namespace minirun {

namespace {
constexpr size_t kMaxOverlayLowers = 500;  // the kernel's OVL_MAX_STACK
}  // namespace

RootfsBuilder::RootfsBuilder(const OverlayLayout& image) : image_(image) {
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock_) != 0) throw sys_error("socketpair");
  thread_ = std::thread([this] { work(); });
}

void RootfsBuilder::finish(const OverlayLayout& rootfs) {
  std::lock_guard<std::mutex> lock(mu_);
  layout_ = rootfs;
  state_ = kGo;
  cv_.notify_one();
}

RootfsBuilder::~RootfsBuilder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == kWaiting) state_ = kCancelled;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : sock_)
    if (fd >= 0) ::close(fd);
}

void RootfsBuilder::work() {
  // A working directory of its own: overlay_mount_fd changes it for a moment.
  bool own_fs = ::unshare(CLONE_FS) == 0;
  auto image_of = [](const OverlayLayout& l) {
    bool dirs = l.lower_dirs.size() == l.lower_links.size();
    OverlayLayout image{l.overlay_root, {l.lower_links.begin() + 1, l.lower_links.end()}, {}, "", ""};
    if (dirs) image.lower_dirs.assign(l.lower_dirs.begin() + 1, l.lower_dirs.end());
    return image;
  };
  int img = -1;
  try {
    if (own_fs && image_.lower_dirs.size() >= kMaxOverlayLowers) img = overlay_mount_fd(image_, MS_RDONLY | MS_NODEV);
  } catch (const Error&) {
    img = -1;
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return state_ != kWaiting; });
    if (state_ == kCancelled) {
      if (img >= 0) ::close(img);
      return;
    }
  }
  int fd = -1;
  try {
    const OverlayLayout& l = layout_;
    if (own_fs && l.lower_links.size() > kMaxOverlayLowers) {
      // As in Child::run: the image's layers as an overlay of their own, below the -init layer.
      OverlayLayout image = image_of(l);
      if (img >= 0 && image.lower_dirs != image_.lower_dirs) {
        ::close(img);  // not the layers this container got
        img = -1;
      }
      if (img < 0) img = overlay_mount_fd(image, MS_RDONLY | MS_NODEV);
      OverlayLayout top{l.overlay_root, {l.lower_links[0]}, {}, l.upper, l.work};
      if (l.lower_dirs.size() == l.lower_links.size()) top.lower_dirs = {l.lower_dirs[0]};
      if (img >= 0) fd = overlay_mount_fd(top, MS_NODEV, img);
    } else if (own_fs) {
      fd = overlay_mount_fd(l, MS_NODEV);
    }
  } catch (const Error&) {
    fd = -1;  // the child mounts it itself and reports the error
  }
  if (img >= 0) ::close(img);
  // With a few layers a lookup costs microseconds: warming would only take CPU from the child.
  constexpr size_t kWarmFrom = 32;
  if (runtime::send_fd(sock_[0], fd >= 0 ? "F" : "E", fd, MSG_NOSIGNAL) < 0 || fd < 0 || layout_.lower_links.size() < kWarmFrom) {
    if (fd >= 0) ::close(fd);
    return;
  }
  // Warm the overlay's dentry cache from the end of the child's list (setup mount points, bind
  // targets, the user lookup, the usual PATH), never leaving the new root or following a link.
  for (const char* p : {"bin", "etc/group", "etc/passwd", "etc/resolv.conf", "etc/hosts", "etc/hostname", "etc",
                        "dev", "sys", "proc"}) {
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    int f = static_cast<int>(syscall(SYS_openat2, fd, p, &how, sizeof how));
    if (f >= 0) ::close(f);
  }
  ::close(fd);
}

void MountNamespaceHold::hold(pid_t pid) {
  if (fd_ >= 0) return;
  fd_ = ::open(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
}

void MountNamespaceHold::release() {
  if (fd_ < 0 || thread_.joinable()) return;
  int fd = fd_;
  fd_ = -1;
  thread_ = std::thread([fd] { ::close(fd); });  // the unmounting runs as this close returns
}

MountNamespaceHold::~MountNamespaceHold() {
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace minirun
