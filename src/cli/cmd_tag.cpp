// minirun tag SOURCE TARGET — add a name to an image (moves the name if it was elsewhere).
#include "cli.h"
#include "minirun/engine/images.h"
#include "minirun/image/reference.h"

namespace minirun::cli {

void register_tag(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
  auto src = std::make_shared<std::string>();
  auto dst = std::make_shared<std::string>();
  cmd->add_option("source", *src, "SOURCE_IMAGE[:TAG] or ID")->required();
  cmd->add_option("target", *dst, "TARGET_IMAGE[:TAG]")->required();
  cmd->footer("Example: minirun tag busybox:latest mybox:1");
  cmd->callback([&g, src, dst] {
    Store store = open_store(g);
    std::string name = normalize_reference(*dst);
    auto lock = store.lock();
    std::string hex = store.resolve_image(*src);
    auto tags = store.tags();
    tags[name] = "sha256:" + hex;
    store.set_tags(tags);
  });
}

}  // namespace minirun::cli
