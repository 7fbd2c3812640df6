// ulimit_flags.h — Docker's --ulimit flag (go-units' ParseUlimit: names, soft[:hard], -1 as
// unlimited, its error messages) and the rlimits a container gets by default.
#pragma once

#include <string>
#include <vector>

#include "minirun/runtime/spec.h"

namespace minirun {

// --ulimit name=soft[:hard] → {"RLIMIT_NOFILE", soft, hard}; -1 is unlimited.
runtime::Rlimit parse_ulimit(const std::string& s);
// Docker's default rlimits of a container: RLIMIT_NOFILE 1048576:1048576 (what a container
// under a stock docker.service shows; capped at the kernel's fs.nr_open).
std::vector<runtime::Rlimit> docker_default_rlimits();

}  // namespace minirun
