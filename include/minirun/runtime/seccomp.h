// seccomp.h — a runtime::Seccomp compiled with libseccomp into a classic BPF program in memory,
// and its installation in a container child.
//
// compile_seccomp runs in the parent (it allocates and may throw); install_seccomp runs in the
// child after clone: no allocation, no exceptions, two system calls. Unknown syscall names are
// skipped, as runc does (a profile names calls of newer kernels and other architectures).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "minirun/runtime/spec.h"

namespace minirun::runtime {

struct SeccompProgram {
  std::vector<struct sock_filter> insns;  // empty: no filter (unconfined)
  unsigned int flags = 0;                 // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool empty() const { return insns.empty(); }
};

// Compiles for the architectures the profile names (plus the native one). Throws Error naming
// the rule for an unknown action, operator or architecture, or a rule libseccomp refuses.
SeccompProgram compile_seccomp(const Seccomp& profile);

// compile_seccomp with a cache: in this process (a map keyed by the profile's content) and, when
// cache_dir is not empty, in files cache_dir/<sha256 of the profile and libseccomp version>.bpf
// written atomically (a damaged or foreign file is ignored and rewritten). The profile passed
// here is already resolved for the container's capabilities, so the key covers them.
SeccompProgram compile_seccomp_cached(const Seccomp& profile, const std::string& cache_dir = "");

// The key compile_seccomp_cached uses ("<64 hex>").
std::string seccomp_cache_key(const Seccomp& profile);

// In the child, last before execve: sets no_new_privs when asked (without it, seccomp(2) needs
// CAP_SYS_ADMIN: call this before dropping capabilities, as runc does when the process does not
// ask for no_new_privileges), then loads the filter. Returns 0 or the errno of the failing call.
// An empty program does nothing (returns 0). Async-signal-safe.
int install_seccomp(const SeccompProgram& prog, bool set_no_new_privs) noexcept;

}  // namespace minirun::runtime
