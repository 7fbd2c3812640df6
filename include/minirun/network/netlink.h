// netlink.h — the links, addresses and routes of bridge networking, over rtnetlink with
// libnl-route-3 (no `ip` process): the bridge, a container's veth pair, its eth0 configuration.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "minirun/network/ipam.h"

struct nl_sock;

namespace minirun::network {

using Mac = std::array<uint8_t, 6>;
// Docker's scheme: 02:42 and the four bytes of the address, so a reused address keeps its MAC
// and neighbours' ARP caches stay right.
Mac mac_for(Ip4 ip);
std::string mac_string(const Mac& m);
// "02:42:ac:1e:00:02" → Mac; Error when malformed, multicast or zero.
Mac parse_mac(const std::string& s);

class Netlink {
 public:
  // A rtnetlink socket in the calling thread's network namespace.
  Netlink();
  // A rtnetlink socket in the network namespace netns_fd: this thread setns()es there to create
  // it and back at once (a socket stays in the namespace it was created in).
  static Netlink in_netns(int netns_fd);
  ~Netlink();
  Netlink(Netlink&& o) noexcept : sk_(o.sk_) { o.sk_ = nullptr; }
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // The index of a link by name; 0 when there is none.
  int link_index(const std::string& name);
  // Creates the bridge (an existing one is fine), gives it gateway/prefix and brings it up.
  // Returns its index.
  int ensure_bridge(const std::string& name, Ip4 gateway, int prefix);
  // Creates the veth pair host_name <-> peer_name with the peer directly in netns_fd, with MAC
  // peer_mac: the host end enslaved to bridge_index (0: to none) and up, in one request.
  void add_veth(const std::string& host_name, int bridge_index, int netns_fd, const std::string& peer_name,
                const Mac& peer_mac);
  // Inside a container's namespace (a socket from in_netns): lo up, `ifname` gets ip/prefix and
  // comes up, default route via gateway.
  void configure_container(const std::string& ifname, Ip4 ip, int prefix, Ip4 gateway);
  // Gives a link an address (an existing one is fine) and brings it up.
  void add_address(const std::string& ifname, Ip4 ip, int prefix);
  // Brings lo up (for --network none too).
  void loopback_up();
  // Deletes a link; false when there was none.
  bool delete_link(const std::string& name);
  // Destinations of the main table's IPv4 routes (to choose a subnet that collides with none).
  std::vector<Subnet> ipv4_routes();

 private:
  explicit Netlink(nl_sock* sk) : sk_(sk) {}
  void set_up(int index);
  nl_sock* sk_;
};

}  // namespace minirun::network
