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
// directories and at non-directories). The image is never walked. The upper directory is read
// with getdents64 and its entries' d_type: an entry is stat'ed only when that can change the
// answer (a character device may be a whiteout; a name the old view has is compared), so a
// new directory of 100,000 files costs its directory reads, not 100,000 stats.
#include "minirun/image/changes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
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
    if (::fstatat(fd.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
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
    if (::fstatat(fd.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISDIR(st.st_mode)) break;  // a file or whiteout hides everything below
    int c = ::openat(fd.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (c < 0) break;
    out.fds.emplace_back(c);
    if (is_opaque(c)) break;
  }
  return out;
}

// One directory entry as getdents64 gives it: the name and its d_type (DT_UNKNOWN on a file
// system that does not fill it in: then the caller stats).
struct Entry {
  std::string name;
  unsigned char type;
};

// The entries of the directory fd (from its start), "." and ".." left out. No stat: the types
// come with the names.
std::vector<Entry> list_dir(int fd) {
  std::vector<Entry> out;
  if (::lseek(fd, 0, SEEK_SET) != 0) return out;
  // One buffer per thread (diff lists directories on several), made on first use: a 64 KB
  // thread_local array would be part of every thread's TLS block, zeroed when each thread starts
  // (the main thread of every minirun command included), whether or not it ever lists one.
  constexpr size_t kBuf = 1 << 16;
  static thread_local std::unique_ptr<char[]> buf_owner;
  if (!buf_owner) buf_owner.reset(new char[kBuf]);
  char* buf = buf_owner.get();
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd, buf, kBuf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      off += d->d_reclen;
      const char* nm = d->d_name;
      if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
      out.push_back({nm, d->d_type});
    }
  }
  // By name: the walk then lists paths in order, and the final sort has nothing to do unless a
  // directory's name is a prefix of a sibling's ("a" and "a.conf": "/a/x" comes after "/a.conf").
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

// The file type of an entry: d_type, or the mode's when the file system gave none.
unsigned char type_of(int dirfd, const Entry& e) {
  if (e.type != DT_UNKNOWN) return e.type;
  struct stat st;
  if (::fstatat(dirfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return DT_UNKNOWN;
  return static_cast<unsigned char>(IFTODT(st.st_mode));
}

// Whether an entry of type `type` is a whiteout (a 0/0 character device): only a character
// device is stat'ed.
bool whiteout_entry(int dirfd, const Entry& e, unsigned char type) {
  if (type != DT_CHR) return false;
  struct stat st;
  return ::fstatat(dirfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout(st);
}

// Names visible in an old directory (whiteouts removed).
std::set<std::string> visible_names(const LowerDir& dir) {
  std::set<std::string> seen, out;
  for (const auto& fd : dir.fds)
    for (const auto& e : list_dir(fd.get())) {
      if (!seen.insert(e.name).second) continue;
      if (!whiteout_entry(fd.get(), e, type_of(fd.get(), e))) out.insert(e.name);
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

  // Everything below an added directory is added: names and types only, no stat but of a
  // character device (a whiteout there hides nothing and is not listed).
  void all_added(int fd, const std::string& path) {
    for (const auto& e : list_dir(fd)) {
      unsigned char type = type_of(fd, e);
      if (whiteout_entry(fd, e, type)) continue;
      std::string p = path + "/" + e.name;
      if (type == DT_DIR) {
        Fd c(::openat(fd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        out.push_back({p, ChangeKind::Added});
        if (c.get() >= 0) all_added(c.get(), p);
      } else {
        out.push_back({std::move(p), ChangeKind::Added});
      }
    }
  }

  // Compares the new directory (upper fd; for an opaque subtree, nothing of the old shows
  // through) with its old view. Returns true when anything below changed. An entry is stat'ed
  // only when it is a character device (a whiteout?) or its name exists in the old view.
  bool walk(int fd, const std::string& path, const LowerDir& old, bool opaque) {
    size_t before = out.size();
    std::vector<Entry> entries = list_dir(fd);
    for (const auto& e : entries) {
      const char* n = e.name.c_str();
      unsigned char type = type_of(fd, e);
      std::string p = path + "/" + e.name;
      if (whiteout_entry(fd, e, type)) {
        if (lookup(old, n)) out.push_back({p, ChangeKind::Deleted});
        continue;
      }
      auto was = old.exists() ? lookup(old, n) : std::nullopt;
      if (!was) {
        out.push_back({p, ChangeKind::Added});
        if (type == DT_DIR) {
          Fd c(::openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (c.get() >= 0) all_added(c.get(), p);
        }
        continue;
      }
      struct stat st;
      if (::fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      size_t at = out.size();
      bool changed = stat_different(*was, st);
      if (!changed && S_ISREG(st.st_mode)) {
        // Same stat: only a capability change would still show.
        for (const auto& lfd : old.fds) {
          struct stat ls;
          if (::fstatat(lfd.get(), n, &ls, AT_SYMLINK_NOFOLLOW) == 0) {
            changed = capability(lfd.get(), n) != capability(fd, n);
            break;
          }
        }
      }
      if (changed) out.push_back({p, ChangeKind::Modified});
      if (S_ISDIR(st.st_mode)) {
        Fd c(::openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (c.get() < 0) continue;
        bool child_opaque = opaque || is_opaque(c.get());
        if (!S_ISDIR(was->st_mode)) {
          all_added(c.get(), p);  // a file turned into a directory: nothing old below it
        } else {
          LowerDir sub = descend(old, n);
          bool inner = walk(c.get(), p, sub, child_opaque);
          if (inner && !changed) out.insert(out.begin() + static_cast<long>(at), {p, ChangeKind::Modified});
        }
      }
    }
    // In an opaque directory the old entries the new one lacks were deleted.
    if (opaque && old.exists()) {
      std::set<std::string> names;
      for (const auto& e : entries) names.insert(e.name);
      for (const auto& n : visible_names(old))
        if (!names.count(n)) out.push_back({path + "/" + n, ChangeKind::Deleted});
    }
    return out.size() > before;
  }
};

}  // namespace

std::vector<Change> compute_changes(const std::string& upper, const std::vector<std::string>& lowers) {
  Fd up(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (up.get() < 0) throw sys_error(upper);
  LowerDir root;
  for (const auto& l : lowers) {
    int fd = ::open(l.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw sys_error(l);
    root.fds.emplace_back(fd);
    if (is_opaque(fd)) break;
  }
  Walker w;
  w.walk(up.get(), "", root, false);
  auto by_path = [](const Change& a, const Change& b) { return a.path < b.path; };
  if (!std::is_sorted(w.out.begin(), w.out.end(), by_path)) std::sort(w.out.begin(), w.out.end(), by_path);
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
