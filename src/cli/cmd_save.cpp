// minirun save [-o FILE] IMAGE… — write images as a `docker save` archive.
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"
#include "minirun/util/error.h"
#include "minirun/engine/image_edit.h"
#include "minirun/image/reference.h"

namespace minirun::cli {

void register_save(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("save", "Save images to a tar archive (docker save format)");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>("-");
  cmd->add_option("image", *refs, "Images (NAME[:TAG] or ID)")->required();
  cmd->add_option("-o,--output", *out, "Write to a file instead of STDOUT");
  cmd->footer("Example: minirun save -o busybox.tar busybox:latest");
  cmd->callback([&g, refs, out] {
    Store store = open_store(g);
    // Images in the order named; a name records that tag, an ID records none (like docker save).
    std::vector<std::pair<std::string, std::vector<std::string>>> images;
    for (const auto& r : *refs) {
      std::string hex = store.resolve_image(r);
      std::string tag;
      try {
        std::string n = normalize_reference(r);
        auto tags = store.tags();
        if (tags.count(n) && tags[n] == "sha256:" + hex) tag = n;
      } catch (const Error&) {
      }
      auto it = std::find_if(images.begin(), images.end(), [&](const auto& p) { return p.first == hex; });
      if (it == images.end()) images.push_back({hex, {}}), it = images.end() - 1;
      if (!tag.empty()) it->second.push_back(tag);
    }
    write_output(*out, [&](int fd) { save_images(store, images, fd); });
  });
}

}  // namespace minirun::cli
