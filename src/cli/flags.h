// flags.h — rejects an unknown flag by name before any verb runs, in Docker's words
// ("unknown flag: --foo", "unknown shorthand flag: 'd' in -d"). CLI11 alone would hand an
// unknown flag to `run` as its image (prefix_command) or list it among "arguments not expected".
// Also the limit flags `run` and `update` share.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "minirun/engine/resource_flags.h"

namespace minirun::cli {

// Walks argv as CLI11 will parse it against `app` (global flags, the verb, a verb's own
// subcommand, then the verb's flags and arguments) and returns the first unknown flag's message:
// "unknown flag: --foo\nSee 'minirun run --help'."; nullopt when every flag is known.
// Stops at "--", at an unknown verb (main reports it), and in a prefix-command verb (`run`) at
// its first argument: what follows the image is the command's.
std::optional<std::string> unknown_flag(const CLI::App& app, int argc, const char* const* argv);

// pflag's "-p=false" (a shorthand flag given its value after '='), which CLI11 does not parse:
// rewritten in place as "--pause=false" (the flag's long name). Only the verb's own flags
// (args[verb_at] is the verb), before "--", and not in a prefix-command verb (`run`, `exec`: what
// follows the image or container is the command's). Returns whether anything changed.
bool rewrite_shorthand_flag_values(const CLI::App& app, int verb_at, std::vector<std::string>& args);

// The limits `run` and `update` share, with the same names and help: --memory, --memory-swap,
// --memory-reservation, --cpus, --cpu-shares, --cpu-period, --cpu-quota, --cpuset-cpus,
// --cpuset-mems, --pids-limit, --blkio-weight.
// `swap_help` is --memory-swap's help (run gives it a default, update does not).
void add_limit_flags(CLI::App* cmd, ResourceFlags& l, const std::string& swap_help);

}  // namespace minirun::cli
