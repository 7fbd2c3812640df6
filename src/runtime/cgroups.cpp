// cgroups.cpp — runtime::Cgroup, which dispatches to the v1 driver (cgroup_v1.cpp) or the v2
// driver (cgroup_v2.cpp) over the control files (cgroup_files.cpp) of the hierarchy the host has
// (cgroup_hierarchy.cpp); the clean-up of stale groups; the pure translations between v1 and v2
// values.
//
// destroy() never trusts the process list to stay still: it freezes the group (so a fork bomb
// cannot outrun the kill loop), SIGKILLs every member, thaws, waits for the group to empty and
// removes the directory in every hierarchy.
#include "minirun/runtime/cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "cgroup_files.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::runtime {

namespace {

std::string join_rel(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "/") + p;
  return s;
}

}  // namespace

std::string Cgroup::dir(const std::string& controller) const {
  if (h_.mode == CgroupHierarchy::Mode::v2) return cg::v2::dir(h_, path_);
  auto it = h_.v1.find(controller);
  if (it == h_.v1.end()) return "";
  return it->second + "/" + path_;
}

std::vector<std::string> Cgroup::procs_files() const {
  std::vector<std::string> out;
  // v1: "tasks", not "cgroup.procs". Moving a whole thread group takes the kernel's global
  // cgroup_threadgroup_rwsem for writing, and its first writer after a quiet moment waits for an
  // RCU grace period (measured here: 10-15 ms after idle, 0.3-2 ms back to back). A single-threaded
  // process moving itself ("0" into tasks) skips that lock (Linux >= 6.0) and moves just as
  // completely: the joining process is always a fresh child with one thread.
  for (const auto& d : all_dirs()) out.push_back(d + "/" + h_.procs_file());
  return out;
}

void Cgroup::release_descriptors() {
  cg::forget_all_dirs();
}

std::vector<int> Cgroup::open_join_files() const {
  const char* file = h_.procs_file();
  std::vector<int> fds;
  for (const auto& d : all_dirs()) {
    int fd = cg::open_in(d, file, O_WRONLY);
    if (fd < 0) {
      int e = errno;
      for (int f : fds) ::close(f);
      throw sys_error("cgroup " + d + "/" + file + ": open", e);
    }
    fds.push_back(fd);
  }
  return fds;
}

std::vector<std::pair<std::string, std::string>> Cgroup::v1_mount_sources() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (h_.mode != CgroupHierarchy::Mode::v1) return out;
  auto text = cg::read("/proc/self", "cgroup");
  if (!text) return out;
  for (const auto& l : parse_proc_cgroup_v1(*text)) {
    const std::string host = "/sys/fs/cgroup/" + l.dir;
    std::string own;
    std::istringstream cs(l.controllers);
    for (std::string c; own.empty() && std::getline(cs, c, ',');)
      if (auto it = h_.v1.find(c); it != h_.v1.end() && it->second == host) own = host + "/" + path_;
    std::string src = own.empty() ? host + l.path : own;
    if (cg::dir_fd(src) < 0) src = host;
    if (cg::dir_fd(src) >= 0) out.emplace_back(l.dir, src);
  }
  return out;
}

std::vector<std::string> Cgroup::all_dirs() const {
  if (h_.mode == CgroupHierarchy::Mode::v2) return {cg::v2::dir(h_, path_)};
  return cg::v1::dirs(h_, path_);
}

Cgroup Cgroup::create(const std::string& path, const Resources& res, const CgroupHierarchy& h) {
  const std::string rel = join_rel(cg::split_path(path));
  if (h.mode == CgroupHierarchy::Mode::none) throw Error("cgroup " + rel + ": no cgroup file system is mounted");
  std::vector<std::string> created;
  try {
    created = h.mode == CgroupHierarchy::Mode::v2 ? cg::v2::create(h, rel) : cg::v1::create(h, rel);
    Cgroup c(rel, h);
    c.apply(res);
    return c;
  } catch (const Error& e) {
    for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
    throw with_context("cgroup " + rel, e);
  }
}

Cgroup Cgroup::open(const std::string& path, const CgroupHierarchy& h) {
  const std::string rel = join_rel(cg::split_path(path));
  if (!exists(rel, h)) throw Error("cgroup " + rel + ": does not exist");
  return Cgroup(rel, h);
}

bool Cgroup::exists(const std::string& path, const CgroupHierarchy& h) {
  const std::string rel = join_rel(cg::split_path(path));
  Cgroup c(rel, h);
  if (h.mode == CgroupHierarchy::Mode::none) return false;
  struct stat st;
  for (const auto& d : c.all_dirs())
    if (::stat(d.c_str(), &st) == 0) return true;
  return false;
}

void Cgroup::apply(const Resources& res) {
  if (h_.mode == CgroupHierarchy::Mode::v2)
    cg::v2::apply(h_, path_, res);
  else
    cg::v1::apply(h_, path_, res);
}

