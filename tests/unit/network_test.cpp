// Bridge networking without root: -p parsing and display, subnet arithmetic, address leases
// (exclusive, released only by their owner), MACs, hosts and resolv.conf content, the in-place
// rewrite, and the nft command text.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "minirun/network/hosts.h"
#include "minirun/network/ipam.h"
#include "minirun/network/netlink.h"
#include "minirun/network/nft.h"
#include "minirun/network/ports.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::network;
using minirun::test::TempDir;

TEST(Ports, ParsesDockerForms) {
  EXPECT_EQ(parse_port("8080:80"), (std::vector<PortMapping>{{"", 8080, 80, "tcp"}}));
  EXPECT_EQ(parse_port("80"), (std::vector<PortMapping>{{"", 0, 80, "tcp"}}));
  EXPECT_EQ(parse_port("127.0.0.1:8080:80/udp"), (std::vector<PortMapping>{{"127.0.0.1", 8080, 80, "udp"}}));
  EXPECT_EQ(parse_port("127.0.0.1::80"), (std::vector<PortMapping>{{"127.0.0.1", 0, 80, "tcp"}}));
  EXPECT_EQ(parse_port("0.0.0.0:53:53/udp"), (std::vector<PortMapping>{{"", 53, 53, "udp"}}));
  EXPECT_EQ(parse_port("8000-8001:80-81"),
            (std::vector<PortMapping>{{"", 8000, 80, "tcp"}, {"", 8001, 81, "tcp"}}));
  EXPECT_EQ(parse_port("9000-9001").size(), 2u);
}

TEST(Ports, RejectsMalformed) {
  for (const char* bad : {"", "abc", "8080:", "70000:80", "80:0", "1.2.3:80:80", "80/sctp", "8000-8002:80-81",
                          "90-80:80", "8080:80:90:100"})
    EXPECT_THROW(parse_port(bad), Error) << bad;
}

TEST(Ports, ExposedAndFormat) {
  auto m = exposed_ports({"80/tcp", "53/udp", "8080"});
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1], (PortMapping{"", 0, 53, "udp"}));
  EXPECT_EQ(format_port({"", 8080, 80, "tcp"}), "0.0.0.0:8080->80/tcp");
  EXPECT_EQ(format_port({"127.0.0.1", 1, 2, "udp"}), "127.0.0.1:1->2/udp");
}

TEST(Ipam, SubnetArithmetic) {
  Subnet s = parse_subnet("172.30.0.0/16");
  EXPECT_EQ(s.str(), "172.30.0.0/16");
  EXPECT_EQ(ip_string(s.broadcast()), "172.30.255.255");
  EXPECT_TRUE(s.contains(*parse_ip("172.30.4.5")));
  EXPECT_FALSE(s.contains(*parse_ip("172.31.0.1")));
  EXPECT_TRUE(s.overlaps(parse_subnet("172.0.0.0/8")));
  EXPECT_TRUE(s.overlaps(parse_subnet("172.30.7.0/24")));
  EXPECT_FALSE(s.overlaps(parse_subnet("172.31.0.0/16")));
  EXPECT_THROW(parse_subnet("172.30.0.1/16"), Error);  // host bits
  EXPECT_THROW(parse_subnet("172.30.0.0"), Error);
  EXPECT_THROW(parse_subnet("172.30.0.0/31"), Error);
  EXPECT_THROW(parse_subnet("x/16"), Error);
}

TEST(Ipam, LeasesAreExclusiveAndReleasedByTheirOwnerOnly) {
  TempDir t;
  Subnet s = parse_subnet("10.9.0.0/29");  // .1 gateway, .2-.6 usable, .7 broadcast
  Ipam ipam(t.path(), s, *parse_ip("10.9.0.1"));
  std::set<Ip4> got;
  for (int i = 0; i < 5; i++) got.insert(ipam.claim("c" + std::to_string(i)));
  EXPECT_EQ(got.size(), 5u);
  EXPECT_EQ(ip_string(*got.begin()), "10.9.0.2");
  EXPECT_EQ(ip_string(*got.rbegin()), "10.9.0.6");
  EXPECT_THROW(ipam.claim("full"), Error);
  ipam.release(*parse_ip("10.9.0.4"), "someone-else");  // not its lease: kept
  EXPECT_EQ(ipam.leases().size(), 5u);
  ipam.release(*parse_ip("10.9.0.4"), "c2");
  EXPECT_EQ(ip_string(ipam.claim("again")), "10.9.0.4");
  auto leases = ipam.leases();
  ASSERT_EQ(leases.size(), 5u);
  EXPECT_EQ(leases[0].owner, Store::owner_tag());
  EXPECT_TRUE(Store::owner_alive(leases[0].owner));
  EXPECT_FALSE(Store::owner_alive("999999999.00000000"));
}

TEST(Ipam, RequestedAddress) {
  TempDir t;
  Ipam ipam(t.path(), parse_subnet("10.9.0.0/24"), *parse_ip("10.9.0.1"));
  EXPECT_EQ(ip_string(ipam.claim("a", parse_ip("10.9.0.77"))), "10.9.0.77");
  EXPECT_THROW(ipam.claim("b", parse_ip("10.9.0.77")), Error);  // taken
  EXPECT_THROW(ipam.claim("b", parse_ip("10.9.0.1")), Error);   // gateway
  EXPECT_THROW(ipam.claim("b", parse_ip("10.9.1.5")), Error);   // outside
  EXPECT_THROW(ipam.claim("b", parse_ip("10.9.0.255")), Error); // broadcast
}

