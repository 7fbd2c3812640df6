// netlink.cpp — rtnetlink through libnl-route-3 (its static archives keep the binary static).
// A container's link is made in one RTM_NEWLINK: the veth pair with the peer created directly in
// the container's namespace (IFLA_NET_NS_FD in the peer's attributes) under its final name and
// MAC, the host end enslaved (IFLA_MASTER) and up — no rename, no move. Its address, its link
// state and the route are then set through a socket opened inside that namespace.
#include "minirun/network/netlink.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "minirun/util/error.h"

namespace minirun::network {

namespace {

Error nl_error(const std::string& what, int err) { return Error(what + ": " + nl_geterror(err)); }

// An nl_addr of an IPv4 address (owned).
struct Addr {
  nl_addr* a;
  Addr(Ip4 ip, int prefix) {
    uint32_t be = htonl(ip);
    a = nl_addr_build(AF_INET, &be, 4);
    if (!a) throw Error("netlink: out of memory");
    nl_addr_set_prefixlen(a, prefix);
  }
  ~Addr() { nl_addr_put(a); }
};

template <class T, void (*Free)(T*)>
struct Owned {
  T* p;
  explicit Owned(T* x) : p(x) {
    if (!p) throw Error("netlink: out of memory");
  }
  ~Owned() { Free(p); }
  operator T*() const { return p; }
};
using Link = Owned<rtnl_link, rtnl_link_put>;
using RAddr = Owned<rtnl_addr, rtnl_addr_put>;
using Route = Owned<rtnl_route, rtnl_route_put>;

nl_sock* connect_here() {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) throw Error("netlink: out of memory");
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sk);
    throw nl_error("netlink: connect", err);
  }
  return sk;
}

}  // namespace

Mac mac_for(Ip4 ip) {
  return {0x02, 0x42, uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip)};
}

std::string mac_string(const Mac& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

Mac parse_mac(const std::string& s) {
  Mac m{};
  unsigned v[6];
  char extra;
  if (s.size() != 17 || std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
    throw Error("invalid MAC address \"" + s + "\"");
  for (int i = 0; i < 6; i++) m[i] = static_cast<uint8_t>(v[i]);
  if (m[0] & 1) throw Error("invalid MAC address \"" + s + "\": multicast");
  if (m == Mac{}) throw Error("invalid MAC address \"" + s + "\": zero");
  return m;
}

Netlink::Netlink() : sk_(connect_here()) {}

Netlink Netlink::in_netns(int netns_fd) {
  // The calling thread enters the namespace only to create the socket (a socket stays in the
  // namespace it was made in) and comes straight back: two setns() calls, ~10 µs, where a helper
  // thread costs a thread creation and, on a busy machine, a scheduling delay (measured: up to
  // several ms). If coming back failed this thread would be left in the container's namespace:
  // that cannot be recovered from, so the process aborts.
  int self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) throw sys_error("open /proc/thread-self/ns/net");
  if (::setns(netns_fd, CLONE_NEWNET) != 0) {
    int e = errno;
    ::close(self);
    throw sys_error("setns into the container's network namespace", e);
  }
  nl_sock* sk = nullptr;
  std::string err;
  try {
    sk = connect_here();
  } catch (const Error& e) {
    err = e.what();
  }
  if (::setns(self, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "minirun: cannot return to the host's network namespace: %s\n", std::strerror(errno));
    std::abort();
  }
  ::close(self);
  if (!sk) throw Error(err);
  return Netlink(sk);
}

Netlink::~Netlink() {
  if (sk_) nl_socket_free(sk_);
}

int Netlink::link_index(const std::string& name) {
  rtnl_link* l = nullptr;
  int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &l);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return 0;
  if (err < 0) throw nl_error("netlink: link " + name, err);
  int idx = rtnl_link_get_ifindex(l);
  rtnl_link_put(l);
  return idx;
}

void Netlink::set_up(int index) {
  Link orig(rtnl_link_alloc()), change(rtnl_link_alloc());
  rtnl_link_set_ifindex(orig, index);
  rtnl_link_set_flags(change, IFF_UP);
  if (int err = rtnl_link_change(sk_, orig, change, 0); err < 0) throw nl_error("netlink: set link up", err);
}

int Netlink::ensure_bridge(const std::string& name, Ip4 gateway, int prefix) {
  int idx = link_index(name);
  if (idx == 0) {
    Link br(rtnl_link_alloc());
    rtnl_link_set_name(br, name.c_str());
    if (int err = rtnl_link_set_type(br, "bridge"); err < 0) throw nl_error("netlink: bridge type", err);
    rtnl_link_set_flags(br, IFF_UP);
    int err = rtnl_link_add(sk_, br, NLM_F_CREATE | NLM_F_EXCL);
    if (err < 0 && err != -NLE_EXIST) throw nl_error("netlink: create bridge " + name, err);
    idx = link_index(name);
    if (idx == 0) throw Error("netlink: bridge " + name + " vanished after its creation");
  }
  RAddr a(rtnl_addr_alloc());
  Addr local(gateway, prefix);
  Subnet s{gateway & (~Ip4(0) << (32 - prefix)), prefix};
  Addr bcast(s.broadcast(), prefix);
  rtnl_addr_set_ifindex(a, idx);
  rtnl_addr_set_family(a, AF_INET);
  rtnl_addr_set_local(a, local.a);
  rtnl_addr_set_broadcast(a, bcast.a);
  int err = rtnl_addr_add(sk_, a, 0);
  if (err < 0 && err != -NLE_EXIST) throw nl_error("netlink: address " + ip_string(gateway) + " on " + name, err);
  set_up(idx);
  return idx;
}

