// minirun attach [--no-stdin] [--detach-keys KEYS] [--sig-proxy[=false]] CONTAINER — the caller's
// stdio connected to a running container through its monitor (engine/attach.h): live output,
// stdin when the container keeps it open, detach with ctrl-p ctrl-q (exit status 1 and "read
// escape sequence", as docker attach), else the container's exit code.
#include <iostream>

#include "cli.h"
#include "minirun/engine/attach.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_attach(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("attach", "Attach local standard input, output, and error streams to a running container");
  auto ref = std::make_shared<std::string>();
  auto o = std::make_shared<AttachOptions>();
  auto no_stdin = std::make_shared<bool>(false);
  cmd->add_option("container", *ref, "Container name or ID")->required();
  cmd->add_flag("--no-stdin", *no_stdin, "Do not attach STDIN");
  cmd->add_option("--detach-keys", o->detach_keys, "Override the key sequence for detaching a container (default ctrl-p,ctrl-q)");
  cmd->add_flag("--sig-proxy", o->sig_proxy, "Proxy all received signals to the process (default true; --sig-proxy=false)");
  cmd->footer("Example: minirun attach web   (detach: ctrl-p ctrl-q)");
  cmd->callback([&g, ref, o, no_stdin] {
    Store store = open_store(g);
    std::string cid = store.resolve_container(*ref);
    o->attach_stdin = !*no_stdin;
    AttachResult r = attach_container(store, cid, *o);
    if (r.detached) std::cerr << "read escape sequence" << std::endl;  // docker attach: this, status 1
    g.exit_code = r.detached ? 1 : r.exit_code;
  });
}

}  // namespace minirun::cli
