// seccomp_profile.h — Docker's seccomp profiles as runtime::Seccomp: the default profile (moby's
// default.json, embedded) and a user's `--security-opt seccomp=PROFILE.json`, both in Docker's
// format (defaultAction, defaultErrnoRet, architectures or archMap, syscalls with name/names,
// action, errnoRet, args, includes/excludes of caps, arches and minKernel), resolved as Docker
// resolves them for one container: by its bounding capability set, the host's architecture and
// the running kernel's version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "minirun/runtime/seccomp.h"
#include "minirun/runtime/spec.h"

namespace minirun {

// Docker's default profile, verbatim (moby profiles/seccomp/default.json, v24.0.0), and the
// FNV-1a hash of that text (computed at compile time: it names the profile in the cache's key).
const char* docker_default_seccomp_json();
uint64_t docker_default_seccomp_json_hash();

// The capabilities Docker gives a container by default ("CAP_CHOWN", …, 14 of them).
const std::vector<std::string>& docker_default_capabilities();

struct SeccompTarget {
  std::vector<std::string> capabilities;  // the container's bounding set
  std::string arch;                       // Go's name: "amd64", "arm64", "386", …; "" = this host
  std::optional<std::pair<int, int>> kernel;  // major.minor; nullopt = the running kernel
};

// Parses a profile in Docker's JSON format and resolves it for `target`. Throws Error with
// Docker's wording for the conflicts it refuses ("use either 'name' or 'names'", …) and for
// malformed JSON.
runtime::Seccomp parse_docker_seccomp(const std::string& json, const SeccompTarget& target);

// parse_docker_seccomp(docker_default_seccomp_json(), target).
runtime::Seccomp docker_default_seccomp(const SeccompTarget& target);

// Docker's default profile for `target`, compiled, from the cache (runtime::seccomp_program_cached)
// keyed by the embedded profile's text, the sorted capabilities, the architecture and the kernel
// version: a hit parses nothing. cache_dir "" = this process only.
runtime::SeccompProgram docker_default_seccomp_program(const SeccompTarget& target, const std::string& cache_dir);

// What `--security-opt seccomp=VALUE` selects: nullopt for "unconfined", else the profile read
// from the file VALUE ("" or "builtin" = the default). --privileged implies unconfined (the
// caller decides that). A profile file's text goes to *file_text when given.
std::optional<runtime::Seccomp> seccomp_from_option(const std::string& value, const SeccompTarget& target,
                                                    std::string* file_text = nullptr);

// Go's GOARCH name of this host ("amd64" on x86_64).
std::string native_go_arch();

}  // namespace minirun
