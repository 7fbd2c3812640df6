// ulimit_flags.cpp — see ulimit_flags.h.
#include "minirun/engine/ulimit_flags.h"

#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>

#include "minirun/util/error.h"
#include "minirun/util/go_int.h"
#include "minirun/util/fsutil.h"

namespace minirun {

runtime::Rlimit parse_ulimit(const std::string& s) {
  static const std::map<std::string, std::string> names = {
      {"core", "RLIMIT_CORE"},       {"cpu", "RLIMIT_CPU"},         {"data", "RLIMIT_DATA"},
      {"fsize", "RLIMIT_FSIZE"},     {"locks", "RLIMIT_LOCKS"},     {"memlock", "RLIMIT_MEMLOCK"},
      {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},     {"nofile", "RLIMIT_NOFILE"},
      {"nproc", "RLIMIT_NPROC"},     {"rss", "RLIMIT_RSS"},         {"rtprio", "RLIMIT_RTPRIO"},
      {"rttime", "RLIMIT_RTTIME"},   {"sigpending", "RLIMIT_SIGPENDING"}, {"stack", "RLIMIT_STACK"}};
  size_t eq = s.find('=');
  if (eq == std::string::npos) throw Error("invalid ulimit argument: " + s);
  const std::string name = s.substr(0, eq);
  auto it = names.find(name);
  if (it == names.end()) throw Error("invalid ulimit type: " + name);
  std::string vals = s.substr(eq + 1);
  size_t colon = vals.find(':');
  auto number = [](const std::string& t) {
    auto v = parse_go_int(t);
    if (!v) throw Error("strconv.ParseInt: parsing \"" + t + "\": invalid syntax");
    return *v;
  };
  int64_t soft = number(vals.substr(0, colon));
  int64_t hard = colon == std::string::npos ? soft : number(vals.substr(colon + 1));
  if (hard != -1 && soft > hard)
    throw Error("ulimit soft limit must be less than or equal to hard limit: " + std::to_string(soft) + " > " +
                std::to_string(hard));
  runtime::Rlimit r;
  r.type = it->second;
  r.soft = soft < 0 ? UINT64_MAX : static_cast<uint64_t>(soft);
  r.hard = hard < 0 ? UINT64_MAX : static_cast<uint64_t>(hard);
  return r;
}

std::vector<runtime::Rlimit> docker_default_rlimits() {
  uint64_t n = 1048576;
  if (auto s = read_file_if_exists("/proc/sys/fs/nr_open", 64)) {
    uint64_t v = std::strtoull(s->c_str(), nullptr, 10);
    if (v > 0 && v < n) n = v;
  }
  // A caller without CAP_SYS_RESOURCE (a restricted root) cannot raise its hard limit: the
  // default is then what it has, as a container inherits a restricted dockerd's.
  struct rlimit have;
  if (::getrlimit(RLIMIT_NOFILE, &have) == 0 && have.rlim_max < n) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {};
    bool can_raise = syscall(SYS_capget, &h, d) == 0 && (d[0].effective & (1u << CAP_SYS_RESOURCE));
    if (!can_raise) n = have.rlim_max;
  }
  return {runtime::Rlimit{"RLIMIT_NOFILE", n, n}};
}

}  // namespace minirun
