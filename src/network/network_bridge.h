// network_bridge.h — internal to the network modules: a network's bridge and its nft elements
// set up (network.cpp), for attach when the bridge is missing.
#pragma once

#include <string>

#include "minirun/network/netlink.h"
#include "minirun/network/network.h"
#include "minirun/network/nft.h"

namespace minirun::network {

// The nft elements of a network added in the same batch as `extra` (add is idempotent); the
// table is created first when it is missing.
void nft_add(Nft& nft, const Options& opt, const NetworkRecord& net, const std::string& extra);
// The nft table and the network's elements, then the bridge up with its address and the
// sysctls. Returns the bridge's index.
int setup_bridge(Netlink& nl, const NetworkRecord& net, const Options& opt);

}  // namespace minirun::network
