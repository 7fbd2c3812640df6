// monitor_wire.cpp — see monitor_wire.h.
#include "monitor_wire.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace minirun::monitor {

// A unix socket address for path; a path too long for sun_path goes through an O_PATH descriptor
// of its directory (*dirfd, closed by the caller).
bool unix_address(const std::string& path, struct sockaddr_un& a, int* dirfd) {
  a = {};
  a.sun_family = AF_UNIX;
  *dirfd = -1;
  std::string p = path;
  if (p.size() >= sizeof a.sun_path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return false;
    *dirfd = ::open(slash == 0 ? "/" : path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0) return false;
    p = "/proc/self/fd/" + std::to_string(*dirfd) + path.substr(slash);
    if (p.size() >= sizeof a.sun_path) return false;
  }
  std::memcpy(a.sun_path, p.c_str(), p.size() + 1);
  return true;
}

int64_t mono_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void write_line(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t w = ::write(fd, s.data() + done, s.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    done += static_cast<size_t>(w);
  }
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace minirun::monitor
