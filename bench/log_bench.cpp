// log_bench — drives the monitor's log pipeline outside a container, for bench/logs.sh:
//   log_bench write LOG CMD...      the monitor loop (run_monitor) around CMD, its output into LOG
//   log_bench idle LOG CTL          a detached monitor around `sleep 1000`; prints its pid
//   log_bench record ROOT           a container record in the store at ROOT; prints its id, so
//                                   that `minirun --root ROOT logs ID` reads Store::container_log_path
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "minirun/monitor/monitor.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

using namespace minirun;

static monitor::StartFn exec_start(std::vector<char*> argv) {
  argv.push_back(nullptr);
  return [argv](int in, int out, int err) -> pid_t {
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
      ::execvp(argv[0], argv.data());
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

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "write" && argc > 3) {
      monitor::MonitorOptions o;
      o.log_path = argv[2];
      return monitor::run_monitor(o, exec_start(std::vector<char*>(argv + 3, argv + argc)));
    }
    if (mode == "idle" && argc == 4) {
      // $BALLAST_MB: heap the starting process has touched (and still holds) when it forks the
      // monitor, as the CLI's parsed flags, image config and store records are: the forked
      // monitor's RSS counts those pages too.
      std::vector<std::string> ballast;
      if (const char* mb = std::getenv("BALLAST_MB"))
        for (int i = 0; i < std::atoi(mb) * 16; i++) ballast.emplace_back(64 * 1024, 'b');
      monitor::MonitorOptions o;
      o.log_path = argv[2];
      o.ctl_path = argv[3];
      static char sleep_cmd[] = "sleep", secs[] = "1000";
      auto d = monitor::daemonize_monitor([&](int ready) {
        o.ready_fd = ready;
        return monitor::run_monitor(o, exec_start({sleep_cmd, secs}));
      });
      std::printf("%d %d\n", d.monitor_pid, d.container_pid);
      return 0;
    }
    if (mode == "record" && argc == 3) {
      Store store(argv[2]);
      ContainerRecord r;
      r.id = random_hex(64);
      r.name = "logbench";
      r.status = "exited";
      r.created = r.started = r.finished = now_rfc3339();
      store.put_container(r);
      std::printf("%s %s\n", r.id.c_str(), store.container_log_path(r.id).c_str());
      return 0;
    }
    std::fprintf(stderr, "usage: log_bench write LOG CMD... | idle LOG CTL | record ROOT\n");
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return e.exit_code();
  }
}
