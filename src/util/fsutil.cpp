#include "minirun/util/fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

#include "minirun/util/error.h"
#include "minirun/util/file_ops.h"

namespace minirun {

namespace {
std::string random_from(const char* alphabet, size_t alen, size_t n) {
  std::string out(n, '0');
  unsigned char buf[64];
  size_t i = 0;
  while (i < n) {
    ssize_t r = getrandom(buf, sizeof buf, 0);
    if (r <= 0) throw sys_error("getrandom");
    for (ssize_t k = 0; k < r && i < n; k++) {
      // Rejection sampling keeps the distribution uniform.
      if (buf[k] >= 256 - (256 % alen)) continue;
      out[i++] = alphabet[buf[k] % alen];
    }
  }
  return out;
}

}  // namespace

std::string shortened_path(const std::string& p) {
  if (p.size() <= 200) return p;
  return p.substr(0, 120) + "…(" + std::to_string(p.size()) + " bytes)…" + p.substr(p.size() - 60);
}

std::string random_hex(size_t n) { return random_from("0123456789abcdef", 16, n); }

std::string random_short_id(size_t n) { return random_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 32, n); }

bool write_fully(int fd, const void* data, size_t n) noexcept {
  const char* p = static_cast<const char*>(data);
  while (n) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (w == 0) {
      errno = ENOSPC;
      return false;
    }
    p += w, n -= static_cast<size_t>(w);
  }
  return true;
}

void write_all(int fd, const void* data, size_t n, const std::string& what) {
  if (!write_fully(fd, data, n)) {
    const int e = errno;
    throw sys_error(what + ": write", e);
  }
}

void write_file_atomic(const std::string& path, const std::string& data, mode_t mode) {
  replace_file(path, mode, true, [&](int fd) { write_all(fd, data.data(), data.size(), path); });
}

void write_new_file_durable(const std::string& path, const std::string& data, mode_t mode) {
  write_new_file(path, path, mode, true, [&](int fd) { write_all(fd, data.data(), data.size(), path); });
}

std::optional<std::string> read_file_if_exists(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw sys_error(path);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw sys_error(path + ": read", e);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
    if (out.size() > max_bytes) {
      ::close(fd);
      throw Error(path + ": file larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

std::string read_whole_file(const std::string& path, size_t max_bytes) {
  auto r = read_file_if_exists(path, max_bytes);
  if (!r) throw sys_error(path, ENOENT);
  return *r;
}

namespace {

// Removes the tree below the directory `path` holding at most two descriptors at a time, so that
// neither depth (a hostile layer nests thousands of directories: a recursive walk keeps one open
// directory per level and fails with EMFILE at the usual 1,024) nor total path
// length (past PATH_MAX) stops it. Goes down by name, back up by "..", never following symlinks.
bool remove_deep(const std::string& path, std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    why = std::strerror(errno);
    return false;
  }
  std::vector<std::string> names;  // the way down from path
  for (;;) {
    int dfd = ::dup(fd);
    DIR* d = dfd >= 0 ? ::fdopendir(dfd) : nullptr;
    if (!d) {
      if (dfd >= 0) ::close(dfd);
      why = std::strerror(errno);
      ::close(fd);
      return false;
    }
    std::string subdir;
    while (struct dirent* e = ::readdir(d)) {
      if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
      if (::unlinkat(fd, e->d_name, 0) == 0) continue;
      if (errno == EISDIR || errno == EPERM) {
        subdir = e->d_name;
        break;
      }
      if (errno != ENOENT) {
        why = std::string(e->d_name) + ": " + std::strerror(errno);
        ::closedir(d);
        ::close(fd);
        return false;
      }
    }
    ::closedir(d);
    if (!subdir.empty()) {  // down
      int child = ::openat(fd, subdir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        why = subdir + ": " + std::strerror(errno);
        ::close(fd);
        return false;
      }
      ::close(fd);
      fd = child;
      names.push_back(subdir);
      continue;
    }
    if (names.empty()) break;  // path itself is empty now
    int parent = ::openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // up
    ::close(fd);
    if (parent < 0) {
      why = std::strerror(errno);
      return false;
    }
    fd = parent;
    if (::unlinkat(fd, names.back().c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      why = names.back() + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    names.pop_back();
  }
  ::close(fd);
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    why = std::strerror(errno);
    return false;
  }
  return true;
}

// Empties the directory dfd (closed here): getdents64 and unlinkat, a directory first tried as
// empty. About half the system calls of std::filesystem::remove_all, which stats and fcntls
// each directory. It holds a descriptor and a buffer a level, so below kFastDepth levels it
// leaves the rest and answers EMFILE: remove_tree hands that to remove_deep. Returns 0 or an errno.
constexpr int kFastDepth = 64;
int remove_entries(int dfd, int depth) {
  alignas(8) char buf[8192];
  int err = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
      bool dir = d->d_type == DT_DIR;
      if (d->d_type == DT_UNKNOWN) {
        struct stat st;
        dir = ::fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (!dir) {
        if (::unlinkat(dfd, name, 0) != 0 && errno != ENOENT && !err) err = errno;
        continue;
      }
      if (::unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) continue;
      if (errno != ENOTEMPTY && errno != EEXIST) {
        if (!err) err = errno;
        continue;
      }
      if (depth >= kFastDepth) {  // left for remove_deep
        if (!err) err = EMFILE;
        continue;
      }
      int sub = ::openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        if (errno != ENOENT && !err) err = errno;
        continue;
      }
      int e = remove_entries(sub, depth + 1);
      if (e && !err) err = e;
      if (::unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT && !err) err = errno;
    }
  }
  ::close(dfd);
  return err;
}

}  // namespace

void remove_tree(const std::string& path) {
  int err = 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    err = remove_entries(fd, 0);
    if (err == EMFILE || err == ENFILE || err == ENAMETOOLONG) {
      // Deeper than the fast walk goes, or out of descriptors: two descriptors at a time.
      std::string why;
      if (remove_deep(path, why)) return;
      throw Error(path + ": cannot remove: " + why);
    }
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT && !err) err = errno;
  } else if (errno == ENOTDIR || errno == ELOOP) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) err = errno;  // a file or a symlink
  } else if (errno != ENOENT) {
    err = errno;
  }
  if (err) throw Error(path + ": cannot remove: " + std::strerror(err));
}

