// container_update.cpp — see container_update.h. The values go through resources_from_flags, so
// that `update` accepts and refuses exactly what `run` does; from its result only the fields the
// user named are taken (run's defaults, such as memory+swap = twice the memory, are not update's).
#include "minirun/engine/container_update.h"

#include <nlohmann/json.hpp>

#include "minirun/engine/container_state.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/util/error.h"

namespace minirun {

runtime::Resources merge_resource_update(const runtime::Resources& current, const ResourceFlags& c,
                                         const HostInfo& host) {
  if (!c.devices.empty() || !c.device_cgroup_rules.empty() || !c.ulimits.empty() || c.privileged ||
      !c.device_read_bps.empty() || !c.device_write_bps.empty() || !c.device_read_iops.empty() ||
      !c.device_write_iops.empty())
    throw Error("update changes memory, CPU, pids and block I/O weight limits only", 1);
  const runtime::MemoryResources cur_mem = current.memory.value_or(runtime::MemoryResources{});
  // Validate with the container's memory limit standing in for the one not given (the swap
  // checks need it), through run's own rules.
  ResourceFlags v = c;
  if (!v.memory && (v.memory_swap || v.memory_reservation) && cur_mem.limit && *cur_mem.limit > 0)
    v.memory = std::to_string(*cur_mem.limit);
  const runtime::Resources parsed = resources_from_flags(v, host).resources;

  runtime::Resources out = current;
  out.devices.clear();  // the device rules are applied at start only; update leaves them alone
  if (c.memory || c.memory_swap || c.memory_reservation || c.oom_kill_disable) {
    runtime::MemoryResources m = cur_mem;
    const runtime::MemoryResources p = parsed.memory.value_or(runtime::MemoryResources{});
    if (c.memory) {
      m.limit = p.limit;
      if (!c.memory_swap && m.swap && *m.swap > 0 && p.limit && *p.limit > *m.swap)
        throw Error("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time", 1);
    }
    if (c.memory_swap) m.swap = p.swap;
    if (c.memory_reservation) m.reservation = p.reservation;
    if (c.oom_kill_disable) m.disable_oom_killer = true;
    out.memory = m;
  }
  if (c.cpus || c.cpu_shares || c.cpu_period || c.cpu_quota || c.cpuset_cpus || c.cpuset_mems) {
    runtime::CpuResources cpu = current.cpu.value_or(runtime::CpuResources{});
    const runtime::CpuResources p = parsed.cpu.value_or(runtime::CpuResources{});
    if (c.cpus) {  // --cpus replaces any quota and period
      cpu.period = p.period;
      cpu.quota = p.quota;
    }
    if (c.cpu_period) cpu.period = p.period;
    if (c.cpu_quota) cpu.quota = p.quota;
    if (c.cpu_shares) cpu.shares = p.shares;
    if (c.cpuset_cpus) cpu.cpus = p.cpus;
    if (c.cpuset_mems) cpu.mems = p.mems;
    out.cpu = cpu;
  }
  if (c.pids_limit) out.pids_limit = parsed.pids_limit ? parsed.pids_limit : std::optional<int64_t>(-1);
  if (c.blkio_weight) {
    runtime::BlockIoResources b = current.block_io.value_or(runtime::BlockIoResources{});
    if (parsed.block_io) b.weight = parsed.block_io->weight;
    out.block_io = b;
  }
  return out;
}

namespace {

// Only what the user named, for writing into the cgroup (apply() writes the fields present).
runtime::Resources changed_only(const runtime::Resources& merged, const ResourceFlags& c) {
  runtime::Resources d;
  if (c.memory || c.memory_swap || c.memory_reservation || c.oom_kill_disable) {
    runtime::MemoryResources m;
    if (c.memory || c.memory_swap) {  // the kernel's order between the two needs both values
      m.limit = merged.memory->limit;
      m.swap = merged.memory->swap;
    }
    if (c.memory_reservation) m.reservation = merged.memory->reservation;
    if (c.oom_kill_disable) m.disable_oom_killer = true;
    d.memory = m;
  }
  if (merged.cpu && (c.cpus || c.cpu_shares || c.cpu_period || c.cpu_quota || c.cpuset_cpus || c.cpuset_mems)) {
    runtime::CpuResources cpu;
    if (c.cpus || c.cpu_period || c.cpu_quota) {
      cpu.period = merged.cpu->period;
      cpu.quota = merged.cpu->quota ? merged.cpu->quota : std::optional<int64_t>(-1);
    }
    if (c.cpu_shares) cpu.shares = merged.cpu->shares;
    if (c.cpuset_cpus) cpu.cpus = merged.cpu->cpus;
    if (c.cpuset_mems) cpu.mems = merged.cpu->mems;
    d.cpu = cpu;
  }
  if (c.pids_limit) d.pids_limit = merged.pids_limit;
  if (c.blkio_weight && merged.block_io) {
    runtime::BlockIoResources b;
    b.weight = merged.block_io->weight;
    d.block_io = b;
  }
  return d;
}

}  // namespace

void update_container(const Store& store, const std::string& cid, const ResourceFlags& changes) {
  if (!refresh_container_state(store, cid)) throw Error("No such container: " + cid, 1);
  auto lock = store.lock();  // the limits and the record change together
  auto rec = store.container(cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  runtime::Resources current;
  if (rec->config.resources.is_object()) current = runtime::resources_from_json(rec->config.resources);
  runtime::Resources merged = merge_resource_update(current, changes);
  if (container_active(*rec)) {
    const std::string path = container_cgroup(*rec);
    if (!container_has_cgroup(path))
      throw Error("Cannot update container " + cid + ": it runs without a cgroup (--cgroups=disabled)", 1);
    try {
      runtime::Cgroup::open(path).apply(changed_only(merged, changes));
    } catch (const Error& e) {
      throw Error("Cannot update container " + cid + ": " + e.what(), 1);
    }
  }
  // Keep the devices the container started with (merge_resource_update leaves them out).
  merged.devices = current.devices;
  rec->config.resources = runtime::resources_to_json(merged);
  store.put_container(*rec);
}

}  // namespace minirun
