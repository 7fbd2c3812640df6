// network_endpoints.h — internal to the network modules: undoing one endpoint (endpoints.cpp),
// which detach and recover() share.
#pragma once

#include "minirun/network/network.h"

namespace minirun::network {

// Undoes an endpoint: nft elements, veth (unless delete_veth is false), record, lease.
void teardown(Store& store, const Attachment& a, const Options& opt, bool delete_veth = true);

}  // namespace minirun::network
