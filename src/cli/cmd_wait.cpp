// minirun wait CONTAINER… — blocks until each container stops, prints its exit code.
#include <iostream>

#include "cli.h"
#include "minirun/engine/detached.h"

namespace minirun::cli {

void register_wait(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("wait", "Block until one or more containers stop, then print their exit codes");
  auto refs = std::make_shared<std::vector<std::string>>();
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->footer("Example: minirun wait web");
  cmd->callback([&g, refs] {
    g.exit_code = for_each_container(
        g, *refs, [](Store& s, const std::string& cid) { std::cout << wait_container(s, cid) << std::endl; },
        /*print=*/false);
  });
}

}  // namespace minirun::cli
