// minirun load [-i FILE|-] [-q] [--max-layer-size SIZE] — load image archives (docker save,
// podman save, OCI).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "minirun/engine/images.h"
#include "minirun/util/size.h"

namespace minirun::cli {

namespace {
// A progress bar on stderr once a load has taken more than a second, only on a terminal.
struct ProgressBar {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool shown = false;
  void operator()(const LoadProgress& p) {
    using namespace std::chrono;
    if (!isatty(2) || steady_clock::now() - start < seconds(1)) return;
    int width = 30;
    int filled = p.bytes_total ? static_cast<int>(width * p.bytes_done / p.bytes_total) : width;
    std::fprintf(stderr, "\rLoading layers [%s%s] %zu/%zu  %s/%s ", std::string(filled, '=').c_str(),
                 std::string(width - filled, ' ').c_str(), p.layers_done, p.layers_total,
                 human_size(p.bytes_done).c_str(), human_size(p.bytes_total).c_str());
    shown = true;
  }
  ~ProgressBar() {
    if (shown) std::fputs("\n", stderr);
  }
};
}  // namespace

void register_load(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("load", "Load images from a tar archive (file, OCI layout directory, or - for STDIN)");
  auto input = std::make_shared<std::string>("-");
  auto quiet = std::make_shared<bool>(false);
  auto max_layer = std::make_shared<std::string>();
  cmd->add_option("-i,--input", *input, "Read from this archive instead of STDIN");
  cmd->add_flag("-q,--quiet", *quiet, "Suppress the progress output");
  cmd->add_option("--max-layer-size", *max_layer,
                  "Refuse a layer larger than SIZE uncompressed (e.g. 512M, 10G; default 64G)")
      ->type_name("SIZE");
  cmd->footer("Example: minirun load -i busybox.tar");
  cmd->callback([&g, input, quiet, max_layer] {
    LoadOptions opts;
    if (!max_layer->empty()) opts.max_layer_size = parse_byte_size(*max_layer);
    Store store = open_store(g);
    ProgressBar bar;
    if (!*quiet) opts.progress = [&bar](const LoadProgress& p) { bar(p); };
    auto loaded = load_archive(store, *input, opts);
    for (const auto& img : loaded) {
      if (img.tags.empty()) std::cout << "Loaded image ID: " << img.id << "\n";
      for (const auto& t : img.tags) std::cout << "Loaded image: " << t << "\n";
    }
  });
}

}  // namespace minirun::cli
