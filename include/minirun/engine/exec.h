// exec.h — a process in a running container: `exec` and the health check's probes take this one
// path. The process is the container's own as its spec was built (rebuild_container_spec, the
// function every start uses): its environment, user, working directory, capabilities, rlimits,
// no-new-privileges and seccomp filter, with the request on top; it joins the container's cgroup.
// Its exit status is the result; 126 when it cannot be started (an unknown user, a command not
// found), as docker exec.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "minirun/runtime/container.h"
#include "minirun/runtime/spec.h"
#include "minirun/store/store.h"

namespace minirun {

struct ExecRequest {
  std::vector<std::string> argv;
  std::vector<std::string> env, env_files;  // on top of the container's (-e K=V or K, --env-file)
  std::string user, workdir;                // "" = the container's
  bool tty = false, privileged = false, interactive = false;
  bool detach = false;                      // exec -d: not waited for, its stdio /dev/null
};

// The process req asks for in the container of spec `container` whose first process is
// container_pid (its root is where a user name is resolved). Error 126 for an unknown user.
runtime::Process exec_process_for(const runtime::Spec& container, pid_t container_pid, const ExecRequest& req);

// Runs req in that container, joining `cgroup` ("" for none) and its seccomp filter; eo carries
// the caller's stdio. Returns the exit status (0 once started with eo.detach), the pid in *pid.
int exec_in_container(const runtime::Spec& container, const std::string& cgroup, pid_t container_pid,
                      const ExecRequest& req, runtime::ExecOptions eo, pid_t* pid = nullptr);

// `exec`: in the running container named or ID'd by `container`. Error 1 when there is no such
// container, or it is paused or not running.
int exec_container(Store& store, const std::string& container, const ExecRequest& req);

}  // namespace minirun
