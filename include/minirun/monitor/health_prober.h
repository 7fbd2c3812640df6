// health_prober.h — runs a container's health check (health.h) while it runs: a timerfd starts
// a probe after each interval (the caller's ProbeFn: an exec in the container), the probe's
// output comes through a pipe, its timeout is the same timer (SIGKILL, then Docker's timeout
// result), and each result goes through the HealthMachine to on_health, which writes the state.
// Everything it waits on is in an epoll set of its own, whose descriptor the caller polls: the
// container's monitor adds it to its event loop (and hands it the probes it reaps on SIGCHLD);
// HealthThread runs one on a thread beside a foreground container, reaping its probes itself.
// Between probes nothing wakes up.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <thread>

#include "minirun/monitor/health.h"

namespace minirun::monitor {

// Starts one health probe in the container whose first process is container_pid, with stdin
// /dev/null and stdout and stderr on out_fd, and returns its pid once it has exec'd: a child of
// the caller, reaped by the prober's owner (or by the prober with reap_probes). Throws Error when
// it cannot be started: that probe's result is exit code -1 with the message.
using ProbeFn = std::function<pid_t(pid_t container_pid, int out_fd)>;

struct ProberOptions {
  HealthCheck check;
  HealthState before;  // the state recorded earlier (its log is kept)
  ProbeFn probe;
  // After each start (starting), each result, and the stop (unhealthy).
  std::function<void(const HealthState&)> on_health;
  bool reap_probes = false;  // the prober waits for its probes itself (a pidfd in its set)
};

class HealthProber {
 public:
  explicit HealthProber(ProberOptions o);  // throws Error when its descriptors cannot be made
  ~HealthProber();                         // a running probe is killed (and reaped with reap_probes)
  HealthProber(const HealthProber&) = delete;
  HealthProber& operator=(const HealthProber&) = delete;

  int fd() const { return ep_; }  // readable when handle() has work
  // The container (re)started: "starting", the first probe after the interval the state says.
  void started(pid_t container_pid);
  // The container exited: no more probes, a running one killed and its result dropped;
  // "unhealthy", as Docker's stopped check.
  void stopped();
  // Does what fd() reported: the timer (a probe, or a timeout), output, a probe's exit.
  void handle();
  // A child the owner reaped: true (and the result recorded) when it was the running probe.
  bool reaped(pid_t pid, int wait_status);

 private:
  void start_probe();
  void probe_exited(int wait_status);
  void result(HealthResult r);
  void arm(int64_t ns);
  void read_output();
  void end_probe_fds();

  ProberOptions o_;
  HealthMachine machine_;
  int ep_ = -1, timer_ = -1, out_ = -1, pidfd_ = -1;
  pid_t container_ = -1, probe_ = -1;
  int64_t probe_start_ = 0;
  bool timed_out_ = false;
  ProbeOutput output_;
};

// A HealthProber on a thread of its own, for a container no monitor runs (a foreground `run`):
// started with the container, stopped (its last state written: unhealthy) by stop() or the
// destructor. Its probes are reaped through pidfds, so the owner's waitpid(container) is
// undisturbed.
class HealthThread {
 public:
  HealthThread(ProberOptions o, pid_t container_pid);  // throws Error as HealthProber
  ~HealthThread() { stop(); }
  HealthThread(const HealthThread&) = delete;
  HealthThread& operator=(const HealthThread&) = delete;
  void stop();

 private:
  std::unique_ptr<HealthProber> prober_;
  int stop_fd_ = -1;
  std::thread thread_;
};

}  // namespace minirun::monitor
