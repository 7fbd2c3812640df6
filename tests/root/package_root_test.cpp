// The Debian package as a user gets it: cpack makes the .deb from this build tree (what
// scripts/package.sh does), dpkg installs it into an empty directory root with its own dpkg
// database, the shared libraries the binary needs are copied in and each must belong to a package
// its Depends names (glibc's only: libc6), and the installed binary runs chrooted into that root
// (so it needs nothing the package does not declare); `man -l` formats an installed page, which
// names every flag the binary's --help names. (A build linked dynamically in full — the sanitizer
// build, -DMINIRUN_STATIC=OFF — checks that Depends is not empty and skips the rest.)
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <set>

#include "testutil.h"

using namespace minirun::test;

namespace {

std::string find_deb(const std::string& dir) {
  std::string found;
  if (DIR* d = opendir(dir.c_str())) {
    while (auto* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".deb") == 0) found = dir + "/" + n;
    }
    closedir(d);
  }
  return found;
}

// Runs argv (paths inside `root`) chrooted into `root`; returns {exit status, output}.
std::pair<int, std::string> run_chrooted(const std::string& root, const std::vector<std::string>& argv,
                                         const std::string& log) {
  pid_t pid = spawn_cmd(argv, log, [&] {
    if (chroot(root.c_str()) != 0 || chdir("/") != 0) _exit(121);
  });
  int st = 0;
  waitpid(pid, &st, 0);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), read_file(log)};
}

// The long flags a --help text lists.
std::set<std::string> flags_in(const std::string& text) {
  std::set<std::string> out;
  std::regex re("(^|[ ,])(--[a-z][a-z-]*)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[2]);
  return out;
}

}  // namespace

