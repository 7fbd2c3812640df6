// fd.h — Fd, the one owning file descriptor: closed when it goes out of scope or is reset,
// moved and never copied. get() lends the number; release() gives it up.
#pragma once

#include <unistd.h>

namespace minirun {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // The descriptor, no longer closed by this Fd.
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  // Closes the descriptor held (if any) and holds fd.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace minirun
