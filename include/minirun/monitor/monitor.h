// monitor.h — a detached container's monitor (Podman's conmon): one small process per running
// container, in its own session, parent and subreaper of the container's first process. It holds
// the container's stdio pipes and feeds the log writer, waits for the exit with signalfd and epoll
// (an idle monitor sleeps in epoll_wait and gives its buffers back), reports each exit, carries
// out the restart policy, and takes stop/kill requests from its control fifo, so that `stop`
// needs no daemon. How the container is started is the caller's: a StartFn.
//
// Control fifo protocol (one line per request, written whole: shorter than PIPE_BUF):
//   "stop <signal> <timeout-seconds>\n"  send signal, SIGKILL after the timeout (< 0: never);
//                                        no restart afterwards
//   "kill <signal>\n"                    send signal (the restart policy still applies)
// The monitor holds the fifo open for reading until it exits, so a client that holds it open for
// writing sees POLLERR exactly when the monitor is gone (watch_monitor): no pid to go stale.
//
// Attach socket (`attach`, `start -a`; SOCK_SEQPACKET, one message per packet, its first byte
// the kind):
//   monitor → client  'o' + bytes   the container's stdout (its terminal's output with a tty)
//                     'e' + bytes   its stderr
//                     'x' + decimal the process ended with this code; the monitor then closes
//   client → monitor  'i' + bytes   stdin for the container (kept only with open_stdin)
//                     'c'           the client's stdin ended (closes the container's with stdin_once)
//                     'w' + "R C"   the client's terminal size (rows, columns) for the tty
// Live output only, from the moment of connecting. A client that does not read is never waited
// for: up to kAttachQueue bytes are queued for it, past that its output is dropped.
//
// Health check (health_prober.h): while the container runs, the prober's descriptor is in the
// same epoll set, and the probes it starts are reaped on the same SIGCHLD. Each state goes to
// on_health, which the lead writes atomically for `inspect` and `ps`. Between probes nothing
// wakes the monitor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "minirun/monitor/health_prober.h"
#include "minirun/monitor/log_writer.h"
#include "minirun/monitor/restart_policy.h"

namespace minirun::monitor {

struct ExitInfo {
  int wait_status = 0;  // waitpid's status; 0 when the (re)start itself failed
  int exit_code = 0;    // as `wait` prints it: the exit code, 128+N for signal N, a failed start's code
  std::string error;    // a failed restart's message, else ""
  bool manually_stopped = false;  // a stop request (fifo, SIGTERM/SIGINT to the monitor) came first
  bool restarting = false;        // the monitor starts it again after restart_delay
  std::chrono::milliseconds restart_delay{0};
  int restart_count = 0;  // restarts so far, this decision's included
  int64_t finished_ns = 0;  // unix ns
  logs::LogWriter::Stats log;  // the log writer's counters at this exit (dropped lines, …)
};

// Starts the container's process with these as its stdin, stdout and stderr, and returns its
// pid once it runs (exec'd). Throws Error (with 125/126/127) when it cannot be started. The
// child inherits the monitor's blocked signal mask: it must call reset_signals_in_child(), and
// should set PR_SET_PDEATHSIG(SIGKILL) so that a killed monitor takes the container with it
// (then check getppid(): a monitor killed before the prctl left it orphaned; the tests'
// StartFn in tests/support/monitor_start.cpp shows the whole pattern).
using StartFn = std::function<pid_t(int stdin_fd, int stdout_fd, int stderr_fd)>;
// A container with a terminal (`run -t`): starts the process on a new pty of its own (its stdin,
// stdout and stderr) and returns its pid with *master set to the pty's master, which the monitor
// reads into the log as stdout (as Docker does) and to attached clients.
using TtyStartFn = std::function<pid_t(int* master)>;

constexpr size_t kAttachQueue = 1 << 20;  // bytes queued per slow attach client before dropping

struct MonitorOptions {
  std::string log_path;  // the json-file log (Store::container_log_path)
  logs::LogOptions log;
  RestartPolicy restart;
  std::string ctl_path;  // the control fifo (Store::container_ctl_path); "" for none
  int stop_signal = SIGTERM;  // for SIGTERM/SIGINT sent to the monitor itself
  int stop_timeout = 10;      // seconds, likewise
  int ready_fd = -1;  // where the first start is reported (daemonize_monitor's pipe); closed after
  // After each start (restart_count 0 for the first). The lead records running, pid, StartedAt.
  std::function<void(pid_t pid, int restart_count)> on_start;
  // After each exit, once the exit's log lines are written; again with restarting = false when a
  // stop cancels a pending restart. The lead records the exit atomically.
  std::function<void(const ExitInfo&)> on_exit;
  // Asked at each exit before the restart decision, and again after the back-off, when a restart
  // policy applies: true when a stop is on its way that the control fifo has not brought yet
  // (`stop` marks the lead's record, under its lock, before it writes to the fifo), which then
  // ends the policy as a stop request does.
  std::function<bool()> stop_marked;
  // ---- terminal, stdin, attach ----
  TtyStartFn tty_start;        // set: the container has a terminal; used instead of the StartFn
  bool open_stdin = false;     // `-i`: the container's stdin is a pipe (or its tty) the monitor holds
  bool stdin_once = false;     // an attached client's stdin EOF closes the container's stdin
  std::string attach_path;     // the attach socket ("" for none)
  std::vector<int> attach_fds;  // clients connected before the first start (`start -a`); taken over
  // A health check (health_prober.h): probed while the container runs; its probes are the
  // monitor's children (reap_probes is ignored).
  std::optional<ProberOptions> health;
};

// Runs the container until it has exited for good (policy, stop). Returns the last exit code.
// A failure of the first start goes to ready_fd (when set) and its code is returned; without a
// ready_fd it is thrown. Blocks SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGPIPE for its signalfd.
int run_monitor(const MonitorOptions& opts, const StartFn& start);

// In a child of the monitor, before exec: unblocks every signal (async-signal-safe).
void reset_signals_in_child();

}  // namespace minirun::monitor
