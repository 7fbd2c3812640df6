// How a container's process reports after clone (runtime/child_report.h): one fixed-size record on
// the pipe and _exit with the record's code; a zero record for each stage reached.
#include "minirun/runtime/child_report.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace minirun::runtime {
namespace {

struct Reported {
  int status = 0;
  std::vector<ChildRecord> records;
};

// Forks; the child runs `body` with a reporter on the pipe's write end (and _exits 0 if it
// returns); the parent reads every record until EOF.
template <class F>
Reported in_child(F body) {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    body(ChildReporter(p[1]));
    _exit(0);
  }
  ::close(p[1]);
  Reported r;
  ChildRecord rec;
  for (;;) {
    ssize_t n = ::read(p[0], &rec, sizeof rec);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    EXPECT_EQ(n, static_cast<ssize_t>(sizeof rec)) << "a short record";
    r.records.push_back(rec);
  }
  ::close(p[0]);
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  return r;
}

TEST(ChildReport, FailWritesTheMessageAndExitsWithItsCode) {
  auto r = in_child([](const ChildReporter& rep) { rep.fail("exec: \"nosuch\": not found", 127); });
  ASSERT_TRUE(WIFEXITED(r.status));
  EXPECT_EQ(WEXITSTATUS(r.status), 127);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].code, 127);
  EXPECT_STREQ(r.records[0].msg, "exec: \"nosuch\": not found");
}

TEST(ChildReport, FailErrnoNamesWhatFailedAndTheDefaultCodeIs125) {
  auto r = in_child([](const ChildReporter& rep) {
    errno = ENOENT;
    rep.fail_errno("pivot_root");
  });
  ASSERT_TRUE(WIFEXITED(r.status));
  EXPECT_EQ(WEXITSTATUS(r.status), 125);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].code, 125);
  EXPECT_EQ(std::string(r.records[0].msg), std::string("pivot_root: ") + std::strerror(ENOENT));
}

TEST(ChildReport, StagesAreZeroRecordsBeforeAFailure) {
  auto r = in_child([](const ChildReporter& rep) {
    EXPECT_TRUE(rep.mounted());
    EXPECT_TRUE(rep.created());
    rep.fail("late", 126);
  });
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].code, 0);
  EXPECT_EQ(r.records[1].code, 0);
  EXPECT_EQ(r.records[2].code, 126);
  EXPECT_EQ(WEXITSTATUS(r.status), 126);
}

TEST(ChildReport, AMessageLongerThanTheRecordIsCutNotOverrun) {
  auto r = in_child([](const ChildReporter& rep) { rep.fail(std::string(5000, 'x')); });
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(std::strlen(r.records[0].msg), sizeof r.records[0].msg - 1);
}

TEST(ChildReport, CreatedIsFalseWhenTheRuntimeIsGone) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::close(p[0]);
  struct sigaction ign = {}, old = {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  EXPECT_FALSE(ChildReporter(p[1]).created());
  ::sigaction(SIGPIPE, &old, nullptr);
  ::close(p[1]);
}

}  // namespace
}  // namespace minirun::runtime
