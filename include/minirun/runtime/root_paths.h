// root_paths.h — paths inside a container's new root, resolved with openat2(RESOLVE_IN_ROOT), so
// an image's symlinks (absolute, "..", or created earlier by the image) can never lead a mount
// out of the root onto the host. A resolved path is handed to mount(2) as /proc/self/fd/N.
#pragma once

#include <string>
#include <vector>

namespace minirun::runtime {

int openat2_in_root(int root, const std::string& path, int flags);

class RootPaths {
 public:
  explicit RootPaths(int root) : root_(root) {}
  ~RootPaths();
  RootPaths(const RootPaths&) = delete;
  RootPaths& operator=(const RootPaths&) = delete;
  // A mount point, created when missing (a directory, or an empty file when !dir, with its
  // parents). "/proc/self/fd/N", N kept open until the destructor; "" with errno on failure.
  std::string point(const std::string& path, bool dir);
  // An existing path only.
  std::string existing(const std::string& path);
  // The descriptor behind the last path point() or existing() returned.
  int last_fd() const { return fds_.empty() ? -1 : fds_.back(); }
  int root() const { return root_; }

 private:
  void create(const std::string& path, bool dir);
  int root_;
  std::vector<int> fds_;
};

}  // namespace minirun::runtime
