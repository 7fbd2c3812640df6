// `run -t` without `-i`: minirun's standard input is not the container's, so nothing
// read from it may reach the container's terminal. script(1) writes its EOF byte (a NUL once
// minirun had made its stdin raw) into minirun's stdin; minirun copied it into the pty, whose
// echo showed "^@" before the command's output. Here the caller's terminal is a pty this test
// holds: bytes typed into it must not be echoed back by the container's terminal.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "testutil.h"

using namespace minirun::test;

TEST(Tty, WithoutInteractiveNothingTypedReachesTheContainersTerminal) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-tty-");
  TestImage img;
  img.layers = {busybox_rootfs().build()};
  img.repo_tags = {"tty/bb:1"};
  std::vector<TestImage> imgs = {img};
  write_file(t / "bb.tar", docker_archive(imgs));
  const std::string root = t / "store";
  ASSERT_EQ(run_cmd({MINIRUN_BINARY, "--root", root, "load", "-q", "-i", t / "bb.tar"}).code, 0);

  // The caller's terminal: a pty without echo of its own, so only the container's could echo.
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  std::string slave_name = ::ptsname(master);
  int slave = ::open(slave_name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  struct termios tio;
  ASSERT_EQ(::tcgetattr(slave, &tio), 0);
  ::cfmakeraw(&tio);
  ASSERT_EQ(::tcsetattr(slave, TCSANOW, &tio), 0);

  for (const char* extra : {"", "--init"}) {
    std::string log = t / "out.log";
    std::vector<std::string> argv = {MINIRUN_BINARY, "--root", root, "run", "--rm", "-t"};
    if (*extra) argv.push_back(extra);
    argv.insert(argv.end(), {"tty/bb:1", "sh", "-c", "sleep 1; echo done"});
    pid_t pid = spawn_cmd(argv, log, [slave] { ::dup2(slave, 0); });
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // What script(1) sends at its input's end, and a few typed characters.
    ASSERT_EQ(::write(master, "\0typed\n", 7), 7);
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << read_file(log);
    std::string out = read_file(log);
    EXPECT_EQ(out, "done\r\n") << extra;
    EXPECT_EQ(out.find("^@"), std::string::npos) << extra;
    EXPECT_EQ(out.find("typed"), std::string::npos) << extra;
    // Drain what minirun did not read, so the next run starts clean.
    tcflush(slave, TCIFLUSH);
  }
  ::close(slave);
  ::close(master);
}
