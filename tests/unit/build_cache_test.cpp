// The build cache without running a build: the checksum of a COPY's files (content, mode, owner,
// link target, names count; times do not), the step key (parent and description), and the
// store's entries (atomic files, a corrupt or dangling entry is a miss, intermediate images,
// builder prune).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "minirun/build/build_cache.h"
#include "minirun/build/source_checksum.h"
#include "minirun/engine/images.h"
#include "minirun/store/store.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::build;
using minirun::test::TempDir;
using minirun::test::write_file;
namespace fs = std::filesystem;

namespace {

void make_tree(const std::string& d) {
  fs::create_directories(d + "/sub");
  write_file(d + "/a.txt", "alpha\n", 0644);
  write_file(d + "/sub/run.sh", "#!/bin/sh\n", 0755);
  fs::create_symlink("a.txt", d + "/link");
}

void set_mtime(const std::string& p, time_t t) {
  struct timespec ts[2] = {{t, 0}, {t, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
}

}  // namespace

TEST(TreeChecksum, SameFilesSameChecksumWhateverTheirTimes) {
  TempDir t;
  make_tree(t / "x");
  make_tree(t / "y");
  set_mtime(t / "y/a.txt", 1000);
  set_mtime(t / "y/sub", 2000);
  set_mtime(t / "y/link", 3000);
  EXPECT_EQ(tree_checksum(t / "x"), tree_checksum(t / "y"));
  EXPECT_TRUE(is_valid_digest(tree_checksum(t / "x")));
}

TEST(TreeChecksum, ContentModeLinkTargetAndNamesChangeIt) {
  TempDir t;
  make_tree(t / "x");
  std::string base = tree_checksum(t / "x");
  write_file(t / "x/a.txt", "alphA\n", 0644);
  std::string content = tree_checksum(t / "x");
  EXPECT_NE(content, base);
  write_file(t / "x/a.txt", "alpha\n", 0644);
  EXPECT_EQ(tree_checksum(t / "x"), base) << "the same content again";

  ASSERT_EQ(::chmod((t / "x/sub/run.sh").c_str(), 0700), 0);
  EXPECT_NE(tree_checksum(t / "x"), base);
  ASSERT_EQ(::chmod((t / "x/sub/run.sh").c_str(), 0755), 0);
  ASSERT_EQ(::chmod((t / "x/sub").c_str(), 0700), 0);
  EXPECT_NE(tree_checksum(t / "x"), base) << "a directory's mode";
  ASSERT_EQ(::chmod((t / "x/sub").c_str(), 0755), 0);
  EXPECT_EQ(tree_checksum(t / "x"), base);

  fs::remove(t / "x/link");
  fs::create_symlink("sub/run.sh", t / "x/link");
  EXPECT_NE(tree_checksum(t / "x"), base) << "a link's target";
  fs::remove(t / "x/link");
  fs::create_symlink("a.txt", t / "x/link");

  fs::rename(t / "x/a.txt", t / "x/b.txt");
  EXPECT_NE(tree_checksum(t / "x"), base) << "a name";
  fs::rename(t / "x/b.txt", t / "x/a.txt");
  write_file(t / "x/sub/empty", "", 0644);
  EXPECT_NE(tree_checksum(t / "x"), base) << "an empty file added";
  fs::remove(t / "x/sub/empty");
  EXPECT_EQ(tree_checksum(t / "x"), base);
}

TEST(TreeChecksum, OwnerChangesIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  TempDir t;
  make_tree(t / "x");
  std::string base = tree_checksum(t / "x");
  ASSERT_EQ(::lchown((t / "x/a.txt").c_str(), 1000, 0), 0);
  EXPECT_NE(tree_checksum(t / "x"), base);
  ASSERT_EQ(::lchown((t / "x/a.txt").c_str(), 0, 1000), 0);
  EXPECT_NE(tree_checksum(t / "x"), base) << "the group";
}

TEST(StepCacheKey, ParentAndDescriptionMakeIt) {
  std::string p1(64, 'a'), p2(64, 'b');
  nlohmann::ordered_json run = {{"step", "run"}, {"argv", {"/bin/sh", "-c", "make"}}, {"args", {{"V", "1"}}}};
  auto k = step_cache_key(p1, run);
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, step_cache_key(p1, run));
  EXPECT_NE(k, step_cache_key(p2, run));
  auto other = run;
  other["args"] = {{"V", "2"}};
  EXPECT_NE(k, step_cache_key(p1, other)) << "a build arg's value";
  // Values holding separators cannot run together: the description is JSON.
  nlohmann::ordered_json a = {{"args", {{"A", "b C=d"}}}}, b = {{"args", {{"A", "b"}, {"C", "d"}}}};
  EXPECT_NE(step_cache_key(p1, a), step_cache_key(p1, b));
}

TEST(BuildCacheStore, AnEntryIsAHitOnlyWhileItsImageExists) {
  TempDir t;
  Store s(t / "root");
  std::string parent(64, '1'), key(64, 'c');
  std::string cfg = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  std::string image = digest_hex(sha256_digest(cfg));
  EXPECT_FALSE(cached_step_image(s, key));
  record_cached_step(s, key, parent, image);
  EXPECT_FALSE(cached_step_image(s, key)) << "the image is not in the store";
  {
    auto lock = s.lock();
    put_image_locked(s, cfg, {});
  }
  ASSERT_TRUE(cached_step_image(s, key));
  EXPECT_EQ(*cached_step_image(s, key), image);
  ASSERT_EQ(s.build_cache_entries().size(), 1u);
  EXPECT_EQ(s.build_cache_entries()[0].parent, parent);

  write_file(t / "root/build-cache" + ("/" + std::string(64, 'd')) + ".json", "{\"image\": \"../../x\"}");
  EXPECT_FALSE(cached_step_image(s, std::string(64, 'd'))) << "a corrupt entry is a miss";
  EXPECT_THROW(s.build_cache_entry("../x"), Error);
}

TEST(BuildCacheStore, IntermediateImagesAndPrune) {
  TempDir t;
  Store s(t / "root");
  auto put = [&](const std::string& tag, const std::vector<std::string>& tags) {
    std::string cfg = R"({"architecture":"amd64","os":"linux","comment":")" + tag +
                      R"(","rootfs":{"type":"layers","diff_ids":[]}})";
    auto lock = s.lock();
    return put_image_locked(s, cfg, tags);
  };
  std::string base = put("base", {"base:1"}), step1 = put("step1", {}), final_img = put("final", {"app:1"});
  std::string lone = put("lone", {});
  record_cached_step(s, std::string(64, 'a'), base, step1);
  record_cached_step(s, std::string(64, 'b'), step1, final_img);
  record_cached_step(s, std::string(64, 'c'), base, lone);
  auto mid = intermediate_images(s);
  EXPECT_EQ(mid, std::set<std::string>{step1}) << "tagged parents and childless images are not intermediate";

  auto res = prune_build_cache(s);
  EXPECT_EQ(res.entries.size(), 3u);
  EXPECT_TRUE(s.build_cache_entries().empty());
  EXPECT_TRUE(s.has_image(base));
  EXPECT_TRUE(s.has_image(final_img)) << "tagged";
  EXPECT_FALSE(s.has_image(step1));
  EXPECT_FALSE(s.has_image(lone));
  EXPECT_EQ(res.deleted.size(), 2u);
}
