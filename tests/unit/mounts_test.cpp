// The container's mounts without root (runtime/mounts.h): the plan parsed from the spec (flags,
// data, propagation, binds), Docker's default list as build_spec makes it, and the calls the
// child would make for it, for the container's cgroup, masked and read-only paths — recorded by a
// fake MountSys against a root directory in a TempDir.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "minirun/engine/container_spec.h"
#include "minirun/runtime/mounts.h"
#include "minirun/util/error.h"
#include "recording_mount_sys.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::runtime;
using minirun::test::MountCall;
using minirun::test::RecordingMountSys;
using minirun::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A root directory for the child's mounting, with its RootPaths and a recorder.
struct FakeRoot {
  TempDir dir{"minirun-mounts-"};
  int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  RecordingMountSys sys{dir.path()};
  ChildReporter report{-1};  // a failure would end the test binary: none is expected
  ~FakeRoot() { ::close(fd); }
  void file(const std::string& rel) {
    fs::create_directories(fs::path(dir / rel).parent_path());
    minirun::test::write_file(dir / rel, "");
  }
  void mount_all(const std::vector<MountPlan>& plans) {
    RootPaths rp(fd);
    runtime::mount_all(report, rp, plans, nullptr, sys);
  }
};

const MountPlan* find_plan(const std::vector<MountPlan>& plans, const std::string& dest) {
  for (const auto& p : plans)
    if (p.destination == dest) return &p;
  return nullptr;
}

// The runtime takes cgroup v1 or v2 from the host as it finds it (mounts.cpp).
bool cgroup2_host() {
  struct stat st;
  return ::stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
}

ContainerRequest request(const TempDir& state) {
  ContainerRequest req;
  req.id = "c0ffee";
  req.hostname = "c0ffee";
  req.argv = {"/bin/sh"};
  req.state_dir = state.path();
  for (const char* f : {"hostname", "hosts", "resolv.conf"}) minirun::test::write_file(state / f, "");
  return req;
}

}  // namespace

