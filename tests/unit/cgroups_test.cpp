// Which cgroup control file gets which value for a container's limits (runtime/cgroups.h), on
// both drivers, without root: the hierarchy is a directory tree in a TempDir holding empty
// control files where the kernel would, and each file read back holds what the driver wrote.
#include <gtest/gtest.h>

#include <filesystem>

#include "minirun/runtime/cgroup_hierarchy.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::runtime;
using minirun::test::read_file;
using minirun::test::TempDir;
using minirun::test::write_file;
namespace fs = std::filesystem;

namespace {

// The group's directory with empty control files, as cgroupfs would show them.
std::string group_dir(const std::string& dir, const std::vector<std::string>& files) {
  fs::create_directories(dir);
  for (const auto& f : files) write_file(dir + "/" + f, "");
  return dir;
}

Resources limits() {
  Resources r;
  MemoryResources m;
  m.limit = 100 << 20;
  m.swap = 200 << 20;  // memory + swap, Docker's --memory-swap
  m.reservation = 50 << 20;
  r.memory = m;
  CpuResources c;
  c.shares = 1024;
  c.quota = 50000;
  c.period = 100000;
  r.cpu = c;
  r.pids_limit = 100;
  return r;
}

}  // namespace

TEST(CgroupFiles, V2LimitsGoToTheUnifiedFiles) {
  TempDir t;
  auto h = CgroupHierarchy::v2_at(t.path());
  std::string d = group_dir(t / "minirun/c1", {"memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max",
                                               "pids.max", "memory.high"});
  auto res = limits();
  res.unified["memory.high"] = "80M";
  auto g = Cgroup::create("minirun/c1", res, h);
  EXPECT_EQ(g.path(), "minirun/c1");
  EXPECT_EQ(g.dir(), d);
  EXPECT_EQ(read_file(d + "/memory.max"), std::to_string(100 << 20));
  EXPECT_EQ(read_file(d + "/memory.low"), std::to_string(50 << 20));
  // v2's swap file holds the swap alone: memory+swap minus memory.
  EXPECT_EQ(read_file(d + "/memory.swap.max"), std::to_string(100 << 20));
  EXPECT_EQ(read_file(d + "/cpu.weight"), std::to_string(cpu_shares_to_weight(1024)));
  EXPECT_EQ(read_file(d + "/cpu.max"), "50000 100000");
  EXPECT_EQ(read_file(d + "/pids.max"), "100");
  EXPECT_EQ(read_file(d + "/memory.high"), "80M");
  EXPECT_EQ(g.procs_files(), std::vector<std::string>{d + "/cgroup.procs"});
}

TEST(CgroupFiles, V2UnlimitedValuesAndRefusedLimits) {
  TempDir t;
  auto h = CgroupHierarchy::v2_at(t.path());
  std::string d = group_dir(t / "g", {"memory.max", "memory.swap.max", "pids.max", "cpu.max"});
  Resources r;
  MemoryResources m;
  m.limit = -1;
  m.swap = -1;
  r.memory = m;
  r.pids_limit = 0;  // 0 or less: no limit
  CpuResources c;
  c.period = 50000;  // a period alone keeps the current quota
  r.cpu = c;
  write_file(d + "/cpu.max", "20000 100000\n");
  Cgroup::create("g", r, h);
  EXPECT_EQ(read_file(d + "/memory.max"), "max");
  EXPECT_EQ(read_file(d + "/memory.swap.max"), "max");
  EXPECT_EQ(read_file(d + "/pids.max"), "max");
  EXPECT_EQ(read_file(d + "/cpu.max").substr(0, 11), "20000 50000");

  auto swap_only = Resources{};
  swap_only.memory = MemoryResources{};
  swap_only.memory->swap = 1 << 20;
  EXPECT_THROW(Cgroup::create("g", swap_only, h), Error);
  auto swap_below = limits();
  swap_below.memory->swap = 1 << 20;
  EXPECT_THROW(Cgroup::create("g", swap_below, h), Error);
  Resources rt;
  rt.cpu = CpuResources{};
  rt.cpu->realtime_runtime = 1000;
  EXPECT_THROW(Cgroup::create("g", rt, h), Error);
  Resources bad_file;
  bad_file.unified["../memory.max"] = "1";
  EXPECT_THROW(Cgroup::create("g", bad_file, h), Error);
  // A control file the kernel does not have is an error naming it.
  Resources hugetlb;
  hugetlb.hugepage_limits.push_back({"2MB", 1 << 21});
  try {
    Cgroup::create("g", hugetlb, h);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hugetlb.2MB.max"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Cgroup::create("../outside", Resources{}, h), Error);
}

TEST(CgroupFiles, V1LimitsGoToEachControllersHierarchy) {
  TempDir t;
  CgroupHierarchy h;
  h.mode = CgroupHierarchy::Mode::v1;
  h.v1 = {{"memory", t / "memory"}, {"cpu", t / "cpu,cpuacct"}, {"cpuacct", t / "cpu,cpuacct"}, {"pids", t / "pids"}};
  std::string mem = group_dir(t / "memory/minirun/c1", {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                                                        "memory.soft_limit_in_bytes"});
  std::string cpu = group_dir(t / "cpu,cpuacct/minirun/c1", {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"});
  std::string pids = group_dir(t / "pids/minirun/c1", {"pids.max"});
  auto g = Cgroup::create("/minirun/c1", limits(), h);
  EXPECT_EQ(g.path(), "minirun/c1");
  EXPECT_EQ(read_file(mem + "/memory.limit_in_bytes"), std::to_string(100 << 20));
  EXPECT_EQ(read_file(mem + "/memory.memsw.limit_in_bytes"), std::to_string(200 << 20));  // memory+swap as given
  EXPECT_EQ(read_file(mem + "/memory.soft_limit_in_bytes"), std::to_string(50 << 20));
  EXPECT_EQ(read_file(cpu + "/cpu.shares"), "1024");
  EXPECT_EQ(read_file(cpu + "/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(read_file(cpu + "/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(read_file(pids + "/pids.max"), "100");
  // One tasks file per distinct hierarchy (cpu and cpuacct share one).
  EXPECT_EQ(g.procs_files().size(), 3u);
  EXPECT_EQ(g.dir("cpuacct"), cpu);
  EXPECT_EQ(g.dir("blkio"), "");

  Resources unified;
  unified.unified["memory.high"] = "1";
  EXPECT_THROW(Cgroup::create("minirun/c1", unified, h), Error);  // v2 only
  Resources blkio;
  blkio.block_io = BlockIoResources{};
  blkio.block_io->weight = 500;
  EXPECT_THROW(Cgroup::create("minirun/c1", blkio, h), Error);  // no blkio hierarchy
}