TEST(Ipam, ConcurrentClaimsGetDistinctAddresses) {
  TempDir t;
  Ipam ipam(t.path(), parse_subnet("10.9.0.0/24"), *parse_ip("10.9.0.1"));
  std::vector<Ip4> got(100);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; i++)
    ts.emplace_back([&, i] {
      for (int k = 0; k < 25; k++) got[i * 25 + k] = ipam.claim("c" + std::to_string(i * 25 + k));
    });
  for (auto& th : ts) th.join();
  EXPECT_EQ(std::set<Ip4>(got.begin(), got.end()).size(), 100u);
}

TEST(Mac, FromAddressAndParsed) {
  EXPECT_EQ(mac_string(mac_for(*parse_ip("172.30.0.2"))), "02:42:ac:1e:00:02");
  EXPECT_EQ(mac_string(parse_mac("02:aa:bb:cc:dd:ee")), "02:aa:bb:cc:dd:ee");
  EXPECT_THROW(parse_mac("01:00:5e:00:00:01"), Error);  // multicast
  EXPECT_THROW(parse_mac("00:00:00:00:00:00"), Error);
  EXPECT_THROW(parse_mac("02:42:ac:1e:00"), Error);
  EXPECT_THROW(parse_mac("02:42:ac:1e:00:0g"), Error);
}

TEST(Hosts, OwnNameExtraHostsAndPeers) {
  std::string h = hosts_content({"10.1.0.5", "abc123", "web", {{"db.local", "10.2.0.9"}}, {{"cache", "10.1.0.6"}}});
  EXPECT_NE(h.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(h.find("10.2.0.9\tdb.local\n"), std::string::npos);
  EXPECT_NE(h.find("10.1.0.5\tabc123 web\n"), std::string::npos);
  EXPECT_NE(h.find("10.1.0.6\tcache\n"), std::string::npos);
  EXPECT_LT(h.find("abc123 web"), h.find("cache"));
  EXPECT_NE(hosts_content({"", "box", "", {}, {}}).find("127.0.1.1\tbox\n"), std::string::npos);
}

TEST(Hosts, ResolvDropsLoopbackServers) {
  std::string resolved = "# systemd-resolved stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n";
  std::string upstream = "nameserver 192.0.2.53\nnameserver ::1\n";
  std::string r = resolv_content(resolved, upstream, {});
  EXPECT_EQ(r, "nameserver 192.0.2.53\noptions edns0 trust-ad\nsearch lan\n");
  EXPECT_EQ(resolv_content("nameserver 127.0.0.1\n", "", {}), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  EXPECT_EQ(resolv_content("nameserver 198.51.100.1\nsearch a\n", "", {{"203.0.113.1"}, {"x.y"}, {"ndots:2"}}),
            "nameserver 203.0.113.1\nsearch x.y\noptions ndots:2\n");
}

TEST(Hosts, AddHostParsing) {
  EXPECT_EQ(parse_add_host("db:10.0.0.2"), (std::pair<std::string, std::string>{"db", "10.0.0.2"}));
  EXPECT_EQ(parse_add_host("v6:[::1]").second, "::1");
  EXPECT_THROW(parse_add_host("nohost"), Error);
  EXPECT_THROW(parse_add_host("db:notanip"), Error);
  EXPECT_THROW(parse_add_host(":1.2.3.4"), Error);
}

TEST(Hosts, RewriteInPlaceKeepsTheInode) {
  TempDir t;
  std::string p = t / "hosts";
  rewrite_in_place(p, "a long first content\nwith two lines\n");
  struct stat a, b;
  ASSERT_EQ(::stat(p.c_str(), &a), 0);
  rewrite_in_place(p, "short\n");
  ASSERT_EQ(::stat(p.c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(minirun::test::read_file(p), "short\n");
}

TEST(Nft, CommandText) {
  std::string t = table_script("mrt1");
  EXPECT_EQ(t.rfind("create table ip mrt1 \n", 0), 0u);
  EXPECT_NE(t.find("add rule ip mrt1 postrouting ip saddr @subnets oifname != @bridges masquerade"), std::string::npos);
  EXPECT_NE(t.find("add rule ip mrt1 output fib daddr type local jump published"), std::string::npos);
  EXPECT_NE(t.find("guard iifname @bridges ip daddr 127.0.0.0/8 drop"), std::string::npos);
  EXPECT_EQ(network_elements("add", "mrt1", "br0", parse_subnet("10.5.0.0/16")),
            "add element ip mrt1 bridges { \"br0\" }\nadd element ip mrt1 subnets { 10.5.0.0/16 }\n");
  std::vector<PortMapping> ports{{"", 8080, 80, "tcp"}, {"127.0.0.1", 5353, 53, "udp"}};
  EXPECT_EQ(port_elements("add", "mrt1", "abc", *parse_ip("10.5.0.2"), ports),
            "add element ip mrt1 dnat_tcp { 8080 comment \"abc\" : 10.5.0.2 . 80 }\n"
            "add element ip mrt1 dnat_addr_udp { 127.0.0.1 . 5353 comment \"abc\" : 10.5.0.2 . 53 }\n");
  EXPECT_EQ(port_elements("delete", "mrt1", "abc", *parse_ip("10.5.0.2"), ports),
            "delete element ip mrt1 dnat_tcp { 8080 }\ndelete element ip mrt1 dnat_addr_udp { 127.0.0.1 . 5353 }\n");
  EXPECT_EQ(port_elements("add", "mrt1", "abc", 0, {}), "");
}
