// `minirun export --bundle`: the bundle it writes (config.json from the same
// image -> spec conversion `run` uses, and rootfs/) runs under runc, and under minirun-runtime
// when it exists, with the same view from inside as `minirun run --rm` of the image: user, cwd,
// environment, capabilities, no_new_privs, seccomp, rlimits, /dev, the mount points with their
// kind and ro/rw, masked paths.
// Skipped with a message until `minirun export` has --bundle, and without runc
// (scripts/install-deps.sh --peers).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

// What the probe prints. Left out on purpose: the hostname (a container ID), the root mount
// (overlay for `run`, the bundle's directory for a runtime), how a device node or a masked path
// came to be (a bind of the host's node, or mknod; and the /dev/core link, which runc makes only
// when /proc/kcore is readable), and the source of bind mounts.
const char* kProbe =
    "id; pwd; env | grep -v '^HOSTNAME=' | sort; "
    "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status; "
    "echo nofile $(ulimit -n) nproc $(ulimit -u); "
    "ls /dev | grep -vx core | tr '\\n' ' '; echo; "
    "awk '{ for (i = 7; i <= NF; i++) if ($i == \"-\") { t = $(i + 1); break }; "
    "  if ($5 == \"/\" || $5 ~ /^\\/dev\\/(null|zero|full|random|urandom|tty|console)$/) next; "
    "  k = (t ~ /^(proc|sysfs|devpts|mqueue|cgroup2?)$/) ? t : \"other\"; "
    "  split($6, o, \",\"); print $5, k, o[1] }' /proc/self/mountinfo | sort; "
    "for f in /proc/kcore /proc/keys /proc/timer_list /sys/firmware; do "
    "  if [ -d $f ]; then echo $f $(ls $f | wc -l); else echo $f $(head -c 1 $f 2>/dev/null | wc -c); fi; done; "
    "touch /proc/sys/kernel/x 2>/dev/null && echo procsys-rw || echo procsys-ro";

std::string find_in_path(const std::string& name) {
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

class ExportBundle : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    auto help = run_cmd({MINIRUN_BINARY, "export", "--help"});
    if (help.out.find("--bundle") == std::string::npos)
      GTEST_SKIP() << "minirun export has no --bundle yet; skipped";
    runc_ = find_in_path("runc");
    if (runc_.empty()) GTEST_SKIP() << "runc is not installed (scripts/install-deps.sh --peers); skipped";

    t_ = std::make_unique<TempDir>("minirun-export-bundle-");
    TestImage img;
    img.layers = {busybox_rootfs().build()};
    img.repo_tags = {"export-test/probe:1"};
    img.cmd = {"/bin/sh", "-c", kProbe};
    img.env.push_back("APP=example");
    img.workdir = "/home/app";
    std::vector<TestImage> imgs = {img};
    write_file(*t_ / "probe.tar", docker_archive(imgs));
    auto r = mr({"load", "-q", "-i", *t_ / "probe.tar"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  void TearDown() override {
    if (!t_) return;
    run_cmd({runc_, "--root", *t_ / "runc-state", "delete", "--force", id_});
    EXPECT_TRUE(mounts_under(t_->path()).empty()) << "a mount was left on the host";
  }
  CmdResult mr(std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", *t_ / "store"});
    return run_cmd(args);
  }

  std::string runc_;
  std::string id_ = "mr-export-" + std::to_string(::getpid());
  std::unique_ptr<TempDir> t_;
};

}  // namespace

TEST_F(ExportBundle, RuncAndMiniRunRuntimeSeeWhatRunSees) {
  auto want = mr({"run", "--rm", "export-test/probe:1"});
  ASSERT_EQ(want.code, 0) << want.err;
  ASSERT_NE(want.out.find("APP=example"), std::string::npos) << want.out;

  std::string bundle = *t_ / "bundle";
  auto r = mr({"export", "--bundle", bundle, "export-test/probe:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(fs::is_regular_file(bundle + "/config.json"));
  ASSERT_TRUE(fs::is_regular_file(bundle + "/rootfs/bin/busybox"));

  auto got = run_cmd({runc_, "--root", *t_ / "runc-state", "run", "--bundle", bundle, id_});
  EXPECT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(got.out, want.out) << "runc on the exported bundle differs from minirun run";

  std::string mrr = (fs::path(MINIRUN_BINARY).parent_path() / "minirun-runtime").string();
  if (::access(mrr.c_str(), X_OK) != 0) {
    std::cout << "[   INFO   ] " << mrr << " missing: only runc compared\n";
    return;
  }
  got = run_cmd({mrr, "--root", *t_ / "mrr-state", "run", "--bundle", bundle, id_});
  EXPECT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(got.out, want.out) << "minirun-runtime on the exported bundle differs from minirun run";
  run_cmd({mrr, "--root", *t_ / "mrr-state", "delete", "--force", id_});
}
