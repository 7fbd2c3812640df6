// minirun builder prune [-f] [-a] — remove the build cache: every entry, and the step images
// only the cache held (build/build_cache.h), then the layers nothing uses.
#include <iostream>

#include "cli.h"
#include "minirun/build/build_cache.h"

namespace minirun::cli {

void register_builder(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("builder", "Manage the build cache");
  cmd->require_subcommand(1);
  auto* prune = cmd->add_subcommand("prune", "Remove the build cache");
  auto force = std::make_shared<bool>(false);
  auto all = std::make_shared<bool>(false);
  prune->add_flag("-f,--force", *force, "Do not prompt for confirmation (minirun never prompts)");
  prune->add_flag("-a,--all", *all, "Remove all the build cache (minirun always does)");
  prune->footer(
      "Tagged images and images used by a container stay; the other images of build steps go.\n"
      "Example: minirun builder prune -f");
  prune->callback([&g] {
    Store store = open_store(g);
    auto res = build::prune_build_cache(store);
    if (!res.entries.empty()) std::cout << "Deleted build cache objects:\n";
    for (const auto& k : res.entries) std::cout << k.substr(0, 25) << "\n";
    std::cout << "\nTotal reclaimed space: " << human_size(res.reclaimed) << "\n";
  });
}

}  // namespace minirun::cli
