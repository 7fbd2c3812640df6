// network.cpp — bridge networks, daemon-less.
//
// State lives in the store (store.h: networks/<name>.json, …/leases/<ip>, …/endpoints/<cid>.json)
// and in the kernel (bridge, veths, minirun's nft table). attach() records before it acts: lease
// (an atomic exclusive symlink), then the endpoint record (write-temp → rename), then the veth
// and the nft elements; detach() undoes in reverse and removes the records last. So a kill at any
// moment leaves a record naming what may exist, and recover() — at the next start — tears down
// every endpoint whose container is not live and whose attaching process is gone. Leftovers with
// no record (a veth named like ours, a DNAT element whose comment names no endpoint) are swept
// too.
//
// Name resolution on user-defined networks, with no daemon and no resolver process: every
// container's /etc/hosts is a bind mount of <store>/containers/<cid>/hosts; when a container
// joins or leaves a network, refresh_hosts() recomputes the hosts file of every container on it
// (own address and names, --add-host entries, then "IP\tNAME" of each other container) and
// rewrites each one in place (same inode, so the bind mount sees it) under a per-network lock.
// Containers started later are covered: their attach refreshes everyone. libc reads /etc/hosts
// at every lookup, so a change is seen at once; a program that caches addresses itself keeps
// them, as with Docker's embedded DNS and its TTLs.
//
// The bridge is set up on first use (or `network create`): the link with the gateway address,
// net.ipv4.ip_forward=1 (as Docker; only written when it is 0), route_localnet=1 on the bridge
// (nft.cpp: 127.0.0.1:HOSTPORT) and the network's elements in the nft table.
#include "minirun/network/network.h"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cctype>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "minirun/network/ipam.h"
#include "minirun/network/netlink.h"
#include "minirun/network/nft.h"
#include "minirun/network/nft_elements.h"
#include "minirun/util/error.h"
#include "minirun/util/file_lock.h"
#include "minirun/util/file_ops.h"
#include "minirun/util/fsutil.h"

namespace minirun::network {

using nlohmann::json;

namespace {

void make_dirs(const std::string& p) {
  if (::mkdir(p.c_str(), 0700) == 0 || errno == EEXIST) return;  // the usual case: one call
  for (size_t i = 1; i <= p.size(); i++)
    if (i == p.size() || p[i] == '/') {
      std::string d = p.substr(0, i);
      if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) throw sys_error(d + ": mkdir");
    }
}

// An endpoint record: written beside and renamed into place (readers never see half of it), but
// not fsynced — 3 ms per run on ext4 for nothing: the kernel state it describes does not survive
// a power loss either, and a record lost or emptied by one leaves a lease without a readable
// endpoint, which recover() releases (its owner is gone).
void write_record(const std::string& path, const std::string& data) {
  replace_file(path, 0644, false, [&](int fd) { write_all(fd, data.data(), data.size(), path); });
}

json record_json(const NetworkRecord& r) {
  return {{"Name", r.name}, {"Id", r.id}, {"Driver", "bridge"}, {"Bridge", r.bridge}, {"Subnet", r.subnet},
          {"Gateway", r.gateway}, {"Created", r.created}, {"Default", r.is_default}};
}

std::optional<NetworkRecord> read_record(const Store& store, const std::string& name) {
  auto text = read_file_if_exists(store.network_record_path(name), 1 << 20);
  if (!text) return std::nullopt;
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) throw Error("network " + name + ": damaged record " + store.network_record_path(name));
  NetworkRecord r;
  r.name = j.value("Name", name);
  r.id = j.value("Id", "");
  r.bridge = j.value("Bridge", "");
  r.subnet = j.value("Subnet", "");
  r.gateway = j.value("Gateway", "");
  r.created = j.value("Created", "");
  r.is_default = j.value("Default", false);
  return r;
}

json ports_json(const std::vector<PortMapping>& ports) {
  json a = json::array();
  for (const auto& p : ports)
    a.push_back({{"HostIp", p.host_ip}, {"HostPort", p.host_port}, {"ContainerPort", p.container_port}, {"Proto", p.proto}});
  return a;
}

