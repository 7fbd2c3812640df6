// The runtime spec as plain C++ (runtime/spec.h): the spec's defaults, the namespace lookup the
// runtime plans with, and which hooks make the runtime wait during the setup.
#include <gtest/gtest.h>

#include "minirun/runtime/spec.h"

using namespace minirun::runtime;

TEST(Spec, TheRuntimeSpecsDefaults) {
  Spec s;
  EXPECT_EQ(s.oci_version, "1.2.0");
  EXPECT_EQ(s.root.path, "rootfs");  // relative to the bundle
  EXPECT_FALSE(s.root.readonly);
  EXPECT_FALSE(s.process);
  Process p;
  EXPECT_EQ(p.cwd, "/");
  EXPECT_FALSE(p.terminal);
  EXPECT_EQ(p.user.uid, 0u);
  EXPECT_FALSE(p.capabilities);  // none given: every set empty (capabilities.h)
  // minirun's own additions default to a plain run: stdin kept, no init, nothing compiled.
  EXPECT_TRUE(s.minirun.keep_stdin);
  EXPECT_FALSE(s.minirun.init);
  EXPECT_EQ(s.minirun.rootfs_sock, -1);
  EXPECT_FALSE(s.minirun.overlay);
}

TEST(Spec, FindNamespaceReturnsTheFirstOfItsType) {
  Linux l;
  EXPECT_EQ(l.find_namespace("pid"), nullptr);
  l.namespaces = {{"pid", ""}, {"network", "/proc/1/ns/net"}, {"network", "/other"}};
  ASSERT_NE(l.find_namespace("network"), nullptr);
  EXPECT_EQ(l.find_namespace("network")->path, "/proc/1/ns/net");
  EXPECT_EQ(l.find_namespace("pid")->path, "");
  EXPECT_EQ(l.find_namespace("user"), nullptr);
}

TEST(Spec, OnlySetupHooksMakeTheRuntimeWait) {
  Hooks h;
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.during_setup());
  h.poststart.push_back({"/bin/true", {}, {}, {}});
  h.poststop.push_back({"/bin/true", {}, {}, {}});
  EXPECT_FALSE(h.empty());
  EXPECT_FALSE(h.during_setup());
  for (auto kind : {&Hooks::prestart, &Hooks::create_runtime, &Hooks::create_container, &Hooks::start_container}) {
    Hooks one;
    (one.*kind).push_back({"/bin/true", {}, {}, {}});
    EXPECT_TRUE(one.during_setup());
    EXPECT_FALSE(one.empty());
  }
}
