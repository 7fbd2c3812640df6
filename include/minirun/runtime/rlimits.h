// rlimits.h — process.rlimits applied in the container child: resolved to numbers in the
// parent (may throw), applied after clone with setrlimit only (no allocation, no exceptions).
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <string>
#include <vector>

#include "minirun/runtime/spec.h"

namespace minirun::runtime {

struct ResolvedRlimit {
  int resource;  // RLIMIT_*
  rlim_t soft, hard;
};

// "RLIMIT_NOFILE" → RLIMIT_NOFILE; -1 for a name Linux does not have.
int rlimit_resource(const std::string& type);
// Throws Error "rlimit <type>: unknown" (the spec's error), or for soft > hard.
std::vector<ResolvedRlimit> resolve_rlimits(const std::vector<Rlimit>& limits);
// In the child, before dropping privileges (raising a hard limit needs CAP_SYS_RESOURCE).
// Returns 0, or the errno of the first failing setrlimit (with *failed = its index).
int apply_rlimits(const ResolvedRlimit* limits, size_t n, size_t* failed) noexcept;

}  // namespace minirun::runtime
