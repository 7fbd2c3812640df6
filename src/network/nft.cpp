// nft.cpp — minirun's nftables table.
//
// Layout (one table `ip <table>`, created whole in one transaction the first time it is missing):
//   sets  bridges {ifname}, subnets {ipv4 interval}   one element per network (network.cpp)
//   maps  dnat_tcp|udp      {host port : container ip . port}          -p PORT / -p 0.0.0.0:…
//         dnat_addr_tcp|udp {host ip . host port : container ip . port} -p IP:PORT:…
//   guard       (filter prerouting, raw)  drop packets from a bridge to 127.0.0.0/8 (see below)
//   prerouting  (nat, dstnat)  to a local address → published: DNAT through the maps
//   output      (nat, -100)    the same for connections the host makes itself (127.0.0.1:PORT)
//   postrouting (nat, srcnat)  masquerade the subnets leaving by another interface (outbound
//               NAT); masquerade 127.0.0.0/8 sources going to a bridge; masquerade DNATed traffic
//               from a subnet back into a bridge (a container reaching a published port: hairpin)
//   forward     (filter)       accept traffic from bridges, replies to them and DNATed traffic
// The rules never change: a container adds and removes only map elements, each commented with
// its id, in one transaction (one `nft` batch). So per-container work is one small batch, no
// rule handles have to be remembered, recovery finds leftovers by comment, and other tables
// (Docker's, firewalld's) are never read or touched. Note that an accept here does not override
// a drop in another table at the same hook (a host whose forward policy is drop, as Docker sets
// it, needs that table's owner to allow the bridges).
//
// 127.0.0.1:HOSTPORT, as Docker without its userland proxy does it: the output chain DNATs the
// host's own connection to the container; the rerouted packet keeps source 127.0.0.1, which the
// kernel refuses to send out of a non-loopback interface unless that interface has
// net.ipv4.conf.<if>.route_localnet=1 — so network.cpp sets it on each bridge — and which the
// container could not answer (127.0.0.1 is its own loopback) — so postrouting masquerades it to
// the bridge's address. Both are needed; route_localnet alone also lets a container reach the
// host's 127.0.0.1 services (CVE-2020-8558), which the guard chain prevents by dropping packets
// from a bridge addressed to 127.0.0.0/8. We chose this over a proxy process (docker-proxy): no
// process per port, no copy of the traffic, nothing to outlive.
//
// libnftables has no static archive in Debian, and linking its shared library would make every
// command, even `run --network none`, load it and its dependencies at start; instead it is
// dlopen()ed on first use — only by runs that use a bridge network. It shares minirun's libc
// (glibc is the one shared library the binary links); only strings go in, and what comes back is
// read from libnftables' own buffers.
#include "minirun/network/nft.h"

#include <sys/stat.h>
#include <nftables/libnftables.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "minirun/util/dynlib.h"
#include "minirun/util/error.h"

