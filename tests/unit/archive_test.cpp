// Archive formats, detection by content, manifest/index/config validation, tar index — all on
// archives generated in memory.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "minirun/image/archive.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/image/image_config.h"
#include "minirun/image/tar_index.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;

namespace {

TestImage small_image(const std::string& tag = "test/img:1") {
  TestImage img;
  if (!tag.empty()) img.repo_tags = {tag};
  img.layers = {TarBuilder().dir("etc").file("etc/a", "A").build(), TarBuilder().file("etc/b", "B").build()};
  return img;
}

std::string read_range(const LayerSource& s) {
  std::string out(s.size, '\0');
  int fd = ::open(s.file.c_str(), O_RDONLY);
  EXPECT_EQ(::pread(fd, out.data(), s.size, static_cast<off_t>(s.offset)), static_cast<ssize_t>(s.size));
  ::close(fd);
  return out;
}

std::string expect_refused(TempDir& t, const std::string& bytes) {
  write_file(t / "x.tar", bytes);
  try {
    ImageArchive::open(t / "x.tar", t.path());
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 125);
    return e.what();
  }
  ADD_FAILURE() << "archive was accepted";
  return "";
}

}  // namespace

TEST(ImageConfig, ParsesAndValidates) {
  auto c = parse_image_config(R"({"architecture":"amd64","os":"linux","config":{"Env":["A=1"],"Cmd":["sh"],
    "User":"app","WorkingDir":"/w"},"rootfs":{"type":"layers","diff_ids":[]},
    "history":[{"created_by":"x","empty_layer":true}]})");
  EXPECT_EQ(c.cmd, std::vector<std::string>{"sh"});
  EXPECT_TRUE(c.has_cmd);
  EXPECT_FALSE(c.has_entrypoint);
  EXPECT_EQ(c.user, "app");
  EXPECT_TRUE(c.history.at(0).empty_layer);
  EXPECT_THROW(parse_image_config("{"), Error);
  EXPECT_THROW(parse_image_config(R"({"rootfs":{"type":"other","diff_ids":[]}})"), Error);
  EXPECT_THROW(parse_image_config(R"({"rootfs":{"type":"layers","diff_ids":["sha256:../x"]}})"), Error);
  EXPECT_THROW(parse_image_config(R"({"config":{"Cmd":"sh"},"rootfs":{"type":"layers","diff_ids":[]}})"), Error);
  EXPECT_THROW(parse_image_config("null"), Error);
}

TEST(TarIndex, FollowsSymlinksInsideTheArchiveOnly) {
  TempDir t;
  write_file(t / "a.tar", TarBuilder()
                              .file("blob.tar", "DATA")
                              .dir("d")
                              .symlink("d/layer.tar", "../blob.tar")
                              .symlink("out", "../../etc/passwd")
                              .hardlink("hl", "blob.tar")
                              .build());
  int fd = ::open((t / "a.tar").c_str(), O_RDONLY);
  auto idx = TarIndex::build(fd, static_cast<uint64_t>(::lseek(fd, 0, SEEK_END)));
  ::close(fd);
  ASSERT_NE(idx.resolve("d/layer.tar"), nullptr);
  EXPECT_EQ(idx.resolve("d/layer.tar")->name, "blob.tar");
  EXPECT_EQ(idx.resolve("./d/layer.tar")->size, 4u);
  EXPECT_EQ(idx.resolve("hl")->name, "blob.tar");
  EXPECT_EQ(idx.resolve("out"), nullptr);
  EXPECT_EQ(idx.resolve("missing"), nullptr);
  EXPECT_EQ(normalize_archive_path("./a//b/../c/"), "a/c");
  EXPECT_THROW(normalize_archive_path("../x"), Error);
}

TEST(Archive, DockerArchiveWithTwoImagesOneUntagged) {
  TempDir t;
  std::vector<TestImage> imgs = {small_image(), small_image("")};
  imgs[1].layers.push_back(TarBuilder().file("c", "C").build());
  write_file(t / "a.tar", docker_archive(imgs));
  auto ar = ImageArchive::open(t / "a.tar", t.path());
  ASSERT_EQ(ar->images().size(), 2u);
  EXPECT_EQ(ar->images()[0].id, imgs[0].image_id);
  EXPECT_EQ(ar->images()[0].repo_tags, std::vector<std::string>{"test/img:1"});
  EXPECT_TRUE(ar->images()[1].repo_tags.empty());
  EXPECT_EQ(ar->images()[1].layers.size(), 3u);
  EXPECT_EQ(read_range(ar->images()[0].layers[1]), imgs[0].layers[1]);
  EXPECT_EQ(ar->images()[0].diff_ids, imgs[0].diff_ids);
}

TEST(Archive, PodmanLayoutWithTarSymlinks) {
  TempDir t;
  TestImage img = small_image();
  finish_config(img);
  std::string cfg = img.config_json;
  TarBuilder b;
  std::string layers = "[";
  for (size_t i = 0; i < img.layers.size(); i++) {
    std::string hex = img.diff_ids[i].substr(7);
    b.file(hex + ".tar", img.layers[i]).dir("l" + std::to_string(i)).symlink("l" + std::to_string(i) + "/layer.tar", "../" + hex + ".tar");
    layers += std::string(i ? "," : "") + "\"l" + std::to_string(i) + "/layer.tar\"";
  }
  b.file(img.image_id.substr(7) + ".json", cfg);
  b.file("manifest.json", "[{\"Config\":\"" + img.image_id.substr(7) + ".json\",\"RepoTags\":[\"localhost/x:1\"],\"Layers\":" + layers + "]}]");
  write_file(t / "p.tar", b.build());
  auto ar = ImageArchive::open(t / "p.tar", t.path());
  ASSERT_EQ(ar->images().size(), 1u);
  EXPECT_EQ(read_range(ar->images()[0].layers[0]), img.layers[0]);
  EXPECT_EQ(ar->images()[0].repo_tags[0], "localhost/x:1");
}

