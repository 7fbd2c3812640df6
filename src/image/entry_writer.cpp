// entry_writer.cpp — a layer's tar entries into its directory, the most security-sensitive code
// in minirun.
//
// Design:
// - An entry's parent directory is resolved once for the entries that follow in it and again
//   after any removal (the only way a resolved path can come to name another directory). New
//   entries are created first (O_EXCL) and an existing one is cleared only on EEXIST.
// - libarchive's disk writer is not used. Each entry's path is cleaned lexically against "/"
//   (like Docker: "../../x" is "x"), its parent directory is opened with openat2(RESOLVE_IN_ROOT),
//   so ".." and symlinks (absolute ones included, and those created earlier in the same tar)
//   resolve inside the destination, never outside; the last component is created with *at()
//   calls that do not follow symlinks. An entry naming the root itself ("." or "/") is ignored
//   unless it is a directory (then only its metadata applies), so the root is never replaced.
// - Ownership is numeric; chown happens before chmod (chown clears setuid) and before xattrs
//   (chown clears security.capability); directory times are set last, deepest first.
// - Whiteouts: ".wh.X" becomes a 0/0 character device X; ".wh..wh..opq" sets
//   trusted.overlay.opaque=y on its directory (it hides only lower layers, so entries of this
//   layer stay, whatever their order); other ".wh..wh.*" (aufs metadata) are skipped; a whiteout
//   of "", "." or ".." is refused.
// - A hard link whose target is not in this layer gets a copy of the target from the nearest
//   lower layer that has it (Docker fails such layers). A hard link entry's own uid, gid, mode
//   (and xattrs) apply to the inode after linking, as Docker's: the later header wins.
#include "minirun/image/entry_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <vector>

#include "minirun/image/tar_index.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/util/layer_fs.h"

namespace minirun {

namespace {

// The process's umask, read once without changing it (umask(2) would, for every thread):
// all bits when it cannot be read, so that every mode is then set by fchmod.
mode_t process_umask() {
  static const mode_t mask = [] {
    FILE* f = std::fopen("/proc/self/status", "re");
    if (!f) return static_cast<mode_t>(07777);
    char line[256];
    unsigned long m = 07777;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "Umask: %lo", &m) == 1) break;
    std::fclose(f);
    return static_cast<mode_t>(m);
  }();
  return mask;
}

int openat2_in_root(int root, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long r = syscall(SYS_openat2, root, path.empty() ? "." : path.c_str(), &how, sizeof how);
    if (r >= 0 || errno != EAGAIN) return static_cast<int>(r);
  }
}

void remove_at(int dirfd, const std::string& name);

void remove_children(int fd) {
  DIR* d = fdopendir(fd);
  if (!d) {
    ::close(fd);
    throw sys_error("opendir");
  }
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names.push_back(e->d_name);
  for (const auto& n : names) remove_at(dirfd(d), n);
  closedir(d);
}

// Removes name (recursively when a directory) without following symlinks.
void remove_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) throw sys_error("remove");
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw sys_error("remove");
  remove_children(fd);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) throw sys_error("remove");
}

}  // namespace

class EntryWriter::Impl {
 public:
  Impl(const std::string& dest, const ExtractOptions& o) : opts_(o), root_(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (root_.get() < 0) throw sys_error(dest);
  }

  void apply(struct archive* a, struct archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    std::string path = clean_entry_path(raw ? raw : "");
    try {
      apply_entry(a, e, path);
    } catch (const Error& err) {
      throw Error(shortened_path(path.empty() ? std::string(raw ? raw : "\"\"") : path) + ": " + err.what(), err.exit_code());
    }
  }

