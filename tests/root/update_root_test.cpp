// `update` on the real kernel, through the binary: a detached container's cgroup gets the new
// limits at once (read back from the cgroup files), Docker's refusals leave the limits as they
// were, and a stopped container keeps the update for its next start. Containers are removed with
// rm -f in TearDown, even after a failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "minirun/runtime/cgroups.h"
#include "container_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
using namespace minirun::runtime;

namespace {

class Update : public ContainerTest {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    if (CgroupHierarchy::host().mode == CgroupHierarchy::Mode::none) GTEST_SKIP() << "no cgroup file system";
    make_store("minirun-update-");
  }
  void TearDown() override { remove_containers(); }
  CgroupStats stats(const std::string& id) { return Cgroup::open(container_cgroup_path(id)).stats(); }
  // The CFS quota in microseconds (-1: none), from the v1 or v2 file.
  long quota(const std::string& id) {
    Cgroup g = Cgroup::open(container_cgroup_path(id));
    if (g.mode() == CgroupHierarchy::Mode::v2) {
      std::string s = read_file(g.dir() + "/cpu.max");
      return s.rfind("max", 0) == 0 ? -1 : std::stol(s);
    }
    return std::stol(read_file(g.dir("cpu") + "/cpu.cfs_quota_us"));
  }
};

constexpr uint64_t MiB = 1024 * 1024;

TEST_F(Update, RunningContainerGetsTheLimitsAtOnce) {
  auto r = mr({"run", "-d", "--name", "u", "--network", "none", "--memory", "64m", "--pids-limit", "30", "t/bb",
               "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string id = r.out.substr(0, 64);
  EXPECT_EQ(stats(id).memory_limit, 64 * MiB);
  EXPECT_EQ(stats(id).pids_limit, 30u);

  // Docker's refusals: nothing changes.
  auto bad = mr({"update", "--memory", "200m", "u"});  // memory+swap is 128m
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("Memory limit should be smaller than already set memoryswap limit"), std::string::npos) << bad.err;
  bad = mr({"update", "--memory", "1m", "u"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("Minimum memory limit allowed is 6MB"), std::string::npos) << bad.err;
  bad = mr({"update", "u"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("you must provide one or more flags"), std::string::npos) << bad.err;
  EXPECT_EQ(stats(id).memory_limit, 64 * MiB);

  auto ok = mr({"update", "--memory", "100m", "--memory-swap", "300m", "--pids-limit", "50", "--cpus", "0.5", "u"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.out, "u\n");
  EXPECT_EQ(stats(id).memory_limit, 100 * MiB);
  EXPECT_EQ(stats(id).pids_limit, 50u);
  EXPECT_EQ(quota(id), 50000);
  // The container keeps running under them, and inspect shows them.
  EXPECT_EQ(mr({"exec", "u", "true"}).code, 0);
  auto insp = nlohmann::json::parse(mr({"inspect", "u"}).out)[0];
  EXPECT_EQ(insp["State"]["Running"], true);
  EXPECT_EQ(insp["HostConfig"]["Memory"], 100 * MiB) << insp["HostConfig"].dump();
  EXPECT_EQ(insp["HostConfig"]["PidsLimit"], 50) << insp["HostConfig"].dump();
}

TEST_F(Update, StoppedContainerGetsThemAtItsNextStart) {
  auto r = mr({"run", "-d", "--name", "s", "--network", "none", "--pids-limit", "30", "t/bb", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string id = r.out.substr(0, 64);
  ASSERT_EQ(mr({"stop", "-t", "0", "s"}).code, 0);
  EXPECT_FALSE(Cgroup::exists(container_cgroup_path(id)));
  auto ok = mr({"update", "--pids-limit", "70", "--memory", "32m", "s"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  ASSERT_EQ(mr({"start", "s"}).code, 0);
  EXPECT_EQ(stats(id).pids_limit, 70u);
  EXPECT_EQ(stats(id).memory_limit, 32 * MiB);
}

}  // namespace
