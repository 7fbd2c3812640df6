// daemonize.cpp — see daemonize.h.
#include "minirun/monitor/daemonize.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "minirun/util/error.h"
#include "monitor_wire.h"

namespace minirun::monitor {

DetachedMonitor daemonize_monitor(const std::function<int(int ready_fd)>& body) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw sys_error("monitor: pipe");
  std::fflush(nullptr);
  pid_t c = ::fork();
  if (c < 0) {
    ::close(p[0]), ::close(p[1]);
    throw sys_error("monitor: fork");
  }
  if (c == 0) {
    ::close(p[0]);
    if (::setsid() < 0) ::_exit(kExitFailed);
    pid_t g = ::fork();  // not a session leader: it can never get a controlling terminal
    if (g != 0) ::_exit(g < 0 ? kExitFailed : 0);
    if (::chdir("/") != 0) ::_exit(kExitFailed);
    int null = ::open("/dev/null", O_RDWR);
    if (null < 0) ::_exit(kExitFailed);
    for (int fd = 0; fd < 3; fd++) ::dup2(null, fd);
    if (null > 2) ::close(null);
    // Heap the starting process freed but kept goes back to the kernel: a forked monitor's RSS
    // counts every anonymous page it inherited (what the caller still holds stays).
    ::malloc_trim(0);
    int rc = kExitFailed;
    try {
      rc = body(p[1]);
    } catch (const Error& e) {
      write_line(p[1], "err " + std::to_string(e.exit_code()) + " " + one_line(e.what()) + "\n");
      rc = e.exit_code();
    } catch (const std::exception& e) {
      write_line(p[1], "err 125 " + one_line(e.what()) + "\n");
    }
    ::_exit(rc);
  }
  ::close(p[1]);
  int st;
  while (::waitpid(c, &st, 0) < 0 && errno == EINTR) {}
  std::string msg;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(buf, static_cast<size_t>(n));
    if (msg.find('\n') != std::string::npos) break;
  }
  ::close(p[0]);
  if (msg.rfind("ok ", 0) == 0) {
    DetachedMonitor d;
    if (std::sscanf(msg.c_str(), "ok %d %d", &d.monitor_pid, &d.container_pid) == 2) return d;
  }
  if (msg.rfind("err ", 0) == 0) {
    int code = kExitFailed, used = 0;
    std::sscanf(msg.c_str(), "err %d %n", &code, &used);
    std::string text = msg.substr(static_cast<size_t>(used));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    throw Error(text, code);
  }
  throw Error("the container's monitor ended before the container started");
}

}  // namespace minirun::monitor
