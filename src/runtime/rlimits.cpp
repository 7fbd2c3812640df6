// rlimits.cpp — OCI rlimit names → setrlimit(2) in the child.
#include "minirun/runtime/rlimits.h"

#include <cerrno>

#include "minirun/util/error.h"

namespace minirun::runtime {

int rlimit_resource(const std::string& type) {
  static const struct {
    const char* name;
    int res;
  } table[] = {{"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},
               {"RLIMIT_CPU", RLIMIT_CPU},       {"RLIMIT_DATA", RLIMIT_DATA},
               {"RLIMIT_FSIZE", RLIMIT_FSIZE},   {"RLIMIT_LOCKS", RLIMIT_LOCKS},
               {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
               {"RLIMIT_NICE", RLIMIT_NICE},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
               {"RLIMIT_NPROC", RLIMIT_NPROC},   {"RLIMIT_RSS", RLIMIT_RSS},
               {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
               {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK}};
  for (const auto& e : table)
    if (type == e.name) return e.res;
  return -1;
}

std::vector<ResolvedRlimit> resolve_rlimits(const std::vector<Rlimit>& limits) {
  std::vector<ResolvedRlimit> out;
  for (const auto& l : limits) {
    int r = rlimit_resource(l.type);
    if (r < 0) throw Error("rlimit " + l.type + ": unknown");
    if (l.soft > l.hard) throw Error("rlimit " + l.type + ": soft limit above the hard limit");
    rlim_t soft = l.soft == UINT64_MAX ? RLIM_INFINITY : static_cast<rlim_t>(l.soft);
    rlim_t hard = l.hard == UINT64_MAX ? RLIM_INFINITY : static_cast<rlim_t>(l.hard);
    out.push_back({r, soft, hard});
  }
  return out;
}

int apply_rlimits(const ResolvedRlimit* limits, size_t n, size_t* failed) noexcept {
  for (size_t i = 0; i < n; i++) {
    struct rlimit rl = {limits[i].soft, limits[i].hard};
    if (::setrlimit(limits[i].resource, &rl) != 0) {
      if (failed) *failed = i;
      return errno;
    }
  }
  return 0;
}

}  // namespace minirun::runtime
