// minirun stop [-t N] CONTAINER… — the stop signal, SIGKILL after N seconds (engine/detached.h).
#include <optional>

#include "cli.h"
#include "minirun/engine/detached.h"

namespace minirun::cli {

void register_stop(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("stop", "Stop one or more running containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto t = std::make_shared<std::optional<int>>();
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->add_option("-t,--time", *t, "Seconds to wait before killing it (default: its --stop-timeout, else 10)");
  cmd->footer("Example: minirun stop -t 2 web");
  cmd->callback([&g, refs, t] {
    g.exit_code = for_each_container(g, *refs, [&](const Store& s, const std::string& cid) { stop_container(s, cid, *t); });
  });
}

}  // namespace minirun::cli
