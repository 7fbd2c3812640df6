// New images from a store in a TempDir (engine/image_edit.h): `commit` of a stopped container's
// upper layer with a config change, and `save` read back by `load` into another store.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "minirun/engine/image_edit.h"
#include "minirun/engine/images.h"
#include "minirun/image/image_config.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;

namespace {

TestImage two_layers(const std::string& tag) {
  TestImage img;
  img.layers = {TarBuilder().dir("etc").file("etc/os", "base\n").build(), TarBuilder().file("app", "v1\n").build()};
  img.repo_tags = {tag};
  return img;
}

std::string hex_of(const std::string& id) { return id.substr(id.find(':') + 1); }

}  // namespace

TEST(ImageEdit, CommitMakesTheContainersChangesATopLayerWithTheConfigChanges) {
  TempDir t;
  Store store(t / "store");
  std::vector<TestImage> imgs = {two_layers("t/a:1")};
  write_file(t / "a.tar", docker_archive(imgs));
  load_archive(store, t / "a.tar");
  std::string image_hex = hex_of(imgs[0].image_id);
  auto ids = image_layer_ids(parse_image_config(store.image_config(image_hex)));

  const std::string cid(64, 'c');
  store.create_container_layers(cid, ids.back());
  write_file(store.diff_dir(cid) + "/new-file", "changed\n");
  ContainerRecord rec;
  rec.id = cid;
  rec.name = "committed";
  rec.image_id = image_hex;
  rec.command = {"/bin/sh"};
  rec.status = ContainerStatus::exited;
  store.put_container(rec);

  CommitOptions o;
  o.pause = false;
  o.author = "tester";
  o.changes = {"CMD [\"/bin/true\"]"};
  std::string id = commit_container(store, cid, "t/c:1", o);
  std::string hex = hex_of(id);
  EXPECT_EQ(store.resolve_image("t/c:1"), hex);
  auto cfg = parse_image_config(store.image_config(hex));
  EXPECT_EQ(cfg.cmd, std::vector<std::string>{"/bin/true"});
  EXPECT_EQ(cfg.author, "tester");
  auto new_ids = image_layer_ids(cfg);
  ASSERT_EQ(new_ids.size(), 3u);
  EXPECT_EQ(new_ids[0], ids[0]);  // the image's layers, then the container's changes
  EXPECT_EQ(new_ids[1], ids[1]);
  EXPECT_EQ(read_file(store.diff_dir(new_ids[2]) + "/new-file"), "changed\n");
  EXPECT_THROW(commit_container(store, std::string(64, 'd'), "", o), Error);
}

TEST(ImageEdit, SavedImagesLoadIntoAnotherStoreWithTheSameIdAndTags) {
  TempDir t;
  Store a(t / "a");
  std::vector<TestImage> imgs = {two_layers("t/a:1")};
  write_file(t / "a.tar", docker_archive(imgs));
  load_archive(a, t / "a.tar");
  std::string hex = hex_of(imgs[0].image_id);
  {
    int fd = ::open((t / "saved.tar").c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    save_images(a, {{hex, {"t/a:1"}}}, fd);
    ::close(fd);
  }
  Store b(t / "b");
  auto loaded = load_archive(b, t / "saved.tar");
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].id, imgs[0].image_id);  // the layers regenerated to the same digests
  EXPECT_EQ(b.resolve_image("t/a:1"), hex);
  auto ids = image_layer_ids(parse_image_config(b.image_config(hex)));
  EXPECT_EQ(read_file(b.diff_dir(ids.back()) + "/app"), "v1\n");
}
