// minirun rmi [-f] REF… — untag and remove images, then the layers nothing uses.
#include <iostream>

#include "cli.h"
#include "minirun/util/error.h"
#include "minirun/engine/images.h"

namespace minirun::cli {

void register_rmi(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("rmi", "Remove one or more images");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("image", *refs, "Image references")->required();
  cmd->add_flag("-f,--force", *force, "Remove even when tagged several times or used by a container");
  cmd->footer("Example: minirun rmi busybox:latest");
  cmd->callback([&g, refs, force] {
    Store store = open_store(g);
    std::string last_error;
    int code = 0;
    for (const auto& r : *refs) {
      try {
        auto res = remove_image(store, r, *force);
        for (const auto& t : res.untagged) std::cout << "Untagged: " << t << "\n";
        for (const auto& d : res.deleted) std::cout << "Deleted: " << d << "\n";
      } catch (const Error& e) {
        std::cerr << "Error: " << e.what() << "\n";
        code = e.exit_code();
      }
    }
    g.exit_code = code;
  });
}

}  // namespace minirun::cli
