// An OCI bundle written from an image of a store in a TempDir (engine/bundle.h): rootfs/ with
// the image's files, config.json with the image's user resolved in rootfs/ (uid, gid, groups,
// HOME), the bundle's own hostname/hosts/resolv.conf bound by their final path, /dev with real
// nodes under Docker's device rules, and a refused non-empty directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "minirun/engine/bundle.h"
#include "minirun/engine/images.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

void load_app_image(Store& store, const TempDir& t) {
  TestImage img;
  img.layers = {TarBuilder()
                    .dir("etc")
                    .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
                    .file("etc/group", "root:x:0:\nwheel:x:10:app\napp:x:1000:\n")
                    .dir("home")
                    .dir("home/app", TarMeta{0755, 1000, 1000})
                    .build()};
  img.repo_tags = {"t/app:1"};
  img.cmd = {"/bin/sh", "-c", "id"};
  img.user = "app";
  img.workdir = "/home/app";
  img.env.push_back("APP=example");
  std::vector<TestImage> imgs = {img};
  write_file(t / "app.tar", docker_archive(imgs));
  load_archive(store, t / "app.tar");
}

}  // namespace

TEST(Bundle, AnImagesBundleRunsItsUserWithDockersDevicesAndItsOwnFiles) {
  TempDir t;
  Store store(t / "store");
  load_app_image(store, t);
  std::string dir = t / "bundle";
  write_bundle(store, "t/app:1", dir);

  EXPECT_TRUE(fs::is_regular_file(dir + "/rootfs/etc/passwd"));
  EXPECT_TRUE(fs::is_directory(dir + "/rootfs/home/app"));
  EXPECT_TRUE(fs::is_regular_file(dir + "/hostname"));
  EXPECT_FALSE(fs::exists(dir + "/rootfs.tar"));
  // The root relative to the bundle, as any runtime takes it.
  EXPECT_EQ(nlohmann::json::parse(read_file(dir + "/config.json"))["root"]["path"], "rootfs");
  auto spec = runtime::load_bundle_spec(dir);
  EXPECT_EQ(spec.root.path, dir + "/rootfs");
  ASSERT_TRUE(spec.process);
  const auto& p = *spec.process;
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "id"}));
  EXPECT_EQ(p.cwd, "/home/app");
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1000u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{1000, 10}));
  EXPECT_NE(std::find(p.env.begin(), p.env.end(), "HOME=/home/app"), p.env.end());
  EXPECT_NE(std::find(p.env.begin(), p.env.end(), "APP=example"), p.env.end());
  // Not root: no effective or permitted capabilities (the bounding set stays Docker's).
  ASSERT_TRUE(p.capabilities);
  EXPECT_TRUE(p.capabilities->effective.empty());
  EXPECT_FALSE(p.capabilities->bounding.empty());

  bool dev = false, cgroup = false, hosts = false;
  for (const auto& m : spec.mounts) {
    if (m.destination == "/dev") {
      dev = true;
      EXPECT_EQ(std::find(m.options.begin(), m.options.end(), "nodev"), m.options.end());
    }
    if (m.destination == "/sys/fs/cgroup") cgroup = true;
    if (m.destination == "/etc/hosts") {
      hosts = true;
      EXPECT_EQ(m.source, dir + "/hosts");  // the bundle's final path, not its temporary one
    }
  }
  EXPECT_TRUE(dev);
  EXPECT_TRUE(cgroup);
  EXPECT_TRUE(hosts);
  ASSERT_TRUE(spec.linux.resources);
  const auto& rules = spec.linux.resources->devices;
  ASSERT_GE(rules.size(), 2u);
  EXPECT_FALSE(rules[0].allow);  // deny all, then the standard nodes and ptys
  EXPECT_EQ(rules[0].type, "a");
  EXPECT_TRUE(std::any_of(rules.begin(), rules.end(), [](const runtime::DeviceRule& r) {
    return r.allow && r.type == "c" && r.major == 136 && !r.minor;
  }));
}

TEST(Bundle, ANonEmptyDirectoryOrAnUnknownReferenceIsRefused) {
  TempDir t;
  Store store(t / "store");
  load_app_image(store, t);
  fs::create_directory(t / "full");
  write_file(t / "full/x", "");
  EXPECT_THROW(write_bundle(store, "t/app:1", t / "full"), Error);
  EXPECT_TRUE(fs::exists(t / "full/x"));
  EXPECT_THROW(write_bundle(store, "t/none:1", t / "b2"), Error);
  EXPECT_FALSE(fs::exists(t / "b2"));
}
