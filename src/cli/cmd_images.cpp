// minirun images [-a] [-q] [--digests] [--no-trunc] [--format json|TEMPLATE] — list images.
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli.h"
#include "gotemplate.h"
#include "table_format.h"
#include "minirun/build/build_cache.h"
#include "minirun/engine/images.h"

namespace minirun::cli {

void register_images(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("images", "List images");
  auto quiet = std::make_shared<bool>(false);
  auto notrunc = std::make_shared<bool>(false);
  auto digests = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  cmd->add_flag("-a,--all", *all, "Show all images (by default the build's intermediate images are hidden)");
  cmd->add_flag("-q,--quiet", *quiet, "Only show image IDs");
  cmd->add_flag("--digests", *digests, "Show digests");
  cmd->add_flag("--no-trunc", *notrunc, "Don't truncate output");
  cmd->add_option("--format", *format,
                  "table (the default), json (one object per line), or a Go template: "
                  "'{{.Repository}}:{{.Tag}}', 'table {{.ID}}\\t{{.Size}}' (fields: Repository, Tag, ID, Digest, "
                  "CreatedSince, CreatedAt, Size, VirtualSize, SharedSize, UniqueSize, Containers)");
  cmd->footer("Examples:\n  minirun images --digests\n  minirun images --no-trunc\n  minirun images --format '{{.Repository}}:{{.Tag}}'");
  cmd->callback([&g, quiet, notrunc, digests, format, all] {
    Store store = open_store(g);
    std::vector<std::vector<std::string>> rows = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
    if (*digests) rows[0].insert(rows[0].begin() + 2, "DIGEST");
    std::vector<nlohmann::ordered_json> items;
    std::set<std::string> seen;
    // As Docker: an untagged image another cached build step stands on is an intermediate image.
    std::set<std::string> hidden;
    if (!*all) hidden = build::intermediate_images(store);
    for (const auto& hex : store.image_ids()) {
      if (hidden.count(hex)) continue;
      auto cfg = parse_image_config(store.image_config(hex));
      std::string id = *notrunc ? "sha256:" + hex : hex.substr(0, 12);
      uint64_t size = image_size(store, cfg);
      if (*quiet) {
        std::cout << id << "\n";
        continue;
      }
      // Rows as Docker's: one per tag, with the digest pulled for its repository; one per
      // digest whose repository has no tag here; one <none> row for an image with neither.
      std::vector<std::pair<std::string, std::string>> named;  // tag row or "<none>", digest
      auto repo_digests = store.repo_digests(hex);
      auto repo_of_digest = [](const std::string& d) { return d.substr(0, d.rfind('@')); };
      for (const auto& t : store.tags_of(hex)) {
        std::string digest = "<none>";
        for (const auto& d : repo_digests)
          if (repo_of_digest(d) == t.substr(0, t.rfind(':'))) digest = d.substr(d.rfind('@') + 1);
        named.emplace_back(t, digest);
      }
      for (const auto& d : repo_digests) {
        bool tagged = false;
        for (const auto& [t, dg] : named) tagged = tagged || t.substr(0, t.rfind(':')) == repo_of_digest(d);
        if (!tagged) named.emplace_back(repo_of_digest(d) + ":<none>", d.substr(d.rfind('@') + 1));
      }
      if (named.empty()) named.emplace_back("<none>:<none>", "<none>");
      for (const auto& [t, digest] : named) {
        auto colon = t.rfind(':');
        std::string repo = t.substr(0, colon), tag = t.substr(colon + 1);
        rows.push_back({repo, tag, id, human_ago(cfg.created), human_size(size)});
        if (*digests) rows.back().insert(rows.back().begin() + 2, digest);
        // Docker's image fields, in the (alphabetical) order its --format json prints them.
        items.push_back({{"Containers", "N/A"}, {"CreatedAt", cfg.created}, {"CreatedSince", human_ago(cfg.created)},
                         {"Digest", digest},    {"ID", id},                  {"Repository", repo},
                         {"SharedSize", "N/A"}, {"Size", human_size(size)},  {"Tag", tag},
                         {"UniqueSize", "N/A"}, {"VirtualSize", human_size(size)}});
      }
    }
    if (*quiet) return;
    static const nlohmann::ordered_json headers = {
        {"Containers", "CONTAINERS"}, {"CreatedAt", "CREATED AT"}, {"CreatedSince", "CREATED"},
        {"Digest", "DIGEST"},         {"ID", "IMAGE ID"},          {"Repository", "REPOSITORY"},
        {"SharedSize", "SHARED SIZE"}, {"Size", "SIZE"},           {"Tag", "TAG"},
        {"UniqueSize", "UNIQUE SIZE"}, {"VirtualSize", "SIZE"}};
    std::string out;
    if (format_rows(*format, headers, items, out)) std::cout << out;
    else print_table(rows);
  });
}

}  // namespace minirun::cli
