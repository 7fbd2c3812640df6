// ports.h — published ports: `-p [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]` (ranges as Docker:
// 8000-8001:80-81), `-P` from the image's ExposedPorts, and their display ("0.0.0.0:8080->80/tcp").
// Pure parsing and formatting; network.cpp picks free host ports and installs the DNAT.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::network {

struct PortMapping {
  std::string host_ip;         // "" = every host address (shown as 0.0.0.0)
  uint16_t host_port = 0;      // 0 = a free port chosen at attach
  uint16_t container_port = 0;
  std::string proto = "tcp";   // tcp | udp
  bool operator==(const PortMapping&) const = default;
};

// One -p value; a range gives one mapping per port. Throws Error with Docker's wording
// ("invalid port format", "invalid containerPort", …).
std::vector<PortMapping> parse_port(std::string_view spec);
// -P: the image config's ExposedPorts keys ("80/tcp", "53/udp", "8080"), each to a free host port.
std::vector<PortMapping> exposed_ports(const std::vector<std::string>& exposed);
// "0.0.0.0:8080->80/tcp", as `docker ps` shows it.
std::string format_port(const PortMapping& m);

}  // namespace minirun::network
