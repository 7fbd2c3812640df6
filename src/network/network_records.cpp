// network_records.cpp — the records of bridge networks and their endpoints (network_records.h),
// and the queries over them that network.h exposes: list, find, endpoints, a container's attachment.
#include "network_records.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>

#include "minirun/util/error.h"
#include "minirun/util/file_ops.h"
#include "minirun/util/fsutil.h"

namespace minirun::network {

using nlohmann::json;

namespace {

json ports_json(const std::vector<PortMapping>& ports) {
  json a = json::array();
  for (const auto& p : ports)
    a.push_back({{"HostIp", p.host_ip}, {"HostPort", p.host_port}, {"ContainerPort", p.container_port}, {"Proto", p.proto}});
  return a;
}

}  // namespace

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

std::optional<Attachment> attachment(const Store& store, const std::string& cid) {
  for (const auto& r : list_networks(store))
    if (auto a = read_endpoint(endpoint_path(store, r.name, cid))) return a;
  return std::nullopt;
}

}  // namespace minirun::network
