// cgroups.cpp — hierarchy detection, control-file I/O and runtime::Cgroup, which dispatches to the
// v1 driver (cgroup_v1.cpp) or the v2 driver (cgroup_v2.cpp).
//
// Detection follows runc rather than crun: when any resource controller is mounted as cgroup v1
// the host is driven as v1, even if a cgroup2 tree exists beside it (the "hybrid" layout, whose
// unified mount usually holds no controller). Only a host without v1 controllers is driven as v2.
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

namespace cg {

// Directory descriptors (O_PATH) of the groups this process works on, so that each control file
// is opened by its own name: a kernfs path walk of six components costs more than the write, and
// a run touches some fifty files. An entry whose directory went away (removed by another process)
// fails with ENOENT and is opened again once.
std::mutex g_dirs_mu;
std::unordered_map<std::string, int> g_dirs;

namespace {

// With g_dirs_mu held.
void close_all_dirs() {
  for (auto& [d, fd] : g_dirs) ::close(fd);
  g_dirs.clear();
}

int cached_dir_fd(const std::string& dir, bool fresh) {
  std::lock_guard<std::mutex> lock(g_dirs_mu);
  auto it = g_dirs.find(dir);
  if (it != g_dirs.end()) {
    if (!fresh) return it->second;
    ::close(it->second);
    g_dirs.erase(it);
  }
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (g_dirs.size() >= 256) close_all_dirs();  // a long-lived process (stats, a monitor) visits many groups
  g_dirs.emplace(dir, fd);
  return fd;
}

}  // namespace

int dir_fd(const std::string& dir) { return cached_dir_fd(dir, false); }

int open_in(const std::string& dir, const std::string& file, int flags) {
  for (bool fresh : {false, true}) {
    int dfd = cached_dir_fd(dir, fresh);
    if (dfd < 0) return -1;
    int fd = ::openat(dfd, file.c_str(), flags | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT) return fd;
  }
  return -1;
}

void forget_dir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(g_dirs_mu);
  auto it = g_dirs.find(dir);
  if (it == g_dirs.end()) return;
  ::close(it->second);
  g_dirs.erase(it);
}

namespace {

// Writes each value by its own write(2) on fd (closed here); throws with p in the message.
void write_values(int fd, const std::string& p, const std::vector<std::string>& values) {
  for (const auto& value : values) {
    ssize_t n = ::write(fd, value.data(), value.size());
    int err = errno;
    if (n < 0 || static_cast<size_t>(n) != value.size()) {
      ::close(fd);
      if (n < 0) throw sys_error(p + ": write " + value, err);
      throw Error(p + ": short write of " + value);
    }
  }
  ::close(fd);
}

}  // namespace

void write_each(const std::string& dir, const std::string& file, const std::vector<std::string>& values) {
  if (values.empty()) return;
  int fd = open_in(dir, file, O_WRONLY);
  if (fd < 0) throw sys_error(dir + "/" + file + ": open");
  write_values(fd, dir + "/" + file, values);
}

void write(const std::string& dir, const std::string& file, const std::string& value) {
  write_each(dir, file, {value});
}

bool write_if_exists(const std::string& dir, const std::string& file, const std::string& value) {
  int fd = open_in(dir, file, O_WRONLY);
  if (fd < 0 && errno == ENOENT) return false;
  if (fd < 0) throw sys_error(dir + "/" + file + ": open");
  write_values(fd, dir + "/" + file, {value});
  return true;
}

std::optional<std::string> read(const std::string& dir, const std::string& file) {
  int fd = open_in(dir, file, O_RDONLY);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::optional<uint64_t> read_u64(const std::string& dir, const std::string& file) {
  auto s = read(dir, file);
  if (!s || s->empty() || s->compare(0, 3, "max") == 0) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s->c_str(), &end, 10);
  if (end == s->c_str() || errno) return std::nullopt;
  if (v >= (1ULL << 62)) return std::nullopt;  // v1's "unlimited" (PAGE_COUNTER_MAX pages)
  return v;
}

std::optional<uint64_t> read_keyed(const std::string& dir, const std::string& file, const std::string& key) {
  auto s = read(dir, file);
  if (!s) return std::nullopt;
  std::istringstream in(*s);
  std::string k;
  uint64_t v;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    if (l >> k >> v && k == key) return v;
  }
  return std::nullopt;
}

