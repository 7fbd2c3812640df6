// minirun import FILE|- [REF] — a root filesystem tar becomes a one-layer image.
#include <iostream>

#include "cli.h"
#include "minirun/engine/images.h"

namespace minirun::cli {

void register_import(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("import", "Import a root filesystem tarball as a one-layer image");
  auto file = std::make_shared<std::string>();
  auto ref = std::make_shared<std::string>();
  cmd->add_option("file", *file, "Tar file (plain, gzip, zstd) or - for STDIN")->required();
  cmd->add_option("reference", *ref, "NAME[:TAG] for the new image");
  auto changes = std::make_shared<std::vector<std::string>>();
  auto message = std::make_shared<std::string>();
  cmd->add_option("-c,--change", *changes, "Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER, ...)")->allow_extra_args(false);
  cmd->add_option("-m,--message", *message, "Commit message for the imported image");
  cmd->footer(R"(Example: minirun import -c 'CMD ["/bin/sh"]' rootfs.tar example/busybox:latest)");
  cmd->callback([&g, file, ref, changes, message] {
    Store store = open_store(g);
    std::cout << import_rootfs(store, *file, *ref, *changes, *message) << "\n";
  });
}

}  // namespace minirun::cli