TEST(Archive, OciLayoutTarCompressedWholeAndDirectory) {
  TempDir t;
  std::vector<TestImage> imgs = {small_image()};
  std::string oci = oci_archive(imgs, Compression::zstd);
  write_file(t / "o.tar", oci);
  auto ar = ImageArchive::open(t / "o.tar", t.path());
  ASSERT_EQ(ar->images().size(), 1u);
  EXPECT_EQ(ar->images()[0].id, imgs[0].image_id);
  EXPECT_EQ(ar->images()[0].repo_tags[0], "test/img:1");
  EXPECT_TRUE(is_valid_digest(ar->images()[0].layers[0].blob_digest));
  // The same archive gzip-compressed as a whole: spooled and read alike.
  write_file(t / "o.tar.gz", compress(oci, Compression::gzip));
  EXPECT_EQ(ImageArchive::open(t / "o.tar.gz", t.path())->images()[0].id, imgs[0].image_id);
  // As a directory.
  std::string dir = t / "layout";
  ::mkdir(dir.c_str(), 0755);
  ASSERT_EQ(run_cmd({"/bin/tar", "-xf", t / "o.tar", "-C", dir}).code, 0);
  EXPECT_EQ(ImageArchive::open(dir, t.path())->images()[0].id, imgs[0].image_id);
}

TEST(Archive, NestedIndexPicksThisMachine) {
  TempDir t;
  std::vector<TestImage> imgs = {small_image()};
  std::string oci = oci_archive(imgs, Compression::gzip);
  // Wrap the manifest list into a nested index with a foreign platform first.
  write_file(t / "o.tar", oci);
  std::string dir = t / "layout";
  ::mkdir(dir.c_str(), 0755);
  ASSERT_EQ(run_cmd({"/bin/tar", "-xf", t / "o.tar", "-C", dir}).code, 0);
  auto index = nlohmann::json::parse(read_file(dir + "/index.json"));
  auto desc = index["manifests"][0];
  auto foreign = desc;
  foreign["platform"] = {{"architecture", "s390x"}, {"os", "linux"}};
  nlohmann::json inner = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests", {foreign, desc}}};
  std::string inner_s = inner.dump();
  std::string d = sha256_digest(inner_s);
  write_file(dir + "/blobs/sha256/" + d.substr(7), inner_s);
  index["manifests"] = {{{"mediaType", "application/vnd.oci.image.index.v1+json"}, {"digest", d}, {"size", inner_s.size()},
                         {"annotations", {{"io.containerd.image.name", "docker.io/library/nested:2"}}}}};
  write_file(dir + "/index.json", index.dump());
  auto ar = ImageArchive::open(dir, t.path());
  ASSERT_EQ(ar->images().size(), 1u);
  EXPECT_EQ(ar->images()[0].id, imgs[0].image_id);
  EXPECT_EQ(ar->images()[0].repo_tags[0], "nested:2");
}

TEST(Archive, RefusesBrokenArchivesWithOneClearLine) {
  TempDir t;
  EXPECT_NE(expect_refused(t, TarBuilder().file("repositories", "{}").file("x/layer.tar", "").build()).find("no manifest.json or index.json"),
            std::string::npos);
  EXPECT_NE(expect_refused(t, TarBuilder().file("manifest.json", "null").build()).find("null manifest"), std::string::npos);
  EXPECT_NE(expect_refused(t, TarBuilder().file("manifest.json", "[{").build()).find("malformed JSON"), std::string::npos);
  std::vector<TestImage> imgs = {small_image()};
  std::string good = docker_archive(imgs);
  // Truncated archive.
  EXPECT_NE(expect_refused(t, good.substr(0, good.size() / 2)), "");
  // Layer count differs from diff_ids.
  finish_config(imgs[0]);
  TarBuilder b;
  b.file("c.json", imgs[0].config_json).file("l.tar", imgs[0].layers[0]);
  b.file("manifest.json", R"([{"Config":"c.json","RepoTags":null,"Layers":["l.tar"]}])");
  EXPECT_NE(expect_refused(t, b.build()).find("diff_ids"), std::string::npos);
  // Missing layer.
  TarBuilder m;
  m.file("c.json", imgs[0].config_json);
  m.file("manifest.json", R"([{"Config":"c.json","RepoTags":null,"Layers":["l.tar","k.tar"]}])");
  EXPECT_NE(expect_refused(t, m.build()).find("missing"), std::string::npos);
  // Unknown rootfs type.
  TarBuilder r;
  r.file("c.json", R"({"rootfs":{"type":"zfs","diff_ids":[]}})");
  r.file("manifest.json", R"([{"Config":"c.json","RepoTags":null,"Layers":[]}])");
  EXPECT_NE(expect_refused(t, r.build()).find("rootfs.type"), std::string::npos);
  // Wrong JSON types.
  TarBuilder w;
  w.file("manifest.json", R"([{"Config":42,"Layers":"x"}])");
  EXPECT_NE(expect_refused(t, w.build()), "");
}
