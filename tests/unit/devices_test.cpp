// The kernel's name of a device number (runtime/devices.h), used to bind the host's node when
// --device gives the container another path (/dev/ram0:/dev/disk).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "minirun/runtime/devices.h"

using namespace minirun::runtime;

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
