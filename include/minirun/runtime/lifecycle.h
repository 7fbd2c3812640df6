// lifecycle.h — containers of the runtime's own command line (minirun-runtime, runc's verbs):
// each has a state directory <root>/<id>/ holding state.json (pid, its start time, bundle,
// created, annotations), config.json as created (for hooks and delete) and, between create and
// start, exec.fifo, which the waiting process opens to write. Status is derived, never stored:
// the process gone (or a zombie, or another process with its pid) → stopped; the fifo there →
// created; else running (paused when its cgroup is frozen). Every state file is written
// temp → fsync → rename.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "minirun/runtime/spec.h"

namespace minirun::runtime {

struct ContainerState {
  std::string id, bundle, rootfs, created, status;
  pid_t pid = 0;
  unsigned long long start_time = 0;  // /proc/<pid>/stat field 22: guards against pid reuse
  std::string cgroup;                 // the container's cgroup ("" when none)
  std::map<std::string, std::string> annotations;
};

class Lifecycle {
 public:
  explicit Lifecycle(std::string root);  // default root: /run/minirun-runtime
  // --systemd-cgroup: cgroupsPath is "slice:prefix:name", placed as slice/prefix-name.scope.
  void systemd_cgroup_paths(bool on) { systemd_ = on; }

  // create: the container's process waits for start. pid_file (may be "") gets its pid.
  ContainerState create(const std::string& id, const std::string& bundle, const std::string& console_socket,
                        const std::string& pid_file);
  void start(const std::string& id);
  // run: create + start + wait, in the foreground (returns the exit status), or detached.
  int run(const std::string& id, const std::string& bundle, const std::string& console_socket,
          const std::string& pid_file, bool detach);
  ContainerState state(const std::string& id) const;
  nlohmann::json state_json(const ContainerState& s) const;
  std::vector<ContainerState> list() const;
  // Signal: a number or a name (KILL, SIGKILL); all: every process of the container.
  void kill(const std::string& id, const std::string& signal, bool all);
  void remove(const std::string& id, bool force);
  std::vector<pid_t> pids(const std::string& id) const;
  // exec: a process (process.json's form) in the container's namespaces; the exit status, or 0
  // when detached (pid_file gets the pid).
  int exec(const std::string& id, const Process& process, const std::string& console_socket,
           const std::string& pid_file, bool detach);
  void pause(const std::string& id, bool pause);

  static int signal_number(const std::string& name);

 private:
  std::string dir(const std::string& id) const;
  Spec load_config(const std::string& id) const;
  void save(const ContainerState& s) const;
  Spec load_bundle(const std::string& bundle) const;  // with --systemd-cgroup paths placed
  std::string root_;
  bool systemd_ = false;
};

// A pid's start time (/proc/<pid>/stat field 22), 0 when it does not exist; zombie set when it is
// one.
unsigned long long process_start_time(pid_t pid, bool* zombie = nullptr);

}  // namespace minirun::runtime
