// health_prober.cpp — design: one timerfd serves both as the interval before the next probe and
// as the running probe's timeout: a probe is started when it fires with none running, and killed
// when it fires with one running. A probe is finished when it is reaped, not at EOF of its
// output: what it wrote is in the pipe by then, and a process it left behind (its own child)
// may hold the pipe open for good. The next interval is armed after each result (Docker resets
// its timer after handleProbeResult), so a slow probe delays the next.
#include "minirun/monitor/health_prober.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"

namespace minirun::monitor {

namespace {

enum : uint32_t { kTimer = 1, kOutput, kProbeExit };

void add(int ep, int fd, uint32_t tag) {
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.u32 = tag;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) throw sys_error("health check: epoll_ctl");
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int exit_code_of(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1; }

}  // namespace

HealthProber::HealthProber(ProberOptions o) : o_(std::move(o)), machine_(o_.check, o_.before) {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  timer_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (ep_ < 0 || timer_ < 0) {
    close_fd(ep_);
    close_fd(timer_);
    throw sys_error("health check: epoll/timerfd");
  }
  add(ep_, timer_, kTimer);
}

HealthProber::~HealthProber() {
  if (probe_ > 0) {
    ::kill(probe_, SIGKILL);
    if (o_.reap_probes) ::waitpid(probe_, nullptr, 0);
  }
  end_probe_fds();
  close_fd(timer_);
  close_fd(ep_);
}

void HealthProber::arm(int64_t ns) {
  struct itimerspec its = {};
  if (ns > 0) {
    its.it_value.tv_sec = ns / 1000000000;
    its.it_value.tv_nsec = ns % 1000000000;
  }
  ::timerfd_settime(timer_, 0, &its, nullptr);  // 0: disarmed
}

void HealthProber::started(pid_t container_pid) {
  container_ = container_pid;
  int64_t now = now_unix_ns();
  machine_.started(now);
  if (o_.on_health) o_.on_health(machine_.state());
  arm(machine_.next_delay(now));
}

void HealthProber::stopped() {
  arm(0);
  if (probe_ > 0) {
    ::kill(probe_, SIGKILL);
    if (o_.reap_probes) ::waitpid(probe_, nullptr, 0);  // else the owner reaps it as any child
  }
  probe_ = -1;
  end_probe_fds();
  container_ = -1;
  machine_.stopped();
  if (o_.on_health) o_.on_health(machine_.state());
}

void HealthProber::end_probe_fds() {
  for (int* fd : {&out_, &pidfd_})
    if (*fd >= 0) {
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, *fd, nullptr);
      close_fd(*fd);
    }
}

void HealthProber::handle() {
  struct epoll_event evs[4];
  int n = ::epoll_wait(ep_, evs, 4, 0);
  for (int i = 0; i < n; i++) {
    switch (evs[i].data.u32) {
      case kTimer: {
        uint64_t x;
        if (::read(timer_, &x, sizeof x) != static_cast<ssize_t>(sizeof x)) break;  // re-armed meanwhile
        if (container_ <= 0) break;
        if (probe_ > 0) {  // the running probe's timeout
          timed_out_ = true;
          ::kill(probe_, SIGKILL);
        } else {
          start_probe();
        }
        break;
      }
      case kOutput: read_output(); break;
      case kProbeExit: {
        int st = 0;
        if (probe_ > 0 && ::waitpid(probe_, &st, WNOHANG) == probe_) probe_exited(st);
        break;
      }
    }
  }
}

void HealthProber::start_probe() {
  output_ = ProbeOutput();
  timed_out_ = false;
  probe_start_ = now_unix_ns();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    HealthResult r{probe_start_, now_unix_ns(), -1, sys_error("health check: pipe").what()};
    result(std::move(r));
    return;
  }
  ::fcntl(p[0], F_SETFL, O_NONBLOCK);
  try {
    probe_ = o_.probe(container_, p[1]);
  } catch (const std::exception& e) {
    ::close(p[0]), ::close(p[1]);
    probe_ = -1;
    result({probe_start_, now_unix_ns(), -1, e.what()});
    return;
  }
  ::close(p[1]);
  out_ = p[0];
  add(ep_, out_, kOutput);
  if (o_.reap_probes) {
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, probe_, 0));
    if (pidfd_ >= 0) add(ep_, pidfd_, kProbeExit);
  }
  arm(machine_.check().timeout);
  if (o_.reap_probes && pidfd_ < 0) {  // no pidfd (the probe is gone already, or an old kernel)
    int st = 0;
    if (::waitpid(probe_, &st, 0) == probe_) probe_exited(st);
  }
}

void HealthProber::read_output() {
  char buf[8192];
  while (out_ >= 0) {
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n > 0) {
      output_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, out_, nullptr);  // EOF: the probe (and its children) closed it
    close_fd(out_);
  }
}

bool HealthProber::reaped(pid_t pid, int wait_status) {
  if (pid <= 0 || pid != probe_) return false;
  probe_exited(wait_status);
  return true;
}

void HealthProber::probe_exited(int st) {
  probe_ = -1;
  read_output();
  end_probe_fds();
  if (container_ <= 0) return;  // the container exited meanwhile: dropped, as Docker does
  int64_t end = now_unix_ns();
  if (timed_out_) result(timed_out_result(probe_start_, end, machine_.check().timeout, output_));
  else result({probe_start_, end, exit_code_of(st), output_.text()});
}

void HealthProber::result(HealthResult r) {
  machine_.record(std::move(r));
  if (o_.on_health) o_.on_health(machine_.state());
  arm(machine_.next_delay(now_unix_ns()));
}

HealthThread::HealthThread(ProberOptions o, pid_t container_pid) {
  o.reap_probes = true;
  prober_ = std::make_unique<HealthProber>(std::move(o));
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) throw sys_error("health check: eventfd");
  prober_->started(container_pid);
  thread_ = std::thread([this] {
    // Signals stay with the main thread (a foreground run forwards them to its container).
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    struct pollfd fds[2] = {{prober_->fd(), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
      int n = ::poll(fds, 2, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || (fds[1].revents & POLLIN)) break;
      if (fds[0].revents & POLLIN) prober_->handle();
    }
    prober_->stopped();
  });
}

void HealthThread::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  thread_.join();
  close_fd(stop_fd_);
}

}  // namespace minirun::monitor