json attachment_json(const Attachment& a) {
  json extra = json::array();
  for (const auto& [n, ip] : a.extra_hosts) extra.push_back({n, ip});
  return {{"ContainerId", a.container_id}, {"ContainerName", a.container_name}, {"Hostname", a.hostname},
          {"Network", a.network},          {"IPAddress", a.ip},                 {"Gateway", a.gateway},
          {"PrefixLen", a.prefix},         {"MacAddress", a.mac},               {"Veth", a.veth},
          {"Ports", ports_json(a.ports)},  {"ExtraHosts", extra},               {"Owner", a.owner}};
}

std::optional<Attachment> read_endpoint(const std::string& path) {
  auto text = read_file_if_exists(path, 1 << 20);
  if (!text) return std::nullopt;
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  Attachment a;
  a.container_id = j.value("ContainerId", "");
  a.container_name = j.value("ContainerName", "");
  a.hostname = j.value("Hostname", "");
  a.network = j.value("Network", "");
  a.ip = j.value("IPAddress", "");
  a.gateway = j.value("Gateway", "");
  a.prefix = j.value("PrefixLen", 0);
  a.mac = j.value("MacAddress", "");
  a.veth = j.value("Veth", "");
  a.owner = j.value("Owner", "");
  for (const auto& p : j.value("Ports", json::array()))
    a.ports.push_back({p.value("HostIp", ""), p.value("HostPort", uint16_t(0)), p.value("ContainerPort", uint16_t(0)),
                       p.value("Proto", "tcp")});
  for (const auto& e : j.value("ExtraHosts", json::array()))
    if (e.is_array() && e.size() == 2) a.extra_hosts.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
  return a;
}

std::string endpoint_path(const Store& store, const std::string& network, const std::string& cid) {
  return store.network_endpoints_dir(network) + "/" + cid + ".json";
}

void check_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  if (!ok) throw Error("invalid network name \"" + name + "\": use letters, digits, _ . - (up to 64)");
}

void write_sysctl(const std::string& path, const std::string& value) {
  auto cur = read_file_if_exists(path, 64);
  if (cur && cur->substr(0, cur->find('\n')) == value) return;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw sys_error(path);
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) throw sys_error(path + ": write", err);
}

// The nft elements of a network added in the same batch as `extra` (add is idempotent); the
// table is created first when it is missing.
void nft_add(Nft& nft, const Options& opt, const NetworkRecord& net, const std::string& extra) {
  std::string cmds = network_elements("add", opt.table, net.bridge, parse_subnet(net.subnet)) + extra;
  std::string err;
  if (nft.try_run(cmds, &err)) return;
  if (!nft.has_table(opt.table)) {
    std::string e2;
    if (!nft.try_run(table_script(opt.table), &e2) && !nft.has_table(opt.table)) throw Error("nftables: " + e2);
  }
  // The table is there now: made here, or by another process between the first try and the
  // check (concurrent first runs).
  if (nft.try_run(cmds, &err)) return;
  throw Error("nftables: " + err);
}

// The nft table and the network's elements, then the bridge up with its address and the
// sysctls. Returns the bridge's index. In this order because attach sets up only a bridge that
// is missing: a bridge must never exist without the NAT behind it (libnftables missing, say).
int setup_bridge(Netlink& nl, const NetworkRecord& net, const Options& opt) {
  Subnet s = parse_subnet(net.subnet);
  nft_add(Nft::shared(), opt, net, "");
  int idx = nl.ensure_bridge(net.bridge, *parse_ip(net.gateway), s.prefix);
  try {
    write_sysctl("/proc/sys/net/ipv4/conf/" + net.bridge + "/route_localnet", "1");
    write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
  } catch (...) {
    nl.delete_link(net.bridge);
    throw;
  }
  return idx;
}

// A free private /16: no host route and no other network overlaps it.
Subnet choose_subnet(const Store& store, Netlink& nl, bool for_default) {
  std::vector<Subnet> used = nl.ipv4_routes();
  for (const auto& r : list_networks(store)) used.push_back(parse_subnet(r.subnet));
  std::vector<Subnet> candidates;
  if (for_default) candidates.push_back({(172u << 24) | (30u << 16), 16});
  candidates.push_back({(172u << 24) | (31u << 16), 16});
  for (unsigned b = 18; b <= 29; b++) candidates.push_back({(172u << 24) | (b << 16), 16});
  for (unsigned b = 200; b <= 254; b++) candidates.push_back({(10u << 24) | (b << 16), 16});
  for (const auto& c : candidates)
    if (std::none_of(used.begin(), used.end(), [&](const Subnet& u) { return u.overlaps(c); })) return c;
  throw Error("no free private /16 subnet left for a network: give one with --subnet");
}

