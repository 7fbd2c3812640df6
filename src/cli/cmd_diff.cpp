// minirun diff CONTAINER [--format json] — what the container changed, as `docker diff`.
#include <iostream>

#include "cli.h"
#include "minirun/image/changes.h"

namespace minirun::cli {

void register_diff(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("diff", "Inspect changes to files or directories on a container's filesystem");
  auto ref = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>();
  cmd->add_option("container", *ref, "Container name or ID")->required();
  cmd->add_option("--format", *format, "json: [{\"Path\":…,\"Kind\":0|1|2}]")->check(CLI::IsMember({"json", "table"}));
  cmd->footer("Example: minirun diff web");
  cmd->callback([&g, ref, format] {
    Store store = open_store(g);
    std::string cid = store.resolve_container(*ref);
    auto changes = compute_changes(store.diff_dir(cid), store.lower_diffs(cid));
    std::cout << (*format == "json" ? format_changes_json(changes) + "\n" : format_changes(changes));
  });
}

}  // namespace minirun::cli
