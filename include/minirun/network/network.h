// network.h — bridge networks with no daemon: what the engine calls to put a container on a
// network (attach), to take it off (detach), to clean up after crashes (recover), and the
// `network` verbs (create, ls, inspect, rm). Built on ipam (leases), netlink (links),
// nft (NAT, published ports) and hosts (/etc/hosts, /etc/resolv.conf); see network.cpp,
// endpoints.cpp, network_records.cpp and network_recovery.cpp.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "minirun/network/hosts.h"
#include "minirun/network/ports.h"
#include "minirun/store/store.h"

namespace minirun::network {

// Names of the kernel objects minirun owns; tests use their own so they never meet a real one.
struct Options {
  std::string table = "minirun";           // nftables table (family ip)
  std::string default_bridge = "minirun0"; // the bridge of the network "bridge"
  std::string default_subnet;              // "" = 172.30.0.0/16, or the first free candidate
  std::string veth_prefix = "mr";          // host ends: <prefix><first 12 of the container id>
  std::string bridge_prefix = "mr-";       // user networks' bridges: <prefix><first 12 of its id>
};

// networks/<name>.json
struct NetworkRecord {
  std::string name, id, bridge, subnet, gateway, created;
  bool is_default = false;  // the network "bridge" (no name resolution between containers, as Docker)
};

struct AttachRequest {
  std::string network = "bridge";
  std::string ip;                  // --ip ("" = the lowest free)
  std::string mac;                 // --mac-address ("" = 02:42 + the address)
  std::vector<PortMapping> ports;  // -p / -P (host_port 0 = a free one)
  std::string hostname;            // for /etc/hosts ("" = none)
  std::vector<std::pair<std::string, std::string>> extra_hosts;  // --add-host
  DnsInput dns;                    // --dns, --dns-search, --dns-option
  // Rewrite <store>/containers/<cid>/hosts and resolv.conf in place (hosts.h) when that
  // directory exists.
  bool write_files = true;
};

// networks/<name>/endpoints/<cid>.json: what attach did, so that detach and recover can undo it.
struct Attachment {
  std::string container_id, container_name, hostname, network;
  std::string ip, gateway, mac, veth;
  int prefix = 0;
  std::vector<PortMapping> ports;  // with the host ports chosen
  std::vector<std::pair<std::string, std::string>> extra_hosts;
  std::string owner;               // "<pid>.<boot>" of the attaching process
};

// Puts a created (not yet started) container on a network: claims an address, makes the veth
// pair (eth0 inside netns_fd, with address, lo up, default route), the bridge and minirun's nft
// table on first use, the DNAT of published ports, and its hosts/resolv.conf. All or nothing:
// on failure everything done is undone and Error thrown. netns_fd: the container's network
// namespace (/proc/<pid>/ns/net, or the fd the runtime holds).
Attachment attach(Store& store, const std::string& container_id, const std::string& container_name, int netns_fd,
                  const AttachRequest& req, const Options& opt = {});
// Undoes attach: the DNAT elements (one transaction), the veth, the endpoint, the lease; rewrites
// the hosts files of the network's other containers. Idempotent; no error when not attached.
// delete_veth=false when the container's network namespace is gone (its last process exited and
// no fd holds it): the kernel then destroys the pair itself, asynchronously, where an
// RTM_DELLINK would wait ~25 ms for the device's unregistration; recover() deletes any veth
// still there later (a namespace someone else held).
void detach(Store& store, const std::string& container_id, const Options& opt = {}, bool delete_veth = true);
// The attachment of a container, if any (for ps, port, inspect).
std::optional<Attachment> attachment(const Store& store, const std::string& container_id);
// At start-up: detaches every container not in `live` whose attaching process is gone too, and
// removes leases without endpoints, endpoints without leases, host-side veths (<veth_prefix><12
// hex>) without a lease and, when it cleaned something, DNAT elements without endpoints. Safe to
// run beside running attaches. Cost: one readdir when no network exists; else a readdir and a
// readlink per lease and one link dump (libnftables is loaded only when something was cleaned).
void recover(Store& store, const std::set<std::string>& live_container_ids, const Options& opt = {});
// Name resolution on a user-defined network: rewrites, in place, the hosts file of every
// container on it with every other one's "IP\tNAME". attach and detach call it; call it after
// changing a container's name. Nothing for the default network "bridge" (as Docker).
void refresh_hosts(Store& store, const std::string& network);

// ---- the network verbs ----
// `network create [--subnet CIDR] [--gateway IP] NAME`: records the network and sets up its
// bridge and nft elements. subnet "" = a free private /16 (none of the host's routes, no other
// network); gateway "" = the subnet's first address.
NetworkRecord create_network(Store& store, const std::string& name, const std::string& subnet = "",
                             const std::string& gateway = "", const Options& opt = {});
// The recorded networks, by name (the default "bridge" once it has been used or created).
std::vector<NetworkRecord> list_networks(const Store& store);
std::optional<NetworkRecord> find_network(const Store& store, const std::string& name_or_id);
// The containers attached to a network.
std::vector<Attachment> network_endpoints(const Store& store, const std::string& name);
// Removes a network with no containers (Error otherwise): its bridge, nft elements and records.
void remove_network(Store& store, const std::string& name_or_id, const Options& opt = {});
// The default network "bridge", created (record, bridge, table) if it is not there yet.
NetworkRecord default_network(Store& store, const Options& opt = {});

// Brings up lo in a namespace (what --network none needs; attach does it itself).
void loopback_up(int netns_fd);

}  // namespace minirun::network
