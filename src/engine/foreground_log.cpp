#include "minirun/engine/foreground_log.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/util/timefmt.h"

namespace minirun {

ForegroundLog::ForegroundLog(const std::string& log_path, const logs::LogOptions& opts)
    : writer_(std::make_unique<logs::LogWriter>(log_path, opts)) {
  int made[2][2] = {{-1, -1}, {-1, -1}};
  auto undo = [&] {
    for (auto& p : made)
      for (int fd : p)
        if (fd >= 0) ::close(fd);
    for (int* fds : {real_, wake_})
      for (int i = 0; i < 2; i++)
        if (fds[i] >= 0) ::close(fds[i]), fds[i] = -1;
  };
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw sys_error("log pipe");
  for (int s = 0; s < 2; s++) {
    if (::pipe2(made[s], O_CLOEXEC) != 0) {
      int e = errno;
      undo();
      throw sys_error("log pipe", e);
    }
    real_[s] = ::fcntl(s + 1, F_DUPFD_CLOEXEC, 3);
    if (real_[s] < 0) {
      int e = errno;
      undo();
      throw sys_error("log: keep fd " + std::to_string(s + 1), e);
    }
  }
  // The thread takes no signal (the runtime forwards them to the container from this one) and
  // gets EPIPE rather than SIGPIPE.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  for (int s = 0; s < 2; s++) {
    ::dup2(made[s][1], s + 1);  // no O_CLOEXEC on 1 and 2: the container inherits them
    ::close(made[s][1]);
    read_[s] = made[s][0];
    made[s][0] = made[s][1] = -1;
  }
  try {
    thread_ = std::thread([this] { pump(); });
  } catch (...) {
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    for (int s = 0; s < 2; s++) ::dup2(real_[s], s + 1);
    for (int s = 0; s < 2; s++) ::close(read_[s]), read_[s] = -1;
    undo();
    finished_ = true;
    throw;
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

ForegroundLog::~ForegroundLog() { finish(); }

void ForegroundLog::finish() {
  if (finished_) return;
  finished_ = true;
  // The real ones back; the thread reads what the container wrote (all in the pipes by now).
  for (int s = 0; s < 2; s++) ::dup2(real_[s], s + 1);
  if (thread_.joinable()) {
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
  }
  for (int* fds : {real_, wake_, read_})
    for (int i = 0; i < 2; i++)
      if (fds[i] >= 0) ::close(fds[i]), fds[i] = -1;
  writer_.reset();
}

void ForegroundLog::pump() {
  char buf[65536];
  bool draining = false;  // finish() asked: read what is there, never wait
  for (;;) {
    struct pollfd p[3];
    int n = 0;
    for (int s = 0; s < 2; s++) p[n++] = {read_[s], POLLIN, 0};  // -1: ignored by poll
    p[n++] = {draining ? -1 : wake_[0], POLLIN, 0};
    if (read_[0] < 0 && read_[1] < 0) break;
    if (::poll(p, static_cast<nfds_t>(n), draining ? 0 : -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[2].revents) draining = true;
    bool any = false;
    for (int s = 0; s < 2; s++) {
      if (read_[s] < 0 || !p[s].revents) continue;
      any = true;
      ssize_t r = ::read(read_[s], buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      const auto stream = s == 0 ? logs::Stream::out : logs::Stream::err;
      if (r <= 0) {
        writer_->end_stream(stream, now_unix_ns());
        ::close(read_[s]);
        read_[s] = -1;
        continue;
      }
      writer_->feed(stream, buf, static_cast<size_t>(r), now_unix_ns());
      if (!write_fully(real_[s], buf, static_cast<size_t>(r))) {
        // Its reader is gone: so is the pipe, and the container's next write fails as without us.
        writer_->end_stream(stream, now_unix_ns());
        ::close(read_[s]);
        read_[s] = -1;
      }
    }
    writer_->flush();
    if (draining && !any && !p[2].revents) break;  // nothing more to read
  }
  for (int s = 0; s < 2; s++)
    if (read_[s] >= 0) writer_->end_stream(s == 0 ? logs::Stream::out : logs::Stream::err, now_unix_ns());
  writer_->flush();
}

}  // namespace minirun
