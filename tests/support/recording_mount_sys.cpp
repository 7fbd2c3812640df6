// recording_mount_sys.cpp — the recording MountSys of the unit tests.
#include "recording_mount_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

namespace minirun::test {

namespace {

std::string link_of(const std::string& fd_path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(fd_path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

RecordingMountSys::RecordingMountSys(const std::string& root) {
  char buf[PATH_MAX];
  root_ = ::realpath(root.c_str(), buf) ? buf : root;
}

std::string RecordingMountSys::in_root(const std::string& path) const {
  const std::string prefix = "/proc/self/fd/";
  std::string real = path;
  if (path.rfind(prefix, 0) == 0) {
    size_t slash = path.find('/', prefix.size());
    std::string fd = path.substr(0, slash);
    real = link_of(fd);
    if (real.empty()) return path;
    if (slash != std::string::npos) real += path.substr(slash);
  }
  if (real == root_) return "/";
  if (real.size() > root_.size() && real.compare(0, root_.size(), root_) == 0 && real[root_.size()] == '/')
    return real.substr(root_.size());
  return real;
}

std::string RecordingMountSys::in_root(int dirfd, const char* name) const {
  return in_root("/proc/self/fd/" + std::to_string(dirfd) + "/" + name);
}

int RecordingMountSys::mount(const char* source, const char* target, const char* fstype, unsigned long flags,
                             const void* data) {
  mounts.push_back({source ? in_root(source) : "", in_root(target), fstype ? fstype : "",
                    data ? static_cast<const char*>(data) : "", flags});
  order.push_back(mounts.back().target);
  steps.push_back("mount " + mounts.back().target);
  return 0;
}

int RecordingMountSys::mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) {
  nodes.push_back({in_root(dirfd, name), mode, dev});
  int fd = ::openat(dirfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  return 0;
}

int RecordingMountSys::fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int) {
  chowns.push_back({in_root(dirfd, name), uid, gid});
  return 0;
}

int RecordingMountSys::open_tree(int, const char* path, unsigned) {
  int fd = ::open("/", O_PATH | O_CLOEXEC);
  if (fd >= 0) open_trees_[fd] = TreeCall{path, "", 0};
  return fd;
}

int RecordingMountSys::mount_setattr(int dirfd, const char*, unsigned, uint64_t attr_set) {
  open_trees_[dirfd].attr_set |= attr_set;
  return 0;
}

int RecordingMountSys::move_mount(int from_dirfd, const char*, int to_dirfd, const char* to_path, unsigned) {
  auto it = open_trees_.find(from_dirfd);
  TreeCall t = it == open_trees_.end() ? TreeCall{} : it->second;
  if (it != open_trees_.end()) open_trees_.erase(it);
  t.target = to_dirfd == AT_FDCWD ? in_root(to_path) : in_root(to_dirfd, to_path);
  trees.push_back(t);
  order.push_back(t.target);
  steps.push_back("move_mount " + t.target);
  return 0;
}

void RecordingMountSys::mount_overlay(const OverlayLayout& layout, const std::string& target, unsigned long flags) {
  overlays.push_back({layout, target, flags});
  order.push_back(target);
  steps.push_back("overlay " + target);
}

int RecordingMountSys::pivot_root(const char* new_root, const char* put_old) {
  steps.push_back(std::string("pivot_root ") + new_root + " " + put_old);
  if (pivot_root_errno == 0) return 0;
  errno = pivot_root_errno;
  return -1;
}

int RecordingMountSys::umount2(const char* target, int flags) {
  steps.push_back("umount2 " + std::string(target) + " " + std::to_string(flags));
  return 0;
}

int RecordingMountSys::chroot(const char* path) {
  steps.push_back(std::string("chroot ") + path);
  return 0;
}

int RecordingMountSys::chdir(const char* path) {
  steps.push_back(std::string("chdir ") + path);
  return 0;
}

std::vector<MountCall> RecordingMountSys::at(const std::string& path) const {
  std::vector<MountCall> out;
  for (const auto& m : mounts)
    if (m.target == path) out.push_back(m);
  return out;
}

}  // namespace minirun::test
