// daemonize.h — starting a container's monitor (monitor.h) as a detached process and learning
// how its first start went: the process that ran `run -d` or `start` returns with the monitor's
// and the container's pids, or with the start's error, and the monitor lives on without it.
#pragma once

#include <sys/types.h>

#include <functional>

namespace minirun::monitor {

struct DetachedMonitor {
  pid_t monitor_pid = 0;
  pid_t container_pid = 0;
};

// Runs body in a detached process — double fork, setsid, cwd /, stdio on /dev/null: it survives
// the terminal's SIGHUP and the starting shell — and returns once body reported the first start
// on the fd it is given (run_monitor with ready_fd does). Throws the Error body reported (one
// line, its exit code), or Error(125) when it ended without reporting. body's return value is the
// detached process's exit status; it never returns into the caller's code.
// Memory: the monitor starts as a copy of the caller, and its RSS counts every anonymous page the
// caller holds at the fork (measured, bench/logs.sh: 0.74 MB with nothing held, 2.8 MB when the
// caller holds 2 MB). Call it before the run path builds big structures, or re-exec minirun.
// Fork from a single-threaded moment when possible (glibc keeps malloc usable after fork anyway).
DetachedMonitor daemonize_monitor(const std::function<int(int ready_fd)>& body);

}  // namespace minirun::monitor
