// minirun history [--no-trunc] [-q] REF — the layers and history entries of an image.
#include <iostream>

#include "cli.h"
#include "minirun/image/hidden.h"
#include "minirun/engine/images.h"

namespace minirun::cli {

namespace {
// `history --hidden`: what later layers delete or overwrite, and the bytes it still costs.
void print_hidden(const Store& store, const ImageConfig& cfg, const std::vector<std::string>& ids, bool notrunc) {
  std::vector<std::string> diffs;
  for (const auto& id : ids) diffs.push_back(store.diff_dir(id));
  auto files = hidden_files(diffs);
  auto layer_name = [&](size_t i) {
    std::string d = cfg.diff_ids[i];
    return "#" + std::to_string(i + 1) + " " + (notrunc ? d : d.substr(7, 12));
  };
  std::vector<std::vector<std::string>> rows = {{"PATH", "LAYER", "HIDDEN BY", "SIZE"}};
  uint64_t total = 0;
  for (const auto& f : files) {
    rows.push_back({f.path, layer_name(f.layer), layer_name(f.hidden_by), human_size(f.size)});
    total += f.size;
  }
  print_table(rows);
  std::cout << files.size() << " hidden file" << (files.size() == 1 ? "" : "s") << ", " << human_size(total) << " (" << total
            << " bytes) shipped but invisible\n";
}
}  // namespace

void register_history(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("history", "Show the history of an image");
  auto ref = std::make_shared<std::string>();
  auto notrunc = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("image", *ref, "Image reference")->required();
  cmd->add_flag("--no-trunc", *notrunc, "Don't truncate output");
  cmd->add_flag("-q,--quiet", *quiet, "Only show image IDs");
  auto hidden = std::make_shared<bool>(false);
  cmd->add_flag("--hidden", *hidden,
                "List files a later layer deletes or overwrites: shipped in the image, invisible in containers");
  cmd->footer("Examples:\n  minirun history busybox:latest\n  minirun history --hidden myimage:1");
  cmd->callback([&g, ref, notrunc, quiet, hidden] {
    Store store = open_store(g);
    std::string hex = store.resolve_image(*ref);
    auto cfg = parse_image_config(store.image_config(hex));
    auto ids = image_layer_ids(cfg);
    if (*hidden) return print_hidden(store, cfg, ids, *notrunc);
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
