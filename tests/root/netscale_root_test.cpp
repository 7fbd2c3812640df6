// Bridge networking at scale, black box through the minirun binary:
// 100 concurrent `run --rm` on the bridge all hold distinct addresses at the same moment and all
// succeed; 1,000 run/rm cycles (half with a published port, half `--rm`, half `run` + `rm`) leak
// no interface, nft element or rule, lease, endpoint, namespace or process.
//
// As netrun_root_test: each test moves its thread (and every minirun it starts) into a fresh
// network namespace standing for "the host", and a private mount namespace, so the bridge, the
// nft table and the veths exist there only. The cycle count is MINIRUN_NET_CYCLES (default 1000).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "minirun/network/netlink.h"
#include "minirun/network/nft.h"
#include "minirun/util/error.h"
#include "net_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

// Leases (or endpoints) of every network of the store.
size_t records(const std::string& store, const std::string& kind) {
  size_t n = 0;
  std::string nets = store + "/networks";
  if (!fs::exists(nets)) return 0;
  for (const auto& e : fs::directory_iterator(nets))
    if (e.is_directory()) n += files_in(e.path().string() + "/" + kind);
  return n;
}

// Network namespaces this process can still reach: its own descriptors to one, and nsfs bind
// mounts in its mount namespace. With no veth left (each container namespace holds the peer of
// one), these are the ways one could outlive its container unseen.
size_t netns_handles() {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    char buf[64];
    ssize_t l = ::readlink(e.path().c_str(), buf, sizeof buf - 1);
    if (l > 0 && std::string(buf, static_cast<size_t>(l)).rfind("net:[", 0) == 0) n++;
  }
  std::ifstream mi("/proc/self/mountinfo");
  for (std::string line; std::getline(mi, line);)
    if (line.find(" - nsfs ") != std::string::npos) n++;
  return n;
}

// Live processes whose executable is the minirun binary (a run, a monitor, a holder of an
// nfnetlink socket), other than zombies.
std::vector<pid_t> minirun_processes() {
  std::vector<pid_t> out;
  std::error_code ec;
  std::string self = fs::canonical(MINIRUN_BINARY, ec).string();
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec2;
    std::string exe = fs::read_symlink(e.path() / "exe", ec2).string();
    if (ec2 || exe != self) continue;
    std::ifstream st(e.path() / "stat");
    std::string line;
    std::getline(st, line);
    auto rp = line.rfind(')');
    if (rp != std::string::npos && rp + 2 < line.size() && line[rp + 2] == 'Z') continue;
    out.push_back(std::stoi(name));
  }
  return out;
}

