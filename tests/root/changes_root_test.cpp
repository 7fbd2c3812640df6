// compute_changes on hand-made layer directories: the rules docker diff follows, with what the
// d_type walk must still stat (character devices: whiteout or a real device; names that exist
// below) and the order of paths when a directory's name is a prefix of a sibling's.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <filesystem>

#include "minirun/image/changes.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

TEST(Changes, DTypeWalkStatsWhatCanChangeTheAnswerAndKeepsPathOrder) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-changes-");
  std::string lower = t / "lower", upper = t / "upper";
  fs::create_directories(lower + "/etc/apt");
  fs::create_directories(lower + "/old/inner");
  write_file(lower + "/etc/apt/sources", "x");
  write_file(lower + "/etc/keep", "k");
  write_file(lower + "/old/inner/f", "f");
  write_file(lower + "/gone", "g");
  fs::create_directories(upper + "/etc/apt");
  fs::create_directories(upper + "/new/a");  // "a" then "a.conf", "a-b": '/' sorts after '.' and '-'
  write_file(upper + "/new/a/x", "1");
  write_file(upper + "/new/a.conf", "2");
  write_file(upper + "/new/a-b", "3");
  write_file(upper + "/etc/apt.conf", "4");  // beside the existing directory etc/apt
  write_file(upper + "/etc/apt/sources", "changed");
  ASSERT_EQ(::mknod((upper + "/gone").c_str(), S_IFCHR | 0600, makedev(0, 0)), 0);       // a whiteout
  ASSERT_EQ(::mknod((upper + "/etc/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);   // a device, added
  ASSERT_EQ(::mknod((upper + "/new/wh").c_str(), S_IFCHR | 0600, makedev(0, 0)), 0);     // hides nothing
  fs::create_directories(upper + "/old");
  ASSERT_EQ(::setxattr((upper + "/old").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  write_file(upper + "/old/fresh", "n");
  // Directory times and modes as the lower's, so only the content below makes them C.
  for (const char* d : {"/etc", "/etc/apt", "/old"}) {
    struct stat st;
    ASSERT_EQ(::stat((lower + d).c_str(), &st), 0);
    ::chmod((upper + d).c_str(), st.st_mode & 07777);
  }
  std::string got = format_changes(compute_changes(upper, {lower}));
  EXPECT_EQ(got,
            "C /etc\n"
            "C /etc/apt\n"
            "A /etc/apt.conf\n"
            "C /etc/apt/sources\n"
            "A /etc/null\n"
            "D /gone\n"
            "A /new\n"
            "A /new/a\n"
            "A /new/a-b\n"
            "A /new/a.conf\n"
            "A /new/a/x\n"
            "C /old\n"
            "A /old/fresh\n"
            "D /old/inner\n");
}
