// minirun export CONTAINER|IMAGE -o FILE|- — the merged root filesystem as one tar, or
// --bundle DIR: an OCI bundle (engine/bundle.h).
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"
#include "minirun/engine/bundle.h"
#include "minirun/engine/container_spec.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/engine/images.h"
#include "minirun/image/tarwrite.h"

namespace minirun::cli {

namespace {
// The layer dirs (nearest first) of a container (its changes included) or of an image. An
// image is exported as `docker export` of a new container shows it: with the -init layer's
// mount points (init_dir, a scratch directory) on top.
std::vector<std::string> layers_of(const Store& store, const std::string& ref, const std::string& init_dir) {
  try {
    std::string cid = store.resolve_container(ref);
    std::vector<std::string> out = {store.diff_dir(cid)};
    for (const auto& d : store.lower_diffs(cid)) out.push_back(d);
    return out;
  } catch (const Error& e) {
    if (e.exit_code() != 1) throw;
  }
  std::string hex = store.resolve_image(ref);
  auto ids = image_layer_ids(parse_image_config(store.image_config(hex)));
  prepare_init_layer(init_dir);
  std::vector<std::string> out = {init_dir};
  if (ids.empty()) return out;
  out.push_back(store.diff_dir(ids.back()));
  for (const auto& d : store.lower_diffs(ids.back())) out.push_back(d);
  return out;
}
}  // namespace

void register_export(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("export", "Export a container's (or an image's) root filesystem as a tar archive");
  auto ref = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>("-");
  auto bundle = std::make_shared<std::string>();
  cmd->add_option("ref", *ref, "Container (name or ID) or image")->required();
  cmd->add_option("-o,--output", *out, "Write to a file instead of STDOUT");
  cmd->add_option("--bundle", *bundle,
                  "Write an OCI bundle instead (DIR/config.json and DIR/rootfs) for minirun-runtime, runc or crun");
  cmd->footer("Examples:\n  minirun export web -o web.tar\n  minirun export --bundle /tmp/web busybox:latest && cd /tmp/web && runc run web");
  cmd->callback([&g, ref, out, bundle] {
    Store store = open_store(g);
    if (!bundle->empty()) return write_bundle(store, *ref, *bundle);
    RemoveOnExit scratch(store.new_temp_dir());
    auto layers = layers_of(store, *ref, scratch.path());
    write_output(*out, [&](int fd) { write_merged_tar(layers, fd); });
  });
}

}  // namespace minirun::cli
