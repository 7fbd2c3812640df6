// hooks.cpp — see hooks.h. Only system calls and strings: safe in the child after clone.
#include "minirun/runtime/hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace minirun::runtime {

namespace {

long now_ms() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

}  // namespace

std::string run_hook(const Hook& h, const std::string& state) {
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<std::string> env = h.env;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return "hook " + h.path + ": pipe: " + std::strerror(errno);
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(in[0]);
    ::close(in[1]);
    return "hook " + h.path + ": fork: " + std::strerror(e);
  }
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::execve(h.path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  ::close(in[0]);
  // A hook that does not read its stdin must not kill the caller with SIGPIPE.
  struct sigaction ign = {}, old = {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  if (::write(in[1], state.data(), state.size()) < 0) {
  }
  ::close(in[1]);
  ::sigaction(SIGPIPE, &old, nullptr);
  const long deadline = now_ms() + 1000L * h.timeout.value_or(3600);
  int st = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return "hook " + h.path + ": wait: " + std::strerror(errno);
    if (now_ms() > deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return "hook " + h.path + " timed out";
    }
    struct timespec ts = {0, 2000000};
    ::nanosleep(&ts, nullptr);
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return "";
  return "hook " + h.path + " failed (" +
         (WIFEXITED(st) ? "exit status " + std::to_string(WEXITSTATUS(st)) : "signal " + std::to_string(WTERMSIG(st))) +
         ")";
}

}  // namespace minirun::runtime
