// tarwrite.cpp — tar output of layer directories. A merged view is computed in user space
// (no mount needed): for each directory, the layers that show it are listed nearest first,
// stopping at an opaque directory or at a layer where the path is not a directory; each name is
// taken from the nearest layer that has it, and a whiteout there hides it.
#include "minirun/image/tarwrite.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>
#include <map>
#include <set>
#include <utility>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/layer_fs.h"

namespace minirun {

namespace {

std::set<std::string> names_in(int fd) {
  std::set<std::string> out;
  int d = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) throw sys_error("opendir");
  DIR* dir = fdopendir(d);
  if (!dir) {
    ::close(d);
    throw sys_error("opendir");
  }
  while (struct dirent* e = readdir(dir))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) out.insert(e->d_name);
  closedir(dir);
  return out;
}

struct Sink {
  int fd;
  Sha256* hash = nullptr;
  uint64_t bytes = 0;
};

la_ssize_t sink_write(struct archive* a, void* client, const void* buf, size_t n) {
  auto* s = static_cast<Sink*>(client);
  const char* p = static_cast<const char*>(buf);
  size_t left = n;
  while (left) {
    ssize_t w = ::write(s->fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (a) archive_set_error(a, errno, "write: %s", strerror(errno));
      return -1;
    }
    p += w, left -= static_cast<size_t>(w);
  }
  if (s->hash) s->hash->update(buf, n);
  s->bytes += n;
  return static_cast<la_ssize_t>(n);
}

class TarOut {
 public:
  explicit TarOut(Sink* sink) {
    a_ = archive_write_new();
    archive_write_set_format_pax_restricted(a_);
    archive_write_set_bytes_in_last_block(a_, 1);
    if (archive_write_open(a_, sink, nullptr, sink_write, nullptr) != ARCHIVE_OK)
      throw Error(std::string("tar: ") + archive_error_string(a_));
  }
  ~TarOut() { archive_write_free(a_); }

  // Writes the entry `name` of directory fd dirfd as `path`. False, and nothing written, when it
  // went between its stat and its open (a running container's layer changes while it is read).
  bool entry(int dirfd, const std::string& name, const std::string& path, const struct stat& st) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_uid(e, st.st_uid);
    archive_entry_set_gid(e, st.st_gid);
    archive_entry_set_perm(e, st.st_mode & 07777);
    archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    Fd file;
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = links_.find(key);
      if (it != links_.end()) {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, it->second.c_str());
        archive_entry_set_size(e, 0);
        write_header(e, path);
        return true;
      }
    }
    if (S_ISREG(st.st_mode)) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, st.st_size);
      file = Fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (file.get() < 0 && (errno == ENOENT || errno == ELOOP)) return gone(e);
      if (file.get() < 0) throw sys_error(path);
      if (st.st_nlink > 1) links_[std::make_pair(st.st_dev, st.st_ino)] = path;
    } else if (S_ISDIR(st.st_mode)) {
      archive_entry_set_filetype(e, AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
      archive_entry_set_filetype(e, AE_IFLNK);
      char buf[4096];
      ssize_t n = ::readlinkat(dirfd, name.c_str(), buf, sizeof buf - 1);
      if (n < 0 && (errno == ENOENT || errno == EINVAL)) return gone(e);
      if (n < 0) throw sys_error(path);
      buf[n] = 0;
      archive_entry_set_symlink(e, buf);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_filetype(e, S_ISCHR(st.st_mode) ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdevmajor(e, major(st.st_rdev));
      archive_entry_set_rdevminor(e, minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      archive_entry_set_filetype(e, AE_IFIFO);
    } else {
      archive_entry_free(e);
      return false;  // sockets are not archived
    }
    add_xattrs(e, dirfd, name);
    write_header(e, path);
    if (file.get() >= 0) copy(file.get(), path, static_cast<uint64_t>(st.st_size));
    return true;
  }

  // An empty regular file (whiteout markers).
  void marker(const std::string& path, const struct stat& like) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, like.st_mtim.tv_sec, like.st_mtim.tv_nsec);
    archive_entry_set_size(e, 0);
    write_header(e, path);
  }

  void close() {
    if (archive_write_close(a_) != ARCHIVE_OK) throw Error(std::string("tar: ") + archive_error_string(a_));
  }

 private:
  static bool gone(struct archive_entry* e) {
    archive_entry_free(e);
    return false;
  }

  void write_header(struct archive_entry* e, const std::string& path) {
    int r = archive_write_header(a_, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) throw Error(path + ": " + archive_error_string(a_));
  }

  void add_xattrs(struct archive_entry* e, int dirfd, const std::string& name) {
    std::string p = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
    char names[8192];
    ssize_t len = ::llistxattr(p.c_str(), names, sizeof names);
    for (ssize_t i = 0; i < len; i += static_cast<ssize_t>(strlen(names + i)) + 1) {
      const char* k = names + i;
      if (strncmp(k, "trusted.overlay.", 16) == 0 || strcmp(k, "security.selinux") == 0) continue;
      char val[65536];
      ssize_t vl = ::lgetxattr(p.c_str(), k, val, sizeof val);
      if (vl >= 0) archive_entry_xattr_add_entry(e, k, val, static_cast<size_t>(vl));
    }
  }

  void copy(int fd, const std::string& path, uint64_t size) {
    std::vector<char> buf(1 << 20);
    uint64_t done = 0;
    while (done < size) {
      ssize_t n = ::read(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done)));
      if (n < 0) throw sys_error(path);
      if (n == 0) break;  // the file shrank: pad with zeros to the size in the header
      if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) < 0) throw Error(path + ": " + archive_error_string(a_));
      done += static_cast<uint64_t>(n);
    }
    std::fill(buf.begin(), buf.end(), 0);
    while (done < size) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
      archive_write_data(a_, buf.data(), n);
      done += n;
    }
  }

  struct archive* a_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

