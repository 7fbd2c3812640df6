#include "minirun/network/hosts.h"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include "minirun/network/ipam.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::network {

std::string hosts_content(const HostsInput& in) {
  std::string s = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                  "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
  for (const auto& [n, ip] : in.extra) s += ip + "\t" + n + "\n";
  std::string names = in.hostname;
  if (!in.name.empty() && in.name != in.hostname) names += (names.empty() ? "" : " ") + in.name;
  if (!names.empty()) s += (in.ip.empty() ? std::string("127.0.1.1") : in.ip) + "\t" + names + "\n";
  for (const auto& [n, ip] : in.peers) s += ip + "\t" + n + "\n";
  return s;
}

namespace {

bool loopback_server(const std::string& a) {
  return a.rfind("127.", 0) == 0 || a == "::1" || a == "0:0:0:0:0:0:0:1";
}

// The nameserver lines of a resolv.conf that a container can use.
std::vector<std::string> usable_servers(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string key, val;
    l >> key >> val;
    if (key == "nameserver" && !val.empty() && !loopback_server(val)) out.push_back(val);
  }
  return out;
}

}  // namespace

std::string resolv_content(const std::string& host, const std::string& upstream, const DnsInput& dns) {
  std::vector<std::string> servers = dns.servers;
  if (servers.empty()) servers = usable_servers(host);
  if (servers.empty() && !upstream.empty()) servers = usable_servers(upstream);
  if (servers.empty()) servers = {"8.8.8.8", "8.8.4.4"};
  std::string out;
  std::istringstream in(host);
  std::string line;
  // Keep the host's search/domain/options lines unless replaced; comments and servers go.
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string key;
    l >> key;
    if ((key == "search" || key == "domain") && dns.search.empty()) out += line + "\n";
    else if (key == "options" && dns.options.empty()) out += line + "\n";
  }
  if (!dns.search.empty()) {
    out += "search";
    for (const auto& s : dns.search) out += " " + s;
    out += "\n";
  }
  if (!dns.options.empty()) {
    out += "options";
    for (const auto& o : dns.options) out += " " + o;
    out += "\n";
  }
  std::string head;
  for (const auto& s : servers) head += "nameserver " + s + "\n";
  return head + out;
}

std::string container_resolv(const DnsInput& dns) {
  auto host = read_file_if_exists("/etc/resolv.conf", 1 << 20);
  std::string upstream;
  if (host && usable_servers(*host).empty())
    upstream = read_file_if_exists("/run/systemd/resolve/resolv.conf", 1 << 20).value_or("");
  return resolv_content(host.value_or(""), upstream, dns);
}

std::pair<std::string, std::string> parse_add_host(const std::string& s) {
  // NAME:IP (Docker also accepts NAME=IP); the IP may be IPv6, so split at the first separator.
  auto sep = s.find_first_of(":=");
  if (sep == std::string::npos || sep == 0 || sep + 1 == s.size())
    throw Error("invalid argument \"" + s + "\" for --add-host: expected NAME:IP");
  std::string name = s.substr(0, sep), ip = s.substr(sep + 1);
  if (ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (!parse_ip(ip) && ip.find(':') == std::string::npos)
    throw Error("invalid IP address \"" + ip + "\" in --add-host " + s);
  for (char c : name)
    if (c == ' ' || c == '\t' || c == '\n' || c == '#') throw Error("invalid host name in --add-host " + s);
  return {name, ip};
}

void rewrite_in_place(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) throw sys_error(path);
  ssize_t n = ::pwrite(fd, content.data(), content.size(), 0);
  int err = errno;
  if (n != static_cast<ssize_t>(content.size())) {
    ::close(fd);
    throw sys_error(path + ": write", n < 0 ? err : EIO);
  }
  if (::ftruncate(fd, static_cast<off_t>(content.size())) != 0) {
    err = errno;
    ::close(fd);
    throw sys_error(path + ": truncate", err);
  }
  ::close(fd);
}

}  // namespace minirun::network
