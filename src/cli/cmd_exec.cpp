// minirun exec [-d] [-i] [-t] [-e K=V] [--env-file F] [-u USER] [-w DIR] [--privileged] CONTAINER
// CMD… — the flags into an ExecRequest for the engine (engine/exec.h: Docker's rules); the exit
// status is the process's.
#include "cli.h"
#include "minirun/engine/exec.h"
#include "minirun/util/error.h"

namespace minirun::cli {

namespace {

struct ExecFlags {
  ExecRequest req;
  std::vector<std::string> rest;  // CONTAINER CMD…
};

int exec(Globals& g, const ExecFlags& f) {
  if (f.rest.size() < 2) throw Error("\"minirun exec\" requires at least 2 arguments: CONTAINER COMMAND [ARG...]", 1);
  ExecRequest req = f.req;
  req.argv.assign(f.rest.begin() + 1, f.rest.end());
  Store store = open_store(g);
  return exec_container(store, f.rest[0], req);
}

}  // namespace

void register_exec(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("exec", "Execute a command in a running container: minirun exec [OPTIONS] CONTAINER COMMAND [ARG...]");
  auto f = std::make_shared<ExecFlags>();
  cmd->prefix_command();
  cmd->add_flag("-d,--detach", f->req.detach, "Detached mode: run the command in the background");
  cmd->add_flag("-i,--interactive", f->req.interactive, "Keep STDIN open");
  cmd->add_flag("-t,--tty", f->req.tty, "Allocate a pseudo-TTY");
  cmd->add_option("-e,--env", f->req.env, "Set environment variables")->allow_extra_args(false);
  cmd->add_option("--env-file", f->req.env_files, "Read in a file of environment variables")->allow_extra_args(false);
  cmd->add_option("-u,--user", f->req.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  cmd->add_option("-w,--workdir", f->req.workdir, "Working directory inside the container");
  cmd->add_flag("--privileged", f->req.privileged, "Give extended privileges to the command");
  cmd->footer("Example: minirun exec -it web sh");
  cmd->callback([&g, f, cmd] {
    f->rest = cmd->remaining();
    g.exit_code = exec(g, *f);
  });
}

}  // namespace minirun::cli
