// format.cpp — output helpers shared by the verbs (sizes, times, tables).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <iostream>

#include "cli.h"
#include "minirun/engine/recovery.h"
#include "minirun/util/error.h"
#include "minirun/util/file_ops.h"

namespace minirun::cli {

Store open_store(const Globals& g) { return open_recovered_store(Store::default_root(g.root)); }

std::string human_size(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    u++;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%.3g%s", v, units[u]);
  return buf;
}

static time_t parse_time(const std::string& s) {
  struct tm tm = {};
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return timegm(&tm);
}

std::string human_ago(const std::string& when) {
  time_t t = parse_time(when);
  if (!t) return "N/A";
  double secs = difftime(time(nullptr), t);
  auto plural = [](long n, const char* unit) { return std::to_string(n) + " " + unit + (n == 1 ? "" : "s"); };
  std::string d;
  if (secs < 1) d = "Less than a second";
  else if (secs < 60) d = plural(static_cast<long>(secs), "second");
  else if (secs < 60 * 60) d = secs < 120 ? "About a minute" : plural(static_cast<long>(secs / 60), "minute");
  else if (secs < 48 * 3600) d = secs < 7200 ? "About an hour" : plural(static_cast<long>(secs / 3600), "hour");
  else if (secs < 14 * 86400) d = plural(static_cast<long>(secs / 86400), "day");
  else if (secs < 90 * 86400) d = plural(static_cast<long>(secs / (7 * 86400)), "week");
  else if (secs < 730 * 86400) d = plural(static_cast<long>(secs / (30 * 86400)), "month");
  else d = plural(static_cast<long>(secs / (365 * 86400)), "year");
  return d + " ago";
}

std::string now_rfc3339_nanos() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  // (Not strftime: it loads the local time zone, /etc/localtime, for a time that is UTC.)
  char out[96];
  snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
  return out;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); i++) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); i++) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 3, ' ');
    }
    std::cout << line << "\n";
  }
}

std::string truncate(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  return s.substr(0, n - 1) + "…";
}

void write_output(const std::string& path, const std::function<void(int fd)>& write) {
  if (path == "-") {
    if (isatty(1)) throw Error("cowardly refusing to write a tar to a terminal: use -o FILE or redirect");
    write(1);
    return;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory");
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw sys_error(path);
    try {
      write(fd);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    return;
  }
  replace_file(path, 0644, true, write);
}

}  // namespace minirun::cli