// The merged directory: fds of the layers that show it, nearest first.
void merged_dir(TarOut& out, const std::vector<int>& fds, const std::string& prefix) {
  std::set<std::string> all;
  for (int fd : fds)
    for (auto& n : names_in(fd)) all.insert(n);
  for (const auto& n : all) {
    // The nearest layer with this name decides.
    for (size_t i = 0; i < fds.size(); i++) {
      struct stat st;
      if (::fstatat(fds[i], n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (is_whiteout(st)) break;
      std::string path = prefix + n;
      if (!out.entry(fds[i], n, S_ISDIR(st.st_mode) ? path + "/" : path, st)) break;
      if (S_ISDIR(st.st_mode)) {
        std::vector<Fd> own;
        std::vector<int> sub;
        for (size_t j = i; j < fds.size(); j++) {
          struct stat s2;
          if (::fstatat(fds[j], n.c_str(), &s2, AT_SYMLINK_NOFOLLOW) != 0) continue;
          if (!S_ISDIR(s2.st_mode)) break;
          int c = ::openat(fds[j], n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (c < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)) break;  // went meanwhile
          if (c < 0) throw sys_error(path);
          own.emplace_back(c);
          sub.push_back(c);
          if (is_opaque(c)) break;
        }
        merged_dir(out, sub, path + "/");
      }
      break;
    }
  }
}

void layer_dir(TarOut& out, int fd, const std::string& prefix) {
  for (const auto& n : names_in(fd)) {
    struct stat st;
    if (::fstatat(fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::string path = prefix + n;
    if (is_whiteout(st)) {
      out.marker(prefix + ".wh." + n, st);
      continue;
    }
    if (!out.entry(fd, n, S_ISDIR(st.st_mode) ? path + "/" : path, st)) continue;
    if (S_ISDIR(st.st_mode)) {
      Fd c(::openat(fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (c.get() < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)) continue;  // went meanwhile
      if (c.get() < 0) throw sys_error(path);
      if (is_opaque(c.get())) out.marker(path + "/.wh..wh..opq", st);
      layer_dir(out, c.get(), path + "/");
    }
  }
}

}  // namespace

void write_merged_tar(const std::vector<std::string>& layers, int out_fd) {
  std::vector<Fd> own;
  std::vector<int> fds;
  for (const auto& l : layers) {
    int fd = ::open(l.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw sys_error(l);
    own.emplace_back(fd);
    fds.push_back(fd);
    if (is_opaque(fd)) break;
  }
  Sink sink{out_fd};
  TarOut out(&sink);
  merged_dir(out, fds, "");
  out.close();
}

LayerTar write_tar_from_split(const std::string& split_file, const std::string& diff_dir, int out_fd) {
  Fd split(::open(split_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (split.get() < 0) throw sys_error(split_file);
  Fd root(::open(diff_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) throw sys_error(diff_dir);
  Sha256 hash;
  Sink sink{out_fd, &hash};
  std::vector<char> buf(1 << 20);
  auto read_exact = [&](int fd, char* p, size_t n, const std::string& what) {
    while (n) {
      ssize_t r = ::read(fd, p, n);
      if (r <= 0) throw Error(what + ": short read");
      p += r, n -= static_cast<size_t>(r);
    }
  };
  auto emit = [&](const char* p, size_t n) {
    if (sink_write(nullptr, &sink, p, n) < 0) throw sys_error("write");
  };
  for (;;) {
    char kind;
    ssize_t r = ::read(split.get(), &kind, 1);
    if (r == 0) break;
    if (r < 0) throw sys_error(split_file);
    uint64_t len;
    read_exact(split.get(), reinterpret_cast<char*>(&len), 8, split_file);
    if (kind == 'R') {
      while (len) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(len, buf.size()));
        read_exact(split.get(), buf.data(), n, split_file);
        emit(buf.data(), n);
        len -= n;
      }
    } else if (kind == 'F') {
      uint32_t plen;
      read_exact(split.get(), reinterpret_cast<char*>(&plen), 4, split_file);
      std::string path(plen, '\0');
      read_exact(split.get(), path.data(), plen, split_file);
      struct open_how how = {};
      how.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
      how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
      Fd f(static_cast<int>(syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how)));
      if (f.get() < 0) throw sys_error(diff_dir + "/" + path);
      while (len) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(len, buf.size()));
        read_exact(f.get(), buf.data(), n, path);
        emit(buf.data(), n);
        len -= n;
      }
    } else {
      throw Error(split_file + ": corrupt tar split");
    }
  }
  return {hash.final_digest(), sink.bytes};
}

LayerTar write_layer_tar(const std::string& dir, int out_fd) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw sys_error(dir);
  Sha256 hash;
  Sink sink{out_fd, &hash};
  {
    TarOut out(&sink);
    layer_dir(out, fd.get(), "");
    out.close();
  }
  return {hash.final_digest(), sink.bytes};
}

}  // namespace minirun
