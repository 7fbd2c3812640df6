// What of runtime/rootfs_builder.h needs no mount: MountNamespaceHold keeps a process's mount
// namespace open from hold() until release() and its destructor, and holds nothing for a pid
// that is gone. (RootfsBuilder mounts an overlay: root tests, run_root_test.cpp.)
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "minirun/runtime/rootfs_builder.h"

using namespace minirun;
namespace fs = std::filesystem;

namespace {

// How many of this process's descriptors name the mount namespace of `pid`.
int mntns_fds(pid_t pid) {
  auto ns = fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/mnt");
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(e.path(), ec) == ns) n++;
  }
  return n;
}

}  // namespace

TEST(MountNamespaceHold, HoldsTheNamespaceUntilReleased) {
  const int before = mntns_fds(::getpid());
  {
    MountNamespaceHold hold;
    hold.hold(::getpid());
    EXPECT_EQ(mntns_fds(::getpid()), before + 1);
    hold.release();
  }
  EXPECT_EQ(mntns_fds(::getpid()), before);
}

TEST(MountNamespaceHold, NothingIsHeldForAProcessThatIsGone) {
  pid_t pid = ::fork();
  if (pid == 0) _exit(0);
  ::waitpid(pid, nullptr, 0);
  const int before = mntns_fds(::getpid());
  MountNamespaceHold hold;
  hold.hold(pid);
  EXPECT_EQ(mntns_fds(::getpid()), before);
  hold.release();
}
