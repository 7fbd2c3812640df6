#include "minirun/network/ipam.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <set>

#include "minirun/store/store.h"
#include "minirun/util/error.h"

namespace minirun::network {

std::optional<Ip4> parse_ip(std::string_view s) {
  in_addr a;
  std::string t(s);
  if (::inet_pton(AF_INET, t.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string ip_string(Ip4 ip) {
  in_addr a{htonl(ip)};
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

bool Subnet::overlaps(const Subnet& o) const {
  int p = std::min(prefix, o.prefix);
  Ip4 m = p == 0 ? 0 : ~Ip4(0) << (32 - p);
  return (base & m) == (o.base & m);
}

Subnet parse_subnet(std::string_view cidr) {
  auto bad = [&](const std::string& why) { return Error("invalid subnet \"" + std::string(cidr) + "\": " + why); };
  auto slash = cidr.find('/');
  if (slash == std::string_view::npos) throw bad("expected ADDRESS/PREFIX");
  auto ip = parse_ip(cidr.substr(0, slash));
  if (!ip) throw bad("not an IPv4 address");
  int prefix = -1;
  auto ps = cidr.substr(slash + 1);
  auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), prefix);
  if (ps.empty() || ec != std::errc() || p != ps.data() + ps.size() || prefix < 8 || prefix > 30)
    throw bad("prefix must be 8 to 30");
  Subnet s{*ip, prefix};
  if ((*ip & s.mask()) != *ip) throw bad("host bits set (did you mean " + ip_string(*ip & s.mask()) + "/" + std::to_string(prefix) + "?)");
  return s;
}

Ipam::Ipam(std::string leases_dir, Subnet subnet, Ip4 gateway)
    : dir_(std::move(leases_dir)), subnet_(subnet), gateway_(gateway) {}

std::vector<Lease> Ipam::leases() const {
  std::vector<Lease> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    auto ip = parse_ip(e->d_name);
    if (!ip) continue;
    char buf[256];
    ssize_t n = ::readlinkat(::dirfd(d), e->d_name, buf, sizeof buf - 1);
    if (n <= 0) continue;
    std::string t(buf, static_cast<size_t>(n));
    auto dot = t.find('.');
    out.push_back({*ip, t.substr(0, dot), dot == std::string::npos ? "" : t.substr(dot + 1)});
  }
  ::closedir(d);
  return out;
}

Ip4 Ipam::claim(const std::string& container_id, std::optional<Ip4> requested) const {
  std::string target = container_id + "." + Store::owner_tag();
  auto try_ip = [&](Ip4 ip) {
    std::string p = dir_ + "/" + ip_string(ip);
    if (::symlink(target.c_str(), p.c_str()) == 0) return true;
    if (errno != EEXIST) throw sys_error(p + ": symlink");
    return false;
  };
  if (requested) {
    if (!subnet_.contains(*requested) || *requested == subnet_.base || *requested == subnet_.broadcast() ||
        *requested == gateway_)
      throw Error("address " + ip_string(*requested) + " is not usable in subnet " + subnet_.str());
    if (!try_ip(*requested)) throw Error("Address already in use: " + ip_string(*requested));
    return *requested;
  }
  std::set<Ip4> taken;
  for (const auto& l : leases()) taken.insert(l.ip);
  for (Ip4 ip = subnet_.base + 1; ip < subnet_.broadcast(); ip++) {
    if (ip == gateway_ || taken.count(ip)) continue;
    if (try_ip(ip)) return ip;  // lost a race: go on with the next one
  }
  throw Error("no available IPv4 address in subnet " + subnet_.str());
}

void Ipam::release(Ip4 ip, const std::string& container_id) const {
  std::string p = dir_ + "/" + ip_string(ip);
  char buf[256];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return;
  std::string t(buf, static_cast<size_t>(n));
  if (t.substr(0, t.find('.')) != container_id) return;  // reclaimed and given to someone else
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) throw sys_error(p + ": unlink");
}

}  // namespace minirun::network
