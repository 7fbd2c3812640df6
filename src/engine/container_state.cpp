#include "minirun/engine/container_state.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <vector>


#include "minirun/engine/container_network.h"
#include "minirun/monitor/monitor.h"
#include "minirun/monitor/monitor_client.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

std::string container_cgroup(const ContainerRecord& rec) {
  if (rec.config.cgroup) return *rec.config.cgroup;
  return runtime::container_cgroup_path(rec.id, rec.config.cgroup_parent);
}

bool container_has_cgroup(const std::string& path) {
  return !path.empty() && runtime::CgroupHierarchy::host().mode != runtime::CgroupHierarchy::Mode::none && runtime::Cgroup::exists(path);
}

bool container_active(const ContainerRecord& r) {
  return r.status == ContainerStatus::running || r.status == ContainerStatus::restarting || r.status == ContainerStatus::paused;
}

namespace {

// The container's cgroup, removed (its processes killed) when minirun could not do it itself.
void remove_cgroup(const ContainerRecord& rec) {
  try {
    if (std::string path = container_cgroup(rec); container_has_cgroup(path)) runtime::Cgroup::open(path).destroy();
  } catch (const Error&) {
  }
}

// A runner (run's process) is setting it up: its cgroup may already exist.
bool starting(const ContainerRecord& r) { return r.status == ContainerStatus::created && r.pid > 0; }

// The process that runs the container (the foreground minirun or its monitor) is still there: a
// live pid whose command is minirun's (after a reboot the pid may be any other process's).
bool runner_alive(pid_t pid) {
  if (!pid_alive(pid)) return false;
  auto stat = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return false;
  auto paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return false;
  char state = (*stat)[paren + 2];
  if (state == 'Z' || state == 'X') return false;  // killed, not yet reaped by its new parent
  std::string comm = stat->substr(stat->find('(') + 1, paren - stat->find('(') - 1);
  if (comm.rfind("minirun", 0) == 0) return true;
  // A test binary or a renamed copy: the same executable as ours counts too.
  char a[4096], b[4096];
  ssize_t n = ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), a, sizeof a - 1);
  ssize_t m = ::readlink("/proc/self/exe", b, sizeof b - 1);
  return n > 0 && m > 0 && std::string(a, static_cast<size_t>(n)) == std::string(b, static_cast<size_t>(m));
}

void thaw_container(const ContainerRecord& rec) {
  if (std::string path = container_cgroup(rec); container_has_cgroup(path)) runtime::Cgroup::open(path).freeze(false);
}

}  // namespace

void set_container_paused(const Store& store, const std::string& cid, bool paused) {
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  if (paused && rec->status == ContainerStatus::paused) throw Error("Container " + cid + " is already paused", 1);
  if (!paused && rec->status != ContainerStatus::paused) throw Error("Container " + cid + " is not paused", 1);
  if (paused && rec->status != ContainerStatus::running) throw Error("Container " + cid + " is not running", 1);
  // The freezer of the container's cgroup (runtime/cgroups.h): every process, atomically; a
  // SIGSTOP per process would race with forks and be visible to the container.
  const std::string path = container_cgroup(*rec);
  if (!container_has_cgroup(path))
    throw Error("cannot " + std::string(paused ? "pause" : "unpause") + " container " + cid +
                    ": it has no cgroup (the freezer needs one)",
                1);
  runtime::Cgroup::open(path).freeze(paused);
  auto lock = store.lock();
  rec = store.container(cid);
  if (!rec) return;
  rec->status = paused ? ContainerStatus::paused : ContainerStatus::running;
  store.put_container(*rec);
}

std::optional<ContainerRecord> refresh_container_state(const Store& store, const std::string& cid) {
  // Nothing to do: no record, nothing running or starting, or its runner is still there. Checked
  // again under the store's lock before the record changes.
  auto settled = [](const std::optional<ContainerRecord>& r) {
    return !r || !(container_active(*r) || starting(*r)) || runner_alive(r->pid);
  };
  auto rec = store.container(cid);
  if (settled(rec)) return rec;
  auto lock = store.lock();
  rec = store.container(cid);
  if (settled(rec)) return rec;
  // The minirun process or monitor that ran it died (SIGKILL, a reboot): its container went with
  // it (PR_SET_PDEATHSIG; after a reboot nothing runs), so nothing is signalled here: the pid
  // may belong to another process by now. Killed while starting it, it leaves a cgroup too.
  const bool was_running = rec->status != ContainerStatus::restarting;
  const bool was_starting = starting(*rec);
  rec->status = ContainerStatus::exited;
  if (was_running) rec->exit_code = 137;
  rec->error = was_starting ? "the minirun process starting it (" + std::to_string(rec->pid) + ") is gone"
                            : "the container's monitor (minirun process " + std::to_string(rec->pid) + ") is gone";
  rec->pid = 0;
  rec->container_pid = 0;
  rec->finished = now_rfc3339();
  store.put_container(*rec);
  remove_cgroup(*rec);
  return rec;
}

