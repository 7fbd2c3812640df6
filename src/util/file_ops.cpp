#include "minirun/util/file_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

void write_new_file(const std::string& path, const std::string& what, mode_t mode, bool durable,
                    const std::function<void(int fd)>& write) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw sys_error(what + ": create");
  try {
    write(fd);
    if (durable && ::fsync(fd) != 0 && errno != EINVAL) throw sys_error(what + ": fsync");
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
  ::close(fd);
}

void replace_file(const std::string& path, mode_t mode, bool durable, const std::function<void(int fd)>& write) {
  std::string tmp = path + ".tmp-" + std::to_string(getpid()) + "-" + random_hex(8);
  write_new_file(tmp, path, mode, durable, write);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw sys_error(path + ": rename", e);
  }
}

std::vector<std::string> list_dir_names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace minirun