// bg_: an entry wait_all reaped is 0.
class NetScale : public NetContainerTest {
 protected:
  NetScale() : NetContainerTest("minirun-netscale-") {}
  void SetUp() override {
    NetContainerTest::SetUp();
    if (t_) store_ = *t_ / "store";
  }
  // Waits (up to `seconds`) for every process started with bg() to exit; their exit codes.
  std::vector<int> wait_all(int seconds) {
    std::vector<int> codes(bg_.size(), -1);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    size_t left = bg_.size();
    while (left > 0 && std::chrono::steady_clock::now() < until) {
      for (size_t i = 0; i < bg_.size(); i++) {
        if (bg_[i] <= 0) continue;
        int st;
        if (::waitpid(bg_[i], &st, WNOHANG) == bg_[i]) {
          codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
          bg_[i] = 0;
          left--;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return codes;
  }
  // No veth, lease, endpoint, DNAT element, extra rule, namespace handle or minirun process.
  void expect_nothing_left(size_t rules, size_t netns) {
    std::vector<std::string> veths;
    for (int i = 0; i < 250; i++) {  // the kernel deletes a veth with its namespace, asynchronously
      veths = id_links_with_prefix("mr");
      if (veths.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(veths.empty()) << veths.size() << " veths, e.g. " << veths.front();
    EXPECT_EQ(records(store_, "leases"), 0u);
    EXPECT_EQ(records(store_, "endpoints"), 0u);
    network::Nft nft;
    ASSERT_TRUE(nft.has_table("minirun"));
    EXPECT_TRUE(nft.port_elements("minirun").empty());
    EXPECT_EQ(nft.element_count("minirun"), 2u);  // the default network's bridge and subnet only
    EXPECT_EQ(nft.rule_count("minirun"), rules);
    EXPECT_EQ(netns_handles(), netns);
    std::vector<pid_t> procs;
    for (int i = 0; i < 250; i++) {  // a socket holder lives one RCU grace period and a margin
      procs = minirun_processes();
      if (procs.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(procs.empty()) << procs.size() << " minirun processes, e.g. " << procs.front();
    EXPECT_EQ(files_in(store_ + "/containers"), 1u);  // names/ only
  }
  // The table's rules once the default network exists (a first run makes it).
  size_t baseline_rules() {
    EXPECT_EQ(mr({"run", "--rm", "-p", "80", "t/bb", "true"}).code, 0);
    return network::Nft().rule_count("minirun");
  }

  std::string store_;
};

}  // namespace

TEST_F(NetScale, HundredConcurrentRunsHoldDistinctAddressesAtOnce) {
  constexpr int kRuns = 100;
  size_t rules = baseline_rules();
  size_t netns = netns_handles();
  ASSERT_GT(rules, 0u);
  // Each container writes its address to the shared directory, then waits for "go": so all 100
  // are attached at the same moment. Every fourth publishes a port (a free host port).
  std::string shared = *t_ / "shared";
  fs::create_directories(shared);
  for (int i = 0; i < kRuns; i++) {
    std::vector<std::string> a = {MINIRUN_BINARY, "--root", store_, "run", "--rm", "-v", shared + ":/s"};
    if (i % 4 == 0) a.insert(a.end(), {"-p", "80"});
    std::string script = "busybox ip -o -4 addr show dev eth0 | busybox awk '{print $4}' > /s/" + std::to_string(i) +
                         ".tmp && mv /s/" + std::to_string(i) + ".tmp /s/" + std::to_string(i) +
                         "; i=0; while [ ! -e /s/go ] && [ $i -lt 1800 ]; do busybox usleep 100000; i=$((i+1)); done";
    a.insert(a.end(), {"t/bb", "sh", "-c", script});
    bg_.push_back(spawn_cmd(a, *t_ / ("c" + std::to_string(i) + ".log")));
  }
  // All attached at once: 100 leases and 100 addresses written, before any may leave.
  size_t written = 0, leases = 0;
  for (int i = 0; i < 1800 && (written < kRuns || leases < kRuns); i++) {
    written = 0;
    for (int j = 0; j < kRuns; j++) written += fs::exists(shared + "/" + std::to_string(j));
    leases = records(store_, "leases");
    if (written < kRuns || leases < kRuns) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(written, static_cast<size_t>(kRuns));
  EXPECT_EQ(leases, static_cast<size_t>(kRuns));
  EXPECT_EQ(id_links_with_prefix("mr").size(), static_cast<size_t>(kRuns));
  EXPECT_EQ(network::Nft().port_elements("minirun").size(), static_cast<size_t>(kRuns / 4));
  write_file(shared + "/go", "");
  auto codes = wait_all(300);
  std::set<std::string> addrs;
  for (int i = 0; i < kRuns; i++) {
    EXPECT_EQ(codes[static_cast<size_t>(i)], 0) << i << ": " << read_file(*t_ / ("c" + std::to_string(i) + ".log"));
    std::string f = shared + "/" + std::to_string(i);
    std::string a = fs::exists(f) ? read_file(f) : "";
    while (!a.empty() && a.back() == '\n') a.pop_back();
    EXPECT_EQ(a.rfind("172.30.", 0), 0u) << i << ": " << a;
    addrs.insert(a);
  }
  EXPECT_EQ(addrs.size(), static_cast<size_t>(kRuns));
  expect_nothing_left(rules, netns);
}

TEST_F(NetScale, ThousandRunRmCyclesLeakNothing) {
  int cycles = 1000;
  if (const char* e = std::getenv("MINIRUN_NET_CYCLES")) cycles = std::atoi(e);
  ASSERT_GT(cycles, 0);
  size_t rules = baseline_rules();
  size_t netns = netns_handles();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < cycles; i++) {
    // i % 4: 0 run --rm, 1 run --rm -p, 2 run + rm, 3 run -p + rm.
    std::vector<std::string> a = {"run"};
    if (i % 4 < 2) a.push_back("--rm");
    else a.insert(a.end(), {"--name", "c"});
    if (i % 2) a.insert(a.end(), {"-p", "80"});
    a.insert(a.end(), {"t/bb", "true"});
    auto r = mr(a);
    ASSERT_EQ(r.code, 0) << i << ": " << r.err;
    if (i % 4 >= 2) {
      ASSERT_EQ(mr({"rm", "c"}).code, 0) << i;
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d run/rm cycles on the bridge: %.1f s (%.1f ms each)\n", cycles, s, 1000 * s / cycles);
  expect_nothing_left(rules, netns);
}
