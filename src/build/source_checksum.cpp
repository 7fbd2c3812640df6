#include "minirun/build/source_checksum.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <vector>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/file_ops.h"

namespace minirun::build {

namespace {

std::string file_digest(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw sys_error(path + ": open for the build cache checksum");
  Sha256 h;
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      errno = e;
      throw sys_error(path + ": read for the build cache checksum");
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return h.final_digest();
}

// Each entry is six fields, each ended by a NUL (none of them can hold one): path, type, mode,
// uid, gid, payload (content digest, link target or device number).
void walk(const std::string& dir, const std::string& rel, Sha256& h) {
  for (const auto& name : list_dir_names(dir)) {  // sorted
    std::string path = dir + "/" + name;
    std::string r = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) throw sys_error(path + ": stat for the build cache checksum");
    std::string type, payload;
    if (S_ISREG(st.st_mode)) {
      type = "f";
      payload = file_digest(path);
    } else if (S_ISDIR(st.st_mode)) {
      type = "d";
    } else if (S_ISLNK(st.st_mode)) {
      type = "l";
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
      if (n < 0) throw sys_error(path + ": readlink for the build cache checksum");
      target.resize(static_cast<size_t>(n));
      payload = target;
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      type = S_ISCHR(st.st_mode) ? "c" : "b";
      payload = std::to_string(major(st.st_rdev)) + "," + std::to_string(minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      type = "p";
    } else {
      type = "s";
    }
    std::string rec = r;
    rec += '\0';
    rec += type;
    rec += '\0';
    rec += std::to_string(st.st_mode & 07777);
    rec += '\0';
    rec += std::to_string(st.st_uid);
    rec += '\0';
    rec += std::to_string(st.st_gid);
    rec += '\0';
    rec += payload;
    rec += '\0';
    h.update(rec);
    if (S_ISDIR(st.st_mode)) walk(path, r, h);
  }
}

}  // namespace

std::string tree_checksum(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw Error(dir + ": not a directory to checksum");
  Sha256 h;
  h.update("minirun tree checksum v1");
  h.update("\0", 1);
  walk(dir, "", h);
  return h.final_digest();
}

}  // namespace minirun::build
