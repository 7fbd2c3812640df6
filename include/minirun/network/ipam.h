// ipam.h — IPv4 addresses of a bridge network: subnet arithmetic and leases kept in the store.
//
// A lease is the symlink networks/<name>/leases/<ip> -> "<cid>.<pid>.<boot>": symlink(2) is
// atomic and fails with EEXIST, so two concurrent runs never get the same address, with no lock
// held. The claiming process is part of the target: recovery (network.h) reclaims a lease whose
// container is not live once that process is gone too, so a run that is still attaching keeps it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::network {

// Host-order IPv4 address.
using Ip4 = uint32_t;

std::optional<Ip4> parse_ip(std::string_view s);
std::string ip_string(Ip4 ip);

struct Subnet {
  Ip4 base = 0;  // network address (host bits cleared)
  int prefix = 0;
  Ip4 mask() const { return prefix == 0 ? 0 : ~Ip4(0) << (32 - prefix); }
  bool contains(Ip4 ip) const { return (ip & mask()) == base; }
  bool overlaps(const Subnet& o) const;
  Ip4 broadcast() const { return base | ~mask(); }
  std::string str() const { return ip_string(base) + "/" + std::to_string(prefix); }
};
// "172.30.0.0/16"; host bits must be zero; prefix 8..30. Throws Error.
Subnet parse_subnet(std::string_view cidr);

struct Lease {
  Ip4 ip = 0;
  std::string container_id;
  std::string owner;  // "<pid>.<boot>" of the process that claimed it
};

class Ipam {
 public:
  Ipam(std::string leases_dir, Subnet subnet, Ip4 gateway);
  // Claims `requested` (Error if taken or outside the subnet), else the lowest free address
  // (neither the network, broadcast nor gateway address). Error when the subnet is full.
  Ip4 claim(const std::string& container_id, std::optional<Ip4> requested = std::nullopt) const;
  // Removes the lease of ip if it still belongs to container_id (idempotent).
  void release(Ip4 ip, const std::string& container_id) const;
  std::vector<Lease> leases() const;

 private:
  std::string dir_;
  Subnet subnet_;
  Ip4 gateway_;
};

}  // namespace minirun::network
