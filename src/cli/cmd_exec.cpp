// minirun exec [-d] [-i] [-t] [-e K=V] [--env-file F] [-u USER] [-w DIR] [--privileged] CONTAINER
// CMD… — a process in a running container's namespaces (runtime::exec_process), Docker's rules:
// the container's environment (as its spec was built) with -e/--env-file on top, its user unless
// -u (resolved in the container's root: /proc/<pid>/root), its working directory unless -w, its
// capabilities (all with --privileged), its rlimits and no-new-privileges. The exit status is
// the process's; 126 when it cannot be started (unknown user, command not found, …), as docker
// exec.
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"
#include "minirun/engine/container_spec.h"
#include "minirun/engine/container_state.h"
#include "minirun/engine/detached.h"
#include "minirun/engine/process.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/container.h"
#include "minirun/runtime/user.h"
#include "minirun/util/error.h"

namespace minirun::cli {

namespace {

struct ExecFlags {
  bool detach = false, interactive = false, tty = false, privileged = false;
  std::vector<std::string> env, env_files;
  std::string user, workdir;
  std::vector<std::string> rest;  // CONTAINER CMD…
};

int exec(Globals& g, const ExecFlags& f) {
  if (f.rest.size() < 2) throw Error("\"minirun exec\" requires at least 2 arguments: CONTAINER COMMAND [ARG...]", 1);
  Store store = open_store(g);
  std::string cid = store.resolve_container(f.rest[0]);
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + f.rest[0], 1);
  if (rec->status == "paused") throw Error("Container " + cid + " is paused, unpause the container before exec", 1);
  if (rec->status != "running" || rec->container_pid <= 0) throw Error("Container " + cid + " is not running", 1);

  runtime::Spec spec = rebuild_container_spec(store, *rec);
  runtime::Process p = *spec.process;
  p.args.assign(f.rest.begin() + 1, f.rest.end());
  std::vector<std::string> user_env = f.env;
  for (const auto& file : f.env_files)
    for (auto& e : read_env_file(file)) user_env.push_back(std::move(e));
  p.env = merge_env(p.env, user_env);
  if (!f.workdir.empty()) p.cwd = f.workdir;
  p.terminal = f.tty;
  if (f.privileged) {
    auto caps = docker_capabilities(true, {}, {});
    p.capabilities = runtime::Capabilities{caps, caps, {}, caps, {}};
  }
  // The user: -u, else the container's (its --user, else the image's), resolved in its root.
  std::string user = f.user.empty() ? (spec.minirun.user_name ? *spec.minirun.user_name : std::string()) : f.user;
  if (!user.empty()) {
    int root = ::open(("/proc/" + std::to_string(rec->container_pid) + "/root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) throw Error("Container " + cid + " is not running", 1);
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
  }
  runtime::ExecOptions eo;
  // The container's cgroup, when it has one (limits, freezer, stats count the exec'd process):
  // the one it was run with, under whatever --cgroup-parent.
  const std::string cg = container_cgroup(*rec);
  if (!cg.empty() && runtime::Cgroup::exists(cg)) {
    for (const auto& f : runtime::Cgroup::open(cg).procs_files())
      if (::access(f.c_str(), W_OK) == 0) eo.cgroup_procs.push_back(f);
  }
  // The container's seccomp filter (rebuild_container_spec: none when it runs unconfined or
  // privileged), as runc applies the container's to every exec'd process, whatever exec's flags.
  eo.seccomp = spec.minirun.seccomp_program.get();
  eo.detach = f.detach;
  eo.forward_stdin = f.interactive;
  pid_t pid = 0;
  if (!f.detach) return runtime::exec_process(rec->container_pid, p, eo, &pid);
  // exec -d: the process outlives this command and must not hold its stdio (a caller waiting for
  // EOF on our stdout would wait for it): /dev/null, as Docker. stdout/stderr come back for errors.
  int saved[3];
  for (int fd = 0; fd < 3; fd++) saved[fd] = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) throw Error("open /dev/null", 125);
  for (int fd = 0; fd < 3; fd++) ::dup2(null, fd);
  ::close(null);
  auto restore = [&] {
    for (int fd = 0; fd < 3; fd++)
      if (saved[fd] >= 0) ::dup2(saved[fd], fd), ::close(saved[fd]);
  };
  try {
    int rc = runtime::exec_process(rec->container_pid, p, eo, &pid);
    restore();
    return rc;
  } catch (...) {
    restore();
    throw;
  }
}

}  // namespace

void register_exec(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("exec", "Execute a command in a running container: minirun exec [OPTIONS] CONTAINER COMMAND [ARG...]");
  auto f = std::make_shared<ExecFlags>();
  cmd->prefix_command();
  cmd->add_flag("-d,--detach", f->detach, "Detached mode: run the command in the background");
  cmd->add_flag("-i,--interactive", f->interactive, "Keep STDIN open");
  cmd->add_flag("-t,--tty", f->tty, "Allocate a pseudo-TTY");
  cmd->add_option("-e,--env", f->env, "Set environment variables")->allow_extra_args(false);
  cmd->add_option("--env-file", f->env_files, "Read in a file of environment variables")->allow_extra_args(false);
  cmd->add_option("-u,--user", f->user, "Username or UID (format: <name|uid>[:<group|gid>])");
  cmd->add_option("-w,--workdir", f->workdir, "Working directory inside the container");
  cmd->add_flag("--privileged", f->privileged, "Give extended privileges to the command");
  cmd->footer("Example: minirun exec -it web sh");
  cmd->callback([&g, f, cmd] {
    f->rest = cmd->remaining();
    g.exit_code = exec(g, *f);
  });
}

}  // namespace minirun::cli
