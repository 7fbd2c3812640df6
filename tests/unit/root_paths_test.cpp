// Paths inside a container's root (runtime/root_paths.h): openat2(RESOLVE_IN_ROOT) keeps an
// image's symlinks inside the root, and mount points are created there, never on the host.
// RESOLVE_IN_ROOT needs no privilege: these run as any user.
#include "minirun/runtime/root_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "testutil.h"

namespace minirun::runtime {
namespace {

using test::TempDir;
using test::read_file;
using test::write_file;

// Where a /proc/self/fd/N path points.
std::string target_of(const std::string& proc_path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(proc_path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

class RootPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir((host_ / "etc").c_str(), 0755), 0);
    write_file(host_ / "etc/passwd", "host secret\n");
    ASSERT_EQ(::mkdir((root_ / "etc").c_str(), 0755), 0);
    write_file(root_ / "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    // An image's hostile links: absolute, climbing with "..", and through a directory link.
    ASSERT_EQ(::symlink((host_.path() + "/etc").c_str(), (root_ / "abs").c_str()), 0);
    ASSERT_EQ(::symlink("../../../../../../../../etc", (root_ / "up").c_str()), 0);
    ASSERT_EQ(::symlink("/etc", (root_ / "etclink").c_str()), 0);
    fd_ = ::open(root_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }
  TempDir host_{"minirun-rootpaths-host-"}, root_{"minirun-rootpaths-root-"};
  int fd_ = -1;
};

TEST_F(RootPathsTest, SymlinksResolveInsideTheRoot) {
  // ".." and a link to /etc stop at the root: the root's own etc/passwd.
  for (const char* p : {"up/passwd", "/etclink/passwd", "/../../etc/passwd"}) {
    int fd = openat2_in_root(fd_, p, O_RDONLY);
    ASSERT_GE(fd, 0) << p << ": " << std::strerror(errno);
    char buf[64] = {};
    ASSERT_GT(::read(fd, buf, sizeof buf - 1), 0);
    EXPECT_EQ(std::string(buf), "root:x:0:0::/root:/bin/sh\n") << p;
    ::close(fd);
  }
  // A link to a host path names that path under the root, where it does not exist.
  EXPECT_LT(openat2_in_root(fd_, "/abs/passwd", O_RDONLY), 0);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(RootPathsTest, PointCreatesMissingDirectoriesAndFilesInsideTheRoot) {
  RootPaths rp(fd_);
  EXPECT_EQ(rp.root(), fd_);
  std::string d = rp.point("/etclink/new/dir", true);  // through the link to /etc: the root's etc
  ASSERT_FALSE(d.empty()) << std::strerror(errno);
  EXPECT_EQ(target_of(d), root_ / "etc/new/dir");
  struct stat st;
  ASSERT_EQ(::stat((root_ / "etc/new/dir").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  // Through a link to a host path that the root lacks: nothing made, on the host least of all.
  EXPECT_EQ(rp.point("/abs/new", true), "");
  EXPECT_NE(::stat((host_ / "etc/new").c_str(), &st), 0) << "created on the host";

  std::string f = rp.point("/up/resolv.conf", false);
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(target_of(f), root_ / "etc/resolv.conf");
  ASSERT_EQ(::stat((root_ / "etc/resolv.conf").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(rp.last_fd(), std::stoi(f.substr(std::string("/proc/self/fd/").size())));
}

TEST_F(RootPathsTest, ExistingNeverCreates) {
  RootPaths rp(fd_);
  EXPECT_EQ(rp.existing("/nosuch/file"), "");
  struct stat st;
  EXPECT_NE(::stat((root_ / "nosuch").c_str(), &st), 0);
  std::string p = rp.existing("/etclink/passwd");
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(target_of(p), root_ / "etc/passwd");
}

TEST_F(RootPathsTest, TheDescriptorsCloseWithIt) {
  int before = -1;
  {
    RootPaths rp(fd_);
    ASSERT_FALSE(rp.existing("/etc").empty());
    before = rp.last_fd();
    EXPECT_GE(::fcntl(before, F_GETFD), 0);
  }
  EXPECT_EQ(::fcntl(before, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace minirun::runtime
