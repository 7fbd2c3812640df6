// builder.h — `minirun build`: a Dockerfile's stages run over the engine, one step at a time.
// Config-only steps edit the image config (a history entry with empty_layer); RUN runs a
// container through the engine's run path (run_container, on --network: the default bridge as
// in Docker, or none, host, a user-defined network) and commits its
// upper layer; COPY (and WORKDIR, when the directory is missing) writes the files into a
// staging directory that becomes a layer (add_layer_to_image), no container needed.
// Each step's image is an untagged store image that the build cache (build_cache.h) records
// under the step's key; a later build whose step has the same key reuses it (" ---> Using
// cache") until a step misses, which busts the rest of its stage. The last stage's image is
// tagged. The output is Docker's classic builder's: "Step N/M : INSTR", " ---> <id>",
// "Successfully built", "Successfully tagged".
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "minirun/store/store.h"

namespace minirun::build {

struct BuildOptions {
  std::string context;                  // the build context directory
  std::string dockerfile;               // -f; "" = <context>/Dockerfile
  std::vector<std::string> tags;        // -t NAME[:TAG]
  std::vector<std::string> build_args;  // --build-arg K=V (K alone: the value of $K, if set)
  bool no_cache = false;                // --no-cache: every step runs (the cache is not read, only written)
  bool quiet = false;                   // -q: only the image ID is printed
  std::string network = "bridge";       // --network: RUN steps' network (RUN --network=none|host wins)
  std::string target;                   // --target: the stage to build ("" = the last)
  std::vector<std::string> labels;      // --label K=V: added to the final image's labels
  std::string iidfile;                  // --iidfile: written with the image ID ("sha256:<hex>")
};

// Runs the build: the target stage (--target, else the last) and the stages it needs (named by
// its FROM or a COPY --from, and theirs), never the others; returns the image ID ("sha256:<hex>"). Progress goes to out (nothing when
// quiet), RUN's output to this process's stdout/stderr. Throws Error: exit 1 for a failing
// step ("The command '/bin/sh -c false' returned a non-zero code: 1"), with nothing tagged.
std::string build_image(Store& store, const BuildOptions& o, std::ostream& out);

}  // namespace minirun::build
