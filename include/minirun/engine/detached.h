// detached.h — a container run by its monitor (monitor.h) rather than by the CLI: `run -d`,
// `start`, `restart`, and the clients that talk to a monitor through its control fifo (`stop`,
// `kill`, `wait`). The monitor is forked from the CLI (daemonize_monitor), records each start and
// exit atomically in the container's record (store.h), carries out the restart policy and --rm.
// Also rebuilds a stored container's runtime::Spec from its record (`start`), and the overlay
// layout of a container's layers (shared with `run`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "minirun/runtime/container.h"
#include "minirun/runtime/overlay.h"
#include "minirun/runtime/spec.h"
#include "minirun/store/store.h"

namespace minirun {

// `run -d`'s flags that the monitor needs; recorded in the container's config so that `start`
// runs it again the same way.
struct DetachOptions {
  std::string restart = "no";           // --restart
  std::string log_driver = "json-file";  // --log-driver
  std::vector<std::string> log_opts;     // --log-opt
  std::string stop_signal;               // --stop-signal; "" → the image's StopSignal, else SIGTERM
  std::optional<int> stop_timeout;       // --stop-timeout; default 10 s
};

// Validates the options (Error 125 with Docker's messages) before anything is created.
void check_detach_options(const DetachOptions& d);
// Writes d into the container's config (RestartPolicy, LogConfig, StopSignal, StopTimeout): what
// every later start (start_detached, `start` of a created container) reads back.
void record_detach_options(ContainerConfig& c, const DetachOptions& d);

// Starts the container of `rec` (already recorded, layers created) under a new monitor and
// returns once its command has exec'd; the record then says running (pid = the monitor's).
// base: the run options the foreground path would use (cgroups, network hook); stdio and
// on_start are the monitor's. Throws the start's Error (125/126/127, one line); the record is
// left to the caller then. d is stored in rec.config (rec is saved).
// A terminal (oci.process->terminal) stays with the monitor (its output logged as stdout), and
// the config's OpenStdin keeps the container's stdin open for `attach`. When the config records a
// network plan (container_network.h) the monitor attaches the container itself at every start
// (restarts included) and base.on_created is not called. attach_fds: attach-socket clients
// (monitor.h) connected before the process starts (`start -a`): the monitor gets copies (the
// caller closes its own).
void start_detached(Store& store, ContainerRecord& rec, const runtime::Spec& oci, const runtime::RunOptions& base,
                    const DetachOptions& d, const std::vector<int>& attach_fds = {});

// The monitor's attach socket (monitor.h): <container dir>/attach.
std::string container_attach_path(const Store& store, const std::string& cid);

// The overlay of a container's layers: its -init layer, the image's flat layer when it has one
// (flat: ids.size() >= kFlattenFrom and the store has it), else the image's layers from the top.
OverlayLayout container_overlay_layout(const Store& store, const std::string& cid, const std::vector<std::string>& ids,
                                       bool flat);

// A stored container's spec again, from its record (image config + its config), as `run` built it.
runtime::Spec rebuild_container_spec(const Store& store, const ContainerRecord& rec);

// `start`: runs a created or exited container's command again on its upper layer under a new
// monitor (its log appended). No-op when it runs. Error(1) when it is gone or paused.
// attach_fds as start_detached's (`start -a`).
void start_container(Store& store, const std::string& cid, const std::vector<int>& attach_fds = {});

// `stop`: the container's stop signal, SIGKILL after timeout seconds (< 0: never; default: its
// StopTimeout or 10); returns once its monitor (or foreground minirun) has recorded the exit.
// Ends any restart policy. No-op when it is not running.
void stop_container(const Store& store, const std::string& cid, std::optional<int> timeout);

// `kill`: sends sig to the container's first process. Error(1) when it is not running.
void kill_container(const Store& store, const std::string& cid, int sig);

// `wait`: blocks until the container is not running and returns its exit code; an --rm
// container's too, although it is removed as it exits (Store::add_exit_waiter).
int wait_container(const Store& store, const std::string& cid);

// An --rm container after its exit (a foreground run's end): its waiters get exit_code and its
// record says exited (under the store lock), then it is removed.
void remove_exited_container(const Store& store, const std::string& cid, int exit_code);

// The stop signal recorded for the container (its config's StopSignal), default SIGTERM.
int container_stop_signal(const ContainerRecord& rec);

}  // namespace minirun
