// minirun commit [-m MSG] [-a AUTHOR] [-c CHANGE]… [-p=false] CONTAINER [REF] — a container's changes as a
// new image; a running container is paused while it is read (engine/image_edit.h).
#include <iostream>

#include "cli.h"
#include "minirun/engine/image_edit.h"

namespace minirun::cli {

void register_commit(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("commit", "Create a new image from a container's changes");
  auto ref = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto o = std::make_shared<CommitOptions>();
  cmd->add_option("container", *name, "Container name or ID")->required();
  cmd->add_option("reference", *ref, "REPOSITORY[:TAG] for the new image");
  cmd->add_option("-m,--message", o->message, "Commit message");
  cmd->add_option("-a,--author", o->author, "Author");
  cmd->add_option("-c,--change", o->changes, "Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE)")->allow_extra_args(false);
  cmd->add_flag("-p,--pause", o->pause, "Pause a running container during commit (default true; --pause=false)")
      ->default_str("true");
  cmd->footer("Example: minirun commit -c 'CMD [\"/bin/sh\"]' -m 'add tools' web myimage:2");
  cmd->callback([&g, ref, name, o] {
    Store store = open_store(g);
    std::cout << commit_container(store, store.resolve_container(*name), *ref, *o) << "\n";
  });
}

}  // namespace minirun::cli
