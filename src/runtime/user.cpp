// user.cpp — a container's user from its own /etc/passwd and /etc/group, read with every symlink
// resolved inside the root (never the host's files, never NSS).
#include "minirun/runtime/user.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "minirun/util/error.h"

namespace minirun {

namespace {

// Reads a small file below rootfs_dirfd with every symlink resolved inside it.
std::string read_in_root(int rootfs_dirfd, const char* path) {
  struct open_how how = {};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, rootfs_dirfd, path, &how, sizeof how));
  if (fd < 0) return "";
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < (8u << 20)) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::vector<std::vector<std::string>> records(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t start = 0;
    for (;;) {
      size_t c = line.find(':', start);
      f.push_back(line.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) break;
      start = c + 1;
    }
    out.push_back(std::move(f));
  }
  return out;
}

bool numeric(const std::string& s, unsigned long& v) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  v = std::strtoul(s.c_str(), nullptr, 10);
  return v <= 0xfffffffeul;
}

}  // namespace

ResolvedUser resolve_user(int rootfs_dirfd, const std::string& spec) {
  ResolvedUser u;
  const auto colon = spec.find(':');
  std::string user = spec.substr(0, colon);
  std::string group = colon == std::string::npos ? std::string() : spec.substr(colon + 1);
  if (user.empty() && group.empty()) user.push_back('0');
  auto passwd = records(read_in_root(rootfs_dirfd, "/etc/passwd"));
  auto groups = records(read_in_root(rootfs_dirfd, "/etc/group"));
  unsigned long num;
  bool found = false;
  std::string name;
  bool user_numeric = numeric(user, num);
  for (const auto& p : passwd) {
    if (p.size() < 7) continue;
    unsigned long puid;
    if ((user_numeric && numeric(p[2], puid) && puid == num) || (!user_numeric && p[0] == user)) {
      unsigned long pgid = 0;
      numeric(p[2], puid);
      numeric(p[3], pgid);
      u.uid = static_cast<uid_t>(puid);
      u.gid = static_cast<gid_t>(pgid);
      u.home = p[5].empty() ? "/" : p[5];
      name = p[0];
      found = true;
      break;
    }
  }
  if (!found) {
    if (!user_numeric) throw Error("unable to find user " + user + ": no matching entries in passwd file", kExitFailed);
    u.uid = static_cast<uid_t>(num);
  }
  if (!group.empty()) {
    bool gfound = false;
    bool group_numeric = numeric(group, num);
    for (const auto& g : groups) {
      unsigned long ggid;
      if (g.size() < 3 || !numeric(g[2], ggid)) continue;
      if ((group_numeric && ggid == num) || (!group_numeric && g[0] == group)) {
        u.gid = static_cast<gid_t>(ggid);
        gfound = true;
        break;
      }
    }
    if (!gfound) {
      if (!group_numeric) throw Error("unable to find group " + group + ": no matching entries in group file", kExitFailed);
      u.gid = static_cast<gid_t>(num);
    }
    u.groups.push_back(u.gid);  // Docker's: the primary group is a supplementary group too
    return u;
  }
  // Like Docker: the primary group is also a supplementary group, then the memberships.
  u.groups.push_back(u.gid);
  if (!name.empty()) {
    for (const auto& g : groups) {
      unsigned long ggid;
      if (g.size() < 4 || !numeric(g[2], ggid)) continue;
      std::istringstream members(g[3]);
      std::string m;
      while (std::getline(members, m, ','))
        if (m == name && static_cast<gid_t>(ggid) != u.gid) u.groups.push_back(static_cast<gid_t>(ggid));
    }
  }
  return u;
}

std::string home_of_uid(int rootfs_dirfd, uid_t uid) {
  for (const auto& p : records(read_in_root(rootfs_dirfd, "/etc/passwd"))) {
    unsigned long puid;
    if (p.size() >= 7 && numeric(p[2], puid) && puid == uid) return p[5].empty() ? "/" : p[5];
  }
  return "/";
}

}  // namespace minirun
