// minirun update [OPTIONS] CONTAINER… — new limits for containers (engine/container_update.h).
#include "cli.h"
#include "flags.h"
#include "minirun/engine/container_update.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_update(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("update", "Update the resource limits of one or more containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto l = std::make_shared<ResourceFlags>();
  add_limit_flags(cmd, *l, "Memory plus swap limit (-1: unlimited)");  // the same flags as run's
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->callback([&g, refs, l] {
    if (!l->memory && !l->memory_swap && !l->memory_reservation && !l->cpus && !l->cpu_shares && !l->cpu_period &&
        !l->cpu_quota && !l->cpuset_cpus && !l->cpuset_mems && !l->pids_limit && !l->blkio_weight)
      throw minirun::Error("you must provide one or more flags when using this command", 1);
    g.exit_code = for_each_container(g, *refs, [&](Store& s, const std::string& cid) { update_container(s, cid, *l); });
  });
}

}  // namespace minirun::cli
