// minirun rename CONTAINER NEW_NAME — the new name is reserved first (atomic), then recorded.
#include "cli.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_rename(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("rename", "Rename a container");
  auto ref = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  cmd->add_option("container", *ref, "Container name or ID")->required();
  cmd->add_option("new_name", *name, "New name")->required();
  cmd->callback([&g, ref, name] {
    Store store = open_store(g);
    std::string cid = store.resolve_container(*ref);
    std::string n = name->size() > 1 && (*name)[0] == '/' ? name->substr(1) : *name;
    if (n.empty() || n.find('/') != std::string::npos || n[0] == '.')
      throw Error("Invalid container name (" + n + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", 1);
    auto rec = store.container(cid);
    if (!rec) throw Error("No such container: " + *ref, 1);
    if (rec->name == n) throw Error("Renaming a container with the same name as its current name", 1);
    if (!store.reserve_name(n, cid))
      throw Error("Conflict. The container name \"/" + n + "\" is already in use", 1);
    std::string old;
    {
      auto lock = store.lock();
      rec = store.container(cid);
      if (!rec) {
        store.release_name(n);
        throw Error("No such container: " + *ref, 1);
      }
      old = rec->name;
      rec->name = n;
      store.put_container(*rec);
    }
    store.release_name(old);
  });
}

}  // namespace minirun::cli
