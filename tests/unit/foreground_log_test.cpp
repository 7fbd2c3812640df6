// A foreground container's json-file log (engine/foreground_log.h), in a forked process whose
// stdout and stderr are a pipe: what is written to fds 1 and 2 while the log is open reaches the
// real stdout and stderr and the log, each line with its stream; after finish() fds 1 and 2 are
// the real ones again.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "minirun/engine/foreground_log.h"
#include "minirun/monitor/log_writer.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::read_file;
using minirun::test::TempDir;

TEST(ForegroundLog, OutputReachesTheRealStdioAndTheLogWithItsStream) {
  TempDir t;
  const std::string log = t / "ctr-json.log";
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::close(out[0]);
    ::close(out[1]);
    try {
      ForegroundLog fl(log, logs::LogOptions{});
      if (::write(1, "to stdout\n", 10) != 10 || ::write(2, "to stderr\n", 10) != 10) _exit(2);
      fl.finish();
      if (::write(1, "after\n", 6) != 6) _exit(3);  // the real stdout again, not logged
    } catch (const Error&) {
      _exit(4);
    }
    _exit(0);
  }
  ::close(out[1]);
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_NE(got.find("to stdout\n"), std::string::npos) << got;
  EXPECT_NE(got.find("to stderr\n"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 6), "after\n");
  std::string text = read_file(log);
  EXPECT_NE(text.find(R"("log":"to stdout\n","stream":"stdout")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("log":"to stderr\n","stream":"stderr")"), std::string::npos) << text;
  EXPECT_EQ(text.find("after"), std::string::npos) << text;
}

TEST(ForegroundLog, ALogThatCannotBeOpenedIsAnErrorAndSwapsNothing) {
  struct stat before[2], after[2];
  for (int fd : {1, 2}) ASSERT_EQ(::fstat(fd, &before[fd - 1]), 0);
  EXPECT_THROW(ForegroundLog("/nonexistent-dir/minirun-test/x.log", logs::LogOptions{}), Error);
  for (int fd : {1, 2}) {
    ASSERT_EQ(::fstat(fd, &after[fd - 1]), 0);
    EXPECT_EQ(after[fd - 1].st_ino, before[fd - 1].st_ino) << "fd " << fd << " was swapped";
    EXPECT_EQ(after[fd - 1].st_dev, before[fd - 1].st_dev);
  }
}