namespace {

// Whether the group's process list (tasks or cgroup.procs) names anyone: its first byte.
bool cgroup_has_process(const std::string& dir, const char* procs) {
  int fd = ::open((dir + "/" + procs).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char c;
  bool any = ::read(fd, &c, 1) == 1;
  ::close(fd);
  return any;
}

}  // namespace

void recover_container_cgroups(const Store& store) noexcept {
  try {
    const auto& h = runtime::CgroupHierarchy::host();
    std::vector<std::string> parents;
    if (h.mode == runtime::CgroupHierarchy::Mode::v2) parents.push_back(h.v2_root + "/minirun");
    for (const auto& [controller, mnt] : h.v1) parents.push_back(mnt + "/minirun");
    for (const auto& parent : parents) {
      DIR* d = ::opendir(parent.c_str());
      if (!d) continue;  // v1: a controller the groups are not in; tried with the next
      std::vector<std::string> ids;
      while (auto* e = ::readdir(d))
        if (e->d_type == DT_DIR && std::strlen(e->d_name) == 64) ids.emplace_back(e->d_name);
      ::closedir(d);
      // Only this store's containers: another store's (another --root) share the parent group.
      for (const auto& id : ids)
        if (!cgroup_has_process(parent + "/" + id, h.procs_file()) && store.container(id)) refresh_container_state(store, id);
      return;
    }
  } catch (const std::exception&) {
  }
}

ContainerPause::ContainerPause(const Store& store, const std::string& cid) : store_(store), cid_(cid) {
  auto rec = refresh_container_state(store, cid);
  if (!rec || rec->status != ContainerStatus::running) return;
  cgroup_ = container_cgroup(*rec);
  if (!container_has_cgroup(cgroup_)) return;
  sigset_t hold;
  sigemptyset(&hold);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&hold, s);
  masked_ = ::pthread_sigmask(SIG_BLOCK, &hold, &old_mask_) == 0;
  try {
    set_container_paused(store, cid, true);
    frozen_ = true;
  } catch (const Error&) {
    // Half frozen, or it stopped meanwhile: thawed again; a container that no longer runs needs
    // no pause, anything else is the commit's error.
    try {
      if (container_has_cgroup(cgroup_)) runtime::Cgroup::open(cgroup_).freeze(false);
    } catch (const Error&) {
    }
    if (masked_) ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    masked_ = false;
    rec = refresh_container_state(store, cid);
    if (rec && rec->status == ContainerStatus::running) throw;
  }
}

ContainerPause::~ContainerPause() {
  if (frozen_) {
    try {
      if (container_has_cgroup(cgroup_)) runtime::Cgroup::open(cgroup_).freeze(false);
      auto lock = store_.lock();
      auto rec = store_.container(cid_);
      if (rec && rec->status == ContainerStatus::paused) {
        rec->status = ContainerStatus::running;
        store_.put_container(*rec);
      }
    } catch (const std::exception&) {
    }
  }
  if (masked_) ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void remove_container(Store& store, const std::string& cid, bool force) {
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  if (container_active(*rec)) {
    if (!force)
      throw Error("cannot remove container \"/" + rec->name +
                      "\": container is running: stop the container before removing or force remove",
                  1);
    // Its monitor kills it and records the exit (no restart after a stop); a foreground minirun
    // sees it end. Either way the runner has let go of the layers when it is gone.
    if (rec->status == ContainerStatus::paused) thaw_container(*rec);
    if (!monitor::send_monitor_command(store.container_ctl_path(cid), "stop 9 -1\n") && rec->container_pid > 0)
      ::kill(rec->container_pid, SIGKILL);
    if (!monitor::wait_monitor_exit(store.container_ctl_path(cid), 10000))
      throw Error("container " + cid + ": its monitor did not end after SIGKILL", 1);
    for (int i = 0; i < 500 && runner_alive(rec->pid); i++) usleep(10000);
    rec = store.container(cid);
    if (!rec) return;  // --rm: its monitor removed it
  }
  remove_cgroup(*rec);
  detach_container_network(store, cid);  // before the layers go; idempotent
  auto lock = store.lock();
  store.remove_container(cid);
}

}  // namespace minirun
