// nft.h — minirun's own nftables table (family ip), through libnftables: NAT and filtering for
// bridge networks and published ports. Nothing else is touched: no other table, never a flush.
// See nft.cpp for the table's layout and why it is static with per-container map elements.
#pragma once

#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "minirun/network/ipam.h"
#include "minirun/network/ports.h"

struct nft_ctx;

namespace minirun::network {

// The whole table, as one transaction that fails (EEXIST) when the table exists already.
std::string table_script(const std::string& table);
// "add" or "delete" the elements naming a network: its bridge and its subnet.
std::string network_elements(const std::string& op, const std::string& table, const std::string& bridge,
                             const Subnet& subnet);
// "add" or "delete" the DNAT map elements of a container's published ports (each commented with
// the container id), as nft(8) text. Empty when there are no ports. The run path sends the same
// elements as bytes through libnftnl (nft_elements.h); this is their readable form.
std::string port_elements(const std::string& op, const std::string& table, const std::string& container_id,
                          Ip4 container_ip, const std::vector<PortMapping>& ports);

// A published port element as found in the table (for recovery and tests).
struct PortElement {
  std::string map;           // dnat_tcp, dnat_udp, dnat_addr_tcp, dnat_addr_udp
  std::string key;           // "8080" or "127.0.0.1 . 8080", as a delete command names it
  std::string container_id;  // the element's comment
};

class Nft {
 public:
  // Loads libnftables.so.1 (once per process; dlopen, see nft.cpp) and makes a context.
  // Error when the library is not installed.
  Nft();
  ~Nft();
  Nft(const Nft&) = delete;
  Nft& operator=(const Nft&) = delete;
  // The process's context, made on first use and never freed: its nfnetlink socket is closed
  // by the process's exit. Closing it right after a transaction that deleted elements would wait
  // for the kernel's deferred release of those elements (an RCU grace period, ~10 ms: the
  // NETLINK_URELEASE handler flushes nf_tables' destroy work); by exit time that work is usually
  // done. Calls on it are serialized by a mutex. Not to be used across fork().
  static Nft& shared();

  // Runs commands as one transaction (one netlink batch): all or nothing. Throws Error with
  // nft's message.
  void run(const std::string& cmds);
  // The same; false (and the message in *error) on failure.
  bool try_run(const std::string& cmds, std::string* error = nullptr);
  // Whether `table` exists (ip family).
  bool has_table(const std::string& table);
  // The published-port elements of the table (empty when there is no table).
  std::vector<PortElement> port_elements(const std::string& table);
  // Element counts of every set and map of the table (for leak checks).
  size_t element_count(const std::string& table);
  // The number of rules of the table (for leak checks: a container adds none).
  size_t rule_count(const std::string& table);

 private:
  std::string run_output(const std::string& cmds, bool json);
  // The items of `list table ip TABLE` (JSON), empty when the table is missing or unreadable.
  nlohmann::json table_items(const std::string& table);
  nft_ctx* ctx_ = nullptr;
  std::mutex mu_;
};

}  // namespace minirun::network
