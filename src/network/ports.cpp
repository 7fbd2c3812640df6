#include "minirun/network/ports.h"

#include <arpa/inet.h>

#include <charconv>
#include <tuple>

#include "minirun/util/error.h"

namespace minirun::network {

namespace {

// "80" or "8000-8010" → [first, last]; 0 when empty and allowed.
std::pair<uint16_t, uint16_t> port_range(std::string_view s, const char* what, std::string_view spec) {
  auto bad = [&] { return Error("invalid " + std::string(what) + " in \"" + std::string(spec) + "\""); };
  auto num = [&](std::string_view n) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (n.empty() || ec != std::errc() || p != n.data() + n.size() || v == 0 || v > 65535) throw bad();
    return static_cast<uint16_t>(v);
  };
  auto dash = s.find('-');
  if (dash == std::string_view::npos) {
    uint16_t v = num(s);
    return {v, v};
  }
  uint16_t a = num(s.substr(0, dash)), b = num(s.substr(dash + 1));
  if (b < a) throw bad();
  return {a, b};
}

}  // namespace

std::vector<PortMapping> parse_port(std::string_view spec) {
  std::string_view s = spec, proto = "tcp";
  if (auto slash = s.rfind('/'); slash != std::string_view::npos) {
    proto = s.substr(slash + 1);
    s = s.substr(0, slash);
    if (proto != "tcp" && proto != "udp") throw Error("invalid proto \"" + std::string(proto) + "\" in \"" + std::string(spec) + "\"");
  }
  // IP:HOST:CONTAINER, HOST:CONTAINER, IP::CONTAINER, CONTAINER (IPv4 addresses only).
  std::string_view ip, host, cont;
  auto last = s.rfind(':');
  if (last == std::string_view::npos) {
    cont = s;
  } else {
    cont = s.substr(last + 1);
    std::string_view rest = s.substr(0, last);
    auto c = rest.rfind(':');
    if (c == std::string_view::npos) {
      host = rest;
    } else {
      ip = rest.substr(0, c);
      host = rest.substr(c + 1);
    }
  }
  if (cont.empty()) throw Error("invalid port format \"" + std::string(spec) + "\": no container port");
  std::string host_ip(ip);
  if (!host_ip.empty()) {
    if (host_ip.front() == '[') throw Error("IPv6 host address in \"" + std::string(spec) + "\": not supported");
    in_addr a;
    if (::inet_pton(AF_INET, host_ip.c_str(), &a) != 1) throw Error("invalid IP address \"" + host_ip + "\" in \"" + std::string(spec) + "\"");
    if (host_ip == "0.0.0.0") host_ip.clear();
  }
  auto [c0, c1] = port_range(cont, "containerPort", spec);
  uint16_t h0 = 0, h1 = 0;
  if (!host.empty()) std::tie(h0, h1) = port_range(host, "hostPort", spec);
  if (h0 != 0 && h1 - h0 != c1 - c0 && !(h0 != h1 && c0 == c1))
    throw Error("invalid ranges in \"" + std::string(spec) + "\": host and container ranges differ in length");
  std::vector<PortMapping> out;
  if (h0 != h1 && c0 == c1) {  // a host range for one container port: Docker takes the first free; we take the first
    out.push_back({host_ip, h0, c0, std::string(proto)});
    return out;
  }
  for (unsigned i = 0; i <= static_cast<unsigned>(c1 - c0); i++)
    out.push_back({host_ip, static_cast<uint16_t>(h0 ? h0 + i : 0), static_cast<uint16_t>(c0 + i), std::string(proto)});
  return out;
}

std::vector<PortMapping> exposed_ports(const std::vector<std::string>& exposed) {
  std::vector<PortMapping> out;
  for (const auto& e : exposed)
    for (auto& m : parse_port(e)) {
      m.host_port = 0;
      out.push_back(std::move(m));
    }
  return out;
}

std::string format_port(const PortMapping& m) {
  return (m.host_ip.empty() ? std::string("0.0.0.0") : m.host_ip) + ":" + std::to_string(m.host_port) + "->" +
         std::to_string(m.container_port) + "/" + m.proto;
}

}  // namespace minirun::network
