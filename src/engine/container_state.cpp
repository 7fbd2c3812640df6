#include "minirun/engine/container_state.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <ctime>

#include <nlohmann/json.hpp>

#include "minirun/runtime/cgroups.h"
#include "minirun/engine/container_network.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

// The container's cgroup, removed (its processes killed) when minirun could not do it itself.
void remove_cgroup(const ContainerRecord& rec) {
  std::string parent = "minirun";
  try {
    if (!rec.spec_json.empty()) parent = nlohmann::json::parse(rec.spec_json).value("CgroupParent", parent);
  } catch (const nlohmann::json::exception&) {
  }
  std::string path = runtime::container_cgroup_path(rec.id, parent);
  try {
    if (runtime::CgroupHierarchy::host().mode != runtime::CgroupHierarchy::Mode::none && runtime::Cgroup::exists(path))
      runtime::Cgroup::open(path).destroy();
  } catch (const Error&) {
  }
}

}  // namespace

std::optional<ContainerRecord> refresh_container_state(const Store& store, const std::string& cid) {
  auto rec = store.container(cid);
  if (!rec || rec->status != "running" || pid_alive(rec->pid)) return rec;
  auto lock = store.lock();
  rec = store.container(cid);
  if (!rec || rec->status != "running" || pid_alive(rec->pid)) return rec;
  // minirun died with the container (PDEATHSIG killed it).
  if (rec->container_pid > 0) ::kill(rec->container_pid, SIGKILL);
  rec->status = "exited";
  rec->exit_code = 137;
  rec->finished = now_rfc3339();
  store.put_container(*rec);
  remove_cgroup(*rec);
  return rec;
}

void remove_container(Store& store, const std::string& cid, bool force) {
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  if (rec->status == "running") {
    if (!force)
      throw Error("cannot remove container \"/" + rec->name +
                      "\": container is running: stop the container before removing or force remove",
                  1);
    if (rec->container_pid > 0) ::kill(rec->container_pid, SIGKILL);
    // Give the minirun process that runs it a moment to see the exit and unmount.
    for (int i = 0; i < 100 && pid_alive(rec->container_pid); i++) usleep(10000);
  }
  remove_cgroup(*rec);
  detach_container_network(store, cid);  // before the layers go; idempotent
  auto lock = store.lock();
  store.remove_container(cid);
}

}  // namespace minirun
