// flags.h — rejects an unknown flag by name before any verb runs, in Docker's words
// ("unknown flag: --foo", "unknown shorthand flag: 'd' in -d"). CLI11 alone would hand an
// unknown flag to `run` as its image (prefix_command) or list it among "arguments not expected".
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace minirun::cli {

// Walks argv as CLI11 will parse it against `app` (global flags, the verb, a verb's own
// subcommand, then the verb's flags and arguments) and returns the first unknown flag's message:
// "unknown flag: --foo\nSee 'minirun run --help'."; nullopt when every flag is known.
// Stops at "--", at an unknown verb (main reports it), and in a prefix-command verb (`run`) at
// its first argument: what follows the image is the command's.
std::optional<std::string> unknown_flag(const CLI::App& app, int argc, const char* const* argv);

}  // namespace minirun::cli
