// oci_main.cpp — minirun-runtime's entry: global flags, the verbs, errors as runc reports them.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "minirun/util/error.h"
#include "oci.h"

namespace minirun::cli::oci {

namespace {

void log_error(const Globals& g, const std::string& msg) {
  std::cerr << "minirun-runtime: " << msg << std::endl;
  if (g.log.empty()) return;
  char ts[64];
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::ofstream out(g.log, std::ios::app);
  if (g.log_format == "json") out << nlohmann::json{{"level", "error"}, {"msg", msg}, {"time", ts}}.dump() << "\n";
  else out << "time=\"" << ts << "\" level=error msg=\"" << msg << "\"\n";
}

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  CLI::App app{"minirun-runtime: an OCI runtime with runc's command line (minirun's runtime)"};
  app.name("minirun-runtime");
  app.require_subcommand(1);
  app.set_version_flag("-v,--version", "minirun-runtime version " MINIRUN_VERSION "\nspec: 1.2.0");
  app.add_option("--root", g.root, "Directory for the containers' state (default /run/minirun-runtime)");
  app.add_option("--log", g.log, "Also write errors to this file");
  app.add_option("--log-format", g.log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "cgroupsPath is slice:prefix:name (placed by path under cgroupfs)");
  app.add_flag("--debug", g.debug, "Debug output");
  std::string criu, rootless;
  app.add_option("--criu", criu, "Ignored (no checkpointing)");
  app.add_option("--rootless", rootless, "Only false or auto: minirun-runtime runs as root");
  register_lifecycle(app, g);
  register_query(app, g);
  register_signal(app, g);
  register_exec(app, g);
  register_info(app, g);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  } catch (const Error& e) {
    log_error(g, e.what());
    return e.exit_code() == kExitFailed ? 1 : e.exit_code();
  } catch (const std::exception& e) {
    log_error(g, e.what());
    return 1;
  }
  return g.exit_code;
}

}  // namespace minirun::cli::oci
