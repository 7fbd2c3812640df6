// endpoints.cpp — a container on a bridge network: attach, detach and the hosts files of a
// user-defined network.
//
// attach() records before it acts: lease (an atomic exclusive symlink), then the endpoint record
// (write-temp → rename), then the veth and the nft elements; detach() undoes in reverse and
// removes the records last. So a kill at any moment leaves a record naming what may exist, and
// recover() (network_recovery.cpp) can tear it down.
//
// Name resolution on user-defined networks, with no daemon and no resolver process: every
// container's /etc/hosts is a bind mount of <store>/containers/<cid>/hosts; when a container
// joins or leaves a network, refresh_hosts() recomputes the hosts file of every container on it
// (own address and names, --add-host entries, then "IP\tNAME" of each other container) and
// rewrites each one in place (same inode, so the bind mount sees it) under a per-network lock.
// Containers started later are covered: their attach refreshes everyone. libc reads /etc/hosts
// at every lookup, so a change is seen at once; a program that caches addresses itself keeps
// them, as with Docker's embedded DNS and its TTLs.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "minirun/network/ipam.h"
#include "minirun/network/netlink.h"
#include "minirun/network/network.h"
#include "minirun/network/nft.h"
#include "minirun/network/nft_elements.h"
#include "minirun/util/error.h"
#include "minirun/util/file_lock.h"
#include "minirun/util/fsutil.h"
#include "network_bridge.h"
#include "network_endpoints.h"
#include "network_records.h"

