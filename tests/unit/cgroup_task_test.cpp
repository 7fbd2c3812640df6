// The cgroup made on a thread (runtime/cgroup_task.h) when the group cannot be made, which needs
// no cgroup file system: take() rethrows the thread's error; after deliver() the child's socket
// gets the single byte 0 (so the child fails instead of waiting) and is closed.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "minirun/runtime/cgroup_task.h"
#include "minirun/util/error.h"

using namespace minirun;
using namespace minirun::runtime;

TEST(CgroupTask, TakeRethrowsWhyTheGroupCouldNotBeMade) {
  CgroupTask task("minirun/../escape");
  EXPECT_EQ(task.path(), "minirun/../escape");
  EXPECT_THROW(task.take(), Error);
  EXPECT_TRUE(task.take_join_files().empty());
  EXPECT_TRUE(task.mount_sources().empty());
}

TEST(CgroupTask, DeliverSendsTheChildAFailureByteAndClosesItsSocket) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  {
    CgroupTask task("minirun/../escape");
    Resources res;
    res.pids_limit = 10;
    task.deliver(res, sv[1], std::nullopt);
    struct pollfd p = {sv[0], POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    char buf[64];
    ASSERT_EQ(::recv(sv[0], buf, sizeof buf, 0), 1);
    EXPECT_EQ(buf[0], '\0');
    EXPECT_EQ(::recv(sv[0], buf, sizeof buf, 0), 0);  // closed by the task
    EXPECT_THROW(task.take(), Error);
  }
  ::close(sv[0]);
}
