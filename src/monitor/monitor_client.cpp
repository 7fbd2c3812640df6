// monitor_client.cpp — see monitor_client.h.
#include "minirun/monitor/monitor_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "monitor_wire.h"

namespace minirun::monitor {

bool send_monitor_command(const std::string& ctl_path, const std::string& line) {
  int fd = ::open(ctl_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;  // ENXIO: nobody reads it; ENOENT: no monitor ever, or it ended
  std::string l = line.empty() || line.back() != '\n' ? line + "\n" : line;
  ssize_t w = ::write(fd, l.data(), l.size());
  ::close(fd);
  return w == static_cast<ssize_t>(l.size());
}

int connect_attach(const std::string& attach_path) {
  struct sockaddr_un a;
  int dirfd = -1;
  if (!unix_address(attach_path, a, &dirfd)) {
    if (dirfd >= 0) ::close(dirfd);
    return -1;
  }
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  int rc = fd >= 0 ? ::connect(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof a) : -1;
  if (dirfd >= 0) ::close(dirfd);
  if (rc != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

int watch_monitor(const std::string& ctl_path) {
  return ::open(ctl_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

bool wait_monitor_exit(const std::string& ctl_path, int timeout_ms) {
  int fd = watch_monitor(ctl_path);
  if (fd < 0) return true;
  struct pollfd pfd = {fd, 0, 0};
  int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
  bool gone = false;
  for (;;) {
    int left = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - mono_ms()));
    int n = ::poll(&pfd, 1, left);
    if (n < 0 && errno == EINTR) continue;
    gone = n > 0;
    break;
  }
  ::close(fd);
  return gone;
}

}  // namespace minirun::monitor
