// network.cpp — bridge networks, daemon-less: the networks themselves (the default "bridge",
// create, remove) and their bridges.
//
// State lives in the store (store.h: networks/<name>.json, …/leases/<ip>, …/endpoints/<cid>.json;
// network_records.cpp) and in the kernel (bridge, veths, minirun's nft table). Containers join
// and leave in endpoints.cpp; what a killed run left is undone by network_recovery.cpp.
//
// The bridge is set up on first use (or `network create`): the link with the gateway address,
// net.ipv4.ip_forward=1 (as Docker; only written when it is 0), route_localnet=1 on the bridge
// (nft.cpp: 127.0.0.1:HOSTPORT) and the network's elements in the nft table.
#include "minirun/network/network.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "minirun/network/ipam.h"
#include "minirun/network/netlink.h"
#include "minirun/network/nft.h"
#include "minirun/network/nft_elements.h"
#include "minirun/util/error.h"
#include "minirun/util/file_ops.h"
#include "minirun/util/fsutil.h"
#include "network_bridge.h"
#include "network_records.h"

namespace minirun::network {

namespace {

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

}  // namespace

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

// In this order because attach sets up only a bridge that is missing: a bridge must never exist
// without the NAT behind it (libnftables missing, say).
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

}  // namespace minirun::network
