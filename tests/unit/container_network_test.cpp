// run's network flags → NetworkPlan (engine/container_network.h), and the image config's
// ExposedPorts (-P). No root, no kernel objects: validation and parsing only.
#include <gtest/gtest.h>

#include "minirun/engine/container_network.h"
#include "minirun/image/image_config.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;

TEST(ContainerNetwork, DefaultIsTheBridgeWithPortsAndHosts) {
  TempDir t;
  Store store(t.path() + "/store");
  NetworkFlags f;
  f.publish = {"8080:80", "127.0.0.1::53/udp"};
  f.publish_all = true;
  f.add_host = {"db.example:10.0.0.5"};
  f.dns = {"10.0.0.1"};
  auto p = plan_network(store, f, {"443/tcp"}, "box");
  EXPECT_EQ(p.mode, "bridge");
  EXPECT_EQ(p.network_mode, "bridge");
  EXPECT_TRUE(p.attaches());
  EXPECT_EQ(p.attach.network, "bridge");
  EXPECT_EQ(p.attach.hostname, "box");
  ASSERT_EQ(p.attach.ports.size(), 3u);
  EXPECT_EQ(p.attach.ports[0], (network::PortMapping{"", 8080, 80, "tcp"}));
  EXPECT_EQ(p.attach.ports[1], (network::PortMapping{"127.0.0.1", 0, 53, "udp"}));
  EXPECT_EQ(p.attach.ports[2], (network::PortMapping{"", 0, 443, "tcp"}));
  ASSERT_EQ(p.attach.extra_hosts.size(), 1u);
  EXPECT_EQ(p.attach.extra_hosts[0], (std::pair<std::string, std::string>{"db.example", "10.0.0.5"}));
  EXPECT_EQ(p.attach.dns.servers, std::vector<std::string>{"10.0.0.1"});
}

TEST(ContainerNetwork, DockersRefusals) {
  TempDir t;
  Store store(t.path() + "/store");
  auto plan = [&](std::string net, std::vector<std::string> publish = {}, std::string ip = "", std::string mac = "") {
    NetworkFlags f;
    f.network = net;
    f.publish = publish;
    f.ip = ip;
    f.mac = mac;
    return plan_network(store, f, {}, "h");
  };
  EXPECT_THROW(plan("bridge", {}, "172.30.0.9"), Error);     // --ip: user-defined networks only
  EXPECT_THROW(plan("nosuchnet"), Error);                    // unknown network
  EXPECT_THROW(plan("container:nosuch"), Error);             // no such container
  EXPECT_THROW(plan("container:"), Error);
  EXPECT_THROW(plan("host", {}, "", "02:42:ac:11:00:02"), Error);  // mac-address and the network mode
  EXPECT_THROW(plan("bridge", {"80:80:80"}), Error);         // invalid port format
  EXPECT_THROW(plan("bridge", {}, "", "zz:42"), Error);      // invalid MAC
  // none and host: no attach; -p is discarded (with a warning), as in Docker.
  auto none = plan("none", {"80"});
  EXPECT_FALSE(none.attaches());
  EXPECT_TRUE(none.attach.ports.empty());
  EXPECT_EQ(plan("host").network_mode, "host");
  EXPECT_EQ(plan("").network_mode, "bridge");
}

TEST(ContainerNetwork, ImageConfigExposedPorts) {
  auto cfg = parse_image_config(
      R"({"config":{"ExposedPorts":{"80/tcp":{},"53/udp":{}}},"rootfs":{"type":"layers","diff_ids":[]}})");
  EXPECT_EQ(cfg.exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp"}));  // JSON object order
  EXPECT_TRUE(parse_image_config(R"({"config":{},"rootfs":{"type":"layers","diff_ids":[]}})").exposed_ports.empty());
  EXPECT_THROW(parse_image_config(R"({"config":{"ExposedPorts":[]},"rootfs":{"type":"layers","diff_ids":[]}})"),
               Error);
}
