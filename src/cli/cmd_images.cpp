// minirun images [-q] [--no-trunc] [--format json] — list images.
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli.h"
#include "minirun/engine/images.h"

namespace minirun::cli {

void register_images(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("images", "List images");
  auto quiet = std::make_shared<bool>(false);
  auto notrunc = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>();
  cmd->add_flag("-q,--quiet", *quiet, "Only show image IDs");
  cmd->add_flag("--no-trunc", *notrunc, "Don't truncate output");
  cmd->add_option("--format", *format, "json: one JSON object per line")->check(CLI::IsMember({"json", "table"}));
  cmd->footer("Example: minirun images --no-trunc");
  cmd->callback([&g, quiet, notrunc, format] {
    Store store = open_store(g);
    std::vector<std::vector<std::string>> rows = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
    std::set<std::string> seen;
    for (const auto& hex : store.image_ids()) {
      auto cfg = parse_image_config(store.image_config(hex));
      std::string id = *notrunc ? "sha256:" + hex : hex.substr(0, 12);
      uint64_t size = image_size(store, cfg);
      if (*quiet) {
        std::cout << id << "\n";
        continue;
      }
      auto tags = store.tags_of(hex);
      if (tags.empty()) tags.push_back("<none>:<none>");
      for (const auto& t : tags) {
        auto colon = t.rfind(':');
        std::string repo = t.substr(0, colon), tag = t.substr(colon + 1);
        if (*format == "json") {
          nlohmann::json j = {{"Repository", repo}, {"Tag", tag}, {"ID", id}, {"CreatedAt", cfg.created},
                              {"CreatedSince", human_ago(cfg.created)}, {"Size", human_size(size)}};
          std::cout << j.dump() << "\n";
        } else {
          rows.push_back({repo, tag, id, human_ago(cfg.created), human_size(size)});
        }
      }
    }
    if (!*quiet && *format != "json") print_table(rows);
  });
}

}  // namespace minirun::cli
