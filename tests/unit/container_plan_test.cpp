// The container's setup as the runtime decides it from a spec before clone()
// (runtime/container_plan.h): mounts, device nodes and whether they are the host's, bound,
// capability masks, rlimits, sysctl files and the root's propagation — and what it refuses.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "minirun/runtime/container_plan.h"
#include "minirun/util/error.h"

using namespace minirun;
using namespace minirun::runtime;

namespace {

Spec base_spec() {
  Spec s;
  Process p;
  p.args = {"/bin/true"};
  p.capabilities = Capabilities{{"CAP_CHOWN", "CAP_KILL"}, {"CAP_KILL"}, {}, {"CAP_KILL"}, {}};
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 4096}};
  s.process = p;
  s.mounts = {{"/proc", "proc", "proc", {"nosuid"}}, {"/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755"}}};
  return s;
}

}  // namespace

TEST(ContainerPlan, MountsDevicesCapabilitiesAndRlimits) {
  auto s = base_spec();
  Device fuse;
  fuse.type = "c";
  fuse.path = "/dev/fuse";
  fuse.major = 10;
  fuse.minor = 229;
  s.linux.devices = {fuse};
  auto plan = plan_setup(s);
  ASSERT_EQ(plan.mounts.size(), 2u);
  EXPECT_EQ(plan.mounts[0].destination, "/proc");
  EXPECT_EQ(plan.mounts[1].data, "mode=755");
  ASSERT_EQ(plan.devices.size(), 7u);  // the six defaults and the spec's
  EXPECT_EQ(plan.devices.back().path, "/dev/fuse");
  EXPECT_FALSE(plan.devices_by_bind);  // /dev allows devices: mknod
  EXPECT_EQ(plan.caps.bounding, (1ull << CAP_CHOWN) | (1ull << CAP_KILL));
  EXPECT_EQ(plan.caps.effective, 1ull << CAP_KILL);
  EXPECT_EQ(plan.caps.inheritable, 0u);
  ASSERT_EQ(plan.rlimits.size(), 1u);
  EXPECT_EQ(plan.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(plan.rlimits[0].soft, 1024u);
  EXPECT_EQ(plan.rlimits[0].hard, 4096u);
  EXPECT_TRUE(plan.sysctl.empty());
  EXPECT_EQ(plan.root_propagation, 0u);
}

TEST(ContainerPlan, DevicesAreBoundOnANodevDevAndInAUserNamespace) {
  auto s = base_spec();
  s.mounts[1].options.push_back("nodev");
  EXPECT_TRUE(plan_setup(s).devices_by_bind);
  s = base_spec();
  s.linux.namespaces.push_back({"user", ""});
  EXPECT_TRUE(plan_setup(s).devices_by_bind);
  s = base_spec();
  s.mounts.clear();  // no /dev mount at all: the root's own /dev, nodes made
  EXPECT_FALSE(plan_setup(s).devices_by_bind);
}

TEST(ContainerPlan, SysctlKeysBecomeProcSysPathsAndPropagationFlags) {
  auto s = base_spec();
  s.linux.sysctl = {{"net.ipv4.ip_forward", "1"}, {"kernel.shm_rmid_forced", "1"}};
  s.linux.rootfs_propagation = "rslave";
  auto plan = plan_setup(s);
  ASSERT_EQ(plan.sysctl.size(), 2u);
  // (std::map's order: by key)
  EXPECT_EQ(plan.sysctl[0], (std::pair<std::string, std::string>{"/proc/sys/kernel/shm_rmid_forced", "1"}));
  EXPECT_EQ(plan.sysctl[1], (std::pair<std::string, std::string>{"/proc/sys/net/ipv4/ip_forward", "1"}));
  EXPECT_EQ(plan.root_propagation, static_cast<unsigned long>(MS_REC | MS_SLAVE));
}

TEST(ContainerPlan, WhatTheRuntimeRefuses) {
  auto s = base_spec();
  s.process->capabilities->bounding.push_back("CAP_NOT_A_THING");
  EXPECT_THROW(plan_setup(s), Error);
  s = base_spec();
  s.process->rlimits.push_back({"RLIMIT_NOPE", 1, 1});
  EXPECT_THROW(plan_setup(s), Error);
  s = base_spec();
  s.process->rlimits = {{"RLIMIT_NOFILE", 10, 5}};  // soft above hard
  EXPECT_THROW(plan_setup(s), Error);
  s = base_spec();
  s.linux.rootfs_propagation = "sideways";
  EXPECT_THROW(plan_setup(s), Error);
  s = base_spec();
  s.mounts.push_back({"relative/path", "tmpfs", "tmpfs", {}});
  EXPECT_THROW(plan_setup(s), Error);
}
