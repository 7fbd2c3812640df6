#include "monitor_start.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::test {

monitor::StartFn exec_start(const std::string& file, std::vector<std::string> argv) {
  return [file, argv](int in, int out, int err) -> pid_t {
    std::vector<char*> args;  // made before the fork: the child only execs
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw sys_error("pipe");
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw sys_error("fork");
    if (pid == 0) {
      ::close(p[0]);
      monitor::reset_signals_in_child();
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(137);  // the monitor died before the line above
      ::dup2(in, 0), ::dup2(out, 1), ::dup2(err, 2);
      ::execvp(file.c_str(), args.data());
      int e = errno;
      (void)!::write(p[1], &e, sizeof e);
      ::_exit(127);
    }
    // Returns once the command runs: the close-on-exec pipe closes on exec.
    ::close(p[1]);
    int e = 0;
    ssize_t n;
    while ((n = ::read(p[0], &e, sizeof e)) < 0 && errno == EINTR) {}
    ::close(p[0]);
    if (n > 0) {
      ::waitpid(pid, nullptr, 0);
      throw Error(std::string("exec: ") + std::strerror(e), 127);
    }
    return pid;
  };
}

monitor::StartFn sh_start(const std::string& script) { return exec_start("/bin/sh", {"sh", "-c", script}); }

ContainerRecord put_exited_container(Store& store, const std::string& name) {
  ContainerRecord r;
  r.id = random_hex(64);
  r.name = name;
  r.status = ContainerStatus::exited;
  r.created = r.started = r.finished = now_rfc3339();
  store.put_container(r);
  return r;
}

}  // namespace minirun::test
