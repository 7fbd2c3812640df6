// minirun restart [-t N] CONTAINER… — stop (as `stop -t N`), then start.
#include <optional>

#include "cli.h"
#include "minirun/engine/detached.h"

namespace minirun::cli {

void register_restart(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("restart", "Restart one or more containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto t = std::make_shared<std::optional<int>>();
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->add_option("-t,--time", *t, "Seconds to wait for the stop before killing it");
  cmd->footer("Example: minirun restart web");
  cmd->callback([&g, refs, t] {
    g.exit_code = for_each_container(g, *refs, [&](Store& s, const std::string& cid) {
      stop_container(s, cid, *t);
      start_container(s, cid);
    });
  });
}

}  // namespace minirun::cli
