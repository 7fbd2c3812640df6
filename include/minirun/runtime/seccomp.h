// seccomp.h — a runtime::Seccomp compiled with libseccomp into a classic BPF program in memory,
// and its installation in a container child.
//
// compile_seccomp runs in the parent (it allocates and may throw); install_seccomp runs in the
// child after clone: no allocation, no exceptions, two system calls. Unknown syscall names are
// skipped, as runc does (a profile names calls of newer kernels and other architectures).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <functional>
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

// compile_seccomp with a cache: in this process (a map) and, when cache_dir is not empty, in
// files cache_dir/<hash>.bpf written atomically. Each file holds its whole key (the profile's
// content and libseccomp's version) and is used only on an exact match: a damaged, foreign or
// colliding file costs a compile, never a wrong program. The profile passed here is already
// resolved for the container's capabilities, so the key covers them.
SeccompProgram compile_seccomp_cached(const Seccomp& profile, const std::string& cache_dir = "");

// The same keyed by any text that determines the profile (Docker's default: its version, the
// capabilities, the architecture, the kernel), so that a hit neither builds nor hashes the
// profile; make() is called only on a miss.
SeccompProgram seccomp_program_cached(const std::string& key_text, const std::function<Seccomp()>& make,
                                      const std::string& cache_dir = "");

// The cache file's stem for a profile (16 hex digits).
std::string seccomp_cache_key(const Seccomp& profile);

// In the child, last before execve: sets no_new_privs when asked (without it, seccomp(2) needs
// CAP_SYS_ADMIN: call this before dropping capabilities, as runc does when the process does not
// ask for no_new_privileges), then loads the filter. Returns 0 or the errno of the failing call.
// An empty program does nothing (returns 0). Async-signal-safe.
int install_seccomp(const SeccompProgram& prog, bool set_no_new_privs) noexcept;

}  // namespace minirun::runtime