std::vector<pid_t> read_pids(const std::string& dir) {
  std::vector<pid_t> out;
  auto s = read(dir, "cgroup.procs");
  if (!s) return out;
  std::istringstream in(*s);
  long p;
  while (in >> p) out.push_back(static_cast<pid_t>(p));
  return out;
}

bool Backoff::wait() {
  if (std::chrono::steady_clock::now() >= deadline_) return false;
  std::this_thread::sleep_for(std::chrono::microseconds(step_us_));
  step_us_ = std::min(step_us_ * 2, 2000);
  return true;
}

bool wait_empty(const std::string& dir) {
  Backoff b;
  do {
    auto s = read(dir, "cgroup.procs");
    if (!s || s->empty()) return true;
  } while (b.wait());
  return false;
}

void remove_dir(const std::string& dir) {
  forget_dir(dir);
  Backoff b;
  do {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) throw sys_error("cgroup " + dir + ": rmdir");
  } while (b.wait());
  throw sys_error("cgroup " + dir + ": rmdir", EBUSY);
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i <= path.size(); i++) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty()) {
        if (cur == ".." || cur == ".") throw Error("cgroup path " + path + ": \"" + cur + "\" is not allowed");
        parts.push_back(cur);
      }
      cur.clear();
    } else {
      cur += path[i];
    }
  }
  if (parts.empty()) throw Error("cgroup path \"" + path + "\": empty (the root group cannot be a container's)");
  return parts;
}

}  // namespace cg

namespace {

// mountinfo escapes blanks as \040 and so on.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

const char* const kV1Controllers[] = {"cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices",
                                      "freezer", "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc"};

std::string join_rel(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "/") + p;
  return s;
}

}  // namespace

CgroupHierarchy CgroupHierarchy::from_mountinfo(const std::string& mountinfo) {
  CgroupHierarchy h;
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::vector<std::string> f;
    std::string w;
    while (l >> w) f.push_back(w);
    size_t dash = 0;
    for (size_t i = 6; i < f.size(); i++)
      if (f[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 1 >= f.size()) continue;
    const std::string& fstype = f[dash + 1];
    std::string mnt = unescape(f[4]);
    if (fstype == "cgroup2") {
      // Prefer /sys/fs/cgroup itself over a nested unified mount.
      if (h.v2_root.empty() || mnt == "/sys/fs/cgroup") h.v2_root = mnt;
    } else if (fstype == "cgroup" && f.size() > dash + 3) {
      std::istringstream opts(f[dash + 3]);
      std::string o;
      while (std::getline(opts, o, ',')) {
        for (const char* c : kV1Controllers)
          if (o == c && !h.v1.count(o)) h.v1[o] = mnt;
      }
    }
  }
  if (!h.v1.empty())
    h.mode = Mode::v1;
  else if (!h.v2_root.empty())
    h.mode = Mode::v2;
  return h;
}

const CgroupHierarchy& CgroupHierarchy::host() {
  static const CgroupHierarchy h = [] {
    auto mi = read_file_if_exists("/proc/self/mountinfo");
    return from_mountinfo(mi ? *mi : "");
  }();
  return h;
}

CgroupHierarchy CgroupHierarchy::v2_at(const std::string& root) {
  CgroupHierarchy h;
  h.mode = Mode::v2;
  h.v2_root = root;
  return h;
}

// --- Cgroup ---

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
  std::lock_guard<std::mutex> lock(cg::g_dirs_mu);
  cg::close_all_dirs();
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

std::vector<ProcCgroupLine> parse_proc_cgroup_v1(const std::string& text) {
  std::vector<ProcCgroupLine> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    // "4:memory:/minirun/abc" ; "0::/…" (v2) is skipped; "1:name=systemd:/…"
    auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string ctrls = line.substr(c1 + 1, c2 - c1 - 1);
    if (ctrls.empty()) continue;
    std::string dir = ctrls.rfind("name=", 0) == 0 ? ctrls.substr(5) : ctrls;
    out.push_back({std::move(dir), std::move(ctrls), line.substr(c2 + 1)});
  }
  return out;
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
