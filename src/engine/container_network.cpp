// container_network.cpp — run's network flags → network::attach/detach/recover (see the header).
//
// Ordering in the run path (cmd_run.cpp): plan_network before any record; write_state_files
// (renames hosts/resolv.conf into place) before the clone, so the child bind-mounts the final
// inodes; on_created attaches from the host's namespace and rewrites both files in place; after
// the exit, exited() leaves the veth to the namespace's destruction (an RTM_DELLINK would wait
// ~25 ms); failure paths and `rm` delete it. A kill -9 anywhere leaves records that the next
// verb's recover_container_networks() uses.
#include "minirun/engine/container_network.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <set>
#include <unordered_map>

#include "minirun/engine/container_state.h"
#include "minirun/network/hosts.h"
#include "minirun/network/ipam.h"
#include "minirun/network/netlink.h"
#include "minirun/network/ports.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

bool has_dns(const NetworkFlags& f) { return !f.dns.empty() || !f.dns_search.empty() || !f.dns_option.empty(); }

}  // namespace

NetworkPlan plan_network(const Store& store, const NetworkFlags& f, const std::vector<std::string>& exposed,
                         const std::string& hostname) {
  NetworkPlan p;
  const std::string& n = f.network.empty() ? std::string("bridge") : f.network;
  bool publishes = !f.publish.empty() || f.publish_all;
  if (n == "bridge" || n == "default") {
    p.mode = "bridge";
    p.network_mode = "bridge";
  } else if (n == "none" || n == "host") {
    p.mode = n;
    p.network_mode = n;
  } else if (n.rfind("container:", 0) == 0) {
    p.mode = "container";
    std::string ref = n.substr(10);
    if (ref.empty()) throw Error("invalid network mode \"" + n + "\": want container:NAME|ID");
    auto cid = store.find_container(ref);
    if (!cid) throw Error("No such container: " + ref);
    auto rec = refresh_container_state(store, *cid);
    if (!rec || rec->status != ContainerStatus::running || rec->container_pid <= 0)
      throw Error("cannot join network of a non running container: " + ref);
    p.peer_id = *cid;
    p.ns_path = "/proc/" + std::to_string(rec->container_pid) + "/ns/net";
    p.network_mode = "container:" + *cid;
    if (publishes) throw Error("conflicting options: port publishing and the container type network mode");
    if (!f.mac.empty()) throw Error("conflicting options: mac-address and the network mode");
    if (has_dns(f)) throw Error("conflicting options: dns and the network mode");
    if (!f.add_host.empty()) throw Error("conflicting options: custom host-to-IP mapping and the network mode");
  } else {
    if (!network::find_network(store, n)) throw Error("network " + n + " not found");
    p.mode = "user";
    p.network_mode = n;
  }
  if (!f.ip.empty() && p.mode != "user")
    throw Error("user specified IP address is supported on user defined networks only");
  if (!f.mac.empty() && (p.mode == "host" || p.mode == "container"))
    throw Error("conflicting options: mac-address and the network mode");
  if (publishes && (p.mode == "host" || p.mode == "none"))
    spdlog::warn("published ports are discarded when using {} network mode", p.mode);

  auto& a = p.attach;
  a.network = p.mode == "user" ? n : "bridge";
  a.hostname = hostname;
  if (!f.ip.empty()) {
    if (!network::parse_ip(f.ip)) throw Error("invalid IPv4 address \"" + f.ip + "\"");
    a.ip = f.ip;
  }
  if (!f.mac.empty()) {
    network::parse_mac(f.mac);  // validates
    a.mac = f.mac;
  }
  if (p.attaches()) {
    for (const auto& s : f.publish)
      for (auto& m : network::parse_port(s)) a.ports.push_back(std::move(m));
    if (f.publish_all)
      for (auto& m : network::exposed_ports(exposed)) a.ports.push_back(std::move(m));
  }
  for (const auto& h : f.add_host) a.extra_hosts.push_back(network::parse_add_host(h));
  a.dns.servers = f.dns;
  a.dns.search = f.dns_search;
  a.dns.options = f.dns_option;
  return p;
}

void copy_peer_files(const Store& store, const NetworkPlan& plan, const std::string& state_dir) {
  if (plan.mode == "container") {
    for (const char* f : {"/hosts", "/resolv.conf"})
      if (auto text = read_file_if_exists(store.container_dir(plan.peer_id) + f, 1 << 20))
        network::rewrite_in_place(state_dir + f, *text);
    return;
  }
  if (plan.attaches()) return;  // attach writes both
  // host | none: --add-host and --dns still apply, as in Docker.
  const auto& a = plan.attach;
  if (!a.extra_hosts.empty()) {
    std::string hosts = read_file_if_exists(state_dir + "/hosts", 1 << 20).value_or("");
    for (const auto& [name, ip] : a.extra_hosts) hosts += ip + "\t" + name + "\n";
    network::rewrite_in_place(state_dir + "/hosts", hosts);
  }
  if (!a.dns.servers.empty() || !a.dns.search.empty() || !a.dns.options.empty()) {
    std::string host = read_file_if_exists("/etc/resolv.conf", 1 << 20).value_or("");
    network::rewrite_in_place(state_dir + "/resolv.conf", network::resolv_content(host, "", a.dns));
  }
}

