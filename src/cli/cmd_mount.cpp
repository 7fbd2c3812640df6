// minirun mount IMAGE — mount an image's merged root filesystem read-only and print the path
// (like `podman image mount`). Deliberately in the host's mount namespace; `umount` undoes it.
#include <sys/mount.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <iostream>

#include "cli.h"
#include "minirun/util/error.h"
#include "minirun/engine/images.h"
#include "minirun/runtime/overlay.h"

namespace minirun::cli {

namespace {
bool is_mounted(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string f[5];
    for (auto& x : f) ss >> x;
    if (f[4] == path) return true;
  }
  return false;
}
}  // namespace

void register_mount(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("mount", "Mount an image's root filesystem read-only and print where");
  auto ref = std::make_shared<std::string>();
  cmd->add_option("image", *ref, "Image reference")->required();
  cmd->footer("Example: ls $(minirun mount busybox:latest)/bin");
  cmd->callback([&g, ref] {
    Store store = open_store(g);
    std::string hex = store.resolve_image(*ref);
    auto ids = image_layer_ids(parse_image_config(store.image_config(hex)));
    if (ids.empty()) throw Error("image " + hex.substr(0, 12) + " has no layers to mount");
    std::string dir = store.mount_dir(hex);
    ::mkdir((store.root() + "/mounts").c_str(), 0700);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) throw sys_error(dir);
    if (!is_mounted(dir)) {
      OverlayLayout layout;
      layout.overlay_root = store.overlay_root();
      layout.lower_links.push_back(store.link_name(ids.back()));
      for (const auto& l : store.lower_links(ids.back())) layout.lower_links.push_back(l);
      mount_overlay(layout, dir, MS_RDONLY | MS_NODEV | MS_NOSUID);
    }
    std::cout << dir << "\n";
  });
}

void register_umount(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("umount", "Unmount an image mounted with `minirun mount`");
  auto ref = std::make_shared<std::string>();
  cmd->add_option("image", *ref, "Image reference")->required();
  cmd->footer("Example: minirun umount busybox:latest");
  cmd->callback([&g, ref] {
    Store store = open_store(g);
    std::string dir = store.mount_dir(store.resolve_image(*ref));
    if (!is_mounted(dir)) throw Error(*ref + " is not mounted");
    if (::umount2(dir.c_str(), 0) != 0) throw sys_error("umount " + dir);
    ::rmdir(dir.c_str());
    std::cout << dir << "\n";
  });
}

}  // namespace minirun::cli
