// exec.cpp — see exec.h.
#include "minirun/engine/exec.h"

#include <fcntl.h>
#include <unistd.h>

#include "minirun/engine/container_spec.h"
#include "minirun/engine/container_state.h"
#include "minirun/engine/detached.h"
#include "minirun/engine/process.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/user.h"
#include "minirun/util/error.h"

namespace minirun {

runtime::Process exec_process_for(const runtime::Spec& container, pid_t container_pid, const ExecRequest& req) {
  if (!container.process) throw Error("the container has no process");
  runtime::Process p = *container.process;
  p.args = req.argv;
  std::vector<std::string> user_env = req.env;
  for (const auto& file : req.env_files)
    for (auto& e : read_env_file(file)) user_env.push_back(std::move(e));
  p.env = merge_env(p.env, user_env);
  if (!req.workdir.empty()) p.cwd = req.workdir;
  p.terminal = req.tty;
  if (req.privileged) {
    auto caps = docker_capabilities(true, {}, {});
    p.capabilities = runtime::Capabilities{caps, caps, {}, caps, {}};
  }
  // The user: the request's, else the container's (its --user, else the image's), resolved in
  // the container's root.
  std::string user = req.user.empty() ? container.minirun.user_name.value_or("") : req.user;
  if (user.empty()) return p;
  int root = ::open(("/proc/" + std::to_string(container_pid) + "/root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) throw Error("the container is not running", 1);
  ResolvedUser u;
  try {
    u = resolve_user(root, user);
  } catch (const Error& e) {
    ::close(root);
    throw Error(e.what(), kExitCannotExec);  // docker exec: the process cannot be started
  } catch (...) {
    ::close(root);
    throw;
  }
  ::close(root);
  p.user.uid = u.uid;
  p.user.gid = u.gid;
  p.user.additional_gids.assign(u.groups.begin(), u.groups.end());
  return p;
}

int exec_in_container(const runtime::Spec& container, const std::string& cgroup, pid_t container_pid,
                      const ExecRequest& req, runtime::ExecOptions eo, pid_t* pid) {
  runtime::Process p = exec_process_for(container, container_pid, req);
  // The container's cgroup, when it has one (limits, freezer, stats count the exec'd process).
  if (!cgroup.empty() && runtime::Cgroup::exists(cgroup))
    for (const auto& f : runtime::Cgroup::open(cgroup).procs_files())
      if (::access(f.c_str(), W_OK) == 0) eo.cgroup_procs.push_back(f);
  // The container's seccomp filter (none when it runs unconfined or privileged), as runc applies
  // the container's to every exec'd process, whatever exec's flags.
  eo.seccomp = container.minirun.seccomp_program.get();
  pid_t started = 0;
  int rc = runtime::exec_process(container_pid, p, eo, &started);
  if (pid) *pid = started;
  return rc;
}

int exec_container(Store& store, const std::string& container, const ExecRequest& req) {
  std::string cid = store.resolve_container(container);
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + container, 1);
  if (rec->status == ContainerStatus::paused) throw Error("Container " + cid + " is paused, unpause the container before exec", 1);
  if (rec->status != ContainerStatus::running || rec->container_pid <= 0) throw Error("Container " + cid + " is not running", 1);
  runtime::Spec spec = rebuild_container_spec(store, *rec);
  // The cgroup it was run with, under whatever --cgroup-parent.
  const std::string cg = container_cgroup(*rec);
  runtime::ExecOptions eo;
  eo.detach = req.detach;
  eo.forward_stdin = req.interactive;
  if (!req.detach) return exec_in_container(spec, cg, rec->container_pid, req, eo);
  // exec -d: the process outlives this command and must not hold its stdio (a caller waiting for
  // EOF on our stdout would wait for it): /dev/null, as Docker. stdout/stderr come back for errors.
  int saved[3];
  for (int fd = 0; fd < 3; fd++) saved[fd] = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) throw sys_error("open /dev/null");
  for (int fd = 0; fd < 3; fd++) ::dup2(null, fd);
  ::close(null);
  auto restore = [&] {
    for (int fd = 0; fd < 3; fd++)
      if (saved[fd] >= 0) ::dup2(saved[fd], fd), ::close(saved[fd]);
  };
  try {
    int rc = exec_in_container(spec, cg, rec->container_pid, req, eo);
    restore();
    return rc;
  } catch (...) {
    restore();
    throw;
  }
}

}  // namespace minirun