TEST(Package, DebInstallsIntoAFreshRootAndRuns) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-pkg-");
  auto r = run_cmd({MINIRUN_CPACK, "-G", "DEB", "--config", std::string(MINIRUN_BUILD_DIR) + "/CPackConfig.cmake",
                    "-B", t / "out"},
                   "", 600);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string deb = find_deb(t / "out");
  ASSERT_FALSE(deb.empty()) << "cpack made no .deb: " << r.out;
  auto arch = run_cmd({"/usr/bin/dpkg", "--print-architecture"});
  EXPECT_EQ(deb, t / "out" + "/minirun_" MINIRUN_VERSION "_" + arch.out.substr(0, arch.out.find('\n')) + ".deb");

  auto field = [&](const std::string& f) {
    auto c = run_cmd({"/usr/bin/dpkg-deb", "-f", deb, f});
    EXPECT_EQ(c.code, 0) << c.err;
    return c.out.substr(0, c.out.find('\n'));
  };
  EXPECT_EQ(field("Package"), "minirun");
  EXPECT_EQ(field("Version"), MINIRUN_VERSION);

  // Only glibc is shared (everything else is linked from static archives or dlopen()ed on first
  // use), and dpkg-shlibdeps turned that into a Depends on libc6; the dlopen()ed libraries are
  // recommended.
  auto elf = run_cmd({"/usr/bin/readelf", "-d", MINIRUN_BINARY});
  ASSERT_EQ(elf.code, 0) << elf.err;
  const std::set<std::string> glibc = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                                       "ld-linux-x86-64.so.2"};
  std::set<std::string> needed;
  std::regex needed_re(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
  for (auto it = std::sregex_iterator(elf.out.begin(), elf.out.end(), needed_re); it != std::sregex_iterator(); ++it)
    needed.insert((*it)[1]);
  ASSERT_TRUE(needed.count("libc.so.6")) << elf.out;
  const std::string depends = field("Depends");
  for (const auto& lib : needed)
    if (!glibc.count(lib)) {
      EXPECT_NE(depends, "") << elf.out;
      GTEST_SKIP() << "a dynamic build (" << lib << "): the install into an empty root is checked on the default build";
    }
  EXPECT_TRUE(std::regex_match(depends, std::regex(R"(libc6 \(>= [0-9.]+\))"))) << depends;
  const std::string recommends = field("Recommends");
  for (const char* p : {"libcurl4", "libnftables1", "libnftnl11"})
    EXPECT_NE(recommends.find(p), std::string::npos) << p << " not in Recommends: " << recommends;

  // An empty root with an empty dpkg database: only what the package brings, and the files of
  // the libraries it needs (as ldd finds them on this host; each owned by a package in Depends).
  std::string root = t / "root";
  for (const char* d : {"", "/var", "/var/lib", "/var/lib/dpkg", "/var/lib/dpkg/info", "/var/lib/dpkg/updates", "/tmp"})
    ASSERT_EQ(mkdir((root + d).c_str(), 0755), 0) << d;
  write_file(root + "/var/lib/dpkg/status", "");
  write_file(root + "/var/lib/dpkg/available", "");
  // --path-include: a host whose dpkg.cfg.d drops /usr/share/man (Debian's container images)
  // must not hide the pages from this test. --force-depends: libc6 is not in this root's
  // database; its files are copied in below.
  r = run_cmd({"/usr/bin/dpkg", "--root=" + root, "--log=/dev/null", "--path-include=*", "--force-depends", "-i", deb});
  ASSERT_EQ(r.code, 0) << "dpkg -i into an empty root:\n" << r.out << r.err;
  r = run_cmd({"/usr/bin/dpkg-query", "--admindir=" + root + "/var/lib/dpkg", "-W", "-f=${Status}", "minirun"});
  EXPECT_EQ(r.out, "install ok installed");
  auto ldd = run_cmd({"/usr/bin/ldd", root + "/usr/bin/minirun"});
  ASSERT_EQ(ldd.code, 0) << ldd.out << ldd.err;
  std::regex path_re(R"((/[^ \t\n]+))");
  int copied = 0;
  for (auto it = std::sregex_iterator(ldd.out.begin(), ldd.out.end(), path_re); it != std::sregex_iterator(); ++it) {
    const std::string lib = (*it)[1];
    auto owner = run_cmd({"/usr/bin/dpkg", "-S", lib});
    ASSERT_EQ(owner.code, 0) << lib << " belongs to no package: " << owner.err;
    const std::string pkg = owner.out.substr(0, owner.out.find_first_of(":,"));
    EXPECT_NE((" " + depends).find(" " + pkg + " "), std::string::npos) << lib << " is " << pkg << "'s, not in Depends: " << depends;
    ASSERT_EQ(run_cmd({"/usr/bin/mkdir", "-p", root + lib.substr(0, lib.rfind('/'))}).code, 0);
    ASSERT_EQ(run_cmd({"/usr/bin/cp", "-L", lib, root + lib}).code, 0) << lib;
    copied++;
  }
  EXPECT_GE(copied, 2) << "libc.so.6 and the loader: " << ldd.out;

  // Where people look for them.
  struct stat st;
  EXPECT_EQ(stat((root + "/usr/bin/minirun").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  char link[64] = {};
  EXPECT_GT(readlink((root + "/usr/bin/minirun-runtime").c_str(), link, sizeof link - 1), 0);
  EXPECT_STREQ(link, "minirun");
  for (const char* f : {"/usr/share/man/man1/minirun.1.gz", "/usr/share/man/man1/minirun-run.1.gz",
                        "/usr/share/man/man1/minirun-image-prune.1.gz",
                        "/usr/share/bash-completion/completions/minirun", "/usr/share/zsh/vendor-completions/_minirun"})
    EXPECT_EQ(stat((root + f).c_str(), &st), 0) << f;

  // It runs chrooted into that root: nothing from the host's /usr.
  auto [code, out] = run_chrooted(root, {"/usr/bin/minirun", "--version"}, t / "version.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "minirun " MINIRUN_VERSION "\n");
  // The same binary under its runtime name speaks runc's command line (argv[0] dispatch).
  std::tie(code, out) = run_chrooted(root, {"/usr/bin/minirun-runtime", "--version"}, t / "runtime.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out.rfind("minirun-runtime version " MINIRUN_VERSION "\n", 0), 0u) << out;
  std::tie(code, out) = run_chrooted(root, {"/usr/bin/minirun", "--root", "/tmp/store", "images", "-q"}, t / "images.log");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "");
  std::tie(code, out) = run_chrooted(root, {"/usr/bin/minirun", "__complete", "ima"}, t / "complete.log");
  EXPECT_EQ(out, "image\nimages\n");

  // man formats the installed page, and it names every flag `run --help` names.
  r = run_cmd({"/usr/bin/env", "LC_ALL=C", "MANWIDTH=200", "man", "-P", "cat", "-l",
               root + "/usr/share/man/man1/minirun-run.1.gz"});
  ASSERT_EQ(r.code, 0) << "man -l (is man-db installed? scripts/install-deps.sh installs it): " << r.err;
  EXPECT_NE(r.out.find("minirun-run - Create and run a new container"), std::string::npos) << r.out;
  auto help = run_cmd({root + "/usr/bin/minirun", "run", "--help"});
  ASSERT_EQ(help.code, 0);
  auto help_flags = flags_in(help.out);
  EXPECT_GE(help_flags.size(), 15u) << help.out;
  for (const auto& f : help_flags) EXPECT_TRUE(flags_in(r.out).count(f)) << f << " is in --help but not in the man page";
  for (const auto& f : flags_in(r.out)) EXPECT_TRUE(help_flags.count(f)) << f << " is in the man page but not in --help";
}
