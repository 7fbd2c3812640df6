// flatten.cpp — merging a deep image's layers into its flat layer (flatten.h).
//
// Design: the layers are applied bottom-up onto the destination, each one walked once with
// directory descriptors (fstatat/openat/linkat with no symlink ever followed), so the work is
// proportional to what the layers hold, not to layers × names. Per name of a layer, as
// overlayfs decides it:
// - a whiteout (0/0 character device) removes what the layers below left at the name;
// - a directory merges with a directory below, unless it is opaque (then what was below goes)
//   or what was below is not a directory (then that goes); the directory takes this layer's
//   owner, mode and extended attributes (trusted.overlay.* excepted), and its times once its
//   own entries are done, since adding them changed its mtime;
// - anything else replaces what was below, as a hard link to this layer's inode.
// The layers' own trees are never written. The walk stops at kMaxDepth levels (two descriptors
// per level must fit under the usual 1,024), and the image then runs on its N layers.
#include "minirun/image/flatten.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/util/layer_fs.h"

namespace minirun {

namespace {

constexpr int kMaxDepth = 256;

// The names in an open directory, sorted (the descriptor itself is left open and unmoved).
std::vector<std::string> names_in(int dirfd, const std::string& what) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) throw sys_error(what + ": open");
  DIR* d = ::fdopendir(dup);
  if (!d) {
    int e = errno;
    ::close(dup);
    throw sys_error(what + ": opendir", e);
  }
  std::vector<std::string> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
    errno = 0;
  }
  int e = errno;
  ::closedir(d);
  if (e) throw sys_error(what + ": readdir", e);
  std::sort(out.begin(), out.end());
  return out;
}

class Flattener {
 public:
  explicit Flattener(std::string layer) : layer_(std::move(layer)) {}

  // Applies the layer directory src onto dst (both open directories; rel = their path).
  void merge(int src, int dst, const std::string& rel, int depth) {
    if (depth > kMaxDepth) throw Error(ctx(rel) + ": deeper than " + std::to_string(kMaxDepth) + " directories");
    for (const auto& name : names_in(src, ctx(rel))) {
      std::string crel = rel.empty() ? name : rel + "/" + name;
      struct stat st, old;
      if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw sys_error(ctx(crel) + ": stat");
      bool have = ::fstatat(dst, name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
      if (is_whiteout(st)) {
        if (have) remove_at(dst, name, crel);
        continue;
      }
      if (!S_ISDIR(st.st_mode)) {
        if (have) remove_at(dst, name, crel);
        link_at(src, dst, name, st, crel);
        continue;
      }
      Fd s(::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (s.get() < 0) throw sys_error(ctx(crel) + ": open");
      if (have && (!S_ISDIR(old.st_mode) || is_opaque(s.get()))) {
        remove_at(dst, name, crel);
        have = false;
      }
      if (!have && ::mkdirat(dst, name.c_str(), 0700) != 0) throw sys_error(ctx(crel) + ": mkdir");
      Fd d(::openat(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (d.get() < 0) throw sys_error(ctx(crel) + ": open the flat copy");
      take_metadata(s.get(), d.get(), st, crel);
      merge(s.get(), d.get(), crel, depth + 1);
      set_times(d.get(), st, crel);
    }
  }

  // The layer's root: its metadata (the topmost layer's wins, as in overlayfs), then its names.
  void merge_root(int src, int dst) {
    struct stat st;
    if (::fstat(src, &st) != 0) throw sys_error(ctx("") + ": stat");
    if (is_opaque(src))
      for (const auto& name : names_in(dst, ctx(""))) remove_at(dst, name, name);
    take_metadata(src, dst, st, "");
    merge(src, dst, "", 0);
    set_times(dst, st, "");
  }

 private:
  std::string ctx(const std::string& rel) const { return layer_ + ": " + (rel.empty() ? "/" : shortened_path(rel)); }

  // Removes whatever the flat copy holds at dirfd/name (a whole tree for a directory).
  void remove_at(int dirfd, const std::string& name, const std::string& rel) {
    if (::unlinkat(dirfd, name.c_str(), 0) == 0) return;
    if (errno != EISDIR && errno != EPERM) throw sys_error(ctx(rel) + ": unlink");
    // By descriptor, so the path stays short however deep the directory is.
    remove_tree("/proc/self/fd/" + std::to_string(dirfd) + "/" + name);
  }

  void link_at(int src, int dst, const std::string& name, const struct stat& st, const std::string& rel) {
    if (::linkat(src, name.c_str(), dst, name.c_str(), 0) == 0) return;
    int e = errno;
    // The file's link count is at the limit (ext4: 65,000), or it is on another file system.
    if ((e == EMLINK || e == EXDEV) && S_ISREG(st.st_mode)) {
      Fd f(::openat(src, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (f.get() < 0) throw sys_error(ctx(rel) + ": open");
      copy_regular_file(f.get(), st, dst, name, ctx(rel));
      return;
    }
    throw sys_error(ctx(rel) + ": link", e);
  }

  void take_metadata(int src, int dst, const struct stat& st, const std::string& rel) {
    if (::fchown(dst, st.st_uid, st.st_gid) != 0 && geteuid() == 0) throw sys_error(ctx(rel) + ": chown");
    if (::fchmod(dst, st.st_mode & 07777) != 0) throw sys_error(ctx(rel) + ": chmod");
    copy_xattrs(src, dst, ctx(rel), "trusted.overlay.");
  }

  void set_times(int dst, const struct stat& st, const std::string& rel) {
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    if (::futimens(dst, ts) != 0) throw sys_error(ctx(rel) + ": utimens");
  }

  std::string layer_;
};

}  // namespace

void flatten_layers(const std::vector<std::string>& diffs, const std::string& dst) {
  Fd out(::open(dst.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (out.get() < 0) throw sys_error(dst);
  for (size_t i = 0; i < diffs.size(); i++) {
    Flattener f("layer " + std::to_string(i + 1) + " of " + std::to_string(diffs.size()));
    Fd in(::open(diffs[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (in.get() < 0) throw sys_error("layer " + std::to_string(i + 1) + " of " + std::to_string(diffs.size()) + ": " + diffs[i]);
    f.merge_root(in.get(), out.get());
  }
}

}  // namespace minirun
