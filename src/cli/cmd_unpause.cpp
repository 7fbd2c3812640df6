// minirun unpause CONTAINER… — thaws the container's cgroup (engine/container_state.h).
#include "cli.h"
#include "minirun/engine/container_state.h"

namespace minirun::cli {

void register_unpause(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("unpause", "Unpause all processes within one or more containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->callback([&g, refs] {
    g.exit_code = for_each_container(g, *refs, [](Store& s, const std::string& cid) { set_container_paused(s, cid, false); });
  });
}

}  // namespace minirun::cli
