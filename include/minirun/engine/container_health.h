// container_health.h — a running container's health check, the engine's half: the probe its
// monitor (or, in the foreground, a thread of its `run`) starts — an exec of the check's command
// in the container, as `minirun exec` runs a process: the container's environment, user,
// capabilities, rlimits, seccomp filter and cgroup — and the health state file replaced after
// each probe (Store::container_health_path) as `inspect` and `ps` read it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "minirun/engine/healthcheck.h"
#include "minirun/monitor/health.h"
#include "minirun/monitor/health_prober.h"
#include "minirun/runtime/spec.h"
#include "minirun/store/store.h"

namespace minirun {

// Starts argv in the running container whose first process is container_pid, with the
// process settings of `container` (its spec as run), stdin /dev/null, stdout and stderr on
// out_fd; returns the new process's pid once it has exec'd (the caller reaps it). cgroup: the
// container's ("" for none). Errors as runtime::exec_process (125/126/127).
pid_t start_health_probe(const runtime::Spec& container, const std::string& cgroup, pid_t container_pid,
                         const std::vector<std::string>& argv, int out_fd);

// What runs the container's health check (monitor/health_prober.h): its probe, Docker's
// defaults, the state recorded before, the state file written after each change; nullopt when
// it has none. `container` (the spec it runs with) must outlive the prober.
std::optional<monitor::ProberOptions> health_prober_options(const Store& store, const ContainerRecord& rec,
                                                            const runtime::Spec& container);

// A foreground container's health check, on a thread of the running minirun (no monitor);
// nullptr when it has none. Destroying it stops the probes (the state then says unhealthy).
std::unique_ptr<monitor::HealthThread> start_health_thread(const Store& store, const ContainerRecord& rec,
                                                           const runtime::Spec& container, pid_t container_pid);

// The health check recorded for the container (its merged Config.Healthcheck), nullopt when none.
std::optional<HealthConfig> container_health_config(const ContainerRecord& rec);

// The state its monitor wrote last; nullopt when it has none (no health check, never started).
std::optional<monitor::HealthState> read_container_health(const Store& store, const std::string& cid);
// The health `inspect` and `ps` show: the state its monitor wrote last, "unhealthy" once the
// container is not running (Docker's stopped check; also when its monitor died before it could
// say so); nullopt without one.
std::optional<monitor::HealthState> container_health(const Store& store, const ContainerRecord& rec);
// Replaces the state file atomically (write-temp → fsync → rename).
void write_container_health(const Store& store, const std::string& cid, const monitor::HealthState& s);

}  // namespace minirun
