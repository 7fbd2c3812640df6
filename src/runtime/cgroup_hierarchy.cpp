// cgroup_hierarchy.cpp — where the cgroup file systems are (CgroupHierarchy, cgroups.h), read
// from mountinfo, and the v1 lines of a /proc/PID/cgroup.
//
// Detection follows runc rather than crun: when any resource controller is mounted as cgroup v1
// the host is driven as v1, even if a cgroup2 tree exists beside it (the "hybrid" layout, whose
// unified mount usually holds no controller). Only a host without v1 controllers is driven as v2.
#include "minirun/runtime/cgroup_hierarchy.h"

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "minirun/util/fsutil.h"

namespace minirun::runtime {

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

}  // namespace minirun::runtime
