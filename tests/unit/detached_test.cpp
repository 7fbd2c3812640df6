// What the detached path decides without starting anything (engine/detached.h): `run -d`'s
// options validated, the stop signal a record names, the monitor's attach path, and a stored
// container's spec rebuilt from its record and image (as `start` runs it) with the overlay of
// its layers — on a store in a TempDir.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "minirun/engine/detached.h"
#include "minirun/engine/images.h"
#include "minirun/image/image_config.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;

TEST(Detached, OptionsAreValidatedBeforeAnythingIsCreated) {
  DetachOptions d;
  EXPECT_NO_THROW(check_detach_options(d));
  d.restart = "on-failure:3";
  d.stop_signal = "SIGINT";
  d.stop_timeout = -1;  // never SIGKILL
  EXPECT_NO_THROW(check_detach_options(d));
  for (auto bad : std::initializer_list<void (*)(DetachOptions&)>{[](DetachOptions& o) { o.restart = "sometimes"; }, [](DetachOptions& o) { o.log_driver = "carrier-pigeon"; },
                   [](DetachOptions& o) { o.stop_signal = "SIGNOPE"; }, [](DetachOptions& o) { o.stop_timeout = -2; }}) {
    DetachOptions o;
    bad(o);
    EXPECT_THROW(check_detach_options(o), Error);
  }
}

TEST(Detached, TheRecordedStopSignalDefaultsToSigterm) {
  ContainerRecord r;
  EXPECT_EQ(container_stop_signal(r), SIGTERM);
  r.config = ContainerConfig::parse(R"({"StopSignal":"SIGINT"})");
  EXPECT_EQ(container_stop_signal(r), SIGINT);
  r.config = ContainerConfig::parse(R"({"StopSignal":"SIGNOPE"})");
  EXPECT_EQ(container_stop_signal(r), SIGTERM);
}

TEST(Detached, AStoredContainersSpecIsRebuiltFromItsRecordAndImage) {
  TempDir t;
  Store store(t / "store");
  TestImage img;
  img.layers = {TarBuilder().dir("etc").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n").build(),
                TarBuilder().file("app", "v1\n").build()};
  img.repo_tags = {"t/a:1"};
  img.user = "daemon";
  std::vector<TestImage> imgs = {img};
  write_file(t / "a.tar", docker_archive(imgs));
  load_archive(store, t / "a.tar");
  std::string hex = imgs[0].image_id.substr(7);
  auto ids = image_layer_ids(parse_image_config(store.image_config(hex)));

  const std::string cid(64, 'e');
  store.create_container_layers(cid, ids.back());
  ContainerRecord rec;
  rec.id = cid;
  rec.name = "rebuilt";
  rec.image_id = hex;
  rec.command = {"/app", "--serve"};
  rec.status = ContainerStatus::exited;
  rec.config = ContainerConfig::parse(R"({"Env":["A=1"],"WorkingDir":"/w","NetworkMode":"none","Cgroup":"","Ulimits":["nofile=10:20"],)"
                                      R"("OpenStdin":true})");
  store.put_container(rec);
  EXPECT_EQ(container_attach_path(store, cid), store.container_dir(cid) + "/attach");

  auto oci = rebuild_container_spec(store, rec);
  EXPECT_EQ(oci.root.path, store.layer_dir(cid) + "/merged");
  ASSERT_TRUE(oci.process);
  EXPECT_EQ(oci.process->args, rec.command);
  EXPECT_EQ(oci.process->cwd, "/w");
  EXPECT_NE(std::find(oci.process->env.begin(), oci.process->env.end(), "A=1"), oci.process->env.end());
  EXPECT_EQ(oci.minirun.user_name.value_or(""), "daemon");  // none recorded: the image's USER
  EXPECT_FALSE(oci.minirun.keep_stdin);  // `start` without -i: no stdin
  ASSERT_EQ(oci.process->rlimits.size(), 1u);
  EXPECT_EQ(oci.process->rlimits[0].soft, 10u);
  for (const auto& m : oci.mounts) {
    if (m.destination == "/etc/hosts") {
      EXPECT_EQ(m.source, store.container_dir(cid) + "/hosts");
    }
  }
  ASSERT_TRUE(oci.minirun.overlay);
  const auto& ov = *oci.minirun.overlay;
  EXPECT_EQ(ov.upper, store.diff_dir(cid));
  EXPECT_EQ(ov.work, store.layer_dir(cid) + "/work");
  EXPECT_EQ(ov.lower_links, store.lower_links(cid));
  // The -init layer, then the image's layers from the top.
  EXPECT_EQ(ov.lower_dirs, (std::vector<std::string>{store.diff_name(store.init_layer_id(cid)), store.diff_name(ids[1]),
                                                      store.diff_name(ids[0])}));

  rec.image_id = std::string(64, '0');
  EXPECT_THROW(rebuild_container_spec(store, rec), Error);
}
