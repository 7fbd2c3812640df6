// file_lock.cpp — see file_lock.h.
#include "minirun/util/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "minirun/util/error.h"

namespace minirun {

FileLock::FileLock(const std::string& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
  if (!fd_.valid()) throw sys_error(path);
  while (::flock(fd_.get(), LOCK_EX) != 0)
    if (errno != EINTR) throw sys_error(path + ": flock");
}

}  // namespace minirun
