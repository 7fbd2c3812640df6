#include "minirun/build/chown_spec.h"

#include <sstream>

#include "minirun/util/error.h"

namespace minirun::build {

namespace {

std::optional<unsigned long> number(const std::string& s) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  unsigned long v = std::stoul(s);
  if (v > 0xfffffffeul) return std::nullopt;
  return v;
}

// The id (third field) of the line of an /etc/passwd or /etc/group text whose first field is name.
std::optional<unsigned long> lookup(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    size_t start = 0;
    for (int i = 0; i < 3; i++) {
      size_t colon = line.find(':', start);
      f.push_back(line.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (f.size() == 3 && f[0] == name)
      if (auto v = number(f[2])) return v;
  }
  return std::nullopt;
}

}  // namespace

bool chown_has_names(const std::string& chown) {
  if (chown.empty()) return false;
  auto colon = chown.find(':');
  if (!number(chown.substr(0, colon))) return true;
  return colon != std::string::npos && !number(chown.substr(colon + 1));
}

std::pair<uid_t, gid_t> resolve_chown(const std::string& chown, const std::optional<std::string>& passwd,
                                      const std::optional<std::string>& group) {
  if (chown.empty()) return {0, 0};
  const std::string prefix = "unable to convert uid/gid chown string to host mapping: ";
  auto colon = chown.find(':');
  if (colon != std::string::npos && chown.find(':', colon + 1) != std::string::npos)
    throw Error("invalid chown string format: " + chown, 1);
  std::string user = chown.substr(0, colon);
  std::string grp = colon == std::string::npos ? user : chown.substr(colon + 1);
  auto uid = number(user);
  if (!uid) {
    if (!passwd)
      throw Error(prefix + "can't find uid for user " + user + ": open /etc/passwd: no such file or directory", 1);
    uid = lookup(*passwd, user);
    if (!uid) throw Error(prefix + "can't find uid for user " + user + ": no such user: " + user, 1);
  }
  auto gid = number(grp);
  if (!gid) {
    if (!group)
      throw Error(prefix + "can't find gid for group " + grp + ": open /etc/group: no such file or directory", 1);
    gid = lookup(*group, grp);
    if (!gid) throw Error(prefix + "can't find gid for group " + grp + ": no such group: " + grp, 1);
  }
  return {static_cast<uid_t>(*uid), static_cast<gid_t>(*gid)};
}

}  // namespace minirun::build