TEST(Mounts, DockersDefaultMountsInOrderWithTheirFlagsAndData) {
  TempDir state;
  auto plans = plan_mounts(build_spec(request(state), "/root").mounts);
  std::vector<std::string> dests;
  for (const auto& p : plans) dests.push_back(p.destination);
  EXPECT_EQ(dests, (std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/sys", "/dev/mqueue", "/dev/shm",
                                             "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}));
  const auto& proc = *find_plan(plans, "/proc");
  EXPECT_EQ(proc.type, "proc");
  EXPECT_EQ(proc.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV));
  EXPECT_FALSE(proc.bind);
  // Without a cgroup (no device rules) /dev is nodev: its nodes are bound from the host.
  const auto& dev = *find_plan(plans, "/dev");
  EXPECT_EQ(dev.type, "tmpfs");
  EXPECT_EQ(dev.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME | MS_NODEV));
  EXPECT_EQ(dev.data, "mode=755,size=65536k");
  const auto& pts = *find_plan(plans, "/dev/pts");
  EXPECT_EQ(pts.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  EXPECT_EQ(pts.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
  const auto& sys = *find_plan(plans, "/sys");
  EXPECT_EQ(sys.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  const auto& shm = *find_plan(plans, "/dev/shm");
  EXPECT_EQ(shm.source, "shm");
  EXPECT_EQ(shm.data, "mode=1777,size=65536k");
  const auto& hosts = *find_plan(plans, "/etc/hosts");
  EXPECT_TRUE(hosts.bind);
  EXPECT_TRUE(hosts.recursive);
  EXPECT_FALSE(hosts.source_is_dir);
  EXPECT_EQ(hosts.source, state / "hosts");
  EXPECT_EQ(hosts.propagation, static_cast<unsigned long>(MS_REC | MS_PRIVATE));
}

TEST(Mounts, APrivilegedContainerGetsAWritableSysAndADevWithNodes) {
  TempDir state;
  auto req = request(state);
  req.privileged = true;
  auto spec = build_spec(req, "/root");
  auto plans = plan_mounts(spec.mounts);
  EXPECT_EQ(find_plan(plans, "/sys")->flags & MS_RDONLY, 0u);
  EXPECT_EQ(find_plan(plans, "/dev")->flags & MS_NODEV, 0u);
  EXPECT_TRUE(spec.linux.masked_paths.empty());
  EXPECT_TRUE(spec.linux.readonly_paths.empty());
}

TEST(Mounts, AContainerWithACgroupGetsItsGroupReadOnlyAndDeviceNodes) {
  TempDir state;
  auto req = request(state);
  req.cgroup_path = "/minirun/c0ffee";
  auto plans = plan_mounts(build_spec(req, "/root").mounts);
  EXPECT_EQ(find_plan(plans, "/dev")->flags & MS_NODEV, 0u);
  const MountPlan* cg = find_plan(plans, "/sys/fs/cgroup");
  ASSERT_NE(cg, nullptr);
  EXPECT_EQ(cg->type, "cgroup");
  EXPECT_EQ(cg->flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY));
}

TEST(Mounts, DefaultMountsBecomeOneCallEachOnTheirMountPoints) {
  FakeRoot root;
  auto plans = plan_mounts({{"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
                            {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
                            {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "gid=5"}},
                            {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
                            {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
                            {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}}});
  root.mount_all(plans);
  ASSERT_EQ(root.sys.mounts.size(), 6u);
  const auto& m = root.sys.mounts;
  EXPECT_EQ(m[0].source, "proc");
  EXPECT_EQ(m[0].target, "/proc");
  EXPECT_EQ(m[0].fstype, "proc");
  EXPECT_EQ(m[0].flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV));
  EXPECT_EQ(m[0].data, "");
  EXPECT_EQ(m[1].target, "/dev");
  EXPECT_EQ(m[1].fstype, "tmpfs");
  EXPECT_EQ(m[1].data, "mode=755,size=65536k");
  EXPECT_EQ(m[2].target, "/dev/pts");
  EXPECT_EQ(m[2].data, "newinstance,gid=5");
  EXPECT_EQ(m[3].target, "/dev/mqueue");
  EXPECT_EQ(m[3].fstype, "mqueue");
  EXPECT_EQ(m[4].source, "shm");
  EXPECT_EQ(m[4].target, "/dev/shm");
  EXPECT_EQ(m[4].fstype, "tmpfs");
  // sysfs: a new instance, read-only (the recorder's mount succeeds: no fallback to a bind).
  EXPECT_EQ(m[5].source, "sysfs");
  EXPECT_EQ(m[5].target, "/sys");
  EXPECT_EQ(m[5].flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  for (const char* d : {"proc", "dev/pts", "dev/mqueue", "dev/shm", "sys"}) EXPECT_TRUE(fs::is_directory(root.dir / d)) << d;
}

TEST(Mounts, ABindMountWithReadOnlyAndNosuidIsABindAndARemount) {
  TempDir host;
  fs::create_directory(host / "data");
  FakeRoot root;
  auto plans = plan_mounts({{"/data", "bind", host / "data", {"rbind", "ro", "nosuid"}}});
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_TRUE(plans[0].bind);
  EXPECT_TRUE(plans[0].recursive);
  EXPECT_EQ(plans[0].flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
  root.mount_all(plans);
  ASSERT_EQ(root.sys.mounts.size(), 2u);
  const auto& bind = root.sys.mounts[0];
  EXPECT_EQ(bind.source, host / "data");
  EXPECT_EQ(bind.target, "/data");
  EXPECT_EQ(bind.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  // The kernel ignores ro and nosuid on MS_BIND: they take a remount of the bind.
  const auto& remount = root.sys.mounts[1];
  EXPECT_EQ(remount.source, "");
  EXPECT_EQ(remount.target, "/data");
  EXPECT_EQ(remount.flags, static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID));
  EXPECT_TRUE(fs::is_directory(root.dir / "data"));
}

TEST(Mounts, APlainBindOfAFileIsOneCallOnAFileMountPoint) {
  TempDir host;
  minirun::test::write_file(host / "conf", "x");
  FakeRoot root;
  auto plans = plan_mounts({{"/etc/app.conf", "none", host / "conf", {"bind"}}});
  EXPECT_FALSE(plans[0].source_is_dir);
  EXPECT_FALSE(plans[0].recursive);
  root.mount_all(plans);
  ASSERT_EQ(root.sys.mounts.size(), 1u);
  EXPECT_EQ(root.sys.mounts[0].flags, static_cast<unsigned long>(MS_BIND));
  EXPECT_EQ(root.sys.mounts[0].target, "/etc/app.conf");
  EXPECT_TRUE(fs::is_regular_file(root.dir / "etc/app.conf"));
}

TEST(Mounts, TmpfsWithSizeModeAndPropagation) {
  FakeRoot root;
  auto plans = plan_mounts({{"/run", "tmpfs", "tmpfs", {"rw", "nosuid", "nodev", "size=64m", "mode=1777", "rshared"}}});
  EXPECT_EQ(plans[0].data, "size=64m,mode=1777");
  EXPECT_EQ(plans[0].propagation, static_cast<unsigned long>(MS_REC | MS_SHARED));
  root.mount_all(plans);
  ASSERT_EQ(root.sys.mounts.size(), 2u);
  EXPECT_EQ(root.sys.mounts[0].source, "tmpfs");
  EXPECT_EQ(root.sys.mounts[0].fstype, "tmpfs");
  EXPECT_EQ(root.sys.mounts[0].flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV));
  EXPECT_EQ(root.sys.mounts[0].data, "size=64m,mode=1777");
  EXPECT_EQ(root.sys.mounts[1].target, "/run");
  EXPECT_EQ(root.sys.mounts[1].flags, static_cast<unsigned long>(MS_REC | MS_SHARED));
}

TEST(Mounts, LaterOptionsOverrideEarlierOnesAndUnknownOnesBecomeData) {
  auto p = plan_mount({"/x", "tmpfs", "tmpfs", {"ro", "rw", "noexec", "exec", "nodev", "uid=1000", "tmpcopyup"}});
  EXPECT_EQ(p.flags, static_cast<unsigned long>(MS_NODEV));
  EXPECT_EQ(p.data, "uid=1000");
  EXPECT_EQ(p.propagation, 0u);
}

TEST(Mounts, RefusedMounts) {
  EXPECT_THROW(plan_mount({"relative", "tmpfs", "tmpfs", {}}), Error);
  EXPECT_THROW(plan_mount({"", "tmpfs", "tmpfs", {}}), Error);
  EXPECT_THROW(plan_mount({"/x", "bind", "", {"rbind"}}), Error);
  EXPECT_THROW(plan_mount({"/x", "bind", "/nonexistent/minirun-test-source", {"rbind"}}), Error);
  EXPECT_THROW(plan_mount({"/x", "tmpfs", "tmpfs", {"idmap"}}), Error);
  EXPECT_EQ(propagation_flags(""), 0u);
  EXPECT_EQ(propagation_flags("rslave"), static_cast<unsigned long>(MS_REC | MS_SLAVE));
  EXPECT_EQ(propagation_flags("private"), static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_THROW(propagation_flags("sideways"), Error);
}

TEST(Mounts, MaskedPathsAreAReadOnlyTmpfsOnDirectoriesAndDevNullOnFiles) {
  FakeRoot root;
  root.file("dev/null");
  root.file("proc/kcore");
  fs::create_directories(root.dir / "proc/acpi");
  {
    RootPaths rp(root.fd);
    mask_paths(root.report, rp, {"/proc/acpi", "/proc/kcore", "/proc/keys"}, root.sys);
  }
  // /proc/keys does not exist: skipped.
  ASSERT_EQ(root.sys.mounts.size(), 2u);
  const auto& dir = root.sys.mounts[0];
  EXPECT_EQ(dir.target, "/proc/acpi");
  EXPECT_EQ(dir.fstype, "tmpfs");
  EXPECT_EQ(dir.flags, static_cast<unsigned long>(MS_RDONLY));
  const auto& file = root.sys.mounts[1];
  EXPECT_EQ(file.target, "/proc/kcore");
  EXPECT_EQ(file.source, "/dev/null");  // the container's own
  EXPECT_EQ(file.flags, static_cast<unsigned long>(MS_BIND));
}

TEST(Mounts, ReadOnlyPathsAreABindOntoThemselvesRemountedReadOnly) {
  FakeRoot root;
  fs::create_directories(root.dir / "proc/sys");
  {
    RootPaths rp(root.fd);
    readonly_paths(root.report, rp, {"/proc/sys", "/proc/bus"}, root.sys);
  }
  ASSERT_EQ(root.sys.mounts.size(), 2u);
  EXPECT_EQ(root.sys.mounts[0].source, "/proc/sys");
  EXPECT_EQ(root.sys.mounts[0].target, "/proc/sys");
  EXPECT_EQ(root.sys.mounts[0].flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(root.sys.mounts[1].target, "/proc/sys");
  EXPECT_EQ(root.sys.mounts[1].flags,
            static_cast<unsigned long>(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
}

TEST(Mounts, DockersMaskedAndReadOnlyLists) {
  TempDir state;
  auto spec = build_spec(request(state), "/root");
  const auto& masked = spec.linux.masked_paths;
  for (const char* p : {"/proc/kcore", "/proc/keys", "/proc/acpi", "/sys/firmware", "/proc/scsi"})
    EXPECT_NE(std::find(masked.begin(), masked.end(), p), masked.end()) << p;
  EXPECT_EQ(spec.linux.readonly_paths,
            (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
}

TEST(Mounts, ACgroupMountThatWaitsForItsGroupComesLastUnlessAMountLiesBelowIt) {
  const std::vector<std::string> ro = {"nosuid", "noexec", "nodev", "ro"};
  // The cgroup thread's v1 tree made whole (any descriptor stands for it here).
  CgroupMount ready;
  ready.tree = ::open("/", O_PATH | O_CLOEXEC);
  ASSERT_GE(ready.tree, 0);
  int asked = 0;
  auto at_cgroup = [&]() -> const CgroupMount* {
    asked++;
    return &ready;
  };
  {
    FakeRoot root;
    RootPaths rp(root.fd);
    runtime::mount_all(root.report, rp, plan_mounts({{"/sys/fs/cgroup", "cgroup", "cgroup", ro}, {"/run", "tmpfs", "tmpfs", {}}}),
                       at_cgroup, root.sys);
    EXPECT_EQ(root.sys.order, (std::vector<std::string>{"/run", "/sys/fs/cgroup"}));
    EXPECT_EQ(asked, 1);
  }
  {
    // A volume below /sys/fs/cgroup: the group's mount first, else it would hide the volume.
    FakeRoot root;
    RootPaths rp(root.fd);
    runtime::mount_all(root.report, rp,
                       plan_mounts({{"/sys/fs/cgroup", "cgroup", "cgroup", ro}, {"/sys/fs/cgroup/extra", "tmpfs", "tmpfs", {}}}),
                       at_cgroup, root.sys);
    EXPECT_EQ(root.sys.order, (std::vector<std::string>{"/sys/fs/cgroup", "/sys/fs/cgroup/extra"}));
    EXPECT_EQ(asked, 2);
    if (!cgroup2_host()) {
      // v1: the tree attached whole, in one call.
      ASSERT_EQ(root.sys.trees.size(), 1u);
      EXPECT_EQ(root.sys.trees[0].source, "");
      EXPECT_EQ(root.sys.trees[0].target, "/sys/fs/cgroup");
    }
  }
  ::close(ready.tree);
}

TEST(Mounts, OnCgroupV1EachGroupDirectoryIsCopiedReadOnlyOntoATmpfs) {
  if (cgroup2_host()) GTEST_SKIP() << "a cgroup v2 host: the container gets a cgroup2 mount";
  CgroupMount ready;  // no tree made: the child binds each directory itself
  ready.sources = {{"memory", "/sys/fs/cgroup/memory/minirun/c1"}, {"cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct/minirun/c1"}};
  FakeRoot root;
  {
    RootPaths rp(root.fd);
    runtime::mount_all(root.report, rp, plan_mounts({{"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "ro"}}}),
                       [&] { return &ready; }, root.sys);
  }
  ASSERT_EQ(root.sys.mounts.size(), 1u);
  EXPECT_EQ(root.sys.mounts[0].target, "/sys/fs/cgroup");
  EXPECT_EQ(root.sys.mounts[0].fstype, "tmpfs");
  EXPECT_EQ(root.sys.mounts[0].flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC));  // writable, as runc's
  EXPECT_EQ(root.sys.mounts[0].data, "mode=755");
  ASSERT_EQ(root.sys.trees.size(), 2u);
  const uint64_t attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY;
  EXPECT_EQ(root.sys.trees[0].source, "/sys/fs/cgroup/memory/minirun/c1");
  EXPECT_EQ(root.sys.trees[0].target, "/sys/fs/cgroup/memory");
  EXPECT_EQ(root.sys.trees[0].attr_set, attr);
  EXPECT_EQ(root.sys.trees[1].source, "/sys/fs/cgroup/cpu,cpuacct/minirun/c1");
  EXPECT_EQ(root.sys.trees[1].target, "/sys/fs/cgroup/cpu,cpuacct");
  // Co-mounted controllers: a link for each name, as on the host.
  EXPECT_EQ(fs::read_symlink(root.dir / "sys/fs/cgroup/cpu").string(), "cpu,cpuacct");
  EXPECT_EQ(fs::read_symlink(root.dir / "sys/fs/cgroup/cpuacct").string(), "cpu,cpuacct");
}
