// main.cpp — parses the global flags, hands over to the verb, turns errors into one line
// on stderr and Docker's exit codes (125 minirun failed, 126 cannot execute, 127 not found).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "cli.h"
#include "flags.h"
#include "oci/oci.h"
#include "minirun/util/error.h"

using namespace minirun;

namespace {

// The verb on the command line: the first argument that is neither a global flag nor the value
// of one; "" when there is none or help or the version is asked for first.
std::string verb_named(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--root" || a == "--log-level") {
      i++;
      continue;
    }
    if (a == "-h" || a == "--help" || a == "--version") return "";
    if (a.empty() || a[0] != '-') return a;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  // One binary, two command lines: runc's when called as minirun-runtime (a link to minirun).
  std::string self = argc > 0 ? argv[0] : "";
  if (self.substr(self.rfind('/') + 1) == "minirun-runtime") return cli::oci::main(argc, argv);
  cli::Globals g;
  CLI::App app{"minirun: assemble container root filesystems with overlayfs and run them, with no daemon"};
  app.name("minirun");
  app.require_subcommand(1);
  app.set_version_flag("--version", "minirun 0.1.0");
  app.add_option("--root", g.root, "Store directory (default: $MINIRUN_ROOT, else /var/lib/minirun)");
  app.add_option("--log-level", g.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  // Only the verb named is registered: building every verb's options took about 0.2 ms of each
  // `run`. With none named (help, --version, no arguments) all are, so the help is whole.
  const std::string verb = verb_named(argc, argv);
  bool registered = false;
#define MINIRUN_REGISTER_NAMED(v) \
  if (verb == #v) cli::register_##v(app, g), registered = true;
  MINIRUN_VERBS(MINIRUN_REGISTER_NAMED)
#undef MINIRUN_REGISTER_NAMED
  if (!registered && !verb.empty()) {  // as `docker imagess`, with minirun's exit code
    std::cerr << "Error: '" << verb << "' is not a minirun command (see 'minirun --help')" << std::endl;
    return kExitFailed;
  }
#define MINIRUN_REGISTER_VERB(v) cli::register_##v(app, g);
  if (!registered) { MINIRUN_VERBS(MINIRUN_REGISTER_VERB) }
#undef MINIRUN_REGISTER_VERB
  app.parse_complete_callback([&] {
    spdlog::set_level(spdlog::level::from_str(g.log_level));
  });
  // Log lines go to standard error: standard output is for results (`images -q`, `save`).
  spdlog::set_default_logger(spdlog::stderr_color_st("minirun"));
  spdlog::set_pattern("%^%l%$: %v");
  spdlog::set_level(spdlog::level::warn);
  if (auto bad = cli::unknown_flag(app, argc, argv)) {  // before CLI11 takes it for an argument
    std::cerr << *bad << std::endl;
    return kExitFailed;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitFailed;
  } catch (const Error& e) {
    std::fflush(stdout);
    std::cerr << "Error: " << e.what() << std::endl;
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << "Error: " << e.what() << std::endl;
    return kExitFailed;
  }
  return g.exit_code;
}