namespace minirun::network {

namespace {

struct Api {
  decltype(&nft_ctx_new) ctx_new;
  decltype(&nft_ctx_free) ctx_free;
  decltype(&nft_ctx_buffer_output) buffer_output;
  decltype(&nft_ctx_buffer_error) buffer_error;
  decltype(&nft_ctx_get_output_buffer) get_output;
  decltype(&nft_ctx_get_error_buffer) get_error;
  decltype(&nft_ctx_output_set_flags) set_output_flags;
  decltype(&nft_run_cmd_from_buffer) run;
};

const Api& api() {
  const auto& bound = bind_once<Api>("libnftables.so.1",
                                   "bridge networking needs libnftables (Debian: apt-get install libnftables1)",
                                   [](DynLib& lib, Api& a) {
                                     lib.bind(a.ctx_new, "nft_ctx_new");
                                     lib.bind(a.ctx_free, "nft_ctx_free");
                                     lib.bind(a.buffer_output, "nft_ctx_buffer_output");
                                     lib.bind(a.buffer_error, "nft_ctx_buffer_error");
                                     lib.bind(a.get_output, "nft_ctx_get_output_buffer");
                                     lib.bind(a.get_error, "nft_ctx_get_error_buffer");
                                     lib.bind(a.set_output_flags, "nft_ctx_output_set_flags");
                                     lib.bind(a.run, "nft_run_cmd_from_buffer");
                                     return std::string();
                                   });
  if (!bound.api) throw Error(bound.failure);
  return *bound.api;
}

std::string map_name(const PortMapping& m) { return (m.host_ip.empty() ? "dnat_" : "dnat_addr_") + m.proto; }

std::string map_key(const PortMapping& m) {
  return (m.host_ip.empty() ? "" : m.host_ip + " . ") + std::to_string(m.host_port);
}

}  // namespace

std::string table_script(const std::string& t) {
  std::string p = " ip " + t + " ";
  std::string s = "create table" + p + "\n";
  s += "add set" + p + "bridges { type ifname; }\n";
  s += "add set" + p + "subnets { type ipv4_addr; flags interval; }\n";
  for (const char* proto : {"tcp", "udp"}) {
    s += "add map" + p + "dnat_" + proto + " { type inet_service : ipv4_addr . inet_service; }\n";
    s += "add map" + p + "dnat_addr_" + proto + " { type ipv4_addr . inet_service : ipv4_addr . inet_service; }\n";
  }
  s += "add chain" + p + "published\n";
  s += "add chain" + p + "guard { type filter hook prerouting priority raw; policy accept; }\n";
  s += "add chain" + p + "prerouting { type nat hook prerouting priority dstnat; policy accept; }\n";
  s += "add chain" + p + "output { type nat hook output priority -100; policy accept; }\n";
  s += "add chain" + p + "postrouting { type nat hook postrouting priority srcnat; policy accept; }\n";
  s += "add chain" + p + "forward { type filter hook forward priority filter; policy accept; }\n";
  s += "add rule" + p + "guard iifname @bridges ip daddr 127.0.0.0/8 drop\n";
  s += "add rule" + p + "prerouting fib daddr type local jump published\n";
  s += "add rule" + p + "output fib daddr type local jump published\n";
  for (const char* proto : {"tcp", "udp"}) {
    s += "add rule" + p + "published dnat ip to ip daddr . " + proto + " dport map @dnat_addr_" + proto + "\n";
    s += "add rule" + p + "published dnat ip to " + proto + " dport map @dnat_" + proto + "\n";
  }
  s += "add rule" + p + "postrouting ip saddr @subnets oifname != @bridges masquerade\n";
  s += "add rule" + p + "postrouting oifname @bridges ip saddr 127.0.0.0/8 masquerade\n";
  s += "add rule" + p + "postrouting oifname @bridges ct status dnat ip saddr @subnets masquerade\n";
  s += "add rule" + p + "forward oifname @bridges ct state established,related accept\n";
  s += "add rule" + p + "forward oifname @bridges ct status dnat accept\n";
  s += "add rule" + p + "forward iifname @bridges accept\n";
  return s;
}

std::string network_elements(const std::string& op, const std::string& table, const std::string& bridge,
                             const Subnet& subnet) {
  std::string p = op + " element ip " + table + " ";
  return p + "bridges { \"" + bridge + "\" }\n" + p + "subnets { " + subnet.str() + " }\n";
}

std::string port_elements(const std::string& op, const std::string& table, const std::string& container_id,
                          Ip4 container_ip, const std::vector<PortMapping>& ports) {
  std::string s;
  for (const auto& m : ports) {
    s += op + " element ip " + table + " " + map_name(m) + " { " + map_key(m);
    if (op == "add")
      s += " comment \"" + container_id + "\" : " + ip_string(container_ip) + " . " + std::to_string(m.container_port);
    s += " }\n";
  }
  return s;
}

Nft::Nft() {
  const Api& a = api();
  ctx_ = a.ctx_new(NFT_CTX_DEFAULT);
  if (!ctx_) throw Error("nftables: cannot make a context");
  a.buffer_output(ctx_);
  a.buffer_error(ctx_);
}

Nft& Nft::shared() {
  // Deliberately never deleted (see nft.h). A socket belongs to the namespace it was made in: a
  // thread that changed its network namespace since (tests do) gets a new context.
  static Nft* n = nullptr;
  static ino_t ns = 0;
  static std::mutex mu;
  std::lock_guard<std::mutex> g(mu);
  struct stat st{};
  ::stat("/proc/thread-self/ns/net", &st);
  if (!n || st.st_ino != ns) {
    delete n;
    n = nullptr;
    n = new Nft();
    ns = st.st_ino;
  }
  return *n;
}

Nft::~Nft() {
  if (ctx_) api().ctx_free(ctx_);
}

// The buffers hold what the last command printed until read: emptied before each command, so
// that what run_output reads is its own command's output only.
static void drain(const Api& a, nft_ctx* ctx) {
  a.get_output(ctx);
  a.get_error(ctx);
}

bool Nft::try_run(const std::string& cmds, std::string* error) {
  std::lock_guard<std::mutex> g(mu_);
  const Api& a = api();
  drain(a, ctx_);
  a.set_output_flags(ctx_, 0);
  if (a.run(ctx_, cmds.c_str()) == 0) return true;
  if (error) {
    const char* e = a.get_error(ctx_);
    *error = e ? e : "failed";
    while (!error->empty() && error->back() == '\n') error->pop_back();
  }
  return false;
}

void Nft::run(const std::string& cmds) {
  std::string err;
  if (!try_run(cmds, &err)) throw Error("nftables: " + err);
}

std::string Nft::run_output(const std::string& cmds, bool json) {
  std::lock_guard<std::mutex> g(mu_);
  const Api& a = api();
  drain(a, ctx_);
  a.set_output_flags(ctx_, json ? NFT_CTX_OUTPUT_JSON : 0);
  int rc = a.run(ctx_, cmds.c_str());
  a.set_output_flags(ctx_, 0);
  if (rc != 0) {
    const char* e = a.get_error(ctx_);
    throw Error("nftables: " + std::string(e ? e : "failed"));
  }
  const char* o = a.get_output(ctx_);
  return o ? o : "";
}

bool Nft::has_table(const std::string& table) {
  std::string err;
  // Listing the table's sets only: cheaper than the whole ruleset, and fails when it is missing.
  return try_run("list sets table ip " + table, &err);
}

std::vector<PortElement> Nft::port_elements(const std::string& table) {
  std::vector<PortElement> out;
  if (!has_table(table)) return out;
  for (const char* map : {"dnat_tcp", "dnat_udp", "dnat_addr_tcp", "dnat_addr_udp"}) {
    auto j = nlohmann::json::parse(run_output(std::string("list map ip ") + table + " " + map, true), nullptr, false);
    if (j.is_discarded() || !j.contains("nftables")) continue;
    for (const auto& item : j["nftables"]) {
      if (!item.contains("map") || !item["map"].contains("elem")) continue;
      for (const auto& e : item["map"]["elem"]) {
        // [ {"elem": {"val": KEY, "comment": CID}}, VALUE ]
        if (!e.is_array() || e.empty() || !e[0].contains("elem")) continue;
        const auto& el = e[0]["elem"];
        PortElement pe{map, "", el.value("comment", "")};
        const auto& v = el["val"];
        if (v.is_number()) pe.key = std::to_string(v.get<int>());
        else if (v.is_object() && v.contains("concat") && v["concat"].size() == 2)
          pe.key = v["concat"][0].get<std::string>() + " . " + std::to_string(v["concat"][1].get<int>());
        if (!pe.key.empty()) out.push_back(std::move(pe));
      }
    }
  }
  return out;
}

nlohmann::json Nft::table_items(const std::string& table) {
  if (!has_table(table)) return nlohmann::json::array();
  auto j = nlohmann::json::parse(run_output("list table ip " + table, true), nullptr, false);
  if (j.is_discarded() || !j.contains("nftables")) return nlohmann::json::array();
  return j["nftables"];
}

size_t Nft::element_count(const std::string& table) {
  size_t n = 0;
  for (const auto& item : table_items(table))
    for (const char* kind : {"set", "map"})
      if (item.contains(kind) && item[kind].contains("elem")) n += item[kind]["elem"].size();
  return n;
}

size_t Nft::rule_count(const std::string& table) {
  size_t n = 0;
  for (const auto& item : table_items(table))
    if (item.contains("rule")) n++;
  return n;
}

}  // namespace minirun::network
