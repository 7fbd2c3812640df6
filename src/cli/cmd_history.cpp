// minirun history [--no-trunc] [-q] REF — the layers and history entries of an image.
#include <iostream>

#include "cli.h"
#include "minirun/images.h"

namespace minirun::cli {

void register_history(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("history", "Show the history of an image");
  auto ref = std::make_shared<std::string>();
  auto notrunc = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("image", *ref, "Image reference")->required();
  cmd->add_flag("--no-trunc", *notrunc, "Don't truncate output");
  cmd->add_flag("-q,--quiet", *quiet, "Only show image IDs");
  cmd->footer("Example: minirun history busybox:latest");
  cmd->callback([&g, ref, notrunc, quiet] {
    Store store = open_store(g);
    std::string hex = store.resolve_image(*ref);
    auto cfg = parse_image_config(store.image_config(hex));
    auto ids = image_layer_ids(cfg);
    // Pair each non-empty history entry with its layer, bottom up.
    std::vector<std::vector<std::string>> rows;
    size_t layer = 0;
    for (const auto& h : cfg.history) {
      uint64_t size = 0;
      if (!h.empty_layer && layer < ids.size()) {
        if (auto rec = store.layer(ids[layer])) size = rec->size;
        layer++;
      }
      std::string by = h.created_by;
      rows.push_back({"<missing>", human_ago(h.created), *notrunc ? by : truncate(by, 45), human_size(size),
                      h.comment});
    }
    std::reverse(rows.begin(), rows.end());
    if (!rows.empty()) rows[0][0] = *notrunc ? "sha256:" + hex : hex.substr(0, 12);
    if (*quiet) {
      for (const auto& r : rows) std::cout << r[0] << "\n";
      return;
    }
    rows.insert(rows.begin(), {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
    print_table(rows);
  });
}

}  // namespace minirun::cli
