// Image operations on a store in a TempDir (engine/images.h): loading a docker-save archive
// (layers shared between images stored once, all-or-nothing on a bad archive), the layer IDs and
// size of an image, `rmi` by tag and by ID, and pruning.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "minirun/engine/images.h"
#include "minirun/image/image_config.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

std::string base_layer() {
  return TarBuilder().dir("etc").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n").file("etc/os", "base\n").build();
}

TestImage image(const std::string& tag, const std::string& top) {
  TestImage img;
  img.layers = {base_layer(), TarBuilder().file("top", top).build()};
  img.repo_tags = {tag};
  return img;
}

std::string hex_of(const std::string& id) { return id.substr(id.find(':') + 1); }

}  // namespace

TEST(Images, LoadStoresEachImageWithItsTagsAndSharedLayersOnce) {
  TempDir t;
  Store store(t / "store");
  std::vector<TestImage> imgs = {image("t/a:1", "a\n"), image("t/b:1", "b\n")};
  write_file(t / "a.tar", docker_archive(imgs));
  auto loaded = load_archive(store, t / "a.tar");
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].id, imgs[0].image_id);
  EXPECT_EQ(store.resolve_image("t/a:1"), hex_of(imgs[0].image_id));
  EXPECT_EQ(store.resolve_image("t/b:1"), hex_of(imgs[1].image_id));

  auto cfg = parse_image_config(store.image_config(hex_of(imgs[0].image_id)));
  auto ids = image_layer_ids(cfg);
  ASSERT_EQ(ids.size(), 2u);
  auto ids_b = image_layer_ids(parse_image_config(store.image_config(hex_of(imgs[1].image_id))));
  EXPECT_EQ(ids[0], ids_b[0]);  // the same base layer: one ChainID
  EXPECT_NE(ids[1], ids_b[1]);
  EXPECT_EQ(read_file(store.diff_dir(ids[1]) + "/top"), "a\n");
  EXPECT_EQ(read_file(store.lower_diffs(ids[1])[0] + "/etc/os"), "base\n");
  // The content's size: both files of the base, the one of the top.
  EXPECT_EQ(image_size(store, cfg), std::string("root:x:0:0:root:/root:/bin/sh\nbase\na\n").size());
  // Loading again changes nothing and fails nothing.
  EXPECT_EQ(load_archive(store, t / "a.tar").size(), 2u);
  EXPECT_EQ(store.image_ids().size(), 2u);
}

TEST(Images, ABrokenArchiveLeavesTheStoreAsItWas) {
  TempDir t;
  Store store(t / "store");
  std::vector<TestImage> imgs = {image("t/a:1", "a\n")};
  std::string ar = docker_archive(imgs);
  write_file(t / "cut.tar", ar.substr(0, ar.size() / 2));
  EXPECT_THROW(load_archive(store, t / "cut.tar"), Error);
  EXPECT_TRUE(store.image_ids().empty());
  EXPECT_TRUE(store.tags().empty());
  EXPECT_THROW(load_archive(store, t / "missing.tar"), Error);
}

TEST(Images, RemovingByTagUntagsThenDeletesTheLastTaggedImageAndItsLayers) {
  TempDir t;
  Store store(t / "store");
  std::vector<TestImage> imgs = {image("t/a:1", "a\n"), image("t/b:1", "b\n")};
  write_file(t / "a.tar", docker_archive(imgs));
  load_archive(store, t / "a.tar");
  auto ids_a = image_layer_ids(parse_image_config(store.image_config(hex_of(imgs[0].image_id))));
  auto r = remove_image(store, "t/a:1", false);
  ASSERT_EQ(r.untagged.size(), 1u);
  EXPECT_NE(r.untagged[0].find("t/a:1"), std::string::npos);
  EXPECT_NE(std::find(r.deleted.begin(), r.deleted.end(), imgs[0].image_id), r.deleted.end());
  EXPECT_FALSE(store.has_image(hex_of(imgs[0].image_id)));
  // a's top layer went; the base layer b still uses stayed.
  EXPECT_FALSE(store.has_layer(ids_a[1]));
  EXPECT_TRUE(store.has_layer(ids_a[0]));
  EXPECT_THROW(remove_image(store, "t/a:1", false), Error);
  auto lock = store.lock();
  EXPECT_TRUE(collect_layers(store).empty());  // nothing unused left
}

TEST(Images, AnImageWithSeveralTagsIsRemovedByIDOnlyWithForce) {
  TempDir t;
  Store store(t / "store");
  auto img = image("t/a:1", "a\n");
  img.repo_tags = {"t/a:1", "t/a:2"};
  std::vector<TestImage> imgs = {img};
  write_file(t / "a.tar", docker_archive(imgs));
  load_archive(store, t / "a.tar");
  std::string hex = hex_of(imgs[0].image_id);
  EXPECT_EQ(store.tags_of(hex).size(), 2u);
  EXPECT_THROW(remove_image(store, hex, false), Error);
  EXPECT_TRUE(store.has_image(hex));
  auto r = remove_image(store, hex, true);
  EXPECT_EQ(r.untagged.size(), 2u);
  EXPECT_FALSE(store.has_image(hex));
  EXPECT_TRUE(store.tags().empty());
}

TEST(Images, PruneRemovesUntaggedImagesOnly) {
  TempDir t;
  Store store(t / "store");
  std::vector<TestImage> imgs = {image("t/a:1", "a\n"), image("t/b:1", "b\n")};
  write_file(t / "a.tar", docker_archive(imgs));
  load_archive(store, t / "a.tar");
  // b loses its tag (as when a newer image takes it): untagged, so pruned.
  auto tags = store.tags();
  for (auto it = tags.begin(); it != tags.end();) it = it->first.find("t/b") != std::string::npos ? tags.erase(it) : std::next(it);
  {
    auto lock = store.lock();
    store.set_tags(tags);
  }
  auto r = prune_images(store);
  EXPECT_NE(std::find(r.deleted.begin(), r.deleted.end(), imgs[1].image_id), r.deleted.end());
  EXPECT_FALSE(store.has_image(hex_of(imgs[1].image_id)));
  EXPECT_TRUE(store.has_image(hex_of(imgs[0].image_id)));
  EXPECT_TRUE(prune_images(store).deleted.empty());
}
