// monitor_start.h — the monitor's pieces for tests and benchmarks that run it around a plain
// command (no container, no root): a StartFn that fork/execs the command, and a container
// record in a store for `minirun logs` to find. No GoogleTest: bench/log_bench.cpp builds this
// file too.
#pragma once

#include <string>
#include <vector>

#include "minirun/monitor/monitor.h"
#include "minirun/store/store.h"

namespace minirun::test {

// A StartFn that execs `file` (looked up in PATH when it has no '/') with argv, as a runtime
// would start a container: signals reset, PR_SET_PDEATHSIG(SIGKILL) (exit 137 when the monitor
// died before that), stdin/stdout/stderr from the monitor. Returns once the command runs; throws
// Error("exec: …", 127) when it cannot.
monitor::StartFn exec_start(const std::string& file, std::vector<std::string> argv);
// exec_start of `/bin/sh -c script` (argv[0] "sh").
monitor::StartFn sh_start(const std::string& script);

// An exited container named `name` (a new random ID), put in the store; not given its name
// (Store::reserve_name).
ContainerRecord put_exited_container(Store& store, const std::string& name);

}  // namespace minirun::test
