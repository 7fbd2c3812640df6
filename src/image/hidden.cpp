// hidden.cpp — for every regular file of every layer, the first later layer that hides it:
// one with a whiteout or a non-directory at the path or at one of its ancestors, an opaque
// directory at an ancestor, or any entry at the path itself. Ancestors are checked top-down
// with fstatat relative to the later layer's root, stopping at the first non-directory, so no
// symlink inside a layer is ever followed.
#include "minirun/image/hidden.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "minirun/util/error.h"

namespace minirun {

namespace {

bool opaque_at(int root, const std::string& rel) {
  std::string p = "/proc/self/fd/" + std::to_string(root) + "/" + rel;
  char v[2];
  return ::lgetxattr(p.c_str(), "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

// Does the layer with root fd `root` hide `rel` (a path in a lower layer)?
bool hides(int root, const std::string& rel) {
  size_t pos = 0;
  for (;;) {
    size_t slash = rel.find('/', pos);
    std::string prefix = rel.substr(0, slash);
    struct stat st;
    if (::fstatat(root, prefix.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;  // nothing here
    if (slash == std::string::npos) return true;  // the path itself: replaced or whited out
    if (!S_ISDIR(st.st_mode)) return true;        // an ancestor replaced by a file or whiteout
    if (opaque_at(root, prefix)) return true;     // an ancestor made opaque
    pos = slash + 1;
  }
}

void walk(int dirfd, const std::string& prefix, std::vector<std::pair<std::string, uint64_t>>& files) {
  int d = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = d >= 0 ? fdopendir(d) : nullptr;
  if (!dir) throw sys_error("hidden files: read " + (prefix.empty() ? std::string("/") : prefix));
  while (struct dirent* e = readdir(dir)) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::string rel = prefix + e->d_name;
    if (S_ISREG(st.st_mode)) {
      files.emplace_back(rel, static_cast<uint64_t>(st.st_size));
    } else if (S_ISDIR(st.st_mode)) {
      int c = ::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (c < 0) continue;
      walk(c, rel + "/", files);
      ::close(c);
    }
  }
  closedir(dir);
}

}  // namespace

std::vector<HiddenFile> hidden_files(const std::vector<std::string>& layers) {
  std::vector<int> fds;
  for (const auto& l : layers) {
    int fd = ::open(l.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      for (int f : fds) ::close(f);
      throw sys_error(l);
    }
    fds.push_back(fd);
  }
  std::vector<HiddenFile> out;
  try {
    for (size_t i = 0; i + 1 < fds.size(); i++) {
      std::vector<std::pair<std::string, uint64_t>> files;
      walk(fds[i], "", files);
      std::sort(files.begin(), files.end());
      for (const auto& [rel, size] : files)
        for (size_t j = i + 1; j < fds.size(); j++)
          if (hides(fds[j], rel)) {
            out.push_back({"/" + rel, i, j, size});
            break;
          }
    }
  } catch (...) {
    for (int f : fds) ::close(f);
    throw;
  }
  for (int f : fds) ::close(f);
  return out;
}

}  // namespace minirun
