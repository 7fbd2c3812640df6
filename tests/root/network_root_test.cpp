// Bridge networking as root, entirely inside network namespaces this test makes: the test
// thread first moves into a fresh namespace that stands for "the host" (so the bridge, the veths,
// the nft table and the sysctls it sets exist there only and vanish with it, even if the test
// dies), containers are further namespaces, and "a machine on the LAN" is one more namespace
// joined to the host by a veth pair with TEST-NET-1 addresses (192.0.2.0/24). No traffic leaves
// those namespaces. Names are per-process as well (table mrt<pid>, bridge mrt<pid>).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "minirun/network/netlink.h"
#include "minirun/network/network.h"
#include "minirun/network/nft.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "net_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::network;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

std::string ask_udp(const std::string& ip, uint16_t port) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  timeval tv{1, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  ::sendto(s, "?", 1, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  char buf[64];
  ssize_t n = ::recv(s, buf, sizeof buf, 0);
  ::close(s);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "ERR";
}

// Connects to ip:port from the calling thread's namespace; returns the server's line, or
// "ERR <reason>" (2 s timeouts).
std::string ask(const std::string& ip, uint16_t port) {
  std::string err;
  int s = tcp_connect(ip, port, err);
  if (s < 0) return err;
  char buf[64];
  ssize_t n = ::read(s, buf, sizeof buf - 1);
  ::close(s);
  if (n <= 0) return "ERR read";
  std::string out(buf, static_cast<size_t>(n));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string ask_from(int netns_fd, const std::string& ip, uint16_t port) {
  return in_netns(netns_fd, [&] { return ask(ip, port); });
}

// IPv4 address of an interface in the calling thread's namespace ("" when none).
std::string address_of(const std::string& ifname) {
  ifaddrs* ifs = nullptr;
  std::string out;
  if (::getifaddrs(&ifs) != 0) return out;
  for (auto* i = ifs; i; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && ifname == i->ifa_name) {
      char buf[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      out = buf;
    }
  ::freeifaddrs(ifs);
  return out;
}

// The default route's gateway in the calling thread's namespace ("" when none).
std::string default_gateway() {
  std::ifstream in("/proc/thread-self/net/route");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    char ifn[32];
    unsigned dst, gw;
    if (std::sscanf(line.c_str(), "%31s %x %x", ifn, &dst, &gw) == 3 && dst == 0) {
      in_addr a{gw};
      return inet_ntoa(a);
    }
  }
  return "";
}

class Net : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    if (!have_libnftables()) GTEST_SKIP() << "libnftables1 not installed";
    ASSERT_NO_FATAL_FAILURE(host_.enter(false));
    std::string tag = "mrt" + std::to_string(::getpid());
    opt_.table = tag;
    opt_.default_bridge = tag;
    opt_.default_subnet = "10.231.0.0/24";
    opt_.veth_prefix = "mt";
    opt_.bridge_prefix = "mtb";
    dir_ = std::make_unique<TempDir>("minirun-net-");
    store_ = std::make_unique<Store>(dir_->path() + "/store");
  }
  void TearDown() override { host_.leave(); }
  int container_ns() { return host_.netns(); }
  // "A machine on the LAN": a namespace joined to the host by lan0 (192.0.2.1) <-> eth0 (192.0.2.2).
  int lan() { return host_.lan(); }
  std::string cid() { return random_hex(64); }

  TestHost host_;
  Options opt_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(Net, AttachGivesEth0AddressAndDefaultRoute) {
  int c = container_ns();
  std::string id = cid();
  AttachRequest req;
  req.hostname = "box";
  auto a = attach(*store_, id, "web", c, req, opt_);
  EXPECT_EQ(a.ip, "10.231.0.2");
  EXPECT_EQ(a.gateway, "10.231.0.1");
  EXPECT_EQ(a.mac, "02:42:0a:e7:00:02");
  EXPECT_EQ(in_netns(c, [] { return address_of("eth0"); }), "10.231.0.2");
  EXPECT_EQ(in_netns(c, [] { return default_gateway(); }), "10.231.0.1");
  EXPECT_EQ(in_netns(c, [] { return address_of("lo"); }), "127.0.0.1");
  EXPECT_EQ(address_of(opt_.default_bridge), "10.231.0.1");
  EXPECT_EQ(links_with_prefix("mt"), std::vector<std::string>{"mt" + id.substr(0, 12)});
  EXPECT_EQ(read_whole_file("/proc/sys/net/ipv4/ip_forward"), "1\n");
  EXPECT_EQ(read_whole_file("/proc/sys/net/ipv4/conf/" + opt_.default_bridge + "/route_localnet"), "1\n");
  // The host reaches the container by address.
  WhoServer srv(c, 8000);
  EXPECT_EQ(ask("10.231.0.2", 8000), "10.231.0.1");
  ASSERT_TRUE(attachment(*store_, id));
  EXPECT_EQ(attachment(*store_, id)->veth, "mt" + id.substr(0, 12));
  detach(*store_, id, opt_);
}

TEST_F(Net, PublishedPortFromOutsideAndFromLoopbackAndMasquerade) {
  int c = container_ns();
  int l = lan();
  std::string id = cid();
  AttachRequest req;
  req.ports = {{"", 0, 80, "tcp"}, {"127.0.0.1", 18081, 80, "tcp"}};
  auto a = attach(*store_, id, "web", c, req, opt_);
  ASSERT_EQ(a.ports.size(), 2u);
  uint16_t hp = a.ports[0].host_port;
  EXPECT_NE(hp, 0);
  WhoServer srv(c, 80);
  // From the LAN, through the host's address: DNAT keeps the client's address.
  EXPECT_EQ(ask_from(l, "192.0.2.1", hp), "192.0.2.2");
  // From the host itself at 127.0.0.1 (output chain, route_localnet, masquerade to the bridge).
  EXPECT_EQ(ask("127.0.0.1", hp), "10.231.0.1");
  // And at its own LAN address.
  EXPECT_EQ(ask("192.0.2.1", hp), "192.0.2.1");
  // Bound to 127.0.0.1 only: reachable there, not from the LAN.
  EXPECT_EQ(ask("127.0.0.1", 18081), "10.231.0.1");
  EXPECT_EQ(ask_from(l, "192.0.2.1", 18081).rfind("ERR", 0), 0u);
  // Outbound NAT: the LAN machine sees the host's address, not the container's.
  WhoServer lan_srv(l, 7000);
  EXPECT_EQ(ask_from(c, "192.0.2.2", 7000), "192.0.2.1");
  // UDP, published on a port of the host's choosing, from the LAN.
  {
    AttachRequest ureq;
    ureq.ports = {{"", 0, 53, "udp"}};
    int cu = container_ns();
    std::string uid = cid();
    auto au = attach(*store_, uid, "dns", cu, ureq, opt_);
    UdpWhoServer us(cu, 53);
    EXPECT_EQ(in_netns(l, [&] { return ask_udp("192.0.2.1", au.ports[0].host_port); }), "192.0.2.2");
    detach(*store_, uid, opt_);
  }
  // The container reaches the host's own services at the gateway address (the source is its own).
  WhoServer host_srv(host_.fd(), 9099);
  // And a port a host service listens on cannot be published (the DNAT would steal its traffic).
  AttachRequest taken;
  taken.ports = {{"", 9099, 80, "tcp"}};
  EXPECT_THROW(attach(*store_, cid(), "t", container_ns(), taken, opt_), Error);
  EXPECT_EQ(ask("127.0.0.1", 9099), "127.0.0.1");
  EXPECT_EQ(ask_from(c, "10.231.0.1", 9099), "10.231.0.2");
  detach(*store_, id, opt_);
  EXPECT_EQ(ask_from(l, "192.0.2.1", hp).rfind("ERR", 0), 0u);
  EXPECT_EQ(ask("127.0.0.1", hp).rfind("ERR", 0), 0u);
}

TEST_F(Net, TwoContainersReachEachOtherAndByNameOnAUserNetwork) {
  auto net = create_network(*store_, "backend", "10.232.0.0/24", "", opt_);
  EXPECT_EQ(net.gateway, "10.232.0.1");
  EXPECT_EQ(net.bridge.rfind("mtb", 0), 0u);
  int c1 = container_ns(), c2 = container_ns();
  std::string id1 = cid(), id2 = cid();
  fs::create_directories(store_->container_dir(id1));
  fs::create_directories(store_->container_dir(id2));
  AttachRequest req;
  req.network = "backend";
  req.hostname = "one";
  auto a1 = attach(*store_, id1, "app", c1, req, opt_);
  req.hostname = "two";
  req.ip = "10.232.0.50";
  req.extra_hosts = {{"extra.example", "192.0.2.99"}};
  auto a2 = attach(*store_, id2, "db", c2, req, opt_);
  EXPECT_EQ(a2.ip, "10.232.0.50");
  WhoServer s2(c2, 5432), s1(c1, 5433);
  EXPECT_EQ(ask_from(c1, a2.ip, 5432), a1.ip);  // direct, on the bridge: no NAT
  EXPECT_EQ(ask_from(c2, a1.ip, 5433), a2.ip);
  // Names: each hosts file lists the other container.
  std::string h1 = read_whole_file(store_->container_dir(id1) + "/hosts");
  std::string h2 = read_whole_file(store_->container_dir(id2) + "/hosts");
  EXPECT_NE(h1.find(a1.ip + "\tone app\n"), std::string::npos) << h1;
  EXPECT_NE(h1.find("10.232.0.50\tdb\n"), std::string::npos) << h1;
  EXPECT_NE(h2.find(a1.ip + "\tapp\n"), std::string::npos) << h2;
  EXPECT_NE(h2.find("192.0.2.99\textra.example\n"), std::string::npos) << h2;
  struct stat before;
  ASSERT_EQ(::stat((store_->container_dir(id1) + "/hosts").c_str(), &before), 0);
  // A container leaving is taken out of the others' files, in place.
  detach(*store_, id2, opt_);
  h1 = read_whole_file(store_->container_dir(id1) + "/hosts");
  EXPECT_EQ(h1.find("\tdb\n"), std::string::npos) << h1;
  struct stat after;
  ASSERT_EQ(::stat((store_->container_dir(id1) + "/hosts").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_THROW(remove_network(*store_, "backend", opt_), Error);  // app is still on it
  detach(*store_, id1, opt_);
  remove_network(*store_, "backend", opt_);
  EXPECT_TRUE(links_with_prefix("mtb").empty());
  EXPECT_FALSE(find_network(*store_, "backend"));
}

TEST_F(Net, DetachRemovesEverythingAndIsIdempotent) {
  int c = container_ns();
  std::string id = cid();
  AttachRequest req;
  req.ports = {{"", 18090, 80, "tcp"}, {"", 18090, 53, "udp"}};
  auto a = attach(*store_, id, "x", c, req, opt_);
  Nft nft;
  EXPECT_EQ(nft.port_elements(opt_.table).size(), 2u);
  EXPECT_EQ(nft.port_elements(opt_.table)[0].container_id, id);
  // A second container cannot take the same host port.
  AttachRequest same;
  same.ports = {{"", 18090, 81, "tcp"}};
  int c2 = container_ns();
  EXPECT_THROW(attach(*store_, cid(), "y", c2, same, opt_), Error);
  EXPECT_EQ(files_in(store_->network_leases_dir("bridge")), 1u);  // the failed attach left nothing
  EXPECT_EQ(nft.port_elements(opt_.table).size(), 2u);              // and took nothing of the first's
  // Nor does a failure at the veth (its name taken) delete the veth that holds the name.
  std::string twin = id.substr(0, 12) + random_hex(52);
  EXPECT_THROW(attach(*store_, twin, "z", c2, {}, opt_), Error);
  EXPECT_EQ(links_with_prefix("mt").size(), 1u);
  EXPECT_EQ(links_with_prefix("mt").size(), 1u);
  detach(*store_, id, opt_);
  detach(*store_, id, opt_);
  EXPECT_TRUE(links_with_prefix("mt").empty());
  EXPECT_TRUE(nft.port_elements(opt_.table).empty());
  EXPECT_EQ(nft.element_count(opt_.table), 2u);  // the network's bridge and subnet only
  EXPECT_EQ(files_in(store_->network_leases_dir("bridge")), 0u);
  EXPECT_EQ(files_in(store_->network_endpoints_dir("bridge")), 0u);
  EXPECT_FALSE(attachment(*store_, id));
  (void)a;
}

TEST_F(Net, RecoverReclaimsWhatADeadRunLeft) {
  int c = container_ns();
  std::string dead = cid(), live = cid();
  AttachRequest req;
  req.ports = {{"", 0, 80, "tcp"}};
  attach(*store_, live, "live", container_ns(), req, opt_);
  // A run that attached and was killed: a child process attaches and exits without detaching.
  pid_t pid = ::fork();
  if (pid == 0) {
    try {
      attach(*store_, dead, "dead", c, req, opt_);
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(links_with_prefix("mt").size(), 2u);
  EXPECT_EQ(Nft().port_elements(opt_.table).size(), 2u);
  recover(*store_, {live}, opt_);
  EXPECT_EQ(links_with_prefix("mt"), std::vector<std::string>{"mt" + live.substr(0, 12)});
  auto els = Nft().port_elements(opt_.table);
  ASSERT_EQ(els.size(), 1u);
  EXPECT_EQ(els[0].container_id, live);
  EXPECT_EQ(files_in(store_->network_leases_dir("bridge")), 1u);
  EXPECT_FALSE(attachment(*store_, dead));
  EXPECT_TRUE(attachment(*store_, live));
  detach(*store_, live, opt_);
}

// CPU time of the calling thread (user + system), in ms: on a busy machine wall-clock time
// mostly measures waiting for a CPU.
double thread_cpu_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST_F(Net, TwoHundredCyclesLeakNothing) {
  Nft nft;
  using ms = std::chrono::duration<double, std::milli>;
  // [0] without ports, [1] with one published port; wall and CPU time.
  double netns_ms = 0, attach_ms[2] = {0, 0}, detach_ms[2] = {0, 0}, attach_cpu[2] = {0, 0}, detach_cpu[2] = {0, 0};
  int n = 200;
  for (int i = 0; i < n; i++) {
    int p = i % 2;
    auto t0 = std::chrono::steady_clock::now();
    int c = new_netns();
    auto t1 = std::chrono::steady_clock::now();
    std::string id = cid();
    AttachRequest req;
    if (p) req.ports = {{"", 0, 80, "tcp"}};
    double c1 = thread_cpu_ms();
    attach(*store_, id, "c", c, req, opt_);
    double c2 = thread_cpu_ms();
    auto t2 = std::chrono::steady_clock::now();
    ::close(c);  // the container exited: its namespace goes, and the veth pair with it
    auto t2b = std::chrono::steady_clock::now();
    double c3 = thread_cpu_ms();
    detach(*store_, id, opt_, false);
    double c4 = thread_cpu_ms();
    auto t3 = std::chrono::steady_clock::now();
    netns_ms += ms(t1 - t0).count();
    attach_ms[p] += ms(t2 - t1).count();
    detach_ms[p] += ms(t3 - t2b).count();
    attach_cpu[p] += c2 - c1;
    detach_cpu[p] += c4 - c3;
  }
  int h = n / 2;
  std::printf("network: per container (wall / CPU ms): new netns %.3f; attach %.3f / %.3f, detach %.3f / %.3f; "
              "with one published port: attach %.3f / %.3f, detach %.3f / %.3f\n",
              netns_ms / n, attach_ms[0] / h, attach_cpu[0] / h, detach_ms[0] / h, detach_cpu[0] / h, attach_ms[1] / h,
              attach_cpu[1] / h, detach_ms[1] / h, detach_cpu[1] / h);
  // The kernel removes the pairs of dead namespaces asynchronously: give it a few seconds.
  for (int i = 0; i < 100 && !links_with_prefix("mt").empty(); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(links_with_prefix("mt").empty());
  EXPECT_EQ(nft.element_count(opt_.table), 2u);
  EXPECT_EQ(files_in(store_->network_leases_dir("bridge")), 0u);
  EXPECT_EQ(files_in(store_->network_endpoints_dir("bridge")), 0u);
}

TEST_F(Net, SubnetsAvoidTheHostsRoutesAndEachOther) {
  // The host has a route into 172.30.0.0/16 (the default's first choice).
  int other = container_ns();
  Netlink nl;
  nl.add_veth("hx0", 0, other, "eth0", parse_mac("02:00:00:00:00:09"));
  nl.add_address("hx0", *parse_ip("172.30.9.1"), 24);
  Options o = opt_;
  o.default_subnet = "";
  auto def = default_network(*store_, o);
  EXPECT_EQ(def.subnet, "172.31.0.0/16");
  EXPECT_EQ(def.gateway, "172.31.0.1");
  auto user = create_network(*store_, "u1", "", "", o);
  EXPECT_EQ(user.subnet, "172.18.0.0/16");
  EXPECT_THROW(create_network(*store_, "u2", "172.18.4.0/24", "", o), Error);  // overlaps u1
  EXPECT_THROW(create_network(*store_, "u1", "10.240.0.0/24", "", o), Error);  // name taken
  EXPECT_THROW(create_network(*store_, "bad/name", "", "", o), Error);
  EXPECT_THROW(create_network(*store_, "u3", "10.241.0.0/24", "10.242.0.1", o), Error);  // gateway outside
  EXPECT_THROW(remove_network(*store_, "bridge", o), Error);  // pre-defined
  EXPECT_EQ(list_networks(*store_).size(), 2u);
  remove_network(*store_, "u1", o);
  EXPECT_EQ(list_networks(*store_).size(), 1u);
}

// Runs starting together on a network nobody has used yet: they race to create its record,
// bridge and table, and to claim addresses; all must succeed with distinct addresses. They then
// die without detaching, and recovery reclaims everything.
TEST_F(Net, ConcurrentFirstAttachesGetDistinctAddresses) {
  constexpr int kProcs = 8, kEach = 6;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; p++) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      int code = 0;
      for (int i = 0; i < kEach; i++) {
        try {
          int c = new_netns();
          AttachRequest req;
          req.ports = {{"", 0, 80, "tcp"}};
          auto a = attach(*store_, random_hex(64), "c", c, req, opt_);
          std::string line = a.ip + "\n";
          (void)!::write(fds[1], line.data(), line.size());
        } catch (const std::exception& e) {
          std::string line = std::string("ERR ") + e.what() + "\n";
          (void)!::write(fds[1], line.data(), line.size());
          code = 1;
        }
      }
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  }
  std::set<std::string> ips;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) ips.insert(line);
  EXPECT_EQ(ips.size(), static_cast<size_t>(kProcs * kEach)) << out;
  EXPECT_EQ(Nft().port_elements(opt_.table).size(), static_cast<size_t>(kProcs * kEach));
  EXPECT_EQ(list_networks(*store_).size(), 1u);
  recover(*store_, {}, opt_);
  EXPECT_EQ(files_in(store_->network_leases_dir("bridge")), 0u);
  EXPECT_EQ(files_in(store_->network_endpoints_dir("bridge")), 0u);
  EXPECT_TRUE(Nft().port_elements(opt_.table).empty());
  EXPECT_TRUE(links_with_prefix("mt").empty());
}

// What a run pays, measured as a process does it (fork → exit, so the exit-time socket closes
// count): a new namespace only (--network none) vs. a namespace attached and detached, with and
// without a published port. libnftables is already loaded here (a run with -p pays its dlopen,
// ~0.9 ms, on top).
TEST_F(Net, RunCostInAProcess) {
  default_network(*store_, opt_);
  using ms = std::chrono::duration<double, std::milli>;
  auto run = [&](int mode) {
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        int c = new_netns();
        if (mode > 0) {
          std::string id = random_hex(64);
          AttachRequest req;
          if (mode == 2) req.ports = {{"", 0, 80, "tcp"}};
          attach(*store_, id, "c", c, req, opt_);
          ::close(c);
          detach(*store_, id, opt_, false);
        } else {
          Netlink::in_netns(c).loopback_up();
          ::close(c);
        }
      } catch (...) {
        code = 1;
      }
      ::_exit(code);
    }
    int status = 0;
    rusage ru{};
    ::wait4(pid, &status, 0, &ru);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    double wall = ms(std::chrono::steady_clock::now() - t0).count();
    double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    return std::pair<double, double>{wall, cpu};
  };
  double t[3] = {0, 0, 0}, cpu[3] = {0, 0, 0};
  int n = 40;
  for (int i = 0; i < n; i++)
    for (int m = 0; m < 3; m++) {
      auto [w, c] = run(m);
      t[m] += w;
      cpu[m] += c;
    }
  std::printf("network: a process with a new netns (wall / CPU ms): none %.3f / %.3f, bridge %.3f / %.3f "
              "(+%.3f / +%.3f), bridge with -p %.3f / %.3f (+%.3f / +%.3f)\n",
              t[0] / n, cpu[0] / n, t[1] / n, cpu[1] / n, (t[1] - t[0]) / n, (cpu[1] - cpu[0]) / n, t[2] / n, cpu[2] / n,
              (t[2] - t[0]) / n, (cpu[2] - cpu[0]) / n);
  for (int i = 0; i < 100 && !links_with_prefix("mt").empty(); i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(links_with_prefix("mt").empty());
  EXPECT_EQ(files_in(store_->network_leases_dir("bridge")), 0u);
}

TEST_F(Net, CliNetworkVerbsWithTheStaticBinary) {
  std::string root = dir_->path() + "/clistore";
  auto mr = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", root});
    return run_cmd(args);
  };
  auto c = mr({"network", "create", "--subnet", "10.233.0.0/24", "front"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(c.out.size(), 65u);
  EXPECT_NE(mr({"network", "create", "front"}).code, 0);
  auto ls = mr({"network", "ls"});
  EXPECT_NE(ls.out.find("front"), std::string::npos) << ls.out;
  auto ins = mr({"network", "inspect", "front"});
  ASSERT_EQ(ins.code, 0) << ins.err;
  EXPECT_NE(ins.out.find("\"Subnet\": \"10.233.0.0/24\""), std::string::npos) << ins.out;
  EXPECT_NE(ins.out.find("\"Gateway\": \"10.233.0.1\""), std::string::npos) << ins.out;
  // The bridge exists in this namespace, with minirun's own table (the binary loaded libnftables).
  EXPECT_EQ(links_with_prefix("mr-").size(), 1u);
  EXPECT_TRUE(Nft().has_table("minirun"));
  EXPECT_EQ(mr({"network", "rm", "front"}).code, 0);
  EXPECT_TRUE(links_with_prefix("mr-").empty());
  EXPECT_NE(mr({"network", "inspect", "front"}).code, 0);
  EXPECT_EQ(Nft().element_count("minirun"), 0u);
}

}  // namespace
