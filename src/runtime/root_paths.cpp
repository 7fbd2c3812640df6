#include "minirun/runtime/root_paths.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace minirun::runtime {

int openat2_in_root(int root, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, root, path.c_str(), &how, sizeof how));
}

RootPaths::~RootPaths() {
  for (int fd : fds_) ::close(fd);
}

std::string RootPaths::point(const std::string& path, bool dir) {
  int fd = openat2_in_root(root_, path, O_PATH | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT) {
    create(path, dir);
    fd = openat2_in_root(root_, path, O_PATH | O_NOFOLLOW);
  }
  if (fd < 0) return "";
  fds_.push_back(fd);
  return "/proc/self/fd/" + std::to_string(fd);
}

std::string RootPaths::existing(const std::string& path) {
  int fd = openat2_in_root(root_, path, O_PATH | O_NOFOLLOW);
  if (fd < 0) return "";
  fds_.push_back(fd);
  return "/proc/self/fd/" + std::to_string(fd);
}

void RootPaths::create(const std::string& path, bool dir) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  std::string parent = slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
  std::string base = p.substr(slash == std::string::npos ? 0 : slash + 1);
  int pfd = openat2_in_root(root_, parent, O_RDONLY | O_DIRECTORY);
  if (pfd < 0 && errno == ENOENT && parent != "/") {
    create(parent, true);
    pfd = openat2_in_root(root_, parent, O_RDONLY | O_DIRECTORY);
  }
  if (pfd < 0) return;
  if (dir) ::mkdirat(pfd, base.c_str(), 0755);
  else {
    int f = ::openat(pfd, base.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f >= 0) ::close(f);
  }
  ::close(pfd);
}

}  // namespace minirun::runtime
