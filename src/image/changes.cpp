// changes.cpp — the container diff.
//
// Docker (overlay2 on kernels with redirect_dir, as Debian's) computes `docker diff` by walking
// the image's merged tree and the container's merged tree side by side (moby "naive diff"):
//   - a path only in the new tree is A (and everything below it is A),
//   - a path only in the old tree is D (once: its contents are not listed),
//   - a path in both is C when mode (type included), owner, rdev differ, or — not for
//     directories — mtime or size, or the security.capability xattr,
//   - a directory with any change below it is C (unless it is itself A); "/" is never listed.
// We get the same answer from the upper directory alone: only paths present in it can differ.
// A whiteout (0/0 character device) is a D. An opaque directory hides the lower directory's
// content, so there (and only there) the lower directory is listed to find what vanished. Every
// other lookup in the lower layers is one fstatat per layer of a path the upper dir names, through
// directory fds resolved once per directory (nearest layer first, stopping at opaque
// directories and at non-directories). The image is never walked.
#include "minirun/image/changes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "minirun/util/error.h"
#include "minirun/util/layer_fs.h"

namespace minirun {

namespace {

// The lower (old) view of one directory: the layers' fds holding it, nearest first.
struct LowerDir {
  std::vector<Fd> fds;
  bool exists() const { return !fds.empty(); }
};

// Looks `name` up in the old view of the directory `dir`.
std::optional<struct stat> lookup(const LowerDir& dir, const char* name) {
  for (const auto& fd : dir.fds) {
    struct stat st;
    if (::fstatat(fd.fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (is_whiteout(st)) return std::nullopt;
    return st;
  }
  return std::nullopt;
}

// The old view of dir/name (a directory), built from the parent's view.
LowerDir descend(const LowerDir& dir, const char* name) {
  LowerDir out;
  for (const auto& fd : dir.fds) {
    struct stat st;
    if (::fstatat(fd.fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode)) break;  // a file or whiteout hides everything below
    int c = ::openat(fd.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (c < 0) break;
    out.fds.emplace_back(c);
    if (is_opaque(c)) break;
  }
  return out;
}

std::set<std::string> list_names(int fd) {
  std::set<std::string> out;
  int d = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return out;
  DIR* dir = fdopendir(d);
  if (!dir) {
    ::close(d);
    return out;
  }
  while (struct dirent* e = readdir(dir))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) out.insert(e->d_name);
  closedir(dir);
  return out;
}

// Names visible in an old directory (whiteouts removed).
std::set<std::string> visible_names(const LowerDir& dir) {
  std::set<std::string> seen, out;
  for (const auto& fd : dir.fds)
    for (const auto& n : list_names(fd.fd)) {
      if (!seen.insert(n).second) continue;
      struct stat st;
      if (::fstatat(fd.fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !is_whiteout(st)) out.insert(n);
    }
  return out;
}

bool same_time(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && (a.tv_nsec == b.tv_nsec || a.tv_nsec == 0 || b.tv_nsec == 0);
}

std::string capability(int dirfd, const char* name) {
  std::string p = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
  char buf[256];
  ssize_t n = ::lgetxattr(p.c_str(), "security.capability", buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

bool stat_different(const struct stat& o, const struct stat& n) {
  if (o.st_mode != n.st_mode || o.st_uid != n.st_uid || o.st_gid != n.st_gid || o.st_rdev != n.st_rdev) return true;
  return !S_ISDIR(o.st_mode) && (!same_time(o.st_mtim, n.st_mtim) || o.st_size != n.st_size);
}

class Walker {
 public:
  std::vector<Change> out;

  // Everything below an added directory is added.
  void all_added(int fd, const std::string& path) {
    for (const auto& n : list_names(fd)) {
      struct stat st;
      if (::fstatat(fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || is_whiteout(st)) continue;
      std::string p = path + "/" + n;
      out.push_back({p, ChangeKind::Added});
      if (S_ISDIR(st.st_mode)) {
        Fd c(::openat(fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (c.fd >= 0) all_added(c.fd, p);
      }
    }
  }

  // Compares the new directory (upper fd; for an opaque subtree, nothing of the old shows
  // through) with its old view. Returns true when anything below changed.
  bool walk(int fd, const std::string& path, const LowerDir& old, bool opaque) {
    size_t before = out.size();
    std::set<std::string> names = list_names(fd);
    for (const auto& n : names) {
      struct stat st;
      if (::fstatat(fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      std::string p = path + "/" + n;
      auto was = lookup(old, n.c_str());
      if (is_whiteout(st)) {
        if (was) out.push_back({p, ChangeKind::Deleted});
        continue;
      }
      if (!was) {
        out.push_back({p, ChangeKind::Added});
        if (S_ISDIR(st.st_mode)) {
          Fd c(::openat(fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (c.fd >= 0) all_added(c.fd, p);
        }
        continue;
      }
      size_t at = out.size();
      bool changed = stat_different(*was, st);
      if (!changed && !S_ISDIR(st.st_mode) && S_ISREG(st.st_mode)) {
        // Same stat: only a capability change would still show.
        const LowerDir* holder = &old;
        for (const auto& lfd : holder->fds) {
          struct stat ls;
          if (::fstatat(lfd.fd, n.c_str(), &ls, AT_SYMLINK_NOFOLLOW) == 0) {
            changed = capability(lfd.fd, n.c_str()) != capability(fd, n.c_str());
            break;
          }
        }
      }
      if (changed) out.push_back({p, ChangeKind::Modified});
      if (S_ISDIR(st.st_mode)) {
        Fd c(::openat(fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (c.fd < 0) continue;
        bool child_opaque = opaque || is_opaque(c.fd);
        if (!S_ISDIR(was->st_mode)) {
          all_added(c.fd, p);  // a file turned into a directory: nothing old below it
        } else {
          LowerDir sub = descend(old, n.c_str());
          bool inner = walk(c.fd, p, sub, child_opaque);
          if (inner && !changed) out.insert(out.begin() + static_cast<long>(at), {p, ChangeKind::Modified});
        }
      }
    }
    // In an opaque directory the old entries the new one lacks were deleted.
    if (opaque && old.exists())
      for (const auto& n : visible_names(old))
        if (!names.count(n)) out.push_back({path + "/" + n, ChangeKind::Deleted});
    return out.size() > before;
  }
};

}  // namespace

std::vector<Change> compute_changes(const std::string& upper, const std::vector<std::string>& lowers) {
  Fd up(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (up.fd < 0) throw sys_error(upper);
  LowerDir root;
  for (const auto& l : lowers) {
    int fd = ::open(l.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw sys_error(l);
    root.fds.emplace_back(fd);
    if (is_opaque(fd)) break;
  }
  Walker w;
  w.walk(up.fd, "", root, false);
  std::sort(w.out.begin(), w.out.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
  return w.out;
}

std::string format_changes(const std::vector<Change>& changes) {
  std::string out;
  for (const auto& c : changes) {
    out += c.kind == ChangeKind::Added ? "A " : c.kind == ChangeKind::Deleted ? "D " : "C ";
    out += c.path;
    out += '\n';
  }
  return out;
}

std::string format_changes_json(const std::vector<Change>& changes) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& c : changes) j.push_back({{"Path", c.path}, {"Kind", static_cast<int>(c.kind)}});
  return j.dump();
}

}  // namespace minirun
