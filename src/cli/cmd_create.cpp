// minirun create [OPTIONS] IMAGE|ARCHIVE [COMMAND] [ARG...] — Docker's `create`: the container
// made as `run` makes it (record, layers, name, network plan, limits), printed by ID, and left
// "Created" until `start` runs it under a monitor as `run -d` would (`start -ai` attaches).
// The options are run's (cmd_run.cpp), without -d.
#include "cli.h"

namespace minirun::cli {

void register_create(CLI::App& app, Globals& g) { register_run_or_create(app, g, true); }

}  // namespace minirun::cli
