// `run`'s networking as root, black box through the minirun binary: the default bridge, -p/-P,
// user-defined networks, none/host/container:, ps/port/inspect, and teardown after --rm, rm,
// kill -9 and many cycles. Each test first moves its thread (and so every minirun it starts)
// into a fresh network namespace standing for "the host", and a private mount namespace: the
// bridge minirun0, the nft table minirun, the veths and the sysctls exist there only and vanish
// with it, even when the test dies. "A machine on the LAN" is one more namespace joined to it by
// a veth pair with TEST-NET-1 addresses (192.0.2.0/24). No traffic leaves these namespaces.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
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

// Sends `request` to ip:port and returns everything read until the peer closes ("ERR …" when
// the connection fails). 2 s timeouts.
std::string talk(const std::string& ip, uint16_t port, const std::string& request) {
  std::string err;
  int s = tcp_connect(ip, port, err);
  if (s < 0) return err;
  (void)!::write(s, request.data(), request.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(s, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(s);
  return out;
}

// The body of GET / from ip:port ("ERR…" when it fails).
std::string http_get(const std::string& ip, uint16_t port) {
  std::string r = talk(ip, port, "GET / HTTP/1.0\r\nHost: x\r\n\r\n");
  if (r.rfind("ERR", 0) == 0) return r;
  auto body = r.find("\r\n\r\n");
  return body == std::string::npos ? "ERR no body: " + r : r.substr(body + 4);
}

// Retries http_get for up to ~10 s until it answers.
std::string http_get_wait(const std::string& ip, uint16_t port) {
  std::string r;
  for (int i = 0; i < 100; i++) {
    r = http_get(ip, port);
    if (r.rfind("ERR", 0) != 0) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// An httpd serving `body` at / on port 80 of the container (busybox httpd in the foreground).
std::string httpd_script(const std::string& body) {
  return "mkdir -p /www && echo " + body + " > /www/index.html && exec busybox httpd -f -p 80 -h /www";
}

class NetRun : public NetContainerTest {
 protected:
  NetRun() : NetContainerTest("minirun-netrun-") {}
  void TearDown() override {
    kill_background();
    if (t_) mr({"rm", "-f", "web", "db", "keep", "victim"});
    NetContainerTest::TearDown();
  }
  // Starts `minirun run ARGS` in the background; its output goes to <tmp>/<log>.
  pid_t bg(std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), "run");
    pid_t p = spawn_cmd(cmd(std::move(args)), *t_ / log);
    bg_.push_back(p);
    return p;
  }
  int wait_bg(pid_t p) {
    int st = 0;
    for (int i = 0; i < 300; i++) {
      pid_t r = ::waitpid(p, &st, WNOHANG);
      if (r == p) {
        bg_.erase(std::remove(bg_.begin(), bg_.end(), p), bg_.end());
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  // Waits until the named container is running (its record says so).
  bool wait_running(const std::string& name) {
    for (int i = 0; i < 200; i++) {
      auto r = mr({"ps", "--format", "json"});
      if (r.out.find("\"Names\":\"" + name + "\"") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // "A machine on the LAN": lan0 (192.0.2.1) on the host <-> eth0 (192.0.2.2) in a namespace.
  int lan() { return host_.lan(); }
  // Nothing of any container left: no veth, no lease, no endpoint, no DNAT element.
  void expect_nothing_left() {
    std::string nets = *t_ / "store/networks";
    std::vector<std::string> veths;
    for (int i = 0; i < 100; i++) {  // the kernel deletes a veth with its namespace, asynchronously
      veths = id_links_with_prefix("mr");
      if (veths.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(veths.empty()) << veths.front();
    if (fs::exists(nets))
      for (const auto& e : fs::directory_iterator(nets)) {
        if (!e.is_directory()) continue;
        EXPECT_EQ(files_in(e.path().string() + "/leases"), 0u) << e.path();
        EXPECT_EQ(files_in(e.path().string() + "/endpoints"), 0u) << e.path();
      }
    network::Nft nft;
    if (nft.has_table("minirun")) {
      EXPECT_TRUE(nft.port_elements("minirun").empty());
    }
  }
  // What `sh -c script` prints in a container run with `flags`.
  CmdResult sh(const std::string& script, std::vector<std::string> flags = {}) {
    std::vector<std::string> a = {"run", "--rm"};
    a.insert(a.end(), flags.begin(), flags.end());
    a.insert(a.end(), {"t/bb", "sh", "-c", script});
    return mr(a);
  }

};

}  // namespace

TEST_F(NetRun, DefaultIsABridgeWithEth0RouteNatAndHosts) {
  int l = lan();
  WhoServer lan_srv(l, 7000);
  auto r = sh("ls /sys/class/net; awk '$2==\"00000000\"{print $3}' /proc/net/route; grep box /etc/hosts;"
              "busybox nc 192.0.2.2 7000",
              {"-h", "box", "--name", "n1"});
  ASSERT_EQ(r.code, 0) << r.err;
  // eth0 and lo; the default route via 172.30.0.1 (little-endian hex); the container's own
  // address for its host name; the LAN machine sees the host's address (masquerade).
  EXPECT_EQ(r.out, "eth0\nlo\n01001EAC\n172.30.0.2\tbox n1\n192.0.2.1\n") << r.err;
  expect_nothing_left();
}

TEST_F(NetRun, PublishedPortFromLoopbackAndFromTheLan) {
  int l = lan();
  pid_t p = bg({"--rm", "--name", "web", "-p", "8080:80", "t/bb", "sh", "-c", httpd_script("hello")}, "web.log");
  EXPECT_EQ(http_get_wait("127.0.0.1", 8080), "hello\n") << read_file(*t_ / "web.log");
  EXPECT_EQ(in_netns(l, [] { return http_get("192.0.2.1", 8080); }), "hello\n");
  // ps, port, inspect show it.
  EXPECT_NE(mr({"ps"}).out.find("0.0.0.0:8080->80/tcp"), std::string::npos) << mr({"ps"}).out;
  EXPECT_EQ(mr({"port", "web"}).out, "80/tcp -> 0.0.0.0:8080\n");
  EXPECT_EQ(mr({"port", "web", "80"}).out, "0.0.0.0:8080\n");
  auto ins = mr({"inspect", "web"}).out;
  EXPECT_NE(ins.find("\"IPAddress\": \"172.30.0.2\""), std::string::npos) << ins;
  EXPECT_NE(ins.find("\"Gateway\": \"172.30.0.1\""), std::string::npos) << ins;
  EXPECT_NE(ins.find("\"MacAddress\": \"02:42:ac:1e:00:02\""), std::string::npos) << ins;
  EXPECT_NE(ins.find("\"HostPort\": \"8080\""), std::string::npos) << ins;
  // A second container can't take the same host port; both can listen on their own port 80.
  EXPECT_NE(sh("true", {"-p", "8080:80"}).code, 0);
  EXPECT_EQ(mr({"rm", "-f", "web"}).code, 0);
  EXPECT_NE(wait_bg(p), -1);
  EXPECT_EQ(http_get("127.0.0.1", 8080).rfind("ERR", 0), 0u);
  expect_nothing_left();
}

TEST_F(NetRun, PublishAllUsesExposedPortsAndFreeHostPorts) {
  ASSERT_EQ(mr({"import", "-c", "EXPOSE 80", *t_ / "rootfs.tar", "t/web"}).code, 0);
  pid_t p = bg({"--rm", "--name", "web", "-P", "t/web", "sh", "-c", httpd_script("all")}, "web.log");
  ASSERT_TRUE(wait_running("web"));
  std::string port;
  for (int i = 0; i < 100 && port.empty(); i++) {
    port = trim(mr({"port", "web", "80/tcp"}).out);
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(port.rfind("0.0.0.0:", 0), 0u) << port;
  uint16_t hp = static_cast<uint16_t>(std::stoi(port.substr(8)));
  EXPECT_NE(hp, 80);
  EXPECT_EQ(http_get_wait("127.0.0.1", hp), "all\n");
  EXPECT_EQ(mr({"rm", "-f", "web"}).code, 0);
  EXPECT_NE(wait_bg(p), -1);
  expect_nothing_left();
}

TEST_F(NetRun, ContainersReachEachOtherByNameOnAUserNetwork) {
  ASSERT_EQ(mr({"network", "create", "--subnet", "10.233.0.0/24", "backend"}).code, 0);
  pid_t p = bg({"--rm", "--name", "db", "--network", "backend", "--ip", "10.233.0.50", "t/bb", "sh", "-c",
                httpd_script("db-here")},
               "db.log");
  std::string loop = "i=0; while [ $i -lt 100 ]; do busybox wget -q -O - http://db/ && exit 0; i=$((i+1)); "
                     "busybox usleep 100000; done; exit 1";
  auto r = sh(loop, {"--network", "backend"});
  EXPECT_EQ(r.out, "db-here\n") << r.err << read_file(*t_ / "db.log");
  // By address too, and a container on the default bridge cannot resolve the name.
  EXPECT_EQ(sh("busybox wget -q -O - http://10.233.0.50/", {"--network", "backend"}).out, "db-here\n");
  EXPECT_NE(sh("grep -w db /etc/hosts").code, 0);
  // --add-host and --dns land in the files.
  auto f = sh("cat /etc/hosts /etc/resolv.conf", {"--network", "backend", "--add-host", "gw.example:10.233.0.1",
                                                  "--dns", "10.233.0.1"});
  EXPECT_NE(f.out.find("10.233.0.1\tgw.example\n"), std::string::npos) << f.out;
  EXPECT_NE(f.out.find("nameserver 10.233.0.1"), std::string::npos) << f.out;
  EXPECT_EQ(mr({"rm", "-f", "db"}).code, 0);
  EXPECT_NE(wait_bg(p), -1);
  expect_nothing_left();
  EXPECT_EQ(mr({"network", "rm", "backend"}).code, 0);
}

TEST_F(NetRun, NoneHostAndContainerModesAsDocker) {
  // none: lo only.
  EXPECT_EQ(sh("ls /sys/class/net", {"--network", "none"}).out, "lo\n");
  // host: the host's interfaces (the test's namespace: lo and the LAN link made here).
  lan();
  auto h = sh("ls /sys/class/net", {"--network", "host"});
  EXPECT_EQ(h.out, "lan0\nlo\n") << h.err;
  EXPECT_EQ(id_links_with_prefix("mr").size(), 0u);
  // container:NAME: the other container's namespace (its eth0, MAC and localhost services).
  pid_t p = bg({"--rm", "--name", "web", "--mac-address", "02:42:0a:00:00:99", "t/bb", "sh", "-c",
                httpd_script("shared")},
               "web.log");
  ASSERT_TRUE(wait_running("web"));
  std::string loop = "i=0; while [ $i -lt 100 ]; do busybox wget -q -O - http://127.0.0.1/ && break; i=$((i+1)); "
                     "busybox usleep 100000; done; cat /sys/class/net/eth0/address";
  auto c = sh(loop, {"--network", "container:web"});
  EXPECT_EQ(c.out, "shared\n02:42:0a:00:00:99\n") << c.err;
  EXPECT_NE(sh("true", {"--network", "container:web", "-p", "81:80"}).code, 0);  // conflicting options
  EXPECT_NE(sh("true", {"--network", "container:nosuch"}).code, 0);
  EXPECT_NE(sh("true", {"--ip", "172.30.0.9"}).code, 0);  // --ip: user-defined networks only
  EXPECT_NE(sh("true", {"--network", "nosuchnet"}).code, 0);
  EXPECT_EQ(mr({"rm", "-f", "web"}).code, 0);
  EXPECT_NE(wait_bg(p), -1);
  expect_nothing_left();
}

TEST_F(NetRun, NothingLeftAfterRmRunRmAndKill9) {
  // Exited without --rm: detached at the exit; rm removes the rest.
  ASSERT_EQ(mr({"run", "--name", "keep", "-p", "9000:80", "t/bb", "true"}).code, 0);
  expect_nothing_left();
  EXPECT_EQ(mr({"rm", "keep"}).code, 0);
  // rm -f of a running container.
  pid_t p = bg({"--name", "victim", "-p", "9001:80", "t/bb", "sleep", "100"}, "victim.log");
  ASSERT_TRUE(wait_running("victim"));
  EXPECT_EQ(id_links_with_prefix("mr").size(), 1u);
  EXPECT_EQ(mr({"rm", "-f", "victim"}).code, 0);
  EXPECT_NE(wait_bg(p), -1);
  expect_nothing_left();
  // kill -9 of minirun itself: its container dies with it (PDEATHSIG); the next verb recovers.
  p = bg({"--rm", "--name", "victim", "-p", "9002:80", "t/bb", "sleep", "100"}, "victim.log");
  ASSERT_TRUE(wait_running("victim"));
  ::kill(p, SIGKILL);
  EXPECT_EQ(wait_bg(p), 128 + SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  mr({"ps"});  // start-up recovery
  expect_nothing_left();
}

TEST_F(NetRun, TwoHundredRunRmCyclesLeakNothing) {
  for (int i = 0; i < 200; i++) {
    std::vector<std::string> a = {"run", "--name", "c"};
    if (i % 2) a.insert(a.end(), {"-p", "80"});
    a.insert(a.end(), {"t/bb", "true"});
    auto r = mr(a);
    ASSERT_EQ(r.code, 0) << i << ": " << r.err;
    ASSERT_EQ(mr({"rm", "c"}).code, 0) << i;
  }
  expect_nothing_left();
  EXPECT_EQ(files_in(*t_ / "store/containers"), 1u);  // names/ only
}

// Addresses are distinct among containers that run at the same time (one released by an exit may
// be leased again): each holds its address until all twenty have printed theirs (/sync/go).
TEST_F(NetRun, TwentyConcurrentRunsGetDistinctAddresses) {
  const std::string sync = *t_ / "sync";
  std::filesystem::create_directories(sync);
  std::vector<pid_t> ps;
  for (int i = 0; i < 20; i++)
    ps.push_back(bg({"--rm", "-v", sync + ":/sync", "t/bb", "sh", "-c",
                     "busybox ip -o -4 addr show dev eth0 | busybox awk '{print $4}'; "
                     "i=0; while [ ! -e /sync/go ] && [ $i -lt 600 ]; do busybox sleep 0.1; i=$((i+1)); done"},
                    "c" + std::to_string(i) + ".log"));
  auto printed = [&] {
    int n = 0;
    for (int i = 0; i < 20; i++) {
      const auto log = *t_ / ("c" + std::to_string(i) + ".log");
      n += std::filesystem::exists(log) && !trim(read_file(log)).empty();
    }
    return n;
  };
  for (int k = 0; k < 1200 && printed() < 20; k++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(printed(), 20);
  write_file(sync + "/go", "");
  std::set<std::string> addrs;
  for (int i = 0; i < 20; i++) {
    EXPECT_EQ(wait_bg(ps[static_cast<size_t>(i)]), 0) << read_file(*t_ / ("c" + std::to_string(i) + ".log"));
    std::string a = trim(read_file(*t_ / ("c" + std::to_string(i) + ".log")));
    EXPECT_EQ(a.rfind("172.30.", 0), 0u) << a;
    addrs.insert(a);
  }
  EXPECT_EQ(addrs.size(), 20u);
  expect_nothing_left();
}

// A detached container on the default bridge gets its network back each time it runs
// again in a new network namespace — restarted by its policy, by `start` after `stop`, by
// `restart`: eth0 with an address, its published port answering; nothing left after rm -f.
// The network is attached on a thread while the container's process sets up (runtime/container.cpp
// Attacher): an attach that fails (a host port another container holds) fails the run, with
// Docker's message, and leaves nothing of it — foreground and detached alike.
TEST_F(NetRun, AnAttachThatFailsFailsTheRunAndLeavesNothing) {
  auto web = mr({"run", "-d", "--name", "web", "-p", "18093:80", "t/bb", "sleep", "1000"});
  ASSERT_EQ(web.code, 0) << web.err;
  auto fg = sh("echo ran", {"-p", "18093:80"});
  EXPECT_EQ(fg.code, 125);
  EXPECT_EQ(fg.out, "");
  EXPECT_NE(fg.err.find("port is already allocated"), std::string::npos) << fg.err;
  auto det = mr({"run", "-d", "--name", "web2", "-p", "18093:80", "t/bb", "sleep", "1000"});
  EXPECT_NE(det.code, 0);
  EXPECT_NE(det.err.find("port is already allocated"), std::string::npos) << det.err;
  EXPECT_EQ(mr({"ps", "--format", "{{.Names}}"}).out, "web\n");
  mr({"rm", "-f", "web", "web2"});
  EXPECT_EQ(mr({"ps", "-aq"}).out, "");
  expect_nothing_left();
}

TEST_F(NetRun, DetachedContainerGetsItsNetworkBackOnEveryStart) {
  const std::string script =
      "mkdir -p /www; echo up > /www/index.html; ip -4 addr show eth0 | grep -q 'inet 172.30' && echo has-eth0;"
      "busybox httpd -f -p 80 -h /www & sleep 2; exit 1";
  auto r = mr({"run", "-d", "--name", "web", "--restart", "on-failure:10", "-p", "8080:80", "t/bb", "sh", "-c", script});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(http_get_wait("127.0.0.1", 8080), "up\n");
  // Restarted by its policy (the script exits 1 after 2 s): the port answers again.
  auto restarts = [&] {
    auto ins = mr({"inspect", "--format", "{{.RestartCount}}", "web"});
    return ins.code == 0 ? std::atoi(ins.out.c_str()) : -1;
  };
  for (int i = 0; i < 100 && restarts() < 1; i++) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GE(restarts(), 1);
  EXPECT_EQ(http_get_wait("127.0.0.1", 8080), "up\n");
  // stop, then start; then restart.
  ASSERT_EQ(mr({"stop", "-t", "1", "web"}).code, 0);
  EXPECT_EQ(http_get("127.0.0.1", 8080).rfind("ERR", 0), 0u);
  ASSERT_EQ(mr({"start", "web"}).code, 0);
  EXPECT_EQ(http_get_wait("127.0.0.1", 8080), "up\n");
  ASSERT_EQ(mr({"restart", "-t", "1", "web"}).code, 0);
  EXPECT_EQ(http_get_wait("127.0.0.1", 8080), "up\n");
  // stats' NET I/O: the container's eth0 counters (the page went out, the request came in).
  auto st = mr({"stats", "--no-stream", "--format", "json", "web"});
  EXPECT_EQ(st.code, 0) << st.err;
  EXPECT_NE(st.out.find("\"NetIO\":\""), std::string::npos) << st.out;
  EXPECT_EQ(st.out.find("\"NetIO\":\"0B / 0B\""), std::string::npos) << st.out;
  auto logs = mr({"logs", "web"}).out;
  size_t runs = 0;
  for (size_t at = 0; (at = logs.find("has-eth0", at)) != std::string::npos; at++) runs++;
  EXPECT_GE(runs, 4u) << logs;  // every run had its eth0 with an address
  EXPECT_EQ(mr({"rm", "-f", "web"}).code, 0);
  expect_nothing_left();
}
