// main.cpp — parses the global flags, hands over to the verb, turns errors into one line
// on stderr and Docker's exit codes (125 minirun failed, 126 cannot execute, 127 not found).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string_view>

#include "cli.h"
#include "complete.h"
#include "flags.h"
#include "manpage.h"
#include "oci/oci.h"
#include "minirun/util/error.h"

using namespace minirun;

namespace {

// Where the verb is on the command line: the first argument that is neither a global flag nor
// the value of one; 0 when there is none or help or the version is asked for first.
int verb_index(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--root" || a == "--log-level") {
      i++;
      continue;
    }
    if (a == "-h" || a == "--help" || a == "--version") return 0;
    if (a.empty() || a[0] != '-') return i;
  }
  return 0;
}

// `minirun [--root DIR] [--log-level L] --version`: answered before the command line's parser is
// built, since with no verb named every verb is registered (for a whole --help), which was most
// of the process's time. Anything else on the line first (-h, a verb, --flag=value) leaves it to
// the parser, which prints the same line.
bool version_only(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string_view a = argv[i];
    if (a == "--root" || a == "--log-level") {
      i++;
      continue;
    }
    return a == "--version";
  }
  return false;
}

// The hidden verbs, for the build and the shell: `__man DIR` writes the manual pages,
// `__complete WORD…` prints the completions of the last WORD (complete.h). Both read the
// registrations of every verb, as --help does.
int hidden_verb(CLI::App& app, const std::string& verb, std::vector<std::string> args) {
  if (verb == "__man") {
    if (args.size() != 1) {
      std::cerr << "usage: minirun __man DIR" << std::endl;
      return kExitFailed;
    }
    cli::write_man_pages(app, MINIRUN_VERSION, args[0]);
    return 0;
  }
  for (const auto& c : cli::complete(app, args, cli::store_names)) std::cout << c << "\n";
  return 0;
}

// Once a verb has returned and every object it made is gone, what exit() would still run is the
// static destructors of the whole binary (CLI11's validators, once per file that includes it, the
// locale, the logger registry): about 0.2 ms of every `run` (paired A/B), for a process whose
// memory the kernel frees anyway. Output is flushed first. (Sanitizer builds return: LeakSanitizer
// checks at exit.)
int leave(int code) {
#if defined(__SANITIZE_ADDRESS__)
  return code;
#else
  std::cout.flush();
  std::fflush(nullptr);
  ::_exit(code);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  // One binary, two command lines: runc's when called as minirun-runtime (a link to minirun).
  std::string self = argc > 0 ? argv[0] : "";
  if (self.substr(self.rfind('/') + 1) == "minirun-runtime") return leave(cli::oci::main(argc, argv));
  if (version_only(argc, argv)) {
    std::fputs("minirun " MINIRUN_VERSION "\n", stdout);
    return leave(0);
  }
  cli::Globals g;
  CLI::App app{"minirun: assemble container root filesystems with overlayfs and run them, with no daemon"};
  app.name("minirun");
  app.require_subcommand(1);
  app.set_version_flag("--version", "minirun " MINIRUN_VERSION);
  app.add_option("--root", g.root, "Store directory (default: $MINIRUN_ROOT, else /var/lib/minirun)");
  app.add_option("--log-level", g.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  // Only the verb named is registered: building every verb's options took about 0.2 ms of each
  // `run`. With none named (help, --version, no arguments) all are, so the help is whole.
  const int verb_at = verb_index(argc, argv);
  const std::string verb = verb_at ? argv[verb_at] : "";
  bool registered = false;
#define MINIRUN_REGISTER_NAMED(v) \
  if (verb == #v) cli::register_##v(app, g), registered = true;
  MINIRUN_VERBS(MINIRUN_REGISTER_NAMED)
#undef MINIRUN_REGISTER_NAMED
  const bool hidden = verb == "__man" || verb == "__complete";
  if (!registered && !verb.empty() && !hidden) {  // as `docker imagess`, with minirun's exit code
    std::cerr << "Error: '" << verb << "' is not a minirun command (see 'minirun --help')" << std::endl;
    return kExitFailed;
  }
#define MINIRUN_REGISTER_VERB(v) cli::register_##v(app, g);
  if (!registered) { MINIRUN_VERBS(MINIRUN_REGISTER_VERB) }
#undef MINIRUN_REGISTER_VERB
  if (hidden) {
    try {
      return hidden_verb(app, verb, std::vector<std::string>(argv + verb_at + 1, argv + argc));
    } catch (const std::exception& e) {
      std::cerr << "Error: " << e.what() << std::endl;
      return kExitFailed;
    }
  }
  app.parse_complete_callback([&] {
    spdlog::set_level(spdlog::level::from_str(g.log_level));
  });
  // Log lines go to standard error: standard output is for results (`images -q`, `save`).
  spdlog::set_default_logger(spdlog::stderr_color_st("minirun"));
  spdlog::set_pattern("%^%l%$: %v");
  spdlog::set_level(spdlog::level::warn);
  std::vector<std::string> args(argv, argv + argc);  // `commit -p=false` as `commit --pause=false`
  std::vector<char*> rewritten;
  if (cli::rewrite_shorthand_flag_values(app, verb_at, args)) {
    for (auto& a : args) rewritten.push_back(a.data());
    rewritten.push_back(nullptr);
    argv = rewritten.data();
  }
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
  return leave(g.exit_code);
}
