// The container's root without root (runtime/root_switch.h): the mount namespace made private
// first, the root mounted (the bundle's directory, the store's overlay, a 500+-layer image split
// in two overlays, a detached mount from the runtime), then pivot_root and the old root detached;
// chroot on a ramfs host root and without a mount namespace of its own — the calls recorded by a
// fake MountSys.
#include "minirun/runtime/root_switch.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>

#include "minirun/runtime/mount_sys.h"
#include "recording_mount_sys.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::runtime;
using minirun::test::RecordingMountSys;
using minirun::test::TempDir;

namespace {

struct FakeRoot {
  TempDir dir{"minirun-rootswitch-"};
  RecordingMountSys sys{dir.path()};
  ChildReporter report{-1};  // a failure would end the test binary: none is expected
  RootSetup setup() const {
    RootSetup s;
    s.root = dir.path();
    return s;
  }
};

OverlayLayout layers(size_t n, const std::string& layer_dir) {
  OverlayLayout l;
  l.overlay_root = "/store/overlay2";
  for (size_t i = 0; i < n; i++) {
    l.lower_links.push_back("l/L" + std::to_string(i));
    l.lower_dirs.push_back("D" + std::to_string(i) + "/diff");
  }
  l.upper = layer_dir + "/diff";
  l.work = layer_dir + "/work";
  return l;
}

}  // namespace

TEST(RootSwitch, TheNamespaceIsMadePrivateBeforeTheBundleDirectoryIsBoundOntoItself) {
  FakeRoot f;
  make_root(f.sys, f.report, f.setup());
  ASSERT_EQ(f.sys.mounts.size(), 2u);
  EXPECT_EQ(f.sys.mounts[0].target, "/");
  EXPECT_EQ(f.sys.mounts[0].flags, static_cast<unsigned long>(MS_REC | MS_PRIVATE));
  EXPECT_EQ(f.sys.mounts[1].source, "/");  // the root directory itself, seen from inside
  EXPECT_EQ(f.sys.mounts[1].target, "/");
  EXPECT_EQ(f.sys.mounts[1].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_TRUE(f.sys.overlays.empty());
}

TEST(RootSwitch, TheStoresLayersBecomeOneOverlayWithoutDevices) {
  FakeRoot f;
  RootSetup s = f.setup();
  s.overlay = layers(3, f.dir.path() + "/ctr");
  make_root(f.sys, f.report, s);
  ASSERT_EQ(f.sys.steps, (std::vector<std::string>{"mount /", "overlay " + f.dir.path()}));
  ASSERT_EQ(f.sys.overlays.size(), 1u);
  EXPECT_EQ(f.sys.overlays[0].layout.lower_links, s.overlay->lower_links);
  EXPECT_EQ(f.sys.overlays[0].flags, static_cast<unsigned long>(MS_NODEV));
}

TEST(RootSwitch, AnImageOfMoreLayersThanTheKernelStacksBecomesAReadOnlyOverlayBelowTheContainers) {
  FakeRoot f;
  const std::string layer_dir = f.dir.path() + "/ctr";
  std::filesystem::create_directories(layer_dir);
  RootSetup s = f.setup();
  s.overlay = layers(kMaxOverlayLowers + 1, layer_dir);  // the -init layer and 500 image layers
  make_root(f.sys, f.report, s);
  ASSERT_EQ(f.sys.overlays.size(), 2u);
  const auto& image = f.sys.overlays[0];
  EXPECT_EQ(image.target, layer_dir + "/image");
  EXPECT_TRUE(std::filesystem::is_directory(image.target));
  EXPECT_EQ(image.flags, static_cast<unsigned long>(MS_RDONLY | MS_NODEV));
  EXPECT_EQ(image.layout.lower_links.size(), kMaxOverlayLowers);
  EXPECT_EQ(image.layout.lower_links.front(), "l/L1");
  EXPECT_EQ(image.layout.lower_dirs.front(), "D1/diff");
  EXPECT_TRUE(image.layout.upper.empty());  // read-only
  const auto& ctr = f.sys.overlays[1];
  EXPECT_EQ(ctr.target, f.dir.path());
  EXPECT_EQ(ctr.layout.lower_links, (std::vector<std::string>{"l/L0", "ctr/image"}));
  EXPECT_EQ(ctr.layout.lower_dirs, (std::vector<std::string>{"D0/diff", "ctr/image"}));
  EXPECT_EQ(ctr.layout.upper, layer_dir + "/diff");
}

TEST(RootSwitch, ARootTheRuntimeBuiltIsAttachedAndItsDescriptorClosed) {
  FakeRoot f;
  RootSetup s = f.setup();
  s.overlay = layers(2, f.dir.path() + "/ctr");
  int tree = f.sys.open_tree(AT_FDCWD, "built", 0);
  ASSERT_GE(tree, 0);
  s.built_mount = tree;
  make_root(f.sys, f.report, s);
  EXPECT_EQ(f.sys.steps, (std::vector<std::string>{"mount /", "move_mount /"}));
  EXPECT_TRUE(f.sys.overlays.empty());  // not mounted a second time
  EXPECT_EQ(::fcntl(tree, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(RootSwitch, AContainerSharingTheHostsMountNamespaceMountsNothingAndIsChrooted) {
  FakeRoot f;
  RootSetup s = f.setup();
  s.own_mount_ns = false;
  make_root(f.sys, f.report, s);
  EXPECT_TRUE(f.sys.steps.empty());
  EXPECT_FALSE(switch_root(f.sys, f.report, s));
  EXPECT_EQ(f.sys.steps, (std::vector<std::string>{"chroot " + f.dir.path(), "chdir /"}));
}

TEST(RootSwitch, PivotRootThenTheOldRootIsDetached) {
  FakeRoot f;
  EXPECT_FALSE(switch_root(f.sys, f.report, f.setup()));
  EXPECT_EQ(f.sys.steps, (std::vector<std::string>{"chdir " + f.dir.path(), "pivot_root . .",
                                                   "umount2 . " + std::to_string(MNT_DETACH), "chdir /"}));
  EXPECT_TRUE(f.sys.mounts.empty());
}

TEST(RootSwitch, AReadOnlyRootIsRemountedAndPropagationSetAfterTheSwitch) {
  FakeRoot f;
  RootSetup s = f.setup();
  s.readonly = true;
  s.propagation = MS_REC | MS_SLAVE;
  switch_root(f.sys, f.report, s);
  ASSERT_EQ(f.sys.mounts.size(), 2u);
  EXPECT_EQ(f.sys.steps.back(), "mount /");
  EXPECT_EQ(f.sys.steps[f.sys.steps.size() - 3], "chdir /");  // both after the switch
  EXPECT_EQ(f.sys.mounts[0].flags, static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV));
  EXPECT_EQ(f.sys.mounts[1].flags, static_cast<unsigned long>(MS_REC | MS_SLAVE));
}

TEST(RootSwitch, OnARamfsHostRootTheNewRootIsMovedOverItAndChrooted) {
  FakeRoot f;
  f.sys.pivot_root_errno = EINVAL;
  f.sys.root_fs_type = RAMFS_MAGIC;
  EXPECT_TRUE(switch_root(f.sys, f.report, f.setup()));  // the container gets no CAP_SYS_CHROOT
  EXPECT_EQ(f.sys.steps, (std::vector<std::string>{"chdir " + f.dir.path(), "pivot_root . .", "mount /",
                                                   "chroot .", "chdir /"}));
  ASSERT_EQ(f.sys.mounts.size(), 1u);
  EXPECT_EQ(f.sys.mounts[0].flags, static_cast<unsigned long>(MS_MOVE));
}