void ContainerNetwork::on_created(pid_t pid) {
  if (!plan_.attaches() || attached_) return;
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw sys_error("the container's network namespace " + path);
  try {
    attachment_ = network::attach(store_, id_, name_, fd, plan_.attach);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  attached_ = true;
}

void ContainerNetwork::exited() noexcept {
  if (!plan_.attaches()) return;
  try {
    network::detach(store_, id_, {}, /*delete_veth=*/false);
  } catch (const std::exception& e) {  // the records stay: the next verb's recovery retries
    spdlog::warn("container {}: network teardown: {}", id_.substr(0, 12), e.what());
  }
  attached_ = false;
}

void ContainerNetwork::failed() noexcept {
  if (!plan_.attaches()) return;
  try {
    network::detach(store_, id_);
  } catch (const std::exception& e) {
    spdlog::warn("container {}: network teardown: {}", id_.substr(0, 12), e.what());
  }
  attached_ = false;
}

ConfigNetworkPlan network_plan_config(const NetworkPlan& p) {
  ConfigNetworkPlan c;
  c.mode = p.mode;
  c.network_mode = p.network_mode;
  c.ns_path = p.ns_path;
  c.peer_id = p.peer_id;
  c.network = p.attach.network;
  c.ip = p.attach.ip;
  c.mac = p.attach.mac;
  for (const auto& m : p.attach.ports) c.ports.push_back({m.host_ip, m.host_port, m.container_port, m.proto});
  c.extra_hosts = p.attach.extra_hosts;
  c.dns = p.attach.dns.servers;
  c.dns_search = p.attach.dns.search;
  c.dns_options = p.attach.dns.options;
  return c;
}

NetworkPlan network_plan_from_config(const ConfigNetworkPlan& c, const std::string& hostname) {
  NetworkPlan p;
  p.mode = c.mode;
  p.network_mode = c.network_mode;
  p.ns_path = c.ns_path;
  p.peer_id = c.peer_id;
  p.attach.network = c.network;
  p.attach.ip = c.ip;
  p.attach.mac = c.mac;
  p.attach.hostname = hostname;
  for (const auto& m : c.ports) {
    network::PortMapping pm;
    pm.host_ip = m.host_ip;
    pm.host_port = m.host_port;
    pm.container_port = m.container_port;
    pm.proto = m.proto;
    p.attach.ports.push_back(pm);
  }
  p.attach.extra_hosts = c.extra_hosts;
  p.attach.dns.servers = c.dns;
  p.attach.dns.search = c.dns_search;
  p.attach.dns.options = c.dns_options;
  return p;
}

void detach_container_network(Store& store, const std::string& cid) noexcept {
  try {
    network::detach(store, cid);
  } catch (const std::exception& e) {
    spdlog::warn("container {}: network teardown: {}", cid.substr(0, 12), e.what());
  }
}

namespace {

// Whether a dead run left a lease or an endpoint: its claiming process is gone. A run still
// attaching, running or detaching owns its records, so this is false in the common case.
bool dead_records(const Store& store, const std::vector<network::NetworkRecord>& nets) {
  // A container's endpoint and lease name the same owner: each owner is looked up once.
  std::unordered_map<std::string, bool> alive;
  auto owner_alive = [&alive](const std::string& owner) {
    auto [it, fresh] = alive.try_emplace(owner, false);
    if (fresh) it->second = Store::owner_alive(owner);
    return it->second;
  };
  for (const auto& r : nets) {
    for (const auto& a : network::network_endpoints(store, r.name))
      if (!owner_alive(a.owner)) return true;
    auto subnet = network::parse_subnet(r.subnet);
    auto gw = network::parse_ip(r.gateway);
    if (!gw) continue;
    for (const auto& l : network::Ipam(store.network_leases_dir(r.name), subnet, *gw).leases())
      if (!owner_alive(l.owner)) return true;
  }
  return false;
}

}  // namespace

void recover_container_networks(Store& store) noexcept {
  try {
    auto nets = network::list_networks(store);
    if (nets.empty()) return;
    // network::recover also deletes host-side veths that no endpoint names; right after a
    // container's exit its veth is still there until the kernel has destroyed its namespace
    // (asynchronously, some ms), and deleting it then costs the next run an RTM_DELLINK (10-25 ms).
    // So the full recovery runs only when a dead run left records; `rm` and the failure paths
    // delete their veths themselves.
    if (!dead_records(store, nets)) return;
    std::set<std::string> live;
    for (const auto& cid : store.container_ids()) {
      try {
        auto rec = store.container(cid);
        if (rec && rec->status == ContainerStatus::running && pid_alive(rec->pid)) live.insert(cid);
      } catch (const Error&) {
      }
    }
    network::recover(store, live);
  } catch (const std::exception& e) {
    spdlog::warn("network recovery: {}", e.what());
  }
}

}  // namespace minirun