bool pid_alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  // A zombie has exited: only its parent's wait is missing (an orphan waits for init, which on
  // some hosts reaps every second or two). State is the field after the command's ')'.
  char path[64], buf[512];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return true;
  buf[n] = 0;
  const char* close_paren = std::strrchr(buf, ')');
  return !(close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X'));
}

RemoveOnExit::~RemoveOnExit() {
  if (dir_.empty()) return;
  try {
    remove_tree(dir_);
  } catch (...) {
  }
}

std::string now_rfc3339() {
  char buf[64];
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace minirun

namespace minirun {

namespace {
// The names of a file's extended attributes (flistxattr, grown until they fit).
std::vector<std::string> xattr_names(int fd, const std::string& what) {
  std::vector<char> buf(1024);
  ssize_t n;
  while ((n = ::flistxattr(fd, buf.data(), buf.size())) < 0) {
    if (errno == ENOTSUP) return {};
    if (errno != ERANGE) throw sys_error(what + ": listxattr");
    buf.resize(buf.size() * 4);
  }
  std::vector<std::string> out;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(buf.data() + i)) + 1) out.emplace_back(buf.data() + i);
  return out;
}
}  // namespace

void copy_xattrs(int src, int dst, const std::string& what, const std::string& skip) {
  auto skipped = [&](const std::string& n) { return !skip.empty() && n.compare(0, skip.size(), skip) == 0; };
  for (const auto& n : xattr_names(dst, what))
    if (!skipped(n) && ::fremovexattr(dst, n.c_str()) != 0 && errno != ENODATA)
      throw sys_error(what + ": xattr " + n);
  std::vector<char> val(4096);
  for (const auto& n : xattr_names(src, what)) {
    if (skipped(n)) continue;
    ssize_t vl;
    while ((vl = ::fgetxattr(src, n.c_str(), val.data(), val.size())) < 0) {
      if (errno != ERANGE) throw sys_error(what + ": xattr " + n);
      val.resize(val.size() * 4);
    }
    // Without root, trusted.* and security.* cannot be set: skipped, as the extractor does.
    if (::fsetxattr(dst, n.c_str(), val.data(), static_cast<size_t>(vl), 0) != 0 && errno != ENOTSUP &&
        (geteuid() == 0 || errno != EPERM))
      throw sys_error(what + ": xattr " + n);
  }
}

void copy_regular_file(int src, const struct stat& st, int dirfd, const std::string& name, const std::string& what) {
  int dst = ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0) throw sys_error(what + ": create");
  try {
    std::vector<char> buf(1 << 20);
    ssize_t n;
    while ((n = ::read(src, buf.data(), buf.size())) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        throw sys_error(what + ": read");
      }
      write_all(dst, buf.data(), static_cast<size_t>(n), what);
    }
    // chown before chmod (chown clears setuid) and before the xattrs (it clears security.capability).
    if (::fchown(dst, st.st_uid, st.st_gid) != 0 && geteuid() == 0) throw sys_error(what + ": chown");
    if (::fchmod(dst, st.st_mode & 07777) != 0) throw sys_error(what + ": chmod");
    copy_xattrs(src, dst, what);
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    if (::futimens(dst, ts) != 0) throw sys_error(what + ": utimens");
  } catch (...) {
    ::close(dst);
    throw;
  }
  ::close(dst);
}

}  // namespace minirun
