#include "minirun/engine/container_state.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <ctime>

#include "minirun/engine/container_network.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

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
  detach_container_network(store, cid);  // before the layers go; idempotent
  auto lock = store.lock();
  store.remove_container(cid);
}

}  // namespace minirun
