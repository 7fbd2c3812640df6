// container.h — executing a runtime::Spec: the container's first process cloned into its
// namespaces and set up (child.cpp), either run to completion in the foreground (`minirun run`,
// `minirun-runtime run`) or created and left waiting on an exec fifo until `start` (runc's
// create/start split). What happens inside the new process is child.cpp; this file is the side
// of the runtime that stays outside.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "minirun/runtime/rootfs_builder.h"
#include "minirun/runtime/spec.h"

namespace minirun::runtime {

class CgroupTask;  // cgroup_task.h

struct RunOptions {
  // In the runtime, once the container's process exists (its pid as the host sees it); for a
  // spec without hooks, after its execve.
  std::function<void(pid_t)> on_start;
  // Between "created" (namespaces and mounts ready, the process waiting) and the execve: the
  // engine's network setup, hooks. Setting it costs a copy of the runtime's memory (no vfork).
  std::function<void(pid_t)> on_created;
  MountNamespaceHold* mntns = nullptr;  // hold the container's mount namespace (many layers)
  bool forward_stdin = false;           // with a terminal: relay stdin into it (`run -i`)
  std::string state_json_for_hooks;       // the state hooks get on stdin, with each one's status and pid
  int stdio[3] = {-1, -1, -1};            // when >= 0: the process's stdin, stdout, stderr
  // linux.seccomp compiled once per profile: cached in files here ("" = this process only).
  std::string seccomp_cache_dir;
  // linux.resources without linux.cgroupsPath: the group to make.
  std::string default_cgroup;
  // run(): whether the kernel's OOM killer killed a process of the container's cgroup (which
  // run() removes after the exit; spawn() leaves it to the caller: Cgroup::open(path).destroy()).
  bool* oom_killed = nullptr;
  bool kill_with_parent = false;          // spawn(): PR_SET_PDEATHSIG(SIGKILL) (a monitor's container)
  // run(): the container's group, being made on a thread since the engine knew its path
  // (cgroup_task.h); taken when the spec's group has that path, and removed by it after the exit.
  CgroupTask* cgroup_task = nullptr;
  // spawn() with process.terminal: gets the pty's master (the caller's to read and close);
  // without it spawn() refuses a terminal.
  int* tty_master = nullptr;
};

// Runs the spec's process to completion and returns its exit status (128+N when killed by signal
// N). Signals SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 are forwarded to it; with
// process.terminal the pty is relayed to the runtime's own stdio. A failure before the command
// runs throws Error with Docker's code (125 setup, 126 cannot execute, 127 not found), its
// message from the child.
int run(const Spec& spec, const RunOptions& opts);

// Starts the spec's process like run() but returns its pid as soon as it has exec'd, without
// waiting for it (the caller, e.g. a container's monitor, reaps it); no terminal relay and no
// signal forwarding.
pid_t spawn(const Spec& spec, const RunOptions& opts);

struct CreateOptions {
  std::string exec_fifo;       // created by the caller; the process opens it for writing to start
  std::string console_socket;  // process.terminal: where the pty master is sent
  std::string seccomp_cache_dir, default_cgroup;  // as RunOptions
  std::string* cgroup_path = nullptr;               // gets the cgroup made ("" when none)
  std::string state_json_for_hooks;  // as RunOptions: each hook gets it with its status and pid
};

// Creates the container: returns the pid of its process, which waits (namespaces, mounts,
// user, capabilities all done; executable found) until something opens exec_fifo to read.
pid_t create(const Spec& spec, const CreateOptions& opts);

struct ExecOptions {
  std::string console_socket;  // process.terminal: where the pty master goes; else relayed here
  bool detach = false;         // return once the process has exec'd
  bool forward_stdin = true;
  std::vector<std::string> cgroup_procs;
  const struct SeccompProgram* seccomp = nullptr;  // the container's filter, for the new process too
  int stdio[3] = {-1, -1, -1};  // when >= 0: the process's stdin, stdout, stderr (else the caller's)
};

// Runs `process` inside the running container whose first process is init_pid (joining its
// namespaces: ipc, uts, network, cgroup, pid, mount). Returns the exit status, or 0 when
// detached; *pid_out gets the new process's pid once it has exec'd. A process that could not be
// started (command not found, working directory missing, …) throws Error(126), as docker exec
// exits; the other errors as run().
int exec_process(pid_t init_pid, const Process& process, const ExecOptions& opts, pid_t* pid_out);

// The prestart/createRuntime/poststart/poststop hooks of one kind, run in the runtime's
// namespaces with the state JSON on stdin; a failing prestart/createRuntime hook is an Error,
// the others only warn (returns the warning, "" when none).
std::string run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, bool fatal);

}  // namespace minirun::runtime
