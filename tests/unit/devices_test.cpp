// The container's device nodes (runtime/devices.h): the list (the six defaults, then the spec's),
// the nodes made for it — by mknod, or by binding the host's node on a nodev /dev — recorded by a
// fake MountSys against a root directory in a TempDir, and the kernel's name of a device number,
// used to bind the host's node when --device gives the container another path (/dev/ram0:/dev/disk).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>

#include "minirun/runtime/devices.h"
#include "recording_mount_sys.h"
#include "testutil.h"

using namespace minirun::runtime;
using minirun::test::RecordingMountSys;
using minirun::test::TempDir;
namespace fs = std::filesystem;

namespace {

Device char_device(const std::string& path, int64_t maj, int64_t min, uint32_t mode) {
  Device d;
  d.type = "c";
  d.path = path;
  d.major = maj;
  d.minor = min;
  d.file_mode = mode;
  return d;
}

}  // namespace

TEST(Devices, TheSixDefaultsThenTheSpecsWithALaterPathReplacingAnEarlierOne) {
  auto fuse = char_device("/dev/fuse", 10, 229, 0660);
  auto null = char_device("/dev/null", 1, 3, 0600);
  auto devs = container_devices({fuse, null});
  std::vector<std::string> paths;
  for (const auto& d : devs) paths.push_back(d.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                                             "/dev/tty", "/dev/fuse"}));
  EXPECT_EQ(devs[0].file_mode.value_or(0), 0600u);  // replaced in place
  EXPECT_EQ(devs[5].major, 5);
  EXPECT_EQ(devs[5].minor, 0);
  EXPECT_EQ(devs[1].file_mode.value_or(0), 0666u);
  EXPECT_EQ(devs[1].type, "c");
}

TEST(Devices, NodesAreMadeWithTheirTypeModeNumberAndOwner) {
  TempDir root;
  int fd = ::open(root.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  RecordingMountSys sys(root.path());
  auto owned = char_device("/dev/fuse", 10, 229, 0660);
  owned.uid = 1000;
  owned.gid = 1001;
  Device disk;
  disk.type = "b";
  disk.path = "/dev/disks/d0";
  disk.major = 7;
  disk.minor = 0;
  {
    RootPaths rp(fd);
    create_devices(ChildReporter(-1), rp, container_devices({owned, disk}), false, sys);
  }
  ::close(fd);
  ASSERT_EQ(sys.nodes.size(), 8u);
  EXPECT_TRUE(sys.mounts.empty());
  EXPECT_EQ(sys.nodes[0].path, "/dev/null");
  EXPECT_EQ(sys.nodes[0].mode, static_cast<mode_t>(S_IFCHR | 0666));
  EXPECT_EQ(sys.nodes[0].dev, makedev(1, 3));
  EXPECT_EQ(sys.nodes[5].path, "/dev/tty");
  EXPECT_EQ(sys.nodes[5].dev, makedev(5, 0));
  EXPECT_EQ(sys.nodes[6].path, "/dev/fuse");
  EXPECT_EQ(sys.nodes[6].mode, static_cast<mode_t>(S_IFCHR | 0660));
  EXPECT_EQ(sys.nodes[7].path, "/dev/disks/d0");
  EXPECT_EQ(sys.nodes[7].mode, static_cast<mode_t>(S_IFBLK | 0666));  // no file_mode: 0666
  EXPECT_EQ(sys.nodes[7].dev, makedev(7, 0));
  // Only a node with other owners than root's is chowned.
  ASSERT_EQ(sys.chowns.size(), 1u);
  EXPECT_EQ(sys.chowns[0].path, "/dev/fuse");
  EXPECT_EQ(sys.chowns[0].uid, 1000u);
  EXPECT_EQ(sys.chowns[0].gid, 1001u);
  // /dev's symlinks, as Docker's.
  EXPECT_EQ(fs::read_symlink(root / "dev/fd").string(), "/proc/self/fd");
  EXPECT_EQ(fs::read_symlink(root / "dev/stdin").string(), "/proc/self/fd/0");
  EXPECT_EQ(fs::read_symlink(root / "dev/stderr").string(), "/proc/self/fd/2");
}

TEST(Devices, OnANodevDevTheHostsNodesAreBound) {
  struct stat st;
  if (::stat("/dev/null", &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    GTEST_SKIP() << "no /dev/null on this host";
  TempDir root;
  int fd = ::open(root.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  RecordingMountSys sys(root.path());
  {
    RootPaths rp(fd);
    create_devices(ChildReporter(-1), rp, {char_device("/dev/null", 1, 3, 0666)}, true, sys);
  }
  ::close(fd);
  EXPECT_TRUE(sys.nodes.empty());
  ASSERT_EQ(sys.mounts.size(), 1u);
  EXPECT_EQ(sys.mounts[0].source, "/dev/null");  // the host's
  EXPECT_EQ(sys.mounts[0].target, "/dev/null");  // the container's, an empty file to bind onto
  EXPECT_EQ(sys.mounts[0].flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_TRUE(fs::is_regular_file(root / "dev/null"));
}

TEST(Devices, HostDeviceNameOfCharacterDevices) {
  struct stat st;
  if (::stat("/sys/dev/char/1:3", &st) != 0) GTEST_SKIP() << "no /sys/dev";
  EXPECT_EQ(host_device_name(false, 1, 3), "null");
  EXPECT_EQ(host_device_name(false, 1, 5), "zero");
  EXPECT_EQ(host_device_name(false, 5, 0), "tty");
}

TEST(Devices, HostDeviceNameOfABlockDeviceMatchesItsNode) {
  struct stat st;
  if (::stat("/sys/dev/block", &st) != 0) GTEST_SKIP() << "no /sys/dev";
  if (::stat("/dev/loop0", &st) != 0 || !S_ISBLK(st.st_mode)) GTEST_SKIP() << "no /dev/loop0";
  EXPECT_EQ(host_device_name(true, major(st.st_rdev), minor(st.st_rdev)), "loop0");
  // The same numbers as a character device are another device (or none).
  EXPECT_NE(host_device_name(false, major(st.st_rdev), minor(st.st_rdev)), "loop0");
}

TEST(Devices, HostDeviceNameOfAnUnusedNumberIsEmpty) {
  EXPECT_EQ(host_device_name(false, 4095, 1048575), "");
  EXPECT_EQ(host_device_name(true, 4095, 1048575), "");
}
