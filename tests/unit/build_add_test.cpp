// COPY/ADD's file options without a build: --chown by name (the image's /etc/passwd and
// /etc/group, Docker's rules and error words), --chmod's octal mode, and which files ADD takes
// for tar archives (by content: plain, gzip, zstd; a file that is not a tar, even named .tar,
// is not one) and their extraction with owners and modes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "minirun/build/add_archive.h"
#include "minirun/build/chown_spec.h"
#include "minirun/build/context_copy.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::build;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {
const std::string kPasswd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\nbad:x:nope:1\n";
const std::string kGroup = "root:x:0:\nwheel:x:10:app\napp:x:1001:\n";
}  // namespace

TEST(ChownSpec, NamesAndNumbersAsDocker) {
  EXPECT_EQ(resolve_chown("app", kPasswd, kGroup), (std::pair<uid_t, gid_t>{1000, 1001})) << "app:app";
  EXPECT_EQ(resolve_chown("app:wheel", kPasswd, kGroup), (std::pair<uid_t, gid_t>{1000, 10}));
  EXPECT_EQ(resolve_chown("7:wheel", kPasswd, kGroup), (std::pair<uid_t, gid_t>{7, 10}));
  EXPECT_EQ(resolve_chown("app:5", kPasswd, kGroup), (std::pair<uid_t, gid_t>{1000, 5}));
  EXPECT_EQ(resolve_chown("42", std::nullopt, std::nullopt), (std::pair<uid_t, gid_t>{42, 42}));
  EXPECT_TRUE(chown_has_names("app"));
  EXPECT_TRUE(chown_has_names("1:wheel"));
  EXPECT_FALSE(chown_has_names("1:2"));
  EXPECT_FALSE(chown_has_names(""));
  try {
    resolve_chown("nobody", kPasswd, kGroup);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "unable to convert uid/gid chown string to host mapping: can't find uid for user nobody: no such user: "
              "nobody");
  }
  EXPECT_THROW(resolve_chown("app:nogroup", kPasswd, kGroup), Error);
  EXPECT_THROW(resolve_chown("bad", kPasswd, kGroup), Error) << "a line without a numeric id does not count";
  EXPECT_THROW(resolve_chown("app", std::nullopt, kGroup), Error) << "no /etc/passwd";
  EXPECT_THROW(resolve_chown("a:b:c", kPasswd, kGroup), Error);
}

TEST(Chmod, OctalOnly) {
  EXPECT_FALSE(parse_chmod("", "COPY"));
  EXPECT_EQ(*parse_chmod("755", "COPY"), 0755u);
  EXPECT_EQ(*parse_chmod("0640", "ADD"), 0640u);
  EXPECT_EQ(*parse_chmod("4755", "ADD"), 04755u);
  EXPECT_THROW(parse_chmod("u+x", "COPY"), Error);
  EXPECT_THROW(parse_chmod("0999", "COPY"), Error);
  EXPECT_THROW(parse_chmod("107555", "COPY"), Error);
}

TEST(AddArchive, TarsAreToldByContent) {
  TempDir t;
  TarBuilder tb;
  tb.dir("d", TarMeta{0750, 1000, 1001}).file("d/f", "in tar\n", TarMeta{0604, 7, 8});
  write_file(t / "plain.bin", tb.build());
  write_file(t / "gz.data", tb.build(Compression::gzip));
  write_file(t / "zst", tb.build(Compression::zstd));
  write_file(t / "fake.tar", "not a tar at all\n");
  write_file(t / "fake.tar.gz", std::string("\x1f\x8b\x08", 3) + "garbage");
  write_file(t / "empty", "");
  EXPECT_TRUE(is_tar_archive(t / "plain.bin"));
  EXPECT_TRUE(is_tar_archive(t / "gz.data"));
  EXPECT_TRUE(is_tar_archive(t / "zst"));
  EXPECT_FALSE(is_tar_archive(t / "fake.tar"));
  EXPECT_FALSE(is_tar_archive(t / "fake.tar.gz"));
  EXPECT_FALSE(is_tar_archive(t / "empty"));
  EXPECT_FALSE(is_tar_archive(t / "missing"));

  fs::create_directories(t / "x");
  extract_archive(t / "gz.data", t / "x");
  EXPECT_EQ(read_file(t / "x/d/f"), "in tar\n");
  fs::create_directories(t / "upper");
  copy_tree_into_layer(t / "x", t / "upper", "/opt/a");
  struct stat st;
  ASSERT_EQ(::stat((t / "upper/opt/a/d/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0604u);
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 7u);
    EXPECT_EQ(st.st_gid, 8u);
  }
  ASSERT_EQ(::stat((t / "upper/opt/a/d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}