NetworkRecord make_network(Store& store, const std::string& name, const std::string& subnet_s,
                           const std::string& gateway_s, bool is_default, const Options& opt, bool exclusive) {
  Netlink nl;
  NetworkRecord r;
  r.name = name;
  r.id = random_hex(64);
  r.is_default = is_default;
  r.bridge = is_default ? opt.default_bridge : opt.bridge_prefix + r.id.substr(0, 12);
  Subnet s = subnet_s.empty() ? choose_subnet(store, nl, is_default) : parse_subnet(subnet_s);
  for (const auto& o : list_networks(store)) {
    // Another process made this (default) network meanwhile: that one serves.
    if (o.name == name && !exclusive) return o;
    if (parse_subnet(o.subnet).overlaps(s))
      throw Error("invalid pool request: Pool overlaps with other one on this address space (network " + o.name + ")");
  }
  Ip4 gw = s.base + 1;
  if (!gateway_s.empty()) {
    auto g = parse_ip(gateway_s);
    if (!g || !s.contains(*g) || *g == s.base || *g == s.broadcast())
      throw Error("invalid gateway \"" + gateway_s + "\": not a host address of " + s.str());
    gw = *g;
  }
  r.subnet = s.str();
  r.gateway = ip_string(gw);
  r.created = now_rfc3339();
  make_dirs(store.network_leases_dir(name));
  make_dirs(store.network_endpoints_dir(name));
  // Written beside, then linked into place: link() fails when the name exists, so two creators
  // never both succeed.
  std::string path = store.network_record_path(name), tmp = path + ".tmp-" + random_hex(8);
  write_file_atomic(tmp, record_json(r).dump(2) + "\n");
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST && !exclusive) return *read_record(store, name);
    if (err == EEXIST) throw Error("network with name " + name + " already exists");
    throw sys_error(path + ": link", err);
  }
  try {
    setup_bridge(nl, r, opt);
  } catch (...) {
    if (!is_default) {  // a user network that cannot be set up is not kept
      nl.delete_link(r.bridge);
      ::unlink(path.c_str());
    }
    throw;
  }
  return r;
}

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

// Undoes an endpoint: nft elements, veth, record, lease.
void teardown(Store& store, const Attachment& a, const Options& opt, bool delete_veth = true) {
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

NetworkRecord default_network(Store& store, const Options& opt) {
  if (auto r = read_record(store, "bridge")) return *r;
  return make_network(store, "bridge", opt.default_subnet, "", true, opt, false);
}

NetworkRecord create_network(Store& store, const std::string& name, const std::string& subnet,
                             const std::string& gateway, const Options& opt) {
  check_name(name);
  if (name == "bridge") {
    if (read_record(store, name)) throw Error("network with name bridge already exists");
    return make_network(store, name, subnet, gateway, true, opt, true);
  }
  if (name == "host" || name == "none") throw Error("network name " + name + " is reserved");
  if (find_network(store, name)) throw Error("network with name " + name + " already exists");
  return make_network(store, name, subnet, gateway, false, opt, true);
}

std::vector<NetworkRecord> list_networks(const Store& store) {
  std::vector<NetworkRecord> out;
  for (const auto& n : list_dir_names(store.networks_dir())) {
    if (n.size() <= 5 || n.compare(n.size() - 5, 5, ".json") != 0) continue;
    if (auto r = read_record(store, n.substr(0, n.size() - 5))) out.push_back(*r);
  }
  return out;
}

std::optional<NetworkRecord> find_network(const Store& store, const std::string& ref) {
  std::optional<NetworkRecord> prefix_match;
  int prefix_matches = 0;
  for (const auto& r : list_networks(store)) {
    if (r.name == ref || r.id == ref) return r;
    if (ref.size() >= 3 && r.id.compare(0, ref.size(), ref) == 0) prefix_match = r, prefix_matches++;
  }
  if (prefix_matches == 1) return prefix_match;
  return std::nullopt;
}

std::vector<Attachment> network_endpoints(const Store& store, const std::string& name) {
  std::vector<Attachment> out;
  std::string dir = store.network_endpoints_dir(name);
  for (const auto& f : list_dir_names(dir))
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0)
      if (auto a = read_endpoint(dir + "/" + f)) out.push_back(std::move(*a));
  return out;
}

