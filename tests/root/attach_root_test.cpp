// Detached containers with a terminal or an open stdin, and `attach` / `start -a -i`
// (engine/attach.h, monitor.h's attach socket). Black box through the minirun binary on a busybox
// image made here; the caller's terminal is a pty this test holds (forkpty), every wait has a
// deadline so a hang fails instead of stalling, and every container is removed in TearDown.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "container_fixture.h"
#include "testutil.h"

using namespace minirun::test;
using json = nlohmann::json;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A command on a terminal of its own (the test holds the master).
class PtyProc {
 public:
  explicit PtyProc(const std::vector<std::string>& argv) {
    struct winsize ws = {30, 100, 0, 0};
    pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::fcntl(master_, F_SETFL, O_NONBLOCK);
  }
  ~PtyProc() {
    if (pid_ > 0 && code_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  void type(const std::string& s) { ASSERT_EQ(::write(master_, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
  // Reads until `what` has been seen (true) or timeout_ms passed (false).
  bool read_until(const std::string& what, int timeout_ms) {
    int64_t end = now_ms() + timeout_ms;
    while (out_.find(what) == std::string::npos) {
      int left = static_cast<int>(end - now_ms());
      if (left <= 0) return false;
      if (!pump(left)) return out_.find(what) != std::string::npos;
    }
    return true;
  }
  // The exit status (128+N for a signal), or -1 after timeout_ms (the process is then killed).
  int wait(int timeout_ms) {
    int64_t end = now_ms() + timeout_ms;
    for (;;) {
      int st;
      pid_t p = ::waitpid(pid_, &st, WNOHANG);
      if (p == pid_) {
        code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        while (pump(50)) {
        }
        return code_;
      }
      if (now_ms() > end) return -1;
      pump(50);
    }
  }
  const std::string& out() const { return out_; }

 private:
  bool pump(int timeout_ms) {
    struct pollfd p = {master_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char buf[4096];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n <= 0) return false;
    out_.append(buf, static_cast<size_t>(n));
    return true;
  }
  pid_t pid_ = -1;
  int master_ = -1;
  int code_ = -1;
  std::string out_;
};

class Attach : public ContainerTest {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    make_store("minirun-attach-");
  }
  void TearDown() override {
    if (!t_) return;
    remove_containers();
    expect_no_mounts_left();
  }
  // run -d, its ID not checked for length here.
  std::string run_d(std::vector<std::string> args) { return ContainerTest::run_d(std::move(args), false); }
  std::string status(const std::string& ref) {
    json st = state(ref);
    return st.is_null() ? "" : st["State"]["Status"].get<std::string>();
  }
  std::string log_file(const std::string& id) { return read_file(*t_ / ("store/containers/" + id + "/" + id + "-json.log")); }
  // Waits until the container's json-file log contains `what`.
  bool log_has(const std::string& id, const std::string& what, int timeout_ms = 10000) {
    for (int64_t end = now_ms() + timeout_ms; now_ms() < end; usleep(50000))
      if (log_file(id).find(what) != std::string::npos) return true;
    return false;
  }
};

}  // namespace

// run -d -t: what the container prints on its terminal is in the log, as stream stdout with the
// terminal's \r\n (Docker: {"log":"hi\r\n","stream":"stdout",…}); stdin is the terminal.
TEST_F(Attach, DetachedTtyLogsTheTerminalAsStdout) {
  std::string id = run_d({"-t", "t/bb", "sh", "-c", "echo hi; echo err >&2; [ -t 0 ] && echo tty-in; sleep 100"});
  ASSERT_TRUE(log_has(id, "tty-in"));
  std::string log = log_file(id);
  EXPECT_NE(log.find("{\"log\":\"hi\\r\\n\",\"stream\":\"stdout\""), std::string::npos) << log;
  EXPECT_NE(log.find("{\"log\":\"err\\r\\n\",\"stream\":\"stdout\""), std::string::npos) << log;
  EXPECT_EQ(log.find("\"stream\":\"stderr\""), std::string::npos) << log;
  auto logs = mr({"logs", id});
  EXPECT_EQ(logs.out, "hi\r\nerr\r\ntty-in\r\n");
  EXPECT_EQ(status(id), "running");
  // -t without -i: attach forwards no stdin and has no detach keys (as Docker); it ends with the container.
  PtyProc a(cmd({"attach", id}));
  usleep(300000);
  a.type("echo nothing\r");
  EXPECT_EQ(mr({"kill", id}).code, 0);
  EXPECT_EQ(a.wait(15000), 137) << a.out();
  // (the caller's terminal is not raw, so it echoes what was typed itself; the container's did not get it)
  EXPECT_EQ(log_file(id).find("nothing"), std::string::npos) << log_file(id);
}

// run -dit: attach types into the container's shell (raw terminal), sees live output only,
// detaches with ctrl-p ctrl-q (exit 1, "read escape sequence", as docker attach) leaving it
// running; the typed session is in the log; a second attach ends with the shell's exit code.
TEST_F(Attach, DetachedInteractiveTtyAttachTypeDetachAndExit) {
  std::string id = run_d({"-it", "--name", "shell", "t/bb", "sh", "-c", "echo banner; exec sh"});
  ASSERT_TRUE(log_has(id, "banner"));
  {
    PtyProc a(cmd({"attach", "shell"}));
    usleep(300000);
    a.type("echo typed-$((6*7))\r");
    ASSERT_TRUE(a.read_until("typed-42", 10000)) << a.out();
    a.type("\x10\x11");  // ctrl-p ctrl-q
    EXPECT_EQ(a.wait(10000), 1) << a.out();
    EXPECT_NE(a.out().find("read escape sequence"), std::string::npos) << a.out();
    EXPECT_EQ(a.out().find("banner"), std::string::npos) << "history was replayed: " << a.out();
  }
  EXPECT_EQ(status("shell"), "running");
  EXPECT_TRUE(log_has(id, "typed-42"));
  {
    // ctrl-p then something else: both bytes reach the container (the sequence did not match).
    PtyProc a(cmd({"attach", "shell"}));
    usleep(300000);
    a.type("\x10");
    usleep(100000);
    a.type("x\x15" "echo sec''ond\r");  // ctrl-u erases what ^P and x left on the shell's line
    ASSERT_TRUE(a.read_until("second\r\n", 10000)) << a.out();
    a.type("exit 7\r");
    EXPECT_EQ(a.wait(15000), 7) << a.out();
  }
  EXPECT_EQ(status("shell"), "exited");
  EXPECT_EQ(mr({"wait", "shell"}).out, "7\n");
}

// --detach-keys: another sequence; a bad one is refused before anything happens.
TEST_F(Attach, DetachKeysOverride) {
  run_d({"-it", "--name", "k", "t/bb", "sh"});
  auto bad = mr({"attach", "--detach-keys", "ctrl-1", "k"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("Invalid detach keys (ctrl-1) provided"), std::string::npos) << bad.err;
  PtyProc a(cmd({"attach", "--detach-keys", "ctrl-a,d", "k"}));
  usleep(300000);
  a.type("\x10\x11");  // not the keys now: passed on
  a.type("echo sti''ll\r");
  ASSERT_TRUE(a.read_until("still\r\n", 10000)) << a.out();
  a.type("\x01" "d");
  EXPECT_EQ(a.wait(10000), 1) << a.out();
  EXPECT_EQ(status("k"), "running");
}

// run -d -i (no tty): the container's stdin stays open (a pipe the monitor holds); attach's
// stdin goes there; attach ends with the container's code. The end of attach's stdin does not
// close the container's (Docker's StdinOnce is false for -d).
TEST_F(Attach, DetachedOpenStdinTakesAttachInput) {
  run_d({"-i", "--name", "reader", "t/bb", "sh", "-c", "read a; echo got-$a; read b; echo got-$b; exit 4"});
  usleep(300000);
  EXPECT_EQ(status("reader"), "running");  // stdin open: `read` waits
  {
    PtyProc a(cmd({"attach", "reader"}));
    usleep(300000);
    a.type("one\n");
    ASSERT_TRUE(a.read_until("got-one", 10000)) << a.out();
    a.type("\x04");  // end of attach's stdin (the pty is cooked: no tty in the container)
    usleep(500000);
    EXPECT_EQ(status("reader"), "running") << "the container's stdin was closed with attach's";
  }
  auto r = mr({"attach", "reader"}, "two\n", 30);
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_EQ(r.out, "got-two\n");
  EXPECT_EQ(mr({"logs", "reader"}).out, "got-one\ngot-two\n");
}

// Live output only (no history, as Docker), stdout and stderr apart, the container's exit code;
// attach to a stopped or paused container is refused with Docker's messages.
TEST_F(Attach, LiveOutputExitCodeAndRefusals) {
  run_d({"--name", "late", "t/bb", "sh", "-c", "echo early; sleep 1.5; echo late; echo late-err >&2; exit 5"});
  usleep(500000);
  auto r = mr({"attach", "--no-stdin", "late"}, "", 30);
  EXPECT_EQ(r.code, 5);
  EXPECT_EQ(r.out, "late\n");
  EXPECT_EQ(r.err, "late-err\n");
  auto stopped = mr({"attach", "late"});
  EXPECT_EQ(stopped.code, 1);
  EXPECT_NE(stopped.err.find("You cannot attach to a stopped container, start it first"), std::string::npos) << stopped.err;
  run_d({"--name", "frozen", "t/bb", "sleep", "100"});
  ASSERT_EQ(mr({"pause", "frozen"}).code, 0);
  auto paused = mr({"attach", "frozen"});
  EXPECT_EQ(paused.code, 1);
  EXPECT_NE(paused.err.find("You cannot attach to a paused container, unpause it first"), std::string::npos) << paused.err;
  EXPECT_EQ(mr({"unpause", "frozen"}).code, 0);
}

// --sig-proxy (default): a signal to attach goes to the container (no tty).
TEST_F(Attach, SignalsAreProxied) {
  run_d({"--name", "trap", "t/bb", "sh", "-c", "trap 'echo got-int; exit 9' INT; echo ready; while :; do sleep 0.1; done"});
  usleep(300000);
  std::string log = *t_ / "attach.out";
  pid_t p = spawn_cmd(cmd({"attach", "trap"}), log);
  usleep(500000);
  ::kill(p, SIGINT);
  int st = 0;
  for (int i = 0; i < 200 && ::waitpid(p, &st, WNOHANG) == 0; i++) usleep(50000);
  if (::waitpid(p, &st, WNOHANG) == 0) {
    ::kill(p, SIGKILL);
    ::waitpid(p, &st, 0);
    FAIL() << "attach did not end: " << read_file(log);
  }
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 9) << read_file(log);
  EXPECT_EQ(read_file(log), "got-int\n");
}

// A client that does not read never holds the container or its log up: its output is bounded
// (dropped past the queue), the container runs to its end, every line is in the log, and the
// client still ends with the container's code.
TEST_F(Attach, SlowClientNeverStallsTheContainerOrTheLog) {
  run_d({"--name", "loud", "t/bb", "sh", "-c",
         "sleep 1; i=0; while [ $i -lt 40000 ]; do echo "
         "line-$i-0123456789012345678901234567890123456789012345678901234567890123456789012345678; "
         "i=$((i+1)); done; exit 3"});
  // attach's stdout is a pipe nobody reads until the container has ended.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  pid_t a = spawn_cmd(cmd({"attach", "--no-stdin", "loud"}), "/dev/null", [&] {
    ::dup2(p[1], 1);
    ::close(p[0]);
  });
  ::close(p[1]);
  auto w = mr({"wait", "loud"}, "", 60);
  EXPECT_EQ(w.out, "3\n");
  auto logs = mr({"logs", "loud"}, "", 60);
  EXPECT_EQ(std::count(logs.out.begin(), logs.out.end(), '\n'), 40000);
  // Now drain the client: it got part of the output and ends with the container's code.
  ::fcntl(p[0], F_SETFL, O_NONBLOCK);
  size_t got = 0;
  int st = 0;
  int64_t end = now_ms() + 20000;
  char buf[65536];
  while (::waitpid(a, &st, WNOHANG) == 0 && now_ms() < end) {
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n > 0) got += static_cast<size_t>(n);
    else usleep(10000);
  }
  if (::waitpid(a, &st, WNOHANG) == 0 && now_ms() >= end) {
    ::kill(a, SIGKILL);
    ::waitpid(a, &st, 0);
    ADD_FAILURE() << "the slow attach client did not end";
  }
  ::close(p[0]);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 3) << st;
  EXPECT_GT(got, 0u);
}

