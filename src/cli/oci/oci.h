// oci.h — minirun-runtime: runc's command line over runtime::Lifecycle, for engines that drive an
// OCI runtime (Podman through conmon, containerd, CRI-O). The same binary as minirun, chosen by
// argv[0]. Global flags as runc's (--root, --log, --log-format text|json, --systemd-cgroup,
// --debug); errors go to stderr and, with --log, to that file in the chosen format.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace minirun::cli::oci {

struct Globals {
  std::string root = "/run/minirun-runtime";
  std::string log, log_format = "text";
  bool systemd_cgroup = false, debug = false;
  int exit_code = 0;
};

void register_lifecycle(CLI::App& app, Globals& g);  // create, start, run, delete
void register_query(CLI::App& app, Globals& g);      // state, list, ps
void register_signal(CLI::App& app, Globals& g);     // kill, pause, resume
void register_exec(CLI::App& app, Globals& g);       // exec
void register_info(CLI::App& app, Globals& g);       // spec, features

int main(int argc, char** argv);

}  // namespace minirun::cli::oci
