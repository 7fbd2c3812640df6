// nft_elements.h — the per-container part of minirun's nft table: a container's published-port
// elements (the dnat maps of nft.h's layout) added and deleted in one netlink batch through
// libnftnl + libmnl (dlopen'd, ~0.5 ms once per process), with no libnftables (its load, context
// and parser cost ~10 ms) on the run path. The table itself is still made by nft.h (libnftables),
// once. See nft_elements.cpp for why a socket that deleted elements is closed by a holder.
#pragma once

#include <string>
#include <vector>

#include "minirun/network/ipam.h"
#include "minirun/network/ports.h"

namespace minirun::network {

// Whether libnftnl.so.11 can be loaded (for tests' skips).
bool nftnl_available();

// Adds the DNAT elements of `ports` (host ports chosen) to <table>'s dnat_* maps, each commented
// with the container id, in one transaction. Returns false when the table or a map is missing
// (ENOENT: the caller makes the table and tries again); throws Error otherwise (a host port
// already mapped: "port is already allocated").
bool add_port_elements(const std::string& table, const std::string& container_id, Ip4 container_ip,
                       const std::vector<PortMapping>& ports);
// Deletes them, one transaction for all; when that fails (some are gone already: a recovery
// raced, a table removed), one transaction per port, ignoring missing ones. No error when the
// table is gone.
void delete_port_elements(const std::string& table, const std::vector<PortMapping>& ports);
// One element as a delete names it (recovery): map "dnat_tcp"…, key "8080" or "127.0.0.1 . 8080".
void delete_port_element(const std::string& table, const std::string& map, const std::string& key);

}  // namespace minirun::network