  // Directory times last, deepest first, once their children exist.
  void finish() {
    std::sort(dir_times_.begin(), dir_times_.end(),
              [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
    for (const auto& [path, ts] : dir_times_) {
      Fd fd(openat2_in_root(root_.get(), path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (fd.get() >= 0) ::futimens(fd.get(), ts.data());
    }
  }

  uint64_t content_size() const { return content_size_; }

 private:
  static std::string dirname_of(const std::string& p) {
    auto s = p.rfind('/');
    return s == std::string::npos ? "" : p.substr(0, s);
  }
  static std::string basename_of(const std::string& p) {
    auto s = p.rfind('/');
    return s == std::string::npos ? p : p.substr(s + 1);
  }

  // The directory `dir` (as open_dir) for an entry's parent, kept open for the entries that
  // follow in the same directory, as a tar lists them. Resolved again after anything was
  // removed: a removal (an entry replacing another, a whiteout) is the only way a path that
  // was resolved can come to name another directory. Owned here: valid until the next call.
  int parent_dir(const std::string& dir) {
    if (!parent_valid_ || dir != parent_path_) {
      parent_ = open_dir(dir);
      parent_path_ = dir;
      parent_valid_ = true;
      struct stat st;
      parent_setgid_ = ::fstat(parent_.get(), &st) != 0 || (st.st_mode & S_ISGID);
    }
    return parent_.get();
  }

  // Opens (creating missing components, 0755 root-owned like Docker) the directory `dir`
  // resolved inside the root.
  Fd open_dir(const std::string& dir) {
    int fd = openat2_in_root(root_.get(), dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) return Fd(fd);
    if (errno == ENAMETOOLONG) throw Error("name too long (" + std::to_string(dir.size()) + " bytes of directories)");
    if (errno != ENOENT) throw sys_error("parent directory " + (dir.empty() ? "/" : shortened_path(dir)));
    std::string parent = dirname_of(dir), base = basename_of(dir);
    Fd p = open_dir(parent);
    if (::mkdirat(p.get(), base.c_str(), 0755) != 0 && errno != EEXIST) throw sys_error("mkdir " + shortened_path(dir));
    fd = openat2_in_root(root_.get(), dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) throw sys_error("parent directory " + shortened_path(dir));
    return Fd(fd);
  }

  void set_owner(int dirfd, const std::string& name, struct archive_entry* e) {
    if (::fchownat(dirfd, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e)),
                   AT_SYMLINK_NOFOLLOW) != 0 &&
        (geteuid() == 0 || errno != EPERM))
      throw sys_error("chown");
  }

  void set_xattrs(int fd, const std::string& proc_path, struct archive_entry* e) {
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      if (strncmp(name, "trusted.overlay.", 16) == 0) continue;  // a layer must not forge overlay state
      int r = fd >= 0 ? ::fsetxattr(fd, name, value, size, 0) : ::lsetxattr(proc_path.c_str(), name, value, size, 0);
      if (r != 0 && errno != ENOTSUP && (geteuid() == 0 || errno != EPERM)) throw sys_error(std::string("xattr ") + name);
    }
  }

  static std::array<struct timespec, 2> times_of(struct archive_entry* e) {
    struct timespec m = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    struct timespec a = archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)} : m;
    return {a, m};
  }

  // Clears the way for a new entry; returns true when a directory stays (dir over dir).
  bool make_room(int dirfd, const std::string& name, bool new_is_dir) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (new_is_dir && S_ISDIR(st.st_mode)) return true;
    parent_valid_ = false;  // see parent_dir()
    remove_at(dirfd, name);
    return false;
  }

  void whiteout(const std::string& path, const std::string& base) {
    std::string target = base.substr(4);
    if (target == ".wh..opq") {  // opaque directory
      Fd dir = open_dir(dirname_of(path));
      if (::fsetxattr(dir.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) throw sys_error("opaque whiteout");
      return;
    }
    if (target.rfind(".wh.", 0) == 0) return;  // other aufs metadata: ignored, as Docker does
    if (target.empty() || target == "." || target == "..") throw Error("invalid whiteout name \"" + base + "\"");
    int dir = parent_dir(dirname_of(path));
    make_room(dir, target, false);
    if (::mknodat(dir, target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) throw sys_error("whiteout");
  }

  // Writes the entry's data blocks; returns the end of the last one (short of the size when
  // a sparse file ends in a hole).
  la_int64_t write_file(struct archive* a, int fd) {
    const void* buf;
    size_t len;
    la_int64_t off, end = 0;
    for (;;) {
      int r = archive_read_data_block(a, &buf, &len, &off);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK) throw Error(std::string("reading file data: ") + (archive_error_string(a) ? archive_error_string(a) : "error"));
      const char* p = static_cast<const char*>(buf);
      while (len) {
        ssize_t w = ::pwrite(fd, p, len, static_cast<off_t>(off));
        if (w < 0) {
          if (errno == EINTR) continue;
          throw sys_error("write");
        }
        p += w, len -= static_cast<size_t>(w), off += w;
      }
      end = std::max(end, off);
    }
    return end;
  }

  // Copies a file that a hard link names from the nearest lower layer holding it.
  void copy_from_lower(const std::string& target, int dirfd, const std::string& name) {
    for (const auto& lower : opts_.lower_diffs) {
      Fd lroot(::open(lower.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (lroot.get() < 0) continue;
      Fd src(openat2_in_root(lroot.get(), target, O_RDONLY | O_NOFOLLOW));
      struct stat st;
      if (src.get() < 0) {
        // A whiteout in this lower hides the layers below it.
        Fd ldir(openat2_in_root(lroot.get(), dirname_of(target), O_RDONLY | O_DIRECTORY));
        if (ldir.get() >= 0 && ::fstatat(ldir.get(), basename_of(target).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            is_whiteout(st))
          break;
        continue;
      }
      if (::fstat(src.get(), &st) != 0 || !S_ISREG(st.st_mode)) throw Error("hard link target \"" + shortened_path(target) + "\" is not a regular file");
      copy_regular_file(src.get(), st, dirfd, name, "copy of " + shortened_path(target));
      content_size_ += static_cast<uint64_t>(st.st_size);
      return;
    }
    throw Error("hard link target \"" + shortened_path(target) + "\" not found in this layer or below");
  }

  void apply_entry(struct archive* a, struct archive_entry* e, const std::string& path) {
    mode_t type = archive_entry_filetype(e);
    const char* hl = archive_entry_hardlink(e);
    if (path.empty()) {  // the root itself: never replaced; a directory's metadata applies
      if (type == AE_IFDIR && !hl) {
        if (::fchmod(root_.get(), archive_entry_perm(e)) != 0) throw sys_error("chmod");
        set_owner(root_.get(), ".", e);
      }
      return;
    }
    std::string base = basename_of(path);
    if (base.rfind(".wh.", 0) == 0) return whiteout(path, base);
    struct DirRef {  // borrowed from parent_dir()'s cache, not closed here
      int fd;
      int get() const { return fd; }
    } dir{parent_dir(dirname_of(path))};
    auto ts = times_of(e);
    std::string proc = "/proc/self/fd/" + std::to_string(dir.get()) + "/" + base;
    if (hl) {
      std::string target = clean_entry_path(hl);
      if (target.empty()) throw Error("hard link to the root");
      make_room(dir.get(), base, false);
      int tfd_flags = O_PATH | O_NOFOLLOW;
      Fd tdir(openat2_in_root(root_.get(), dirname_of(target), O_RDONLY | O_DIRECTORY));
      struct stat st;
      if (tdir.get() >= 0 && ::fstatat(tdir.get(), basename_of(target).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(st.st_mode)) throw Error("hard link to a directory");
        if (::linkat(tdir.get(), basename_of(target).c_str(), dir.get(), base.c_str(), 0) != 0) throw sys_error("link");
        (void)tfd_flags;
      } else {
        copy_from_lower(target, dir.get(), base);
      }
      // The link entry's own header applies to the (shared) inode, as Docker's extraction does:
      // the later header wins for every name of the file. Only what differs is changed, so a
      // link header that agrees (as every tar writer's does) keeps the file's setuid bit and
      // security.capability, which a chown would clear. A symlink keeps its mode.
      if (::fstatat(dir.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw sys_error("link");
      if (st.st_uid != static_cast<uid_t>(archive_entry_uid(e)) || st.st_gid != static_cast<gid_t>(archive_entry_gid(e))) {
        set_owner(dir.get(), base, e);
        st.st_mode &= ~static_cast<mode_t>(07777);  // chown cleared setuid/setgid: chmod below
      }
      if (!S_ISLNK(st.st_mode) && (st.st_mode & 07777) != archive_entry_perm(e) &&
          ::fchmodat(dir.get(), base.c_str(), archive_entry_perm(e), 0) != 0)
        throw sys_error("chmod");
      set_xattrs(-1, proc, e);
      return;
    }
    switch (type) {
      case AE_IFDIR: {
        if (::mkdirat(dir.get(), base.c_str(), 0700) != 0 &&
            (errno != EEXIST || (!make_room(dir.get(), base, true) && ::mkdirat(dir.get(), base.c_str(), 0700) != 0)))
          throw sys_error("mkdir");
        Fd d(::openat(dir.get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (d.get() < 0) throw sys_error("open directory");
        if (::fchown(d.get(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e))) != 0 &&
            (geteuid() == 0 || errno != EPERM))
          throw sys_error("chown");
        if (::fchmod(d.get(), archive_entry_perm(e)) != 0) throw sys_error("chmod");
        set_xattrs(d.get(), "", e);
        dir_times_.push_back({path, ts});
        return;
      }
      case AE_IFREG: {
        // Refused before a byte is written: the entry alone says it is over the limit.
        if (archive_entry_size(e) < 0 || static_cast<uint64_t>(archive_entry_size(e)) > max_size_)
          throw Error("file of " + std::to_string(archive_entry_size(e)) + " bytes: the layer exceeds the maximum size of " +
                      std::to_string(max_size_) + " bytes uncompressed");
        // A new file is root's already (root's group unless its directory is setgid): then no
        // chown, and, when the umask takes nothing from it, the mode is given at creation (no
        // chown comes after to clear a setuid bit).
        uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
        gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
        mode_t perm = archive_entry_perm(e);
        const bool chown = uid != 0 || gid != 0 || parent_setgid_ || !root_ids_;
        const bool exact = !chown && (perm & process_umask()) == 0;
        constexpr int kCreate = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        Fd f(::openat(dir.get(), base.c_str(), kCreate, exact ? perm : 0600));
        if (f.get() < 0 && errno == EEXIST) {  // an earlier entry of the same name: replaced
          make_room(dir.get(), base, false);
          f = Fd(::openat(dir.get(), base.c_str(), kCreate, exact ? perm : 0600));
        }
        if (f.get() < 0) throw sys_error("create");
        la_int64_t size = archive_entry_size(e);
        if (write_file(a, f.get()) != size && ::ftruncate(f.get(), size) != 0) throw sys_error("truncate");
        content_size_ += static_cast<uint64_t>(size);
        if (chown && ::fchown(f.get(), uid, gid) != 0 && (geteuid() == 0 || errno != EPERM)) throw sys_error("chown");
        if (!exact && ::fchmod(f.get(), perm) != 0) throw sys_error("chmod");
        set_xattrs(f.get(), "", e);
        if (::futimens(f.get(), ts.data()) != 0) throw sys_error("utimes");
        return;
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (::symlinkat(target ? target : "", dir.get(), base.c_str()) != 0 &&
            (errno != EEXIST || (make_room(dir.get(), base, false), ::symlinkat(target ? target : "", dir.get(), base.c_str())) != 0))
          throw sys_error("symlink");
        set_owner(dir.get(), base, e);
        ::utimensat(dir.get(), base.c_str(), ts.data(), AT_SYMLINK_NOFOLLOW);
        return;
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO: {
        make_room(dir.get(), base, false);
        dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (::mknodat(dir.get(), base.c_str(), type | 0600, dev) != 0) throw sys_error("mknod");
        set_owner(dir.get(), base, e);
        if (::fchmodat(dir.get(), base.c_str(), archive_entry_perm(e), 0) != 0) throw sys_error("chmod");
        set_xattrs(-1, proc, e);
        ::utimensat(dir.get(), base.c_str(), ts.data(), AT_SYMLINK_NOFOLLOW);
        return;
      }
      default:
        throw Error("unsupported entry type " + std::to_string(type));
    }
  }

  const ExtractOptions& opts_;
  Fd root_;
  uint64_t max_size_ = opts_.max_size ? opts_.max_size : kDefaultMaxLayerSize;
  uint64_t content_size_ = 0;
  std::vector<std::pair<std::string, std::array<struct timespec, 2>>> dir_times_;
  const bool root_ids_ = geteuid() == 0 && getegid() == 0;  // new files are 0:0
  Fd parent_;  // parent_dir()'s cache
  std::string parent_path_;
  bool parent_valid_ = false, parent_setgid_ = false;
};

EntryWriter::EntryWriter(const std::string& dest, const ExtractOptions& opts) : impl_(std::make_unique<Impl>(dest, opts)) {}
EntryWriter::~EntryWriter() = default;
void EntryWriter::apply(struct archive* a, struct archive_entry* e) { impl_->apply(a, e); }
void EntryWriter::finish() { impl_->finish(); }
uint64_t EntryWriter::content_size() const { return impl_->content_size(); }

}  // namespace minirun