void Cgroup::add_pid(pid_t pid) {
  const std::string s = std::to_string(pid);
  try {
    for (const auto& d : all_dirs()) cg::write(d, "cgroup.procs", s);
  } catch (const Error& e) {
    throw with_context("cgroup " + path_ + ": add process " + s, e);
  }
}

std::vector<pid_t> Cgroup::pids() const {
  std::vector<pid_t> all;
  for (const auto& d : all_dirs()) {
    for (pid_t p : cg::read_pids(d))
      if (std::find(all.begin(), all.end(), p) == all.end()) all.push_back(p);
  }
  return all;
}

CgroupStats Cgroup::stats() const {
  return h_.mode == CgroupHierarchy::Mode::v2 ? cg::v2::stats(h_, path_) : cg::v1::stats(h_, path_);
}

bool Cgroup::oom_killed() const {
  return h_.mode == CgroupHierarchy::Mode::v2 ? cg::v2::oom_killed(h_, path_) : cg::v1::oom_killed(h_, path_);
}

void Cgroup::freeze(bool frozen) {
  try {
    if (h_.mode == CgroupHierarchy::Mode::v2)
      cg::v2::freeze(h_, path_, frozen);
    else
      cg::v1::freeze(h_, path_, frozen);
  } catch (const Error& e) {
    throw with_context("cgroup " + path_ + (frozen ? ": freeze" : ": thaw"), e);
  }
}

void Cgroup::destroy() {
  const auto dirs = all_dirs();
  // The usual case: the container has exited and every directory goes at the first rmdir.
  bool busy = false;
  for (const auto& d : dirs) {
    cg::forget_dir(d);
    if (::rmdir(d.c_str()) == 0 || errno == ENOENT) continue;
    if (errno != EBUSY) throw sys_error("cgroup " + d + ": rmdir");
    busy = true;
  }
  if (!busy) return;
  struct stat st;
  const bool v2 = h_.mode == CgroupHierarchy::Mode::v2;
  // The usual case (the container has exited): nothing to kill, only directories to remove.
  const bool populated = !pids().empty();
  if (populated && !(v2 && cg::v2::kill_all(h_, path_))) {
    // Freeze so that nothing forks between reading the list and the kills.
    bool frozen = false;
    try {
      if (v2 || h_.has_v1("freezer")) {
        freeze(true);
        frozen = true;
      }
    } catch (const Error&) {
    }
    for (int round = 0; round < 10; round++) {
      auto ps = pids();
      if (ps.empty()) break;
      for (pid_t p : ps) ::kill(p, SIGKILL);
      if (frozen) break;
    }
    if (frozen) {
      try {
        freeze(false);
      } catch (const Error&) {
      }
    }
  }
  for (const auto& d : dirs) {
    if (::stat(d.c_str(), &st) != 0) continue;
    if (!cg::wait_empty(d)) {
      for (pid_t p : cg::read_pids(d)) ::kill(p, SIGKILL);
      cg::wait_empty(d);
    }
    cg::remove_dir(d);
  }
}

std::string container_cgroup_path(const std::string& container_id, const std::string& parent) {
  std::string p = parent;
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p.empty() ? container_id : p + "/" + container_id;
}

std::vector<std::string> cleanup_stale_cgroups(const std::set<std::string>& live_ids, const std::string& parent,
                                               const CgroupHierarchy& h) {
  std::set<std::string> names;
  const std::string rel = join_rel(cg::split_path(parent));
  std::vector<std::string> parents;
  if (h.mode == CgroupHierarchy::Mode::v2)
    parents.push_back(h.v2_root + "/" + rel);
  else if (h.mode == CgroupHierarchy::Mode::v1)
    for (const auto& d : cg::v1::dirs(h, rel)) parents.push_back(d);
  for (const auto& pd : parents) {
    DIR* d = ::opendir(pd.c_str());
    if (!d) continue;
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (e->d_type != DT_DIR || n == "." || n == "..") continue;
      if (!live_ids.count(n)) names.insert(n);
    }
    ::closedir(d);
  }
  std::vector<std::string> removed;
  for (const auto& n : names) {
    try {
      Cgroup::open(rel + "/" + n, h).destroy();
      removed.push_back(n);
    } catch (const Error&) {
    }
  }
  return removed;
}

uint64_t cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  if (weight < 10) weight = 10;
  if (weight > 1000) weight = 1000;
  return 1 + (weight - 10) * 9999 / 990;
}

std::string device_rule_v1(const DeviceRule& r) {
  std::string t = r.type.empty() ? "a" : r.type;
  std::string maj = r.major && *r.major >= 0 ? std::to_string(*r.major) : "*";
  std::string min = r.minor && *r.minor >= 0 ? std::to_string(*r.minor) : "*";
  std::string acc = r.access.empty() ? "rwm" : r.access;
  return t + " " + maj + ":" + min + " " + acc;
}

}  // namespace minirun::runtime
