// run.h — creating a container and running it: the one path `run` (in the foreground and with
// -d) and `create` take, from a typed request to an exit code. The request is what Docker's
// flags say, not yet checked: run_container checks it, resolves (loads, pulls) the image,
// reserves the name, records the container and makes its layers and files, then runs it in this
// process (foreground: the health check on a thread, the output into its log) or under a monitor
// (detached.h), as `start` and the restart policy do. A verb parses flags into a RunRequest and
// prints the result.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "minirun/engine/container_network.h"
#include "minirun/engine/container_spec.h"
#include "minirun/engine/detached.h"
#include "minirun/engine/healthcheck.h"
#include "minirun/engine/resource_flags.h"
#include "minirun/store/store.h"

namespace minirun {

struct RunRequest {
  std::string image;               // a reference, an image ID, or an archive path (loaded first)
  std::vector<std::string> args;   // the command's arguments after the image
  std::string name, workdir, user, hostname, network = "bridge", max_layer_size;
  std::string pull = "missing";    // always | missing | never (Docker's --pull)
  std::optional<std::string> entrypoint;
  std::vector<std::string> env, env_files, volumes, cap_add, cap_drop, security_opts;
  bool rm = false, read_only = false, init = false, interactive = false, tty = false, privileged = false;
  ResourceFlags limits;            // --memory, --cpus, --pids-limit, --device, --ulimit, …
  std::string cgroup_parent = "minirun", cgroups = "enabled";
  NetworkFlags net;                // -p, -P, --ip, --mac-address, --dns*, --add-host
  enum class Mode { foreground, detached, create_only } mode = Mode::foreground;
  DetachOptions detach_opts;       // --restart, --log-*, --stop-*: for the monitor
  HealthFlags health;              // --health-*, --no-healthcheck
};

// What the caller shows: the pull of a missing image (its progress lines) and warnings.
struct RunHooks {
  // Pulls REF and returns the image's ID ("sha256:…"); unset: a missing image is an error.
  std::function<std::string(const std::string& ref)> pull;
  std::function<void(const std::string& line)> warn;  // Docker's warnings (limits), one line each
};

// REF → image ID hex: an archive path is loaded (its layers already present skipped); with
// pull "missing" a reference the store does not have is pulled, "always" pulls first, "never"
// only looks in the store (Error 125 "Unable to find image …"). An ID ("sha256:…") is never pulled.
std::string resolve_run_image(Store& store, const std::string& ref, const std::string& pull, uint64_t max_layer_size,
                              const RunHooks& hooks);

// The run options a container's record keeps (ContainerRecord::config): what request_from_record
// (container_spec.h) reads back for every later start, restart and exec, and inspect shows. s is
// the request as `run` built it from f and the image. run_container adds StdinOnce, the health
// check and the network plan.
ContainerConfig run_config(const ContainerRequest& s, const RunRequest& f);

// Runs the request: the exit code of the container's command in the foreground; 0 for -d and
// create, whose container ID goes to *id (also set in the foreground). Throws Error (125 before
// the command runs, 126/127 when it cannot be run); a foreground --rm container is removed
// either way, any other keeps its record with the failure.
int run_container(Store& store, RunRequest req, const RunHooks& hooks, std::string* id = nullptr);

}  // namespace minirun
