// A container's user resolved in its own root (runtime/user.h): Docker's USER forms against the
// /etc/passwd and /etc/group of a root directory in a TempDir, the supplementary groups Docker
// sets (the primary group first, then the memberships), HOME, and symlinks kept inside the root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "minirun/runtime/user.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;
using minirun::test::write_file;
namespace fs = std::filesystem;

namespace {

class UserRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ / "etc");
    write_file(root_ / "etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\n"
               "# a comment\n"
               "app:x:1000:1000:App:/home/app:/bin/sh\n"
               "nohome2:x:1002:100:::/bin/false\n");
    write_file(root_ / "etc/group",
               "root:x:0:\n"
               "wheel:x:10:app,other\n"
               "users:x:100:\n"
               "app:x:1000:\n"
               "audio:x:29:other,app\n");
    fd_ = ::open(root_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override { ::close(fd_); }
  TempDir root_;
  int fd_ = -1;
};

}  // namespace

TEST_F(UserRoot, EmptyIsRoot) {
  auto u = resolve_user(fd_, "");
  EXPECT_EQ(u.uid, 0u);
  EXPECT_EQ(u.gid, 0u);
  EXPECT_EQ(u.home, "/root");
  EXPECT_EQ(u.groups, std::vector<gid_t>{0});
}

TEST_F(UserRoot, ANameGetsItsPrimaryGroupThenItsMemberships) {
  auto u = resolve_user(fd_, "app");
  EXPECT_EQ(u.uid, 1000u);
  EXPECT_EQ(u.gid, 1000u);
  EXPECT_EQ(u.home, "/home/app");
  EXPECT_EQ(u.groups, (std::vector<gid_t>{1000, 10, 29}));
}

TEST_F(UserRoot, ANumericUidFindsItsEntry) {
  auto u = resolve_user(fd_, "1000");
  EXPECT_EQ(u.gid, 1000u);
  EXPECT_EQ(u.home, "/home/app");
  EXPECT_EQ(u.groups, (std::vector<gid_t>{1000, 10, 29}));
}

TEST_F(UserRoot, AnUnknownNumericUidIsAllowedWithGroupZeroAndHomeSlash) {
  auto u = resolve_user(fd_, "4242");
  EXPECT_EQ(u.uid, 4242u);
  EXPECT_EQ(u.gid, 0u);
  EXPECT_EQ(u.home, "/");
  EXPECT_EQ(u.groups, std::vector<gid_t>{0});
}

TEST_F(UserRoot, AGivenGroupReplacesThePrimaryAndTheMemberships) {
  auto by_name = resolve_user(fd_, "app:users");
  EXPECT_EQ(by_name.uid, 1000u);
  EXPECT_EQ(by_name.gid, 100u);
  EXPECT_EQ(by_name.groups, std::vector<gid_t>{100});
  auto by_number = resolve_user(fd_, "1000:29");
  EXPECT_EQ(by_number.gid, 29u);
  EXPECT_EQ(by_number.groups, std::vector<gid_t>{29});
  auto unknown_number = resolve_user(fd_, "5:5000");
  EXPECT_EQ(unknown_number.uid, 5u);
  EXPECT_EQ(unknown_number.gid, 5000u);
}

TEST_F(UserRoot, UnknownNamesAreErrorsWithDockersMessage) {
  try {
    resolve_user(fd_, "nobody");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "unable to find user nobody: no matching entries in passwd file");
    EXPECT_EQ(e.exit_code(), 125);
  }
  EXPECT_THROW(resolve_user(fd_, "app:nogroup"), Error);
}

TEST_F(UserRoot, AnEntryWithoutHomeHasHomeSlash) {
  EXPECT_EQ(resolve_user(fd_, "nohome2").home, "/");
  EXPECT_EQ(home_of_uid(fd_, 1002), "/");
  EXPECT_EQ(home_of_uid(fd_, 1000), "/home/app");
  EXPECT_EQ(home_of_uid(fd_, 4242), "/");
}

TEST_F(UserRoot, SymlinksToTheFilesResolveInsideTheRoot) {
  // An absolute link to /etc/real-passwd is the root's, never the host's.
  fs::rename(root_ / "etc/passwd", root_ / "etc/real-passwd");
  fs::create_symlink("/etc/real-passwd", root_ / "etc/passwd");
  EXPECT_EQ(resolve_user(fd_, "app").uid, 1000u);
  // A link out of the root ("../../..") stays in it: no passwd there, so no user by name.
  fs::remove(root_ / "etc/passwd");
  fs::create_symlink("../../../../../../etc/passwd", root_ / "etc/passwd");
  EXPECT_THROW(resolve_user(fd_, "root"), Error);
}
