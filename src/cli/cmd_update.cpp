// minirun update [OPTIONS] CONTAINER… — new limits for containers (engine/container_update.h).
#include "cli.h"
#include "minirun/engine/container_update.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_update(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("update", "Update the resource limits of one or more containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto l = std::make_shared<ResourceFlags>();
  cmd->add_option("-m,--memory", l->memory, "Memory limit (e.g. 64m)");
  cmd->add_option("--memory-swap", l->memory_swap, "Memory plus swap limit (-1: unlimited)");
  cmd->add_option("--memory-reservation", l->memory_reservation, "Memory soft limit");
  cmd->add_option("--cpus", l->cpus, "Number of CPUs (e.g. 0.5)");
  cmd->add_option("-c,--cpu-shares", l->cpu_shares, "CPU shares (relative weight)");
  cmd->add_option("--cpu-period", l->cpu_period, "CPU CFS period (microseconds)");
  cmd->add_option("--cpu-quota", l->cpu_quota, "CPU CFS quota (microseconds)");
  cmd->add_option("--cpuset-cpus", l->cpuset_cpus, "CPUs allowed (0-3, 0,1)");
  cmd->add_option("--cpuset-mems", l->cpuset_mems, "Memory nodes allowed");
  cmd->add_option("--pids-limit", l->pids_limit, "Process limit (-1: unlimited)");
  cmd->add_option("--blkio-weight", l->blkio_weight, "Block IO weight (10-1000)");
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->callback([&g, refs, l] {
    if (!l->memory && !l->memory_swap && !l->memory_reservation && !l->cpus && !l->cpu_shares && !l->cpu_period &&
        !l->cpu_quota && !l->cpuset_cpus && !l->cpuset_mems && !l->pids_limit && !l->blkio_weight)
      throw minirun::Error("you must provide one or more flags when using this command", 1);
    g.exit_code = for_each_container(g, *refs, [&](Store& s, const std::string& cid) { update_container(s, cid, *l); });
  });
}

}  // namespace minirun::cli
