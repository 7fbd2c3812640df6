// cgroup_files.cpp — reading and writing control files (cgroup_files.h): one write(2) per value
// through cached directory descriptors, reads of numbers, keyed lines and process lists, the
// bounded wait for a group to empty, and the removal of a group's directory.
#include "cgroup_files.h"

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
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

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

void forget_all_dirs() {
  std::lock_guard<std::mutex> lock(g_dirs_mu);
  close_all_dirs();
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

}  // namespace minirun::runtime
