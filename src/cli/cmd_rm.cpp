// minirun rm [-f] CONTAINER… — remove containers and their read-write layers.
#include <signal.h>

#include <iostream>

#include "cli.h"
#include "minirun/engine/container_state.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_rm(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("rm", "Remove one or more containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->add_flag("-f,--force", *force, "Kill and remove a running container");
  cmd->footer("Example: minirun rm -f web");
  cmd->callback([&g, refs, force] {
    Store store = open_store(g);
    int code = 0;
    for (const auto& r : *refs) {
      try {
        remove_container(store, store.resolve_container(r), *force);
        std::cout << r << "\n";
      } catch (const Error& e) {
        std::cerr << "Error: " << e.what() << "\n";
        code = e.exit_code() == kExitFailed ? 1 : e.exit_code();
      }
    }
    g.exit_code = code;
  });
}

}  // namespace minirun::cli
