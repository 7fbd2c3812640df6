#include "net_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "minirun/network/netlink.h"

namespace minirun::test {

bool have_libnftables() {
  return ::access("/usr/lib/x86_64-linux-gnu/libnftables.so.1", F_OK) == 0 ||
         ::access("/lib/x86_64-linux-gnu/libnftables.so.1", F_OK) == 0;
}

int new_netns() {
  int fd = -1;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) == 0) fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  });
  t.join();
  if (fd < 0) throw sys_error("new network namespace");
  return fd;
}

void TestHost::enter(bool private_mounts) {
  orig_net_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (private_mounts) orig_mnt_ = ::open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(orig_net_, 0);
  ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);  // this thread is now "the host"
  if (private_mounts && ::unshare(CLONE_NEWNS) == 0) {
    in_mntns_ = true;
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
  }
  host_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  network::Netlink().loopback_up();
}

void TestHost::leave() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  if (host_ >= 0) ::close(host_);
  host_ = -1;
  if (in_mntns_ && orig_mnt_ >= 0) {
    EXPECT_EQ(::setns(orig_mnt_, CLONE_NEWNS), 0) << std::strerror(errno);
  }
  in_mntns_ = false;
  if (orig_mnt_ >= 0) ::close(orig_mnt_);
  orig_mnt_ = -1;
  // Back to the real namespace: the test's host namespace, and with it the bridge, veths and
  // nft table, is gone once nothing refers to it.
  if (orig_net_ >= 0) {
    EXPECT_EQ(::setns(orig_net_, CLONE_NEWNET), 0);
    ::close(orig_net_);
  }
  orig_net_ = -1;
}

int TestHost::netns() {
  int fd = new_netns();
  fds_.push_back(fd);
  return fd;
}

int TestHost::lan() {
  int fd = netns();
  network::Netlink nl;
  nl.add_veth("lan0", 0, fd, "eth0", network::parse_mac("02:00:00:00:00:02"));
  nl.add_address("lan0", *network::parse_ip("192.0.2.1"), 24);
  network::Netlink::in_netns(fd).configure_container("eth0", *network::parse_ip("192.0.2.2"), 24,
                                                     *network::parse_ip("192.0.2.1"));
  return fd;
}

void NetContainerTest::SetUp() {
  MINIRUN_REQUIRE_ROOT();
  if (!have_libnftables()) GTEST_SKIP() << "libnftables1 not installed";
  ASSERT_NO_FATAL_FAILURE(host_.enter(true));
  make_store(prefix_);
}

void NetContainerTest::kill_background() {
  for (pid_t p : bg_) {
    if (p <= 0) continue;
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
  bg_.clear();
}

void NetContainerTest::TearDown() {
  kill_background();
  t_.reset();
  host_.leave();
}

NsServer::NsServer(int netns_fd, int type, uint16_t port, std::function<void(int)> serve) : serve_(std::move(serve)) {
  std::atomic<int> ready{0};
  t_ = std::thread([this, netns_fd, type, port, &ready] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) return void(ready = -1);
    int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    int one = 1;
    if (type == SOCK_STREAM) ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || (type == SOCK_STREAM && ::listen(s, 64) != 0)) {
      ::close(s);
      return void(ready = -1);
    }
    ready = 1;
    while (!stop_) {
      pollfd p{s, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      serve_(s);
    }
    ::close(s);
  });
  while (ready == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (ready < 0) {
    t_.join();
    throw Error(type == SOCK_STREAM ? "server did not start" : "udp server did not start");
  }
}

NsServer::~NsServer() {
  stop_ = true;
  t_.join();
}

WhoServer::WhoServer(int netns_fd, uint16_t port)
    : NsServer(netns_fd, SOCK_STREAM, port, [](int s) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        int c = ::accept4(s, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (c < 0) return;
        char buf[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &peer.sin_addr, buf, sizeof buf);
        std::string msg = std::string(buf) + "\n";
        (void)!::write(c, msg.data(), msg.size());
        ::close(c);
      }) {}

UdpWhoServer::UdpWhoServer(int netns_fd, uint16_t port)
    : NsServer(netns_fd, SOCK_DGRAM, port, [](int s) {
        char buf[64];
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        if (::recvfrom(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len) < 0) return;
        char a[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &peer.sin_addr, a, sizeof a);
        ::sendto(s, a, std::strlen(a), 0, reinterpret_cast<sockaddr*>(&peer), len);
      }) {}

int tcp_connect(const std::string& ip, uint16_t port, std::string& err) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
  if (::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    err = std::string("ERR connect: ") + std::strerror(errno);
    ::close(s);
    return -1;
  }
  return s;
}

std::vector<std::string> links_with_prefix(const std::string& prefix) {
  std::vector<std::string> out;
  if (auto* ifs = ::if_nameindex()) {
    for (auto* i = ifs; i->if_index; i++)
      if (std::string(i->if_name).rfind(prefix, 0) == 0) out.push_back(i->if_name);
    ::if_freenameindex(ifs);
  }
  return out;
}

std::vector<std::string> id_links_with_prefix(const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& n : links_with_prefix(prefix))
    if (n.size() == prefix.size() + 12 && n.find_first_not_of("0123456789abcdef", prefix.size()) == std::string::npos)
      out.push_back(std::move(n));
  return out;
}

}  // namespace minirun::test
