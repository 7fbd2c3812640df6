// minirun build [-t NAME[:TAG]]… [-f FILE] [--build-arg K=V]… [--target STAGE] [--label K=V]… [--iidfile FILE]
// [--network N] [--no-cache] [-q] CONTEXT — an
// image from a Dockerfile (build/builder.h); Docker's classic builder's output.
#include <iostream>

#include "cli.h"
#include "minirun/build/builder.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_build(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("build", "Build an image from a Dockerfile");
  auto o = std::make_shared<build::BuildOptions>();
  cmd->add_option("context", o->context, "The build context: a directory")->required();
  cmd->add_option("-t,--tag", o->tags, "Name and optionally a tag (NAME[:TAG]) for the image; may be repeated")
      ->allow_extra_args(false);
  cmd->add_option("-f,--file", o->dockerfile, "The Dockerfile (default: CONTEXT/Dockerfile)");
  cmd->add_option("--build-arg", o->build_args, "Set a build-time variable (K=V, or K for the value of $K)")
      ->allow_extra_args(false);
  cmd->add_option("--target", o->target,
                  "The stage to build (default: the last); only the stages it needs are built");
  cmd->add_option("--label", o->labels, "A label (K=V) for the final image; may be repeated")
      ->allow_extra_args(false);
  cmd->add_option("--iidfile", o->iidfile, "Write the image ID (sha256:...) to the file");
  cmd->add_flag("--no-cache", o->no_cache,
                "Do not use the build cache: every step runs (its images become the cache of later builds)");
  cmd->add_flag("-q,--quiet", o->quiet, "Print only the image ID when it succeeds");
  cmd->add_option("--network", o->network,
                  "The network of RUN steps: bridge (the default, as docker build), none, host or a user-defined "
                  "network; RUN --network=none|host sets it for one step");
  cmd->footer(
      "Images in FROM must be in the store (pull them first).\n"
      "Example: minirun build -t app:1 --build-arg VERSION=2 .");
  cmd->callback([&g, o] {
    Store store = open_store(g);
    try {
      build::build_image(store, *o, std::cout);
    } catch (const Error& e) {
      // As docker build: the message alone on stderr, exit code 1.
      std::cout.flush();
      std::cerr << e.what() << std::endl;
      g.exit_code = 1;
    }
  });
}

}  // namespace minirun::cli
