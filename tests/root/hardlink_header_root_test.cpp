// A hard link entry's own header (uid, gid, mode) applies to the inode it links, after linking,
// as Docker's extraction does: the later header wins for every name of the file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <filesystem>

#include "minirun/image/extract.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;

namespace {

class HardLinkHeader : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    t_ = std::make_unique<TempDir>("minirun-hlheader-");
    ::mkdir((*t_ / "out").c_str(), 0755);
  }
  void extract(const std::string& tar, ExtractOptions o = {}) {
    write_file(*t_ / "blob", tar);
    extract_layer(*t_ / "blob", 0, tar.size(), *t_ / "out", o);
  }
  struct stat lst(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat((*t_ / ("out/" + rel)).c_str(), &st), 0) << rel;
    return st;
  }
  std::unique_ptr<TempDir> t_;
};

}  // namespace

TEST_F(HardLinkHeader, TheLinkEntrysOwnerAndModeWinForEveryName) {
  extract(TarBuilder()
              .dir("bin")
              .file("bin/tool", "TOOL", TarMeta{04755, 1000, 1001})
              .hardlink("bin/alias", "bin/tool", TarMeta{0710, 2000, 3000})
              .build());
  for (const char* name : {"bin/tool", "bin/alias"}) {
    struct stat st = lst(name);
    EXPECT_EQ(st.st_mode & 07777, 0710u) << name;
    EXPECT_EQ(st.st_uid, 2000u) << name;
    EXPECT_EQ(st.st_gid, 3000u) << name;
    EXPECT_EQ(st.st_nlink, 2u) << name;
  }
  EXPECT_EQ(lst("bin/tool").st_ino, lst("bin/alias").st_ino);
}

TEST_F(HardLinkHeader, OnlyTheModeDiffersAndASetuidModeIsKept) {
  extract(TarBuilder()
              .file("a", "A", TarMeta{0644, 7, 8})
              .hardlink("b", "a", TarMeta{04750, 7, 8})
              .build());
  EXPECT_EQ(lst("a").st_mode & 07777, 04750u);
  EXPECT_EQ(lst("a").st_uid, 7u);
}

TEST_F(HardLinkHeader, AnAgreeingHeaderKeepsSetuidAndCapability) {
  const std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  TarMeta m{04755, 1000, 1000, 1600000000, {{"security.capability", cap}}};
  TarMeta link_m{04755, 1000, 1000, 1600000000, {}};  // same owner and mode, no xattrs
  extract(TarBuilder().file("ping", "P", m).hardlink("ping6", "ping", link_m).build());
  EXPECT_EQ(lst("ping").st_mode & 07777, 04755u);
  char buf[64];
  EXPECT_EQ(::lgetxattr((*t_ / "out/ping6").c_str(), "security.capability", buf, sizeof buf), 20);
}

TEST_F(HardLinkHeader, ACopyFromALowerLayerTakesTheLinkHeader) {
  std::string lower = *t_ / "lower";
  std::filesystem::create_directories(lower + "/bin");
  write_file(lower + "/bin/tool", "TOOL", 0755);
  ExtractOptions o;
  o.lower_diffs = {lower};
  extract(TarBuilder().dir("bin").hardlink("bin/alias", "bin/tool", TarMeta{0700, 5, 6}).build(), o);
  struct stat st = lst("bin/alias");
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, 5u);
  EXPECT_EQ(st.st_gid, 6u);
  struct stat low {};
  ASSERT_EQ(::lstat((lower + "/bin/tool").c_str(), &low), 0);
  EXPECT_EQ(low.st_mode & 07777, 0755u);  // the lower layer is never touched
  EXPECT_EQ(low.st_uid, 0u);
}