// start -a: attached before the process starts (its first line is not missed); start -ai: stdin too.
TEST_F(Attach, StartAttachAndInteractive) {
  auto r = mr({"run", "--name", "once", "t/bb", "sh", "-c", "echo first-line; exit 2"});
  EXPECT_EQ(r.code, 2);
  for (int i = 0; i < 3; i++) {
    auto s = mr({"start", "-a", "once"}, "", 30);
    EXPECT_EQ(s.code, 2) << s.err;
    EXPECT_EQ(s.out, "first-line\n");
  }
  run_d({"-i", "--name", "ask", "t/bb", "sh", "-c", "read a; echo got-$a; exit 6"});
  EXPECT_EQ(mr({"attach", "ask"}, "x\n", 30).code, 6);
  auto ai = mr({"start", "-ai", "ask"}, "again\n", 30);
  EXPECT_EQ(ai.code, 6) << ai.err;
  EXPECT_EQ(ai.out, "got-again\n");
  // With a terminal: start -ai types into it.
  run_d({"-it", "--name", "tsh", "t/bb", "sh"});
  ASSERT_EQ(mr({"stop", "-t", "1", "tsh"}).code, 0);
  PtyProc a(cmd({"start", "-ai", "tsh"}));
  usleep(500000);
  a.type("echo in-$((2+3))\r");
  ASSERT_TRUE(a.read_until("in-5\r\n", 10000)) << a.out();
  a.type("\x10\x11");  // docker start -ai: a detach is status 0, without "read escape sequence"
  EXPECT_EQ(a.wait(10000), 0) << a.out();
  EXPECT_EQ(a.out().find("read escape sequence"), std::string::npos) << a.out();
  EXPECT_EQ(status("tsh"), "running");
  PtyProc b(cmd({"attach", "tsh"}));
  usleep(300000);
  b.type("exit 8\r");
  EXPECT_EQ(b.wait(15000), 8) << b.out();
}
