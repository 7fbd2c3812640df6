#include "minirun/engine/process.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "minirun/util/error.h"

namespace minirun {

namespace {

constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string key_of(const std::string& e) { return e.substr(0, e.find('=')); }

void set_env(std::vector<std::string>& env, const std::string& entry) {
  std::string k = key_of(entry);
  for (auto& e : env)
    if (key_of(e) == k) {
      e = entry;
      return;
    }
  env.push_back(entry);
}

bool has_key(const std::vector<std::string>& env, const std::string& k) {
  for (const auto& e : env)
    if (key_of(e) == k) return true;
  return false;
}

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

std::vector<std::string> merge_argv(const std::vector<std::string>& image_entrypoint,
                                    const std::vector<std::string>& image_cmd,
                                    const std::optional<std::string>& entrypoint_flag,
                                    const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  if (entrypoint_flag) {
    if (!entrypoint_flag->empty()) argv.push_back(*entrypoint_flag);
    argv.insert(argv.end(), args.begin(), args.end());
  } else {
    argv = image_entrypoint;
    const auto& cmd = args.empty() ? image_cmd : args;
    argv.insert(argv.end(), cmd.begin(), cmd.end());
  }
  if (argv.empty()) throw Error("no command specified", kExitFailed);
  return argv;
}

std::vector<std::string> merge_env(const std::vector<std::string>& image_env, const std::vector<std::string>& user_env) {
  std::vector<std::string> env;
  for (const auto& e : image_env) set_env(env, e);
  for (const auto& e : user_env) {
    if (e.empty() || e[0] == '=') throw Error("invalid environment variable \"" + e + "\"");
    if (e.find('=') != std::string::npos) {
      set_env(env, e);
    } else if (const char* v = std::getenv(e.c_str())) {
      set_env(env, e + "=" + v);
    }
  }
  return env;
}

std::vector<std::string> read_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw sys_error("env file " + path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find_first_not_of(" \t");
    if (a == std::string::npos || line[a] == '#') continue;
    line = line.substr(a);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

ResolvedUser resolve_user(int rootfs_dirfd, const std::string& spec) {
  ResolvedUser u;
  std::string user = spec, group;
  if (auto c = spec.find(':'); c != std::string::npos) {
    user = spec.substr(0, c);
    group = spec.substr(c + 1);
  }
  if (user.empty() && group.empty()) user = "0";
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
    return u;
  }
  // Like runc: the primary group is also a supplementary group, then the memberships.
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

std::vector<std::string> finish_env(std::vector<std::string> env, const std::string& hostname,
                                    const std::string& home, bool tty) {
  std::vector<std::string> out;
  if (!has_key(env, "PATH")) out.push_back(kDefaultPath);
  out.push_back("HOSTNAME=" + hostname);
  if (tty) out.push_back("TERM=xterm");
  for (auto& e : env) set_env(out, e);
  if (!has_key(out, "HOME")) out.push_back("HOME=" + home);
  return out;
}

}  // namespace minirun
