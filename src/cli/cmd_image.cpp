// minirun image prune — remove untagged images no container uses, and unused layers.
#include <iostream>

#include "cli.h"
#include "minirun/engine/images.h"

namespace minirun::cli {

void register_image(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("image", "Manage images");
  cmd->require_subcommand(1);
  auto* prune = cmd->add_subcommand("prune", "Remove dangling images and unused layers");
  auto force = std::make_shared<bool>(false);
  prune->add_flag("-f,--force", *force, "Do not prompt for confirmation (minirun never prompts)");
  prune->footer("Example: minirun image prune -f");
  prune->callback([&g, force] {
    Store store = open_store(g);
    auto res = prune_images(store);
    if (!res.deleted.empty()) std::cout << "Deleted Images:\n";
    for (const auto& d : res.deleted) std::cout << "deleted: " << d << "\n";
  });
}

}  // namespace minirun::cli
