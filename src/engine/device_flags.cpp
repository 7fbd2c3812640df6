// device_flags.cpp — see device_flags.h.
#include "minirun/engine/device_flags.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "minirun/util/error.h"

namespace minirun {

namespace {

bool valid_device_mode(const std::string& mode) {
  if (mode.empty()) return false;
  std::set<char> seen;
  for (char c : mode) {
    if (c != 'r' && c != 'w' && c != 'm') return false;
    if (!seen.insert(c).second) return false;
  }
  return true;
}

runtime::DeviceRule rule(const char* type, std::optional<int64_t> maj, std::optional<int64_t> min, const char* access) {
  runtime::DeviceRule r;
  r.allow = true;
  r.type = type;
  r.major = maj;
  r.minor = min;
  r.access = access;
  return r;
}

}  // namespace

runtime::DeviceRule parse_device_cgroup_rule(const std::string& s) {
  // ^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$
  const Error bad("invalid device cgroup format '" + s + "'");
  if (s.size() < 7 || (s[0] != 'a' && s[0] != 'b' && s[0] != 'c') || s[1] != ' ') throw bad;
  size_t colon = s.find(':', 2), sp = s.find(' ', 2);
  if (colon == std::string::npos || sp == std::string::npos || sp < colon) throw bad;
  auto num = [&](const std::string& t) -> std::optional<int64_t> {
    if (t == "*") return std::nullopt;
    if (t.empty() || t.size() > 9) throw bad;
    for (char c : t)
      if (!std::isdigit(static_cast<unsigned char>(c))) throw bad;
    return std::stoll(t);
  };
  runtime::DeviceRule r;
  r.allow = true;
  r.type = std::string(1, s[0]);
  r.major = num(s.substr(2, colon - 2));
  r.minor = num(s.substr(colon + 1, sp - colon - 1));
  r.access = s.substr(sp + 1);
  if (r.access.empty() || r.access.size() > 3) throw bad;
  for (char c : r.access)
    if (c != 'r' && c != 'w' && c != 'm') throw bad;
  return r;
}

std::vector<runtime::DeviceRule> docker_default_device_rules() {
  runtime::DeviceRule deny;
  deny.allow = false;
  deny.type = "a";
  deny.access = "rwm";
  return {deny,
          rule("c", std::nullopt, std::nullopt, "m"),  // mknod of any node (opening it needs a rule)
          rule("b", std::nullopt, std::nullopt, "m"),
          rule("c", 1, 3, "rwm"),   // null
          rule("c", 1, 5, "rwm"),   // zero
          rule("c", 1, 7, "rwm"),   // full
          rule("c", 1, 8, "rwm"),   // random
          rule("c", 1, 9, "rwm"),   // urandom
          rule("c", 5, 0, "rwm"),   // tty
          rule("c", 5, 1, "rwm"),   // console
          rule("c", 5, 2, "rwm"),   // ptmx
          rule("c", 136, std::nullopt, "rwm"),  // pts
          rule("c", 10, 200, "rwm")};            // tun
}

DeviceMapping parse_device_flag(const std::string& s) {
  std::vector<std::string> parts;
  size_t i = 0;
  for (;;) {
    size_t c = s.find(':', i);
    parts.push_back(s.substr(i, c == std::string::npos ? std::string::npos : c - i));
    if (c == std::string::npos) break;
    i = c + 1;
  }
  DeviceMapping m;
  switch (parts.size()) {
    case 3:
      if (!valid_device_mode(parts[2])) throw Error("bad mode specified: " + parts[2]);
      m.permissions = parts[2];
      [[fallthrough]];
    case 2:
      if (parts.size() == 2 && valid_device_mode(parts[1])) {
        m.permissions = parts[1];
        m.container_path = parts[0];
      } else {
        m.container_path = parts[1];
      }
      [[fallthrough]];
    case 1:
      m.host_path = parts[0];
      if (m.container_path.empty()) m.container_path = parts[0];
      break;
    default:
      throw Error("invalid device specification: " + s);
  }
  if (m.host_path.empty()) throw Error("invalid device specification: " + s);
  if (m.container_path.empty() || m.container_path[0] != '/') throw Error("bad format for path: " + m.container_path);
  return m;
}

std::pair<runtime::Device, runtime::DeviceRule> device_from_mapping(const DeviceMapping& m) {
  struct stat st;
  const std::string ctx = "error gathering device information while adding custom device \"" + m.host_path + "\": ";
  if (::stat(m.host_path.c_str(), &st) != 0) throw Error(ctx + (errno == ENOENT ? "no such file or directory" : std::strerror(errno)));
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) throw Error(ctx + "not a device node");
  runtime::Device d;
  d.type = S_ISCHR(st.st_mode) ? "c" : "b";
  d.path = m.container_path;
  d.major = major(st.st_rdev);
  d.minor = minor(st.st_rdev);
  d.file_mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.gid = st.st_gid;
  runtime::DeviceRule r;
  r.allow = true;
  r.type = d.type;
  r.major = d.major;
  r.minor = d.minor;
  r.access = m.permissions;
  return {d, r};
}

}  // namespace minirun
