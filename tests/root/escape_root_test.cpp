// Escapes: a static probe (tests/escape/escape_probe.c) run as root inside a container with the
// default capabilities tries the chroot walk, remounting /proc/sys and /sys, unmounting masks,
// mknod of the host's disks and /dev/mem, /proc/kcore, open_by_handle_at and module loading.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <set>

#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

// major:minor of every whole disk the host has, and of the device holding `path`.
std::vector<std::string> host_disks(const std::string& path) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator("/sys/block", ec)) {
    try {
      std::string d = read_file(e.path() / "dev");
      while (!d.empty() && d.back() == '\n') d.pop_back();
      if (!d.empty()) out.insert(d);
    } catch (...) {
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && major(st.st_dev) != 0)
    out.insert(std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)));
  return {out.begin(), out.end()};
}

}  // namespace

TEST(Escape, ProbeRunAsRootFindsNoWayOut) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-escape-");
  TarBuilder img = busybox_rootfs();
  img.file("probe", read_file(ESCAPE_PROBE), TarMeta{0755});
  write_file(t / "rootfs.tar", img.build());
  std::string store = t / "store";
  ASSERT_EQ(run_cmd({MINIRUN_BINARY, "--root", store, "import", t / "rootfs.tar", "t/probe"}).code, 0);
  // A file only the host can see; the probe reports whether it ever becomes visible.
  std::string marker = t / "host-only-marker";
  write_file(marker, "host");
  // Twice: with the container's cgroup (/dev holds real nodes, its device rules refuse the
  // disks) and without one (/dev is nodev).
  for (const char* cgroups : {"--cgroups=enabled", "--cgroups=disabled"}) {
    SCOPED_TRACE(cgroups);
    std::vector<std::string> argv = {MINIRUN_BINARY, "--root", store, "run", "--rm", cgroups, "t/probe", "/probe", marker};
    for (const auto& d : host_disks(t.path())) argv.push_back(d);
    auto r = run_cmd(argv);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find("ESCAPED"), std::string::npos) << r.out;
    // It did try: one line per attempt, the chroot walk and a disk among them.
    EXPECT_NE(r.out.find("contained: chroot(); chdir(\"..\") walk"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("contained: mknod /dev/.probe-dev-"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("contained: read /proc/kcore"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("contained: /proc/keys is masked"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("0 escape(s)"), std::string::npos) << r.out;
  }
  EXPECT_TRUE(mounts_under(t.path()).empty());
}