void Netlink::add_veth(const std::string& host_name, int bridge_index, int netns_fd, const std::string& peer_name,
                       const Mac& peer_mac) {
  rtnl_link* link = rtnl_link_veth_alloc();
  if (!link) throw Error("netlink: out of memory");
  rtnl_link* peer = rtnl_link_veth_get_peer(link);  // a reference
  rtnl_link_set_name(link, host_name.c_str());
  if (bridge_index > 0) rtnl_link_set_master(link, bridge_index);
  rtnl_link_set_flags(link, IFF_UP);
  rtnl_link_set_name(peer, peer_name.c_str());
  rtnl_link_set_ns_fd(peer, netns_fd);
  // Not IFF_UP on the peer: with IFLA_MASTER in the same request the kernel refuses that
  // (ENOTCONN); configure_container brings it up inside the namespace.
  nl_addr* mac = nl_addr_build(AF_LLC, peer_mac.data(), peer_mac.size());
  rtnl_link_set_addr(peer, mac);
  nl_addr_put(mac);
  int err = rtnl_link_add(sk_, link, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(peer);
  rtnl_link_veth_release(link);
  if (err < 0) throw nl_error("netlink: create veth " + host_name, err);
}

void Netlink::add_address(const std::string& ifname, Ip4 ip, int prefix) {
  int idx = link_index(ifname);
  if (idx == 0) throw Error("netlink: no link " + ifname);
  RAddr a(rtnl_addr_alloc());
  Addr local(ip, prefix);
  Subnet s{ip & (~Ip4(0) << (32 - prefix)), prefix};
  Addr bcast(s.broadcast(), prefix);
  rtnl_addr_set_ifindex(a, idx);
  rtnl_addr_set_family(a, AF_INET);
  rtnl_addr_set_local(a, local.a);
  rtnl_addr_set_broadcast(a, bcast.a);
  int err = rtnl_addr_add(sk_, a, 0);
  if (err < 0 && err != -NLE_EXIST) throw nl_error("netlink: address " + ip_string(ip) + " on " + ifname, err);
  set_up(idx);
}

void Netlink::loopback_up() { set_up(1); }  // lo is always index 1 in a namespace

void Netlink::configure_container(const std::string& ifname, Ip4 ip, int prefix, Ip4 gateway) {
  loopback_up();
  int idx = link_index(ifname);
  if (idx == 0) throw Error("netlink: no " + ifname + " in the container's namespace");
  {
    RAddr a(rtnl_addr_alloc());
    Addr local(ip, prefix);
    Subnet s{ip & (~Ip4(0) << (32 - prefix)), prefix};
    Addr bcast(s.broadcast(), prefix);
    rtnl_addr_set_ifindex(a, idx);
    rtnl_addr_set_family(a, AF_INET);
    rtnl_addr_set_local(a, local.a);
    rtnl_addr_set_broadcast(a, bcast.a);
    if (int err = rtnl_addr_add(sk_, a, 0); err < 0) throw nl_error("netlink: address " + ip_string(ip), err);
  }
  set_up(idx);
  Route r(rtnl_route_alloc());
  Addr dst(0, 0), gw(gateway, 32);
  rtnl_route_set_family(r, AF_INET);
  rtnl_route_set_dst(r, dst.a);
  rtnl_route_set_table(r, RT_TABLE_MAIN);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!nh) throw Error("netlink: out of memory");
  rtnl_route_nh_set_gateway(nh, gw.a);
  rtnl_route_nh_set_ifindex(nh, idx);
  rtnl_route_add_nexthop(r, nh);  // the route owns nh now
  if (int err = rtnl_route_add(sk_, r, NLM_F_EXCL); err < 0) throw nl_error("netlink: default route via " + ip_string(gateway), err);
}

bool Netlink::delete_link(const std::string& name) {
  Link l(rtnl_link_alloc());
  rtnl_link_set_name(l, name.c_str());
  int err = rtnl_link_delete(sk_, l);
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return false;
  if (err < 0) throw nl_error("netlink: delete " + name, err);
  return true;
}

std::vector<Subnet> Netlink::ipv4_routes() {
  nl_cache* cache = nullptr;
  if (int err = rtnl_route_alloc_cache(sk_, AF_INET, 0, &cache); err < 0) throw nl_error("netlink: list routes", err);
  std::vector<Subnet> out;
  for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN) continue;
    nl_addr* d = rtnl_route_get_dst(r);
    if (!d || nl_addr_get_prefixlen(d) == 0 || nl_addr_get_len(d) != 4) continue;
    uint32_t be;
    std::memcpy(&be, nl_addr_get_binary_addr(d), 4);
    int p = static_cast<int>(nl_addr_get_prefixlen(d));
    Subnet s{ntohl(be), p};
    s.base &= s.mask();
    out.push_back(s);
  }
  nl_cache_free(cache);
  return out;
}

}  // namespace minirun::network