void remove_network(Store& store, const std::string& ref, const Options& opt) {
  auto r = find_network(store, ref);
  if (!r) throw Error("network " + ref + " not found", 1);
  if (r->is_default) throw Error(r->name + " is a pre-defined network and cannot be removed");
  auto eps = network_endpoints(store, r->name);
  if (!eps.empty()) throw Error("error while removing network: network " + r->name + " id " + r->id + " has active endpoints");
  Netlink nl;
  nl.delete_link(r->bridge);
  try {
    Nft::shared().try_run(network_elements("delete", opt.table, r->bridge, parse_subnet(r->subnet)));
  } catch (const Error& e) {
    spdlog::warn("network {}: {}", r->name, e.what());
  }
  ::unlink(store.network_record_path(r->name).c_str());
  remove_tree(store.networks_dir() + "/" + r->name);
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

std::optional<Attachment> attachment(const Store& store, const std::string& cid) {
  for (const auto& r : list_networks(store))
    if (auto a = read_endpoint(endpoint_path(store, r.name, cid))) return a;
  return std::nullopt;
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

void recover(Store& store, const std::set<std::string>& live, const Options& opt) {
  auto nets = list_networks(store);
  if (nets.empty()) return;  // the common case without bridge networks: one readdir
  auto endpoint_exists = [&](const std::string& cid) { return attachment(store, cid).has_value(); };
  std::set<std::string> kept_veths, kept_ids;
  bool cleaned = false;
  for (const auto& r : nets) {
    bool changed = false;
    for (const auto& a : network_endpoints(store, r.name)) {
      if (live.count(a.container_id) || Store::owner_alive(a.owner)) {
        kept_veths.insert(a.veth);
        kept_ids.insert(a.container_id);
        continue;
      }
      spdlog::info("network {}: releasing {} of container {} (not running)", r.name, a.ip, a.container_id.substr(0, 12));
      teardown(store, a, opt);
      changed = cleaned = true;
    }
    // Leases without an endpoint: a run killed between the claim and the record.
    Ipam ipam(store.network_leases_dir(r.name), parse_subnet(r.subnet), *parse_ip(r.gateway));
    for (const auto& l : ipam.leases()) {
      if (live.count(l.container_id) || kept_ids.count(l.container_id) || Store::owner_alive(l.owner)) continue;
      if (endpoint_exists(l.container_id)) continue;  // attached since the listing above
      ipam.release(l.ip, l.container_id);
      cleaned = true;
    }
    if (changed && !r.is_default) refresh_hosts(store, r.name);
  }
  // Host-side veths named like ours with no endpoint (their namespace is held by something else).
  auto is_ours = [&](const std::string& n) {
    if (n.size() != opt.veth_prefix.size() + 12 || n.compare(0, opt.veth_prefix.size(), opt.veth_prefix) != 0) return false;
    return std::all_of(n.begin() + static_cast<long>(opt.veth_prefix.size()), n.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  };
  std::vector<std::string> stale;
  if (struct if_nameindex* ifs = ::if_nameindex()) {
    for (auto* i = ifs; i->if_index != 0; i++)
      if (is_ours(i->if_name) && !kept_veths.count(i->if_name)) stale.push_back(i->if_name);
    ::if_freenameindex(ifs);
  }
  if (!stale.empty()) {
    std::set<std::string> now;  // re-read: an attach may have begun since
    for (const auto& r : list_networks(store))
      for (const auto& a : network_endpoints(store, r.name)) now.insert(a.veth);
    Netlink nl;
    for (const auto& n : stale)
      if (!now.count(n)) nl.delete_link(n), cleaned = true;
  }
  // DNAT elements with no endpoint arise only from a crash mid-teardown or a lost store: the
  // table is read (which loads libnftables) only when this recovery found something to clean.
  if (!cleaned) return;
  try {
    Nft& nft = Nft::shared();
    for (const auto& e : nft.port_elements(opt.table)) {
      if (kept_ids.count(e.container_id) || live.count(e.container_id) || endpoint_exists(e.container_id)) continue;
      delete_port_element(opt.table, e.map, e.key);
    }
  } catch (const Error& e) {
    spdlog::debug("network recovery: {}", e.what());
  }
}

}  // namespace minirun::network
