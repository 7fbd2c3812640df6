// net_fixture.h — what the network root tests share: the test thread's move into a fresh network
// namespace standing for "the host" (and a private mount namespace) and back, further namespaces
// (containers, "a machine on the LAN" joined to the host by a veth pair with TEST-NET-1
// addresses), code run on a thread inside one, TCP/UDP servers there answering with the peer's
// address, a TCP client connection with timeouts, and the host's interfaces by name prefix.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "container_fixture.h"
#include "minirun/util/error.h"

namespace minirun::test {

// libnftables.so.1 is installed (bridge networks dlopen it); tests GTEST_SKIP() without it.
bool have_libnftables();

// A new network namespace, held by the returned fd (made on a thread, so this one stays).
int new_netns();

// Runs f on a thread inside the namespace netns_fd and returns its result (throws Error with
// what f threw, or when setns fails).
template <class F>
auto in_netns(int netns_fd, F f) -> decltype(f()) {
  decltype(f()) out{};
  std::string err;
  std::thread t([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) return void(err = "setns failed");
    try {
      out = f();
    } catch (const std::exception& e) {
      err = e.what();
    }
  });
  t.join();
  if (!err.empty()) throw Error(err);
  return out;
}

// The calling thread in a fresh network namespace standing for "the host" (every process it
// starts is there too), with lo up, and, when asked, in a private mount namespace (MS_REC |
// MS_PRIVATE): whatever a test makes there vanishes with it. enter() in SetUp, leave() in
// TearDown (gtest runs both on the test's thread).
class TestHost {
 public:
  // Asserts (ASSERT_*): SetUp wraps it in ASSERT_NO_FATAL_FAILURE.
  void enter(bool private_mounts);
  // Closes every namespace made by netns() and lan(), then back to the thread's own namespaces
  // (expected to succeed). Nothing when enter() was not called.
  void leave();
  // The host namespace, held open from enter() to leave().
  int fd() const { return host_; }
  // A new namespace (a container's), closed by leave().
  int netns();
  // "A machine on the LAN": a namespace joined to the host by lan0 (192.0.2.1) <-> eth0
  // (192.0.2.2, default route via 192.0.2.1); closed by leave().
  int lan();

 private:
  int orig_net_ = -1, orig_mnt_ = -1, host_ = -1;
  bool in_mntns_ = false;
  std::vector<int> fds_;
};

// The fixture of the tests that run the binary on bridge networks: SetUp skips without root or
// libnftables, moves the test into a TestHost (with private mounts) and makes the store; TearDown
// kills and reaps what bg_ still holds, removes the store and leaves the host.
class NetContainerTest : public ContainerTest {
 protected:
  explicit NetContainerTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override;
  void TearDown() override;
  CmdResult mr(std::vector<std::string> args) { return ContainerTest::mr(std::move(args), 120); }
  // SIGKILLs and reaps every process bg_ still holds.
  void kill_background();

  TestHost host_;
  std::vector<pid_t> bg_;  // minirun processes started in the background (0: reaped)

 private:
  std::string prefix_;
};

// A server on a thread inside a namespace, on `port` of every address: `serve` gets the socket
// each time it is readable. Until destroyed (a poll timeout per round, so it never hangs a test);
// throws Error when it cannot bind.
class NsServer {
 public:
  NsServer(int netns_fd, int type, uint16_t port, std::function<void(int sock)> serve);
  ~NsServer();
  NsServer(const NsServer&) = delete;
  NsServer& operator=(const NsServer&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::function<void(int)> serve_;
  std::thread t_;
};

// TCP: answers each connection with the address it came from ("who am I to you") and a newline,
// then closes it.
class WhoServer : public NsServer {
 public:
  WhoServer(int netns_fd, uint16_t port);
};

// UDP: answers each datagram with its source address.
class UdpWhoServer : public NsServer {
 public:
  UdpWhoServer(int netns_fd, uint16_t port);
};

// A TCP connection to ip:port from the calling thread's namespace, with 2 s send and receive
// timeouts; -1 with err = "ERR connect: <reason>" when it fails.
int tcp_connect(const std::string& ip, uint16_t port, std::string& err);

// Interfaces of the calling thread's namespace whose name starts with prefix.
std::vector<std::string> links_with_prefix(const std::string& prefix);
// Those named prefix + 12 hex digits (minirun's host-side veths are "mr<12 of the id>").
std::vector<std::string> id_links_with_prefix(const std::string& prefix);

}  // namespace minirun::test
