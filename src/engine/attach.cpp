// attach.cpp — the client side of a monitor's attach socket (protocol in monitor.h). design: one
// poll loop over the socket, the caller's stdin and a signalfd (SIGWINCH for the tty's size,
// the proxied signals); the monitor never waits for us, and we may block on it only while it
// takes our stdin (it stops reading clients while the container does not take input).
#include "minirun/engine/attach.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "minirun/engine/container_state.h"
#include "minirun/engine/detached.h"
#include "minirun/monitor/monitor.h"
#include "minirun/monitor/monitor_client.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

bool send_msg(int sock, char kind, const char* p, size_t n) {
  std::string m(1, kind);
  m.append(p, n);
  for (;;) {
    ssize_t w = ::send(sock, m.data(), m.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    return w == static_cast<ssize_t>(m.size());
  }
}

void send_winsize(int sock) {
  struct winsize ws;
  if (::ioctl(1, TIOCGWINSZ, &ws) != 0 && ::ioctl(0, TIOCGWINSZ, &ws) != 0) return;
  std::string v = std::to_string(ws.ws_row) + " " + std::to_string(ws.ws_col);
  send_msg(sock, 'w', v.data(), v.size());
}

// The signals `attach --sig-proxy` passes on (Docker: all but SIGCHLD, SIGPIPE, SIGURG,
// SIGWINCH; these are the ones a terminal or a supervisor sends).
constexpr int kProxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

}  // namespace

std::string parse_detach_keys(const std::string& keys) {
  std::string out;
  size_t pos = 0;
  auto bad = [&] { return Error("Invalid detach keys (" + keys + ") provided", 1); };
  if (keys.empty()) throw bad();
  while (pos <= keys.size()) {
    size_t comma = keys.find(',', pos);
    std::string k = keys.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (k.size() == 1) {
      out.push_back(k[0]);
    } else if (k.size() == 6 && k.compare(0, 5, "ctrl-") == 0) {
      char c = k[5];
      if (c >= 'a' && c <= 'z') out.push_back(static_cast<char>(c - 'a' + 1));
      else if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 1));
      else if (c == '@') out.push_back(0);
      else if (c == '[') out.push_back(27);
      else if (c == '\\') out.push_back(28);
      else if (c == ']') out.push_back(29);
      else if (c == '^') out.push_back(30);
      else if (c == '_') out.push_back(31);
      else throw bad();
    } else {
      throw bad();
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::string DetachKeys::feed(const char* p, size_t n, bool* detached) {
  std::string out;
  *detached = false;
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (c == seq_[matched_]) {
      if (++matched_ == seq_.size()) {  // the whole sequence: nothing of it goes on
        matched_ = 0;
        *detached = true;
        return out;
      }
      continue;
    }
    // A partial match that failed: what was held back goes on, then this byte (which may start
    // the sequence again).
    out.append(seq_, 0, matched_);
    matched_ = 0;
    if (c == seq_[0]) matched_ = 1;
    else out.push_back(c);
  }
  return out;
}

AttachTarget attach_target(const Store& store, const std::string& cid) {
  AttachTarget t;
  t.ctl_path = store.container_ctl_path(cid);
  if (auto rec = store.container(cid)) {
    t.tty = rec->config.tty;
    t.open_stdin = rec->config.open_stdin;
  }
  return t;
}

AttachResult relay_attach(int sock, const AttachTarget& t, const AttachOptions& o) {
  AttachResult res;
  const bool in_on = o.attach_stdin && t.open_stdin;
  DetachKeys keys(parse_detach_keys(o.detach_keys));
  // Docker: the caller's terminal is raw when it types into a tty.
  struct termios saved;
  const bool raw = in_on && t.tty && ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios r = saved;
    ::cfmakeraw(&r);
    ::tcsetattr(0, TCSANOW, &r);
  }
  sigset_t mask, old;
  sigemptyset(&mask);
  if (t.tty) sigaddset(&mask, SIGWINCH);
  const bool proxy = o.sig_proxy && !t.tty;
  if (proxy)
    for (int s : kProxied) sigaddset(&mask, s);
  ::sigprocmask(SIG_BLOCK, &mask, &old);
  int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (t.tty) send_winsize(sock);

  bool stdin_open = in_on;
  bool ended = false;
  std::vector<char> buf(64 << 10);
  while (!ended && !res.detached) {
    struct pollfd fds[3] = {{sock, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}, {sfd, POLLIN, 0}};
    int n = ::poll(fds, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents) {
      ssize_t r = ::recv(sock, buf.data(), buf.size(), 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;  // the monitor is gone without a word: the caller asks the record
      size_t len = static_cast<size_t>(r - 1);
      if (buf[0] == 'o') write_fully(1, buf.data() + 1, len);
      else if (buf[0] == 'e') write_fully(2, buf.data() + 1, len);
      else if (buf[0] == 'x') {
        res.exit_code = std::atoi(std::string(buf.data() + 1, len).c_str());
        ended = true;
      }
    }
    if (stdin_open && fds[1].revents) {
      ssize_t r = ::read(0, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        stdin_open = false;
        send_msg(sock, 'c', "", 0);
      } else {
        bool detach = false;
        std::string pass = keys.feed(buf.data(), static_cast<size_t>(r), &detach);
        if (!pass.empty()) send_msg(sock, 'i', pass.data(), pass.size());
        if (detach) res.detached = true;
      }
    }
    if (sfd >= 0 && fds[2].revents) {
      struct signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGWINCH) send_winsize(sock);
        else if (proxy)
          monitor::send_monitor_command(t.ctl_path, "kill " + std::to_string(si.ssi_signo) + "\n");
      }
    }
  }
  if (sfd >= 0) ::close(sfd);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
  if (!res.detached && !ended) {
    res.exit_code = -1;  // unknown: no exit message came
  }
  return res;
}

AttachResult attach_container(Store& store, const std::string& cid, const AttachOptions& o) {
  parse_detach_keys(o.detach_keys);  // before connecting
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  if (rec->status == ContainerStatus::paused) throw Error("You cannot attach to a paused container, unpause it first", 1);
  if (rec->status != ContainerStatus::running && rec->status != ContainerStatus::restarting)
    throw Error("You cannot attach to a stopped container, start it first", 1);
  int sock = monitor::connect_attach(container_attach_path(store, cid));
  if (sock < 0) {
    // Run in the foreground by another minirun, or its monitor just ended.
    rec = refresh_container_state(store, cid);
    if (rec && rec->status == ContainerStatus::running) throw Error("container " + cid + " has no monitor to attach to (run in the foreground)", 1);
    throw Error("You cannot attach to a stopped container, start it first", 1);
  }
  AttachResult r = relay_attach(sock, attach_target(store, cid), o);
  ::close(sock);
  if (!r.detached && r.exit_code < 0) r.exit_code = wait_container(store, cid);
  return r;
}

}  // namespace minirun
