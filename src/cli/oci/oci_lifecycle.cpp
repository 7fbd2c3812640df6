// oci_lifecycle.cpp — create, start, run, delete.
#include "minirun/runtime/lifecycle.h"
#include "minirun/util/error.h"
#include "oci.h"

namespace minirun::cli::oci {

void register_lifecycle(CLI::App& app, Globals& g) {
  struct Flags {
    std::string bundle = ".", pid_file, console_socket, id;
    bool no_pivot = false, no_new_keyring = false, detach = false, force = false, keep = false;
    std::string preserve_fds;
  };
  auto f = std::make_shared<Flags>();
  auto common = [&](CLI::App* c) {
    c->add_option("-b,--bundle", f->bundle, "Bundle directory (config.json, rootfs)");
    c->add_option("--pid-file", f->pid_file, "Write the container's pid here");
    c->add_option("--console-socket", f->console_socket, "Unix socket that receives the pty master (process.terminal)");
    c->add_flag("--no-pivot", f->no_pivot, "Accepted; minirun always pivots unless the host root is a ramfs");
    c->add_flag("--no-new-keyring", f->no_new_keyring, "Accepted (no session keyring is created)");
    c->add_option("--preserve-fds", f->preserve_fds, "Not supported: only 0 is accepted");
    c->add_option("id", f->id, "Container ID")->required();
  };
  auto check = [f] {
    if (!f->preserve_fds.empty() && f->preserve_fds != "0") throw minirun::Error("--preserve-fds is not supported");
  };
  auto* create = app.add_subcommand("create", "Create a container (its process waits for start)");
  common(create);
  create->callback([&g, f, check] {
    check();
    runtime::Lifecycle(g.root).create(f->id, f->bundle, f->console_socket, f->pid_file);
  });
  auto* run = app.add_subcommand("run", "Create and start a container, and wait for it (unless --detach)");
  common(run);
  run->add_flag("-d,--detach", f->detach, "Return once the container has started");
  run->add_flag("--keep", f->keep, "Accepted");
  run->callback([&g, f, check] {
    check();
    g.exit_code = runtime::Lifecycle(g.root).run(f->id, f->bundle, f->console_socket, f->pid_file, f->detach);
  });
  auto* start = app.add_subcommand("start", "Start a created container");
  start->add_option("id", f->id, "Container ID")->required();
  start->callback([&g, f] { runtime::Lifecycle(g.root).start(f->id); });
  auto* del = app.add_subcommand("delete", "Delete a stopped container (--force: kill it first)");
  del->add_flag("-f,--force", f->force, "Kill a running container first");
  del->add_option("id", f->id, "Container ID")->required();
  del->callback([&g, f] { runtime::Lifecycle(g.root).remove(f->id, f->force); });
}

}  // namespace minirun::cli::oci
