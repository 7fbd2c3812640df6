// hosts.h — a container's /etc/hosts and /etc/resolv.conf for bridge networking, and the
// in-place rewrite that keeps them current while the container runs (network.cpp: name
// resolution on user-defined networks).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace minirun::network {

struct HostsInput {
  std::string ip;        // the container's address ("" with no network)
  std::string hostname;  // its host name
  std::string name;      // its container name (an alias beside the host name)
  std::vector<std::pair<std::string, std::string>> extra;  // --add-host NAME:IP, in order
  std::vector<std::pair<std::string, std::string>> peers;  // other containers: (name, ip)
};
// Docker's layout: localhost lines, then the extra hosts, then "IP\thostname name", then the peers.
std::string hosts_content(const HostsInput& in);

struct DnsInput {
  std::vector<std::string> servers;  // --dns (replaces the host's nameservers)
  std::vector<std::string> search;   // --dns-search
  std::vector<std::string> options;  // --dns-option
};
// resolv.conf for a container with its own network namespace, from the host's file: loopback
// nameservers (systemd-resolved's 127.0.0.53, a local dnsmasq) cannot be reached from there, so
// they are dropped; when that leaves none, `upstream` (systemd-resolved's
// /run/systemd/resolve/resolv.conf, the real upstreams) is used if given, else Docker's
// defaults 8.8.8.8 and 8.8.4.4. --dns/--dns-search/--dns-option replace the corresponding lines.
std::string resolv_content(const std::string& host, const std::string& upstream, const DnsInput& dns);
// Reads the host's /etc/resolv.conf and /run/systemd/resolve/resolv.conf and calls resolv_content.
std::string container_resolv(const DnsInput& dns);

// "NAME:IP" of --add-host → (name, ip); Error when malformed.
std::pair<std::string, std::string> parse_add_host(const std::string& s);

// Replaces the content of `path` in place — same inode, because a running container sees the
// file through a bind mount, which a rename would leave pointing at the old inode. The new
// content is written in one pwrite() at offset 0, then the file is truncated to its length: a
// reader sees the old or the new text (a partial page is never visible for files this small).
// Creates the file (0644) when missing.
void rewrite_in_place(const std::string& path, const std::string& content);

}  // namespace minirun::network
