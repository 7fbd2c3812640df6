// monitor.cpp — design: one epoll set holds the signalfd (SIGCHLD, SIGTERM, SIGINT, SIGHUP,
// SIGPIPE, all blocked), the control fifo, a timerfd (SIGKILL after a stop's timeout, or the
// restart back-off) and, while a container runs, the read ends of its stdout and stderr pipes
// (1 MiB each, so a burst of output rarely fills them). Each wake-up reads every ready pipe once
// into a 1 MiB buffer and feeds the log writer; the writer's batch goes out when epoll has
// nothing more to report (a zero-timeout wait), so a busy container costs one write(2) per batch
// and a quiet one still has its lines on disk at once. After a second of silence the buffers are
// given back to the kernel (MADV_DONTNEED) and the monitor blocks in epoll_wait with no timeout:
// no polling. The first pid's exit (waitpid on SIGCHLD; the monitor is a subreaper, so orphans
// are reaped too) is final once the pipes are drained of what was written before it.
// With a terminal the pty master takes stdout's place (its output logged as stdout). Attach
// clients (attach socket, see monitor.h) are in the same epoll set; output goes to them with
// MSG_DONTWAIT and queues (bounded) when one is slow, so neither the log nor the container ever
// waits for a client. Stdin from clients goes to the container's stdin pipe or pty without
// blocking: when it does not take more, the clients' input is no longer read until it does.
// A health check adds its prober's epoll descriptor (health_prober.h) to the set; the probes it
// starts are the monitor's children, reaped with the rest and handed back to it.
#include "minirun/monitor/monitor.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <deque>
#include <memory>

#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"
#include "monitor_wire.h"

namespace minirun::monitor {

namespace {

constexpr size_t kReadBuf = 1 << 20;
constexpr int kPipeSize = 1 << 20;

enum Tag : uint32_t { kSig = 1, kCtl, kTimer, kOut, kErr, kListen, kStdin, kClient, kHealth };
constexpr size_t kAttachChunk = 32 << 10;  // bytes per attach message (below any socket buffer)
constexpr size_t kStdinPending = 64 << 10;  // stdin held for the container before clients wait
constexpr size_t kMaxClients = 64;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

class Monitor {
 public:
  Monitor(const MonitorOptions& o) : o_(o), writer_(o.log_path, o.log) {
    if (o.health && o.health->probe) {
      ProberOptions h = *o.health;
      h.reap_probes = false;  // reaped with every other child (SIGCHLD)
      health_ = std::make_unique<HealthProber>(std::move(h));
    }
  }
  ~Monitor() {
    health_.reset();
    for (int* fd : {&sig_, &ctl_, &timer_, &ep_, &pipe_[0], &pipe_[1], &stdin_w_, &listen_}) close_fd(*fd);
    for (auto& [fd, c] : clients_) ::close(fd);
    if (rbuf_) ::munmap(rbuf_, kReadBuf);
    if (!o_.ctl_path.empty() && ctl_made_) ::unlink(o_.ctl_path.c_str());
    if (listen_made_) ::unlink(o_.attach_path.c_str());
  }

