// oci_exec.cpp — exec: a process in a running container, from --process F.json or arguments.
#include <nlohmann/json.hpp>

#include "minirun/runtime/lifecycle.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "oci.h"

namespace minirun::cli::oci {

void register_exec(CLI::App& app, Globals& g) {
  struct Flags {
    std::string id, process_file, console_socket, pid_file, cwd, user, apparmor, label, preserve_fds;
    std::vector<std::string> env, caps, args;
    bool tty = false, detach = false, no_new_privs = false;
  };
  auto f = std::make_shared<Flags>();
  auto* exec = app.add_subcommand("exec", "Run a process in a running container");
  exec->add_option("-p,--process", f->process_file, "process.json (the spec's process object)");
  exec->add_option("--console-socket", f->console_socket, "Unix socket that receives the pty master");
  exec->add_option("--pid-file", f->pid_file, "Write the process's pid here");
  exec->add_flag("-d,--detach", f->detach, "Return once the process has started");
  exec->add_flag("-t,--tty", f->tty, "Allocate a pseudo-TTY");
  exec->add_option("--cwd", f->cwd, "Working directory");
  exec->add_option("-e,--env", f->env, "KEY=VALUE")->allow_extra_args(false);
  exec->add_option("-u,--user", f->user, "UID[:GID]");
  exec->add_option("-c,--cap", f->caps, "Add a capability")->allow_extra_args(false);
  exec->add_flag("--no-new-privs", f->no_new_privs, "Set no_new_privs");
  exec->add_option("--apparmor", f->apparmor, "Not supported");
  exec->add_option("--process-label", f->label, "Not supported");
  exec->add_option("--preserve-fds", f->preserve_fds, "Not supported: only 0");
  exec->add_option("id", f->id, "Container ID")->required();
  exec->add_option("command", f->args, "Command and arguments");
  exec->prefix_command(false);
  exec->positionals_at_end();
  exec->callback([&g, f] {
    runtime::Lifecycle lc(g.root);
    runtime::Process p;
    if (!f->process_file.empty()) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(read_whole_file(f->process_file));
      } catch (const nlohmann::json::exception& e) {
        throw minirun::Error(f->process_file + ": " + e.what());
      }
      nlohmann::json spec = {{"ociVersion", "1.0.0"}, {"root", {{"path", "/"}}}, {"process", j}};
      p = *runtime::spec_from_json(spec).process;
    } else {
      if (f->args.empty()) throw minirun::Error("exec: a command is required");
      // Like runc: the container's own process as the template (env, user, capabilities).
      auto text = read_file_if_exists(g.root + "/" + f->id + "/config.json");
      if (text) {
        auto s = runtime::spec_from_json(nlohmann::json::parse(*text));
        if (s.process) p = *s.process;
      }
      p.args = f->args;
      p.terminal = f->tty;
      for (const auto& e : f->env) p.env.push_back(e);
      if (!f->cwd.empty()) p.cwd = f->cwd;
      if (!f->user.empty()) {
        auto c = f->user.find(':');
        p.user.uid = static_cast<uint32_t>(std::stoul(f->user.substr(0, c)));
        if (c != std::string::npos) p.user.gid = static_cast<uint32_t>(std::stoul(f->user.substr(c + 1)));
        p.user.additional_gids.clear();
      }
      if (!f->caps.empty()) {
        if (!p.capabilities) p.capabilities = runtime::Capabilities{};
        for (auto* set : {&p.capabilities->bounding, &p.capabilities->effective, &p.capabilities->permitted})
          for (const auto& c : f->caps) set->push_back(c);
      }
      if (f->no_new_privs) p.no_new_privileges = true;
    }
    if (!f->apparmor.empty() || !f->label.empty()) throw minirun::Error("exec: AppArmor and SELinux labels are not supported");
    if (!f->preserve_fds.empty() && f->preserve_fds != "0") throw minirun::Error("exec: --preserve-fds is not supported");
    g.exit_code = lc.exec(f->id, p, f->console_socket, f->pid_file, f->detach);
  });
}

}  // namespace minirun::cli::oci