namespace minirun::network {

namespace {

// Host ports: explicit ones must be free of other endpoints' mappings; 0 gets a free one from
// the kernel (bind to port 0), also not used by another endpoint. Caller holds the ports lock.
void choose_host_ports(const Store& store, std::vector<PortMapping>& ports) {
  std::set<std::pair<std::string, uint16_t>> taken;  // (proto, port)
  for (const auto& r : list_networks(store))
    for (const auto& a : network_endpoints(store, r.name))
      for (const auto& p : a.ports) taken.insert({p.proto, p.host_port});
  for (auto& p : ports) {
    if (p.host_port != 0) {
      std::string where = (p.host_ip.empty() ? std::string("0.0.0.0") : p.host_ip) + ":" + std::to_string(p.host_port);
      if (taken.count({p.proto, p.host_port})) throw Error("Bind for " + where + " failed: port is already allocated");
      // With no proxy process holding the port, a host service listening there would silently
      // lose its traffic to the DNAT: refuse, as Docker's proxy would fail to bind.
      int fd = ::socket(AF_INET, (p.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
      if (fd < 0) throw sys_error("socket");
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(p.host_port);
      if (!p.host_ip.empty()) sa.sin_addr.s_addr = htonl(*parse_ip(p.host_ip));
      int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      int err = errno;
      ::close(fd);
      if (rc != 0 && err == EADDRINUSE)
        throw Error("Bind for " + where + "/" + p.proto + " failed: address already in use on the host");
      taken.insert({p.proto, p.host_port});
      continue;
    }
    for (int attempt = 0; attempt < 64 && p.host_port == 0; attempt++) {
      int fd = ::socket(AF_INET, (p.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
      if (fd < 0) throw sys_error("socket");
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      socklen_t len = sizeof sa;
      uint16_t port = 0;
      if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0)
        port = ntohs(sa.sin_port);
      ::close(fd);
      if (port == 0) throw sys_error("choosing a free host port");
      if (!taken.count({p.proto, port})) {
        p.host_port = port;
        taken.insert({p.proto, port});
      }
    }
    if (p.host_port == 0) throw Error("no free host port for " + std::to_string(p.container_port) + "/" + p.proto);
  }
}

std::string veth_name(const Options& opt, const std::string& cid) { return opt.veth_prefix + cid.substr(0, 12); }

// Deletes DNAT elements one transaction for all; if that fails (some are gone already), one by
// one (nft_elements: libnftnl, no libnftables on this path).
void nft_delete_ports(const Options& opt, const Attachment& a) {
  if (a.ports.empty()) return;
  try {
    delete_port_elements(opt.table, a.ports);
  } catch (const Error& e) {
    spdlog::warn("container {}: {}", a.container_id.substr(0, 12), e.what());
  }
}

void write_container_files(Store& store, const Attachment& a, const NetworkRecord& net, const AttachRequest& req) {
  std::string dir = store.container_dir(a.container_id);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return;
  rewrite_in_place(dir + "/resolv.conf", container_resolv(req.dns));
  if (net.is_default) {
    rewrite_in_place(dir + "/hosts", hosts_content({a.ip, a.hostname, a.container_name, a.extra_hosts, {}}));
  }  // else refresh_hosts writes it with the peers
}

}  // namespace

void teardown(Store& store, const Attachment& a, const Options& opt, bool delete_veth) {
  nft_delete_ports(opt, a);
  if (delete_veth && !a.veth.empty()) {
    Netlink nl;
    nl.delete_link(a.veth);
  }
  ::unlink(endpoint_path(store, a.network, a.container_id).c_str());
  if (auto net = read_record(store, a.network); net && !a.ip.empty())
    Ipam(store.network_leases_dir(a.network), parse_subnet(net->subnet), *parse_ip(net->gateway))
        .release(*parse_ip(a.ip), a.container_id);
}

void loopback_up(int netns_fd) { Netlink::in_netns(netns_fd).loopback_up(); }

Attachment attach(Store& store, const std::string& cid, const std::string& cname, int netns_fd,
                  const AttachRequest& req, const Options& opt) {
  if (cid.size() < 12) throw Error("attach: container id too short");
  NetworkRecord net;
  if (req.network == "bridge" || req.network.empty()) {
    net = default_network(store, opt);
  } else {
    auto r = find_network(store, req.network);
    if (!r) throw Error("network " + req.network + " not found");
    net = *r;
  }
  Subnet subnet = parse_subnet(net.subnet);
  Ip4 gw = *parse_ip(net.gateway);
  std::optional<Ip4> want;
  if (!req.ip.empty()) {
    want = parse_ip(req.ip);
    if (!want) throw Error("invalid IPv4 address \"" + req.ip + "\"");
    if (net.is_default) throw Error("user specified IP address is supported on user defined networks only");
  }
  Ipam ipam(store.network_leases_dir(net.name), subnet, gw);
  make_dirs(store.network_leases_dir(net.name));
  make_dirs(store.network_endpoints_dir(net.name));
  Ip4 ip = ipam.claim(cid, want);

  Attachment a;
  a.container_id = cid;
  a.container_name = cname;
  a.hostname = req.hostname;
  a.network = net.name;
  a.ip = ip_string(ip);
  a.gateway = net.gateway;
  a.prefix = subnet.prefix;
  a.mac = mac_string(req.mac.empty() ? mac_for(ip) : parse_mac(req.mac));
  a.veth = veth_name(opt, cid);
  a.ports = req.ports;
  a.extra_hosts = req.extra_hosts;
  a.owner = Store::owner_tag();
  // What this call made, so that a failure undoes that and nothing else: a host port or veth
  // name found taken belongs to another container.
  bool recorded = false, veth_made = false, ports_added = false;
  try {
    {
      std::optional<FileLock> l;
      if (!a.ports.empty()) {
        l.emplace(store.networks_dir() + "/ports.lock");
        choose_host_ports(store, a.ports);
      }
      write_record(endpoint_path(store, net.name, cid), attachment_json(a).dump() + "\n");
      recorded = true;
    }
    Netlink nl;
    int br = nl.link_index(net.bridge);
    if (br == 0) br = setup_bridge(nl, net, opt);
    for (int waited_ms = 0, step = 5;; waited_ms += step, step = std::min(step * 2, 100)) {
      try {
        nl.add_veth(a.veth, br, netns_fd, "eth0", parse_mac(a.mac));
        break;
      } catch (const Error&) {
        // The name taken: usually by this container's previous run, whose network namespace
        // (and with it that veth) the kernel tears down on a workqueue after the exit, which a
        // quick `start` can beat; it goes within milliseconds. A name held longer belongs to a
        // live container (IDs sharing 12 characters) and is never touched.
        if (waited_ms >= 2000) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(step));
      }
    }
    veth_made = true;
    Netlink::in_netns(netns_fd).configure_container("eth0", ip, subnet.prefix, gw);
    if (!a.ports.empty()) {
      // Map elements only (nft_elements: libnftnl, one batch); the table is made with
      // libnftables only when it is missing.
      if (!add_port_elements(opt.table, cid, ip, a.ports)) {
        nft_add(Nft::shared(), opt, net, "");
        if (!add_port_elements(opt.table, cid, ip, a.ports))
          throw Error("nftables: table ip " + opt.table + " has no dnat maps");
      }
      ports_added = true;
    }
    if (req.write_files) write_container_files(store, a, net, req);
    if (!net.is_default) refresh_hosts(store, net.name);
  } catch (...) {
    try {
      Attachment undo = a;
      if (!ports_added) undo.ports.clear();
      if (!veth_made) undo.veth.clear();
      teardown(store, undo, opt);  // the record (if written) and the lease go in any case
      if (recorded && !net.is_default) refresh_hosts(store, net.name);
    } catch (const Error& e) {
      spdlog::warn("undoing the network of {}: {}", cid.substr(0, 12), e.what());
    }
    throw;
  }
  return a;
}

void detach(Store& store, const std::string& cid, const Options& opt, bool delete_veth) {
  for (const auto& r : list_networks(store)) {
    auto a = read_endpoint(endpoint_path(store, r.name, cid));
    if (!a) continue;
    teardown(store, *a, opt, delete_veth);
    if (!r.is_default) refresh_hosts(store, r.name);
  }
}

void refresh_hosts(Store& store, const std::string& network) {
  auto net = read_record(store, network);
  if (!net || net->is_default) return;
  FileLock l(store.networks_dir() + "/" + network + "/hosts.lock");
  auto eps = network_endpoints(store, network);
  for (const auto& a : eps) {
    std::string dir = store.container_dir(a.container_id);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) continue;
    HostsInput in{a.ip, a.hostname, a.container_name, a.extra_hosts, {}};
    for (const auto& o : eps)
      if (o.container_id != a.container_id && !o.container_name.empty()) in.peers.emplace_back(o.container_name, o.ip);
    rewrite_in_place(dir + "/hosts", hosts_content(in));
  }
}

}  // namespace minirun::network
