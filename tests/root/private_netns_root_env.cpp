// Every root test runs in a network namespace of its own: `run`'s default network is a bridge
// (minirun0, the nft table minirun, ip_forward), which must never appear on the machine running
// the tests. Before the first test, the process's main thread (gtest runs every test on it, and
// every thread and process a test starts inherits it) moves into a fresh network namespace with
// lo up; it vanishes with the process. Tests that need a namespace of their own
// (network_root_test, netrun_root_test) make one below this.
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "minirun/network/netlink.h"

namespace {

class PrivateNetns : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::geteuid() != 0) return;
    if (::unshare(CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "private network namespace: %s\n", std::strerror(errno));
      std::abort();  // never run the tests on the host's own network
    }
    minirun::network::Netlink().loopback_up();
  }
};

[[maybe_unused]] ::testing::Environment* const kPrivateNetns = ::testing::AddGlobalTestEnvironment(new PrivateNetns);

}  // namespace
