// The container's terminal without root (runtime/tty.h): a descriptor handed over a unix socket
// (SCM_RIGHTS, as to --console-socket), the console socket's connection, a new pty made the
// controlling terminal and stdio of a forked process, and the relay from a pty to stdout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "minirun/runtime/tty.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::runtime;
using minirun::test::TempDir;

namespace {

// Reads from fd until `want` has arrived or 10 s passed.
std::string read_until(int fd, const std::string& want) {
  std::string got;
  char buf[256];
  while (got.find(want) == std::string::npos) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

int exit_status(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace

TEST(Tty, ADescriptorSentOverASocketArrivesCloseOnExec) {
  int sv[2], p[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(send_fd(sv[0], "/dev/pts/3", p[1]), 10);
  ::close(p[1]);
  int got = receive_fd(sv[1]);
  ASSERT_GE(got, 0);
  EXPECT_NE(::fcntl(got, F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(::write(got, "x", 1), 1);
  ::close(got);
  char c = 0;
  EXPECT_EQ(::read(p[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  ::close(p[0]);
  // A message without a descriptor (an empty payload still sends one byte): -1.
  EXPECT_EQ(send_fd(sv[0], "", -1), 1);
  EXPECT_EQ(receive_fd(sv[1]), -1);
  // The peer gone: -1.
  ::close(sv[0]);
  EXPECT_EQ(receive_fd(sv[1]), -1);
  ::close(sv[1]);
}

TEST(Tty, ConsoleSocketConnectsToAListeningSocketAndRefusesOthers) {
  TempDir t;
  std::string path = t / "console.sock";
  int srv = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(srv, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(srv, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(srv, 1), 0);
  int c = connect_console_socket(path);
  EXPECT_GE(c, 0);
  int accepted = ::accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_GE(accepted, 0);
  // What the runtime sends there: the master with the pty's name.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  EXPECT_GT(send_fd(c, "/dev/pts/0", p[0]), 0);
  int got = receive_fd(accepted);
  EXPECT_GE(got, 0);
  for (int fd : {got, accepted, c, srv, p[0], p[1]}) ::close(fd);
  EXPECT_THROW(connect_console_socket(t / "missing.sock"), Error);
  EXPECT_THROW(connect_console_socket("/" + std::string(200, 'x')), Error);
}

TEST(Tty, ANewPtyBecomesTheControllingTerminalAndStdioOfTheProcess) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(sv[0]);
    const char* what = nullptr;
    int err = attach_new_pty(sv[1], &what);
    if (err != 0) _exit(100);
    // stdin, stdout and stderr are the pty, which is this session's controlling terminal.
    bool ok = ::isatty(0) && ::isatty(1) && ::isatty(2) && ::tcgetsid(0) == ::getsid(0);
    const char* msg = ok ? "on the pty\n" : "not a tty\n";
    if (::write(1, msg, strlen(msg)) < 0) _exit(101);
    char c;
    if (::read(0, &c, 1) != 1) _exit(102);  // wait for the test to read the output
    _exit(ok ? 0 : 103);
  }
  ::close(sv[1]);
  int master = receive_fd(sv[0]);
  ::close(sv[0]);
  ASSERT_GE(master, 0) << "no master received";
  std::string out = read_until(master, "\n");
  EXPECT_EQ(out, "on the pty\r\n");  // the pty's line discipline: \n → \r\n
  ASSERT_EQ(::write(master, "\n", 1), 1);
  EXPECT_EQ(exit_status(pid), 0);
  ::close(master);
}

TEST(Tty, TheRelayCopiesThePtysOutputToStdoutUntilItCloses) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  char name[128];
  ASSERT_EQ(::ptsname_r(master, name, sizeof name), 0);
  int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(slave);
    relay_tty(master, false);  // stdin not forwarded
    _exit(0);
  }
  ::close(out[1]);
  ::close(master);
  ASSERT_EQ(::write(slave, "hello", 5), 5);
  EXPECT_EQ(read_until(out[0], "hello"), "hello");
  ::close(slave);  // the pty closes: the relay ends
  EXPECT_EQ(exit_status(pid), 0);
  ::close(out[0]);
}
