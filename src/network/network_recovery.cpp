// network_recovery.cpp — what killed runs left on bridge networks, undone at the next start:
// every endpoint whose container is not live and whose attaching process is gone is torn down,
// leases without an endpoint released; leftovers with no record (a veth named like ours, a DNAT
// element whose comment names no endpoint) are swept too.
#include <net/if.h>

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "minirun/network/ipam.h"
#include "minirun/network/netlink.h"
#include "minirun/network/network.h"
#include "minirun/network/nft.h"
#include "minirun/network/nft_elements.h"
#include "minirun/util/error.h"
#include "network_endpoints.h"

namespace minirun::network {

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
