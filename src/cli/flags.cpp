// flags.cpp — see flags.h. Mirrors CLI11 2.x's classification of an argument: "--name[=v]" is
// long, "-x…" short (a cluster of flags, or one option with its value attached), "-5" is a
// positional unless -5 is an option, "--" ends the flags. An option that takes a value and has
// none attached consumes the next argument, whatever it looks like (`-e -x` sets env "-x").
#include "flags.h"

namespace minirun::cli {

namespace {

bool valid_first(char c) { return c != '-' && c != '!' && c != ' ' && c != '\n' && c != '\0'; }

std::string command_path(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent()) path = path.empty() ? app->get_name() : app->get_name() + " " + path;
  return path;
}

std::string see_help(const CLI::App* app) { return "\nSee '" + command_path(app) + " --help'."; }

bool takes_value(const CLI::Option* o) { return o->get_items_expected_max() > 0; }  // a flag expects 0

}  // namespace

std::optional<std::string> unknown_flag(const CLI::App& root, int argc, const char* const* argv) {
  const CLI::App* app = &root;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--") return std::nullopt;
    if (a.size() > 2 && a[0] == '-' && a[1] == '-' && valid_first(a[2])) {
      const auto eq = a.find('=');
      const std::string name = a.substr(0, eq);
      const CLI::Option* o = app->get_option_no_throw(name);
      if (o == nullptr) return "unknown flag: " + name + see_help(app);
      if (eq == std::string::npos && takes_value(o)) i++;
      continue;
    }
    if (a.size() > 1 && a[0] == '-' && valid_first(a[1])) {
      if (a[1] >= '0' && a[1] <= '9' && app->get_option_no_throw(a.substr(0, 2)) == nullptr) {
        if (app->get_prefix_command()) return std::nullopt;  // a positional: the image
        continue;
      }
      for (size_t k = 1; k < a.size(); k++) {  // a cluster: -it, -e K=V, -eK=V
        const CLI::Option* o = app->get_option_no_throw(std::string{'-', a[k]});
        if (o == nullptr)
          return "unknown shorthand flag: '" + std::string(1, a[k]) + "' in " + a + see_help(app);
        if (takes_value(o)) {
          if (k + 1 == a.size()) i++;  // its value is the next argument
          break;                       // else the rest of the cluster is its value
        }
      }
      continue;
    }
    // A positional: a verb (or a verb's subcommand), the image of `run`, or a verb's argument.
    auto subs = app->get_subcommands([&a](const CLI::App* s) { return s->check_name(a); });
    if (!subs.empty()) {
      app = subs.front();
      continue;
    }
    if (app == &root || app->get_prefix_command()) return std::nullopt;
  }
  return std::nullopt;
}

bool rewrite_shorthand_flag_values(const CLI::App& app, int verb_at, std::vector<std::string>& args) {
  if (verb_at <= 0 || static_cast<size_t>(verb_at) >= args.size()) return false;
  const std::string& name = args[static_cast<size_t>(verb_at)];
  auto subs = app.get_subcommands([&name](const CLI::App* s) { return s->check_name(name); });
  if (subs.empty() || subs.front()->get_prefix_command()) return false;
  const CLI::App* verb = subs.front();
  bool changed = false;
  for (size_t i = static_cast<size_t>(verb_at) + 1; i < args.size(); i++) {
    std::string& a = args[i];
    if (a == "--") break;
    if (a.size() < 3 || a[0] != '-' || a[1] == '-' || a[2] != '=') continue;
    const CLI::Option* o = verb->get_option_no_throw(a.substr(0, 2));
    if (o == nullptr || takes_value(o) || o->get_lnames().empty()) continue;
    a = "--" + o->get_lnames().front() + a.substr(2);
    changed = true;
  }
  return changed;
}

void add_limit_flags(CLI::App* cmd, ResourceFlags& l, const std::string& swap_help) {
  cmd->add_option("-m,--memory", l.memory, "Memory limit (e.g. 64m)");
  cmd->add_option("--memory-swap", l.memory_swap, swap_help);
  cmd->add_option("--memory-reservation", l.memory_reservation, "Memory soft limit");
  cmd->add_option("--cpus", l.cpus, "Number of CPUs (e.g. 0.5)");
  cmd->add_option("-c,--cpu-shares", l.cpu_shares, "CPU shares (relative weight)");
  cmd->add_option("--cpu-period", l.cpu_period, "CPU CFS period (microseconds)");
  cmd->add_option("--cpu-quota", l.cpu_quota, "CPU CFS quota (microseconds)");
  cmd->add_option("--cpuset-cpus", l.cpuset_cpus, "CPUs allowed (0-3, 0,1)");
  cmd->add_option("--cpuset-mems", l.cpuset_mems, "Memory nodes allowed");
  cmd->add_option("--pids-limit", l.pids_limit, "Process limit (-1: unlimited)");
  cmd->add_option("--blkio-weight", l.blkio_weight, "Block IO weight (10-1000)");
}

}  // namespace minirun::cli
