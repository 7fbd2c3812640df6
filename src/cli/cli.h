// cli.h — what the verb files share: global options, the store opener, output formatting.
// Each verb lives in its own cmd_<verb>.cpp and registers itself with register_<verb>().
// Verbs throw minirun::Error; main() prints it as one line and exits with its code.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "minirun/store/store.h"

namespace minirun::cli {

struct Globals {
  std::string root;
  std::string log_level = "warn";
  int exit_code = 0;  // set by a verb that finishes without throwing but must not exit 0
};

// Opens the store named by --root / $MINIRUN_ROOT / the default.
Store open_store(const Globals& g);

// Docker's human sizes: "4.26MB", "512B", "1.2GB" (decimal units, 3 significant digits).
std::string human_size(uint64_t bytes);
// Docker's relative times: "2 weeks ago" from an RFC 3339 timestamp.
std::string human_ago(const std::string& rfc3339);
// Current time as RFC 3339 with nanoseconds, like Docker's Created fields.
std::string now_rfc3339_nanos();
// Prints rows as columns separated by at least three spaces (docker's tabwriter look).
void print_table(const std::vector<std::vector<std::string>>& rows);
// "abc…" when longer than n (docker's --no-trunc off).
std::string truncate(const std::string& s, size_t n);

// Writes an output file (save -o, export -o): "-" is standard output (never a terminal); a
// regular file (or a new one) is written beside it and renamed into place, so a failure never
// leaves half a tar; anything else that exists (/dev/null, a fifo) is written directly.
void write_output(const std::string& path, const std::function<void(int fd)>& write);

// Runs fn on each container named in refs, Docker's way: the name printed on success, "Error: …"
// on stderr otherwise and the rest still done; returns the exit code (1 if any failed).
int for_each_container(const Globals& g, const std::vector<std::string>& refs,
                       const std::function<void(Store&, const std::string& cid)>& fn, bool print = true);

// Pulls NAME (engine/pull_reference.h) printing docker pull's progress lines on `out` (nothing
// when quiet), up to its "Status: …" line; returns the image ID ("sha256:…") and, in
// `full_name`, the resolved reference (cmd_pull.cpp; `run --pull` prints on stderr).
std::string pull_with_progress(Store& store, const std::string& name, std::ostream& out, bool quiet,
                               const std::string& platform = "", size_t max_concurrent = 3,
                               const std::string& cert_dir = "", std::string* full_name = nullptr);

// `run` and `create` share their options (cmd_run.cpp; cmd_create.cpp).
void register_run_or_create(CLI::App& app, Globals& g, bool create);

#define MINIRUN_VERBS(X) \
  X(load) X(pull) X(push) X(login) X(logout) X(import) X(images) X(inspect) X(history) X(tag) X(rmi) X(image) X(export) X(mount) X(umount) \
  X(run) X(ps) X(rm) X(diff) X(commit) X(save) X(stats) X(logs) X(network) X(port) \
  X(create) X(start) X(stop) X(restart) X(kill) X(wait) X(exec) X(pause) X(unpause) X(rename) X(top) X(update) X(attach) \
  X(build) X(builder)

#define MINIRUN_DECLARE_VERB(v) void register_##v(CLI::App& app, Globals& g);
MINIRUN_VERBS(MINIRUN_DECLARE_VERB)
#undef MINIRUN_DECLARE_VERB

}  // namespace minirun::cli
