// hooks.h — running one OCI hook (runtime-spec config.md#posix-platform-hooks): its path with its
// args and env, the state JSON on its stdin, waited for within its timeout. Shared by the runtime
// (prestart, createRuntime, poststart, poststop: runtime/container.cpp) and the container's first
// process (createContainer, startContainer: child.cpp), which must not throw: so this reports,
// it does not throw.
#pragma once

#include <string>

#include "minirun/runtime/spec.h"

namespace minirun::runtime {

// Runs h with state on stdin and waits for it; "" when it exited 0, else one line: "hook PATH
// failed (exit status N)", "… (signal N)", "hook PATH timed out" (killed), or a system error.
std::string run_hook(const Hook& h, const std::string& state);

}  // namespace minirun::runtime