  void setup() {
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE}) sigaddset(&mask, s);
    if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) throw sys_error("monitor: sigprocmask");
    sig_ = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sig_ < 0) throw sys_error("monitor: signalfd");
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    timer_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (ep_ < 0 || timer_ < 0) throw sys_error("monitor: epoll/timerfd");
    add(sig_, kSig);
    add(timer_, kTimer);
    if (health_) add(health_->fd(), kHealth);
    if (!o_.ctl_path.empty()) {
      ::unlink(o_.ctl_path.c_str());
      if (::mkfifo(o_.ctl_path.c_str(), 0600) != 0) throw sys_error("monitor: mkfifo " + o_.ctl_path);
      ctl_made_ = true;
      // Read and write: the fifo never reports EOF when a client closes it.
      ctl_ = ::open(o_.ctl_path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
      if (ctl_ < 0) throw sys_error("monitor: open " + o_.ctl_path);
      add(ctl_, kCtl);
    }
    if (!o_.attach_path.empty()) {
      ::unlink(o_.attach_path.c_str());
      struct sockaddr_un a;
      int dirfd = -1;
      bool ok = unix_address(o_.attach_path, a, &dirfd);
      listen_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      mode_t old = ::umask(0077);  // root's only, as the fifo
      int b = ok && listen_ >= 0 ? ::bind(listen_, reinterpret_cast<struct sockaddr*>(&a), sizeof a) : -1;
      ::umask(old);
      if (dirfd >= 0) ::close(dirfd);
      if (b != 0 || ::listen(listen_, 16) != 0) throw sys_error("monitor: attach socket " + o_.attach_path);
      listen_made_ = true;
      add(listen_, kListen);
    }
    for (int fd : o_.attach_fds) add_client(fd);
  }

  int run(const StartFn& start) {
    RestartState rs;
    int last = 0;
    for (bool first = true;; first = false) {
      std::optional<Error> failed;
      pid_t pid = -1;
      try {
        pid = start_one(start);
      } catch (const Error& e) {
        failed = e;
      } catch (const std::exception& e) {
        failed = Error(e.what());
      }
      // The first start is recorded (on_start, and the health check's "starting") before it is
      // reported: once `run -d` returns, `ps` shows the container running.
      if (!failed) health_started();
      if (!failed && o_.on_start) o_.on_start(pid, rs.restart_count);
      if (first) {
        if (o_.ready_fd >= 0) {
          write_line(o_.ready_fd, failed ? "err " + std::to_string(failed->exit_code()) + " " + one_line(failed->what()) + "\n"
                                         : "ok " + std::to_string(getpid()) + " " + std::to_string(pid) + "\n");
          ::close(o_.ready_fd);
        }
        if (failed) {
          if (o_.ready_fd >= 0) return failed->exit_code();
          throw *failed;
        }
      }
      int64_t started = mono_ms();
      ExitInfo info;
      if (!failed) {
        info.wait_status = wait_for(pid);
        health_stopped();
        info.exit_code = WIFEXITED(info.wait_status)     ? WEXITSTATUS(info.wait_status)
                         : WIFSIGNALED(info.wait_status) ? 128 + WTERMSIG(info.wait_status)
                                                         : 125;
      } else {
        info.exit_code = failed->exit_code();
        info.error = failed->what();
      }
      writer_.flush();
      if (!stop_requested_ && stop_marked()) stop_requested_ = true;
      info.manually_stopped = stop_requested_;
      RestartDecision d = decide_restart(o_.restart, rs, info.exit_code, stop_requested_,
                                         std::chrono::milliseconds(mono_ms() - started));
      info.restarting = d.restart;
      info.restart_delay = d.delay;
      info.restart_count = rs.restart_count;
      info.finished_ns = now_unix_ns();
      info.log = writer_.stats();
      last = info.exit_code;
      if (o_.on_exit) o_.on_exit(info);
      end_clients(info.exit_code);  // after the record: an attach that returns sees it exited
      if (!d.restart) break;
      if (!sleep_for(d.delay) || stop_marked()) {  // a stop came during the back-off
        info.restarting = false;
        info.manually_stopped = true;
        if (o_.on_exit) o_.on_exit(info);
        break;
      }
    }
    return last;
  }

 private:
  void add(int fd, uint32_t tag) {
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.u32 = tag;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) throw sys_error("monitor: epoll_ctl");
  }

  pid_t start_one(const StartFn& start) {
    if (o_.tty_start) return start_tty();
    int in = -1;
    if (o_.open_stdin) {  // -i: a pipe whose write end the monitor holds (clients' stdin)
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) throw sys_error("monitor: pipe");
      ::fcntl(p[1], F_SETFL, O_NONBLOCK);
      in = p[0];
      stdin_w_ = p[1];
    } else {
      in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    int child[2] = {-1, -1};
    if (o_.log.driver == logs::LogOptions::Driver::none && o_.attach_path.empty() && o_.attach_fds.empty()) {
      // Nothing is kept: the container writes to /dev/null and the monitor reads nothing.
      child[0] = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      child[1] = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    } else {
      for (int s = 0; s < 2; s++) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw sys_error("monitor: pipe");
        ::fcntl(p[0], F_SETPIPE_SZ, kPipeSize);  // best effort: a smaller pipe only costs wake-ups
        ::fcntl(p[0], F_SETFL, O_NONBLOCK);
        pipe_[s] = p[0];
        child[s] = p[1];
        add(p[0], s == 0 ? kOut : kErr);
      }
    }
    pid_t pid = -1;
    try {
      if (in < 0 || child[0] < 0 || child[1] < 0) throw sys_error("monitor: open /dev/null");
      pid = start(in, child[0], child[1]);
    } catch (...) {
      for (int fd : {in, child[0], child[1]})
        if (fd >= 0) ::close(fd);
      for (int s = 0; s < 2; s++) end_pipe(s);
      close_stdin();
      throw;
    }
    for (int fd : {in, child[0], child[1]}) ::close(fd);
    child_ = pid;
    return pid;
  }

  pid_t start_tty() {
    int master = -1;
    pid_t pid = o_.tty_start(&master);
    child_ = pid;
    if (master >= 0) {
      ::fcntl(master, F_SETFL, O_NONBLOCK);
      pipe_[0] = tty_ = master;
      add(master, kOut);
      if (winsize_.ws_row || winsize_.ws_col) ::ioctl(master, TIOCSWINSZ, &winsize_);
    }
    return pid;
  }

  // ---- stdin and attach clients ----
  struct Client {
    std::deque<std::string> q;  // messages not yet sent
    size_t queued = 0;
    uint64_t dropped = 0;
    bool out_armed = false;
  };

  int stdin_target() const { return !o_.open_stdin ? -1 : tty_ >= 0 ? tty_ : stdin_w_; }

  void set_client_events(int fd, Client& c) {
    struct epoll_event ev = {};
    ev.events = (stdin_paused_ ? 0u : uint32_t{EPOLLIN}) | (c.q.empty() ? 0u : uint32_t{EPOLLOUT});
    ev.data.u32 = kClient | (static_cast<uint32_t>(fd) << 8);
    c.out_armed = !c.q.empty();
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  }

  void add_client(int fd) {
    if (clients_.size() >= kMaxClients) {
      ::close(fd);
      return;
    }
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {};
    ev.events = stdin_paused_ ? 0u : uint32_t{EPOLLIN};
    ev.data.u32 = kClient | (static_cast<uint32_t>(fd) << 8);
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      return;
    }
    clients_.emplace(fd, Client{});
  }

  void drop_client(int fd) {
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    clients_.erase(fd);
  }

  void accept_clients() {
    for (;;) {
      int fd = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      add_client(fd);
    }
  }

  // Sends what is queued for a client; false when it is gone.
  bool flush_client(int fd, Client& c) {
    while (!c.q.empty()) {
      const std::string& m = c.q.front();
      ssize_t w = ::send(fd, m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (w < 0) return false;
      c.queued -= m.size();
      c.q.pop_front();
    }
    if (c.out_armed != !c.q.empty()) set_client_events(fd, c);
    return true;
  }

  // Output to every client; a slow one gets it queued, up to kAttachQueue, then dropped.
  void broadcast(char kind, const char* p, size_t n) {
    if (clients_.empty()) return;
    std::vector<int> gone;
    for (size_t off = 0; off < n; off += kAttachChunk) {
      size_t len = std::min(kAttachChunk, n - off);
      std::string m(1, kind);
      m.append(p + off, len);
      for (auto& [fd, c] : clients_) {
        if (c.q.empty()) {
          ssize_t w = ::send(fd, m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
          if (w == static_cast<ssize_t>(m.size())) continue;
          if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            gone.push_back(fd);
            continue;
          }
        }
        if (c.queued + m.size() > kAttachQueue) {
          c.dropped += m.size();
          continue;
        }
        c.queued += m.size();
        c.q.push_back(std::move(m));
        m = std::string(1, kind) + std::string(p + off, len);
        if (!c.out_armed) set_client_events(fd, c);
      }
    }
    for (int fd : gone)
      if (clients_.count(fd)) drop_client(fd);
  }

  // The process ended: clients get its code and are disconnected (what they could not take yet
  // is dropped: a client never holds the monitor up).
  void end_clients(int code) {
    std::string m = "x" + std::to_string(code);
    for (auto& [fd, c] : clients_) {
      c.q.push_back(m);
      c.queued += m.size();
      flush_client(fd, c);
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
      ::close(fd);
    }
    clients_.clear();
    stdin_paused_ = false;
    pending_in_.clear();
    close_stdin();
  }

  void close_stdin() {
    if (stdin_w_ >= 0 && stdin_out_armed_) ::epoll_ctl(ep_, EPOLL_CTL_DEL, stdin_w_, nullptr);
    close_fd(stdin_w_);
    stdin_out_armed_ = false;
    pending_in_.clear();
    close_after_flush_ = false;
  }

  void arm_stdin_out(bool on) {
    if (on == stdin_out_armed_) return;
    struct epoll_event ev = {};
    if (tty_ >= 0) {  // the master is in the set already, for its output
      ev.events = EPOLLIN | (on ? uint32_t{EPOLLOUT} : 0u);
      ev.data.u32 = kOut;
      ::epoll_ctl(ep_, EPOLL_CTL_MOD, tty_, &ev);
    } else if (stdin_w_ >= 0) {
      ev.events = EPOLLOUT;
      ev.data.u32 = kStdin;
      ::epoll_ctl(ep_, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, stdin_w_, &ev);
    } else {
      on = false;
    }
    stdin_out_armed_ = on;
  }

  void pause_clients(bool on) {
    if (on == stdin_paused_) return;
    stdin_paused_ = on;
    for (auto& [fd, c] : clients_) set_client_events(fd, c);
  }

  // Writes what clients typed into the container's stdin, never blocking.
  void flush_stdin() {
    int fd = stdin_target();
    if (fd < 0) pending_in_.clear();
    while (!pending_in_.empty()) {
      ssize_t w = ::write(fd, pending_in_.data(), pending_in_.size());
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) break;
      if (w < 0) {  // the container closed its stdin (EPIPE) or its terminal is gone
        if (fd == stdin_w_) close_stdin();
        pending_in_.clear();
        break;
      }
      pending_in_.erase(0, static_cast<size_t>(w));
    }
    arm_stdin_out(!pending_in_.empty());
    pause_clients(pending_in_.size() >= kStdinPending);
    if (pending_in_.empty() && close_after_flush_ && stdin_w_ >= 0) close_stdin();
  }

  void client_input(int fd) {
    char buf[kAttachChunk + 1];
    while (!stdin_paused_ && clients_.count(fd)) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        drop_client(fd);
        return;
      }
      if (buf[0] == 'i' && stdin_target() >= 0) {
        pending_in_.append(buf + 1, static_cast<size_t>(n - 1));
        flush_stdin();
      } else if (buf[0] == 'c' && o_.stdin_once && stdin_w_ >= 0) {
        close_after_flush_ = true;
        flush_stdin();
      } else if (buf[0] == 'w') {
        std::string v(buf + 1, static_cast<size_t>(n - 1));
        unsigned rows = 0, cols = 0;
        if (std::sscanf(v.c_str(), "%u %u", &rows, &cols) == 2) {
          winsize_.ws_row = static_cast<unsigned short>(rows);
          winsize_.ws_col = static_cast<unsigned short>(cols);
          if (tty_ >= 0) ::ioctl(tty_, TIOCSWINSZ, &winsize_);
        }
      }
    }
  }

  void client_event(uint32_t data, uint32_t events) {
    int fd = static_cast<int>(data >> 8);
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    if (events & EPOLLOUT) {
      if (!flush_client(fd, it->second)) {
        drop_client(fd);
        return;
      }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      if (stdin_paused_ && !(events & EPOLLIN)) {  // hung up while its input is not read
        drop_client(fd);
        return;
      }
      client_input(fd);
    }
  }

  void end_pipe(int s) {
    if (pipe_[s] < 0) return;
    if (pipe_[s] == tty_) {  // the terminal is gone: nothing more goes in either
      tty_ = -1;
      stdin_out_armed_ = false;
      pending_in_.clear();
      pause_clients(false);
    }
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, pipe_[s], nullptr);
    close_fd(pipe_[s]);
    writer_.end_stream(static_cast<logs::Stream>(s), now_unix_ns());
  }

  // Reads once from pipe s: the bytes read, 0 at EOF (the pipe is closed then), -1 when there is
  // nothing to read now.
  ssize_t read_pipe(int s) {
    if (pipe_[s] < 0) return 0;
    if (!rbuf_) {
      void* m = ::mmap(nullptr, kReadBuf, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) throw sys_error("monitor: mmap");
      rbuf_ = static_cast<char*>(m);
    }
    ssize_t n = ::read(pipe_[s], rbuf_, kReadBuf);
    if (n > 0) {
      writer_.feed(static_cast<logs::Stream>(s), rbuf_, static_cast<size_t>(n), now_unix_ns());
      broadcast(s == 0 ? 'o' : 'e', rbuf_, static_cast<size_t>(n));
      hot_ = true;
      return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return -1;
    end_pipe(s);
    return 0;
  }

  // ---- health check (health_prober.h) ----
  void health_started() {
    if (health_) health_->started(child_);
  }
  // The container exited: no more probes (a running one is killed; it is reaped as any child).
  void health_stopped() {
    if (health_) health_->stopped();
  }

  void arm_timer(int64_t ms) {
    struct itimerspec its = {};
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = (ms % 1000) * 1000000;
    if (ms == 0) its.it_value.tv_nsec = 1;  // 0 would disarm
    ::timerfd_settime(timer_, 0, &its, nullptr);
  }
  void disarm_timer() {
    struct itimerspec its = {};
    ::timerfd_settime(timer_, 0, &its, nullptr);
  }

  void request_stop(int sig, int timeout_s) {
    stop_requested_ = true;
    if (child_ > 0) {
      ::kill(child_, sig);
      if (sig != SIGKILL && timeout_s >= 0) arm_timer(static_cast<int64_t>(timeout_s) * 1000);
    }
  }

  void handle_ctl() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(ctl_, buf, sizeof buf)) > 0) {
      ctl_buf_.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = ctl_buf_.find('\n')) != std::string::npos) {
        std::string line = ctl_buf_.substr(0, nl);
        ctl_buf_.erase(0, nl + 1);
        char verb[16] = {};
        int sig = 0, timeout = 0;
        int got = std::sscanf(line.c_str(), "%15s %d %d", verb, &sig, &timeout);
        if (got < 2 || sig <= 0 || sig >= NSIG) continue;
        if (std::strcmp(verb, "stop") == 0) request_stop(sig, got == 3 ? timeout : 10);
        else if (std::strcmp(verb, "kill") == 0 && child_ > 0) ::kill(child_, sig);
      }
      if (ctl_buf_.size() > 65536) ctl_buf_.clear();
    }
  }

  void handle_signals() {
    struct signalfd_siginfo si;
    while (::read(sig_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) request_stop(o_.stop_signal, o_.stop_timeout);
      // SIGHUP and SIGPIPE: ignored. SIGCHLD: reap below.
    }
    for (;;) {
      int st;
      pid_t p = ::waitpid(-1, &st, WNOHANG);
      if (p <= 0) break;
      if (p == child_) {
        child_status_ = st;
        child_ = -1;
        disarm_timer();
      } else if (health_) {
        health_->reaped(p, st);
      }
    }
  }

  // One round of events: waits for some (or flushes the batch, or goes idle).
  void round(bool allow_idle) {
    int timeout = writer_.buffered() ? 0 : (hot_ && allow_idle ? 1000 : -1);
    struct epoll_event evs[8];
    int n = ::epoll_wait(ep_, evs, 8, timeout);
    if (n < 0) {
      if (errno == EINTR) return;
      throw sys_error("monitor: epoll_wait");
    }
    if (n == 0) {
      if (writer_.buffered()) {
        writer_.flush();
      } else if (hot_) {  // a second of silence: give the buffers back
        if (rbuf_) ::madvise(rbuf_, kReadBuf, MADV_DONTNEED);
        writer_.release_memory();
        hot_ = false;
      }
      return;
    }
    for (int i = 0; i < n; i++) {
      const uint32_t d = evs[i].data.u32;
      switch (d & 0xff) {
        case kSig: handle_signals(); break;
        case kCtl: handle_ctl(); break;
        case kTimer: {
          uint64_t x;
          (void)!::read(timer_, &x, sizeof x);
          timer_fired_ = true;
          if (child_ > 0) ::kill(child_, SIGKILL);
          break;
        }
        case kOut:
          if ((evs[i].events & EPOLLOUT) && tty_ >= 0) flush_stdin();
          if (evs[i].events & ~EPOLLOUT) read_pipe(0);
          break;
        case kErr: read_pipe(1); break;
        case kListen: accept_clients(); break;
        case kStdin: flush_stdin(); break;
        case kClient: client_event(d, evs[i].events); break;
        case kHealth: health_->handle(); break;
      }
    }
  }

  // Runs until the child exited and the pipes hold nothing written before that.
  int wait_for(pid_t pid) {
    (void)pid;
    while (child_ > 0) round(true);
    // Everything the container wrote before it exited is in the pipes now: read it without
    // waiting (a process it left behind may hold the pipes open; what it writes later is lost).
    for (int s = 0; s < 2; s++) {
      while (read_pipe(s) > 0) {
      }
      end_pipe(s);
    }
    writer_.flush();
    return child_status_;
  }

  // The lead's record says a stop is coming (MonitorOptions::stop_marked); asked only when the
  // policy could restart.
  bool stop_marked() const {
    return o_.restart.kind != RestartPolicy::Kind::no && o_.stop_marked && o_.stop_marked();
  }

  // The restart back-off; false when a stop cancelled it.
  bool sleep_for(std::chrono::milliseconds d) {
    timer_fired_ = false;
    arm_timer(d.count());
    while (!timer_fired_ && !stop_requested_) round(true);
    disarm_timer();
    return !stop_requested_;
  }

  const MonitorOptions& o_;
  logs::LogWriter writer_;
  int sig_ = -1, ctl_ = -1, timer_ = -1, ep_ = -1;
  int pipe_[2] = {-1, -1};
  bool ctl_made_ = false;
  std::string ctl_buf_;
  char* rbuf_ = nullptr;
  bool hot_ = false;
  pid_t child_ = -1;
  int child_status_ = 0;
  bool stop_requested_ = false;
  bool timer_fired_ = false;
  // terminal, stdin, attach
  int tty_ = -1;      // the pty master (also pipe_[0]) while the container has one
  int stdin_w_ = -1;  // -i without a tty: the container's stdin pipe
  int listen_ = -1;
  bool listen_made_ = false;
  std::map<int, Client> clients_;
  std::string pending_in_;  // typed by clients, not yet taken by the container
  bool stdin_paused_ = false, stdin_out_armed_ = false, close_after_flush_ = false;
  struct winsize winsize_ = {};
  std::unique_ptr<HealthProber> health_;  // with a health check
};

}  // namespace

int run_monitor(const MonitorOptions& opts, const StartFn& start) {
  std::optional<Monitor> m;
  try {
    m.emplace(opts);
    m->setup();
  } catch (const Error& e) {
    if (opts.ready_fd < 0) throw;
    write_line(opts.ready_fd, "err " + std::to_string(e.exit_code()) + " " + one_line(e.what()) + "\n");
    ::close(opts.ready_fd);
    return e.exit_code();
  }
  return m->run(start);
}

void reset_signals_in_child() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace minirun::monitor
