// file_lock.h — FileLock, the one inter-process lock: an exclusive flock(2) on a file (created
// 0600 when missing), held until the FileLock is destroyed. The kernel drops it when its holder
// dies, so a killed process never leaves it taken. The store's lock and each network's are these.
#pragma once

#include <string>

#include "minirun/util/fd.h"

namespace minirun {

class FileLock {
 public:
  // Blocks until the lock is held; throws Error naming the path when the file cannot be opened
  // or locked.
  explicit FileLock(const std::string& path);
  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept = default;

 private:
  Fd fd_;
};

}  // namespace minirun
