#include "minirun/runtime/tty.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "minirun/util/error.h"

namespace minirun::runtime {

namespace {

volatile sig_atomic_t g_winch = 0;

void copy_winsize(int master) {
  struct winsize ws;
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

}  // namespace

void note_winch() { g_winch = 1; }

ssize_t send_fd(int sock, const std::string& payload, int fd, int flags) {
  struct msghdr msg = {};
  std::string p = payload.empty() ? std::string(1, 'F') : payload;
  struct iovec io = {p.data(), p.size()};
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = ctl;
    msg.msg_controllen = sizeof ctl;
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  }
  return ::sendmsg(sock, &msg, flags);
}

int receive_fd(int sock) {
  struct msghdr msg = {};
  char buf[256];
  struct iovec io = {buf, sizeof buf};
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

int attach_new_pty(int sock, const char** what) {
  int master = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return *what = "open /dev/pts/ptmx", errno;
  if (::grantpt(master) != 0 || ::unlockpt(master) != 0) return *what = "unlockpt", errno;
  char name[128];
  if (::ptsname_r(master, name, sizeof name) != 0) return *what = "ptsname", errno;
  int slave = ::open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) return *what = "open the pty", errno;
  if (send_fd(sock, name, master) < 0) return *what = "send the pty master", errno;
  ::close(master);
  ::close(sock);
  ::setsid();
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) return *what = "controlling terminal", errno;
  for (int fd = 0; fd < 3; fd++) ::dup2(slave, fd);
  if (slave > 2) ::close(slave);
  return 0;
}

int connect_console_socket(const std::string& path) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) throw sys_error("console socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error("console socket path too long: " + path);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(s);
    throw sys_error("connect to console socket " + path, e);
  }
  return s;
}

void relay_tty(int master, bool forward_stdin) {
  struct termios saved;
  bool raw = forward_stdin && ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
  }
  copy_winsize(master);
  char buf[65536];
  bool in_open = forward_stdin;
  for (;;) {
    if (g_winch) {
      g_winch = 0;
      copy_winsize(master);
    }
    struct pollfd fds[2] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(master, buf, sizeof buf);
      if (r <= 0) break;
      if (::write(1, buf, static_cast<size_t>(r)) < 0) {
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t r = ::read(0, buf, sizeof buf);
      if (r <= 0) in_open = false;
      else if (::write(master, buf, static_cast<size_t>(r)) < 0) {
      }
    }
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
}

}  // namespace minirun::runtime
