// detached.cpp — design: the CLI forks the monitor (daemonize_monitor) after the container's
// record, layers and spec exist, so the monitor only has to spawn the process and watch it. Every
// change of the record is read-modify-write under the store lock (the monitor's on_start and
// on_exit, pause, rename can interleave). The monitor's pid is the record's pid: a dead monitor
// is noticed by refresh_container_state (container_state.h). Clients never hold the lock while
// they wait: `stop` and `wait` watch the monitor's control fifo (monitor.h), no pid to go stale.
#include "minirun/engine/detached.h"

#include <linux/close_range.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "minirun/engine/container_health.h"
#include "minirun/engine/container_network.h"
#include "minirun/engine/container_seccomp.h"
#include "minirun/engine/container_spec.h"
#include "minirun/engine/resource_flags.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/engine/container_state.h"
#include "minirun/engine/images.h"
#include "minirun/image/flatten.h"
#include "minirun/image/image_config.h"
#include "minirun/monitor/log_writer.h"
#include "minirun/monitor/daemonize.h"
#include "minirun/monitor/monitor.h"
#include "minirun/monitor/monitor_client.h"
#include "minirun/monitor/restart_policy.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/lifecycle.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/util/timefmt.h"

namespace minirun {

namespace {

using json = nlohmann::json;

DetachOptions detach_options_of(const ContainerConfig& c) {
  DetachOptions d;
  if (const auto& p = c.restart_policy) {
    const int n = p->maximum_retry_count;
    d.restart = p->name == "on-failure" && n > 0 ? p->name + ":" + std::to_string(n) : p->name;
  }
  if (c.log_config) {
    d.log_driver = c.log_config->type;
    d.log_opts = c.log_config->opts;
  }
  d.stop_signal = c.stop_signal;
  d.stop_timeout = c.stop_timeout;
  return d;
}

std::string now_nanos() { return format_rfc3339_nano(now_unix_ns()); }

// Read-modify-write of a record under the lock; nothing when it is gone.
template <class F>
void update_record(const Store& store, const std::string& cid, F&& f) {
  auto lock = store.lock();
  auto rec = store.container(cid);
  if (!rec) return;
  if (f(*rec)) store.put_container(*rec);
}

// In the forked monitor: the executable's read-only pages the CLI touched (CLI11, JSON, the run
// path: about 4 MB of the binary) count in the monitor's RSS although it never uses them
// again. Clean private file pages: dropping them only costs a fault from the page cache for the
// few the monitor's loop touches. Only read-only mappings with no dirty or anonymous page (RELRO
// is read-only too, but relocated: its pages differ from the file's and must stay).
void drop_unused_text() {
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  std::string self(exe, static_cast<size_t>(n));
  auto smaps = read_file_if_exists("/proc/self/smaps", 4 << 20);
  if (!smaps) return;
  // One mapping: its header line, then "Key: value kB" lines up to the next header.
  unsigned long lo = 0, hi = 0;
  bool candidate = false, dirty = false;
  auto finish = [&] {
    if (candidate && !dirty) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
    candidate = dirty = false;
  };
  size_t pos = 0;
  while (pos < smaps->size()) {
    size_t end = smaps->find('\n', pos);
    if (end == std::string::npos) end = smaps->size();
    std::string line = smaps->substr(pos, end - pos);
    pos = end + 1;
    unsigned long a = 0, b = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &a, &b, perms) == 3 && line.find(':') > line.find(' ')) {
      finish();
      auto slash = line.find('/');
      lo = a, hi = b;
      candidate = slash != std::string::npos && line.substr(slash) == self && perms[1] != 'w';
    } else if (line.rfind("Private_Dirty:", 0) == 0 || line.rfind("Anonymous:", 0) == 0) {
      unsigned long kb = 0;
      std::sscanf(line.c_str() + line.find(':') + 1, "%lu", &kb);
      if (kb) dirty = true;
    }
  }
  finish();
}

}  // namespace

// Forks the container's monitor (daemonize_monitor) and returns once it reported the start.
static void start_monitor(monitor::MonitorOptions& o, const runtime::Spec& oci, const runtime::RunOptions& base,
                          const std::vector<int>& attach_fds, const std::shared_ptr<ContainerNetwork>& net);

int container_stop_signal(const ContainerRecord& rec) {
  const std::string& s = rec.config.stop_signal;
  try {
    return s.empty() ? SIGTERM : runtime::Lifecycle::signal_number(s);
  } catch (const Error&) {
    return SIGTERM;
  }
}

void check_detach_options(const DetachOptions& d) {
  parse_restart_policy(d.restart);
  logs::parse_log_options(d.log_driver, d.log_opts);
  if (!d.stop_signal.empty()) runtime::Lifecycle::signal_number(d.stop_signal);
  if (d.stop_timeout && *d.stop_timeout < -1) throw Error("invalid --stop-timeout", 125);
}

std::string container_attach_path(const Store& store, const std::string& cid) {
  return store.container_dir(cid) + "/attach";
}

void record_detach_options(ContainerConfig& c, const DetachOptions& d) {
  RestartPolicy policy = parse_restart_policy(d.restart);
  c.restart_policy = ConfigRestartPolicy{restart_policy_name(policy), policy.max_retries};
  c.log_config = ConfigLog{d.log_driver, d.log_opts};
  if (!d.stop_signal.empty()) c.stop_signal = d.stop_signal;
  if (d.stop_timeout) c.stop_timeout = *d.stop_timeout;
}

void start_detached(Store& store, ContainerRecord& rec, const runtime::Spec& oci, const runtime::RunOptions& base,
                    const DetachOptions& d, const std::vector<int>& attach_fds) {
  check_detach_options(d);
  RestartPolicy policy = parse_restart_policy(d.restart);
  {
    ContainerConfig& c = rec.config;
    record_detach_options(c, d);
    std::string sig = c.stop_signal;
    if (sig.empty() && store.has_image(rec.image_id)) {  // the image's STOPSIGNAL
      auto cfg = json::parse(store.image_config(rec.image_id), nullptr, false);
      if (cfg.is_object() && cfg.contains("config") && cfg["config"].is_object() &&
          cfg["config"].contains("StopSignal") && cfg["config"]["StopSignal"].is_string())
        sig = cfg["config"]["StopSignal"].get<std::string>();
    }
    if (!sig.empty()) c.stop_signal = sig;
    if (oci.process && oci.process->no_new_privileges) c.no_new_privileges = true;
    rec.manually_stopped = false;  // a new start: the policy applies again
    update_record(store, rec.id, [&](ContainerRecord& r) {
      r.config = rec.config;
      r.manually_stopped = false;
      return true;
    });
  }
  monitor::MonitorOptions o;
  o.log_path = store.container_log_path(rec.id);
  o.ctl_path = store.container_ctl_path(rec.id);
  o.log = logs::parse_log_options(d.log_driver, d.log_opts);
  o.restart = policy;
  o.stop_signal = container_stop_signal(rec);
  o.stop_timeout = d.stop_timeout.value_or(10);
  const std::string cid = rec.id;
  {  // terminal, stdin, attach (attach.h)
    o.open_stdin = rec.config.open_stdin;
    o.stdin_once = rec.config.stdin_once;
    o.attach_path = container_attach_path(store, cid);
    o.attach_fds = attach_fds;
  }
  // The network, again at every start: a restarted process has a new namespace (the old veth
  // went with the old one), so its eth0, address and published ports are made again.
  std::shared_ptr<ContainerNetwork> net;
  if (const auto& recorded = rec.config.network_plan)
    if (NetworkPlan plan = network_plan_from_config(*recorded, rec.config.hostname); plan.attaches())
      net = std::make_shared<ContainerNetwork>(store, cid, rec.name, std::move(plan));
  // `stop` marks the record before it writes to the fifo (stop_container): a stop that comes
  // while the container exits on its own is not followed by one more restart.
  o.stop_marked = [&store, cid] {
    auto lock = store.lock();
    auto r = store.container(cid);
    return !r || r->manually_stopped;
  };
  o.on_start = [&store, cid](pid_t pid, int restart_count) {
    update_record(store, cid, [&](ContainerRecord& r) {
      r.status = ContainerStatus::running;
      r.pid = getpid();
      r.container_pid = pid;
      r.started = now_nanos();
      r.restart_count = restart_count;
      r.exit_code = 0;  // Docker's SetRunning: the last exit is gone
      r.error.clear();
      return true;
    });
    drop_unused_text();  // the start path's code is done with too
  };
  const std::string cgroup_path = oci.linux.cgroups_path;
  // The health check (container_health.h): probed by the monitor, its state beside the record.
  o.health = health_prober_options(store, rec, oci);
  o.on_exit = [&store, cid, cgroup_path, net](const monitor::ExitInfo& e) {
    if (e.restarting && net) net->failed();  // off the network until the next start (veth deleted)
    bool oom = false;
    if (!e.restarting) {
      // What a foreground run does after its container: the cgroup goes (its OOM kills read
      // first), and the container leaves its network.
      try {
        if (!cgroup_path.empty() && runtime::Cgroup::exists(cgroup_path)) {
          auto cg = runtime::Cgroup::open(cgroup_path);
          oom = cg.oom_killed();
          cg.destroy();
        }
      } catch (const Error&) {
      }
      detach_container_network(store, cid);
    }
    auto lock = store.lock();
    auto r = store.container(cid);
    if (!r) return;
    if (!e.restarting) r->oom_killed = oom;
    r->status = e.restarting ? ContainerStatus::restarting : ContainerStatus::exited;
    r->exit_code = e.exit_code;
    r->finished = format_rfc3339_nano(e.finished_ns ? e.finished_ns : now_unix_ns());
    r->restart_count = e.restart_count;
    r->error = e.error;
    r->container_pid = 0;
    if (!e.restarting) r->pid = 0;
    if (r->auto_remove && !e.restarting) {
      store.note_container_exit(cid, e.exit_code);  // for `wait`: the record goes now
      store.remove_container(cid);
    } else {
      store.put_container(*r);
    }
  };
  try {
    start_monitor(o, oci, base, attach_fds, net);
  } catch (const Error& e) {
    // The monitor reported the start's error, or died before it could (SIGKILL during the
    // start): what its spawn made and no one else removes goes here — the cgroup (its processes
    // killed: a child whose PDEATHSIG is still on its way). The record says why (the caller
    // saves it as exited).
    try {
      if (!cgroup_path.empty() && runtime::Cgroup::exists(cgroup_path)) runtime::Cgroup::open(cgroup_path).destroy();
    } catch (const Error&) {
    }
    rec.error = e.what();
    rec.pid = 0;
    rec.container_pid = 0;
    throw;
  }
}

static void start_monitor(monitor::MonitorOptions& o, const runtime::Spec& oci, const runtime::RunOptions& base,
                          const std::vector<int>& attach_fds, const std::shared_ptr<ContainerNetwork>& net) {
  monitor::daemonize_monitor([&](int ready) {
    // Nothing of the starting command's descriptors (a caller's pipes, a terminal) stays open in
    // a process that lives on: only the readiness pipe and the attach clients handed over.
    std::vector<unsigned> keep = {static_cast<unsigned>(ready)};
    for (int fd : attach_fds) keep.push_back(static_cast<unsigned>(fd));
    std::sort(keep.begin(), keep.end());
    unsigned from = 3;
    for (unsigned k : keep) {
      if (k > from) ::close_range(from, k - 1, 0);
      from = std::max(from, k + 1);
    }
    ::close_range(from, ~0U, 0);
    drop_unused_text();
    o.ready_fd = ready;
    auto options = [&] {
      runtime::RunOptions ro = base;
      ro.on_start = nullptr;
      ro.mntns = nullptr;
      ro.forward_stdin = false;
      ro.kill_with_parent = true;
      if (net) ro.on_created = [net](pid_t pid) { net->on_created(pid); };
      return ro;
    };
    if (oci.process && oci.process->terminal) {
      o.tty_start = [&](int* master) {
        runtime::RunOptions ro = options();
        ro.tty_master = master;
        return runtime::spawn(oci, ro);
      };
    }
    return monitor::run_monitor(o, [&](int in, int out, int err) {
      runtime::RunOptions ro = options();
      ro.stdio[0] = in;
      ro.stdio[1] = out;
      ro.stdio[2] = err;
      return runtime::spawn(oci, ro);
    });
  });
}

OverlayLayout container_overlay_layout(const Store& store, const std::string& cid, const std::vector<std::string>& ids,
                                       bool flat) {
  OverlayLayout layout;
  layout.overlay_root = store.overlay_root();
  if (flat) {
    // The container's records still name every layer (store.lower_links); only the mount differs.
    layout.lower_dirs = {store.diff_name(store.init_layer_id(cid)), store.flat_diff_name(ids.back())};
    layout.lower_links = layout.lower_dirs;
  } else {
    layout.lower_links = store.lower_links(cid);
    // The same layers as "<id>/diff": the -init layer, then the image's from the top.
    std::vector<std::string> dirs = {store.diff_name(store.init_layer_id(cid))};
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) dirs.push_back(store.diff_name(*it));
    if (dirs.size() == layout.lower_links.size()) layout.lower_dirs = std::move(dirs);
  }
  layout.upper = store.diff_dir(cid);
  layout.work = store.layer_dir(cid) + "/work";
  return layout;
}

runtime::Spec rebuild_container_spec(const Store& store, const ContainerRecord& rec) {
  if (!store.has_image(rec.image_id)) throw Error("image " + rec.image_id.substr(0, 12) + " of the container was removed");
  auto cfg = parse_image_config(store.image_config(rec.image_id), /*history=*/false);
  // Its cgroup and limits, ulimits and seccomp profile as `run` gave them.
  ContainerRequest req = request_from_record(rec, cfg.user);
  req.interactive = false;
  req.state_dir = store.container_dir(rec.id);
  runtime::Spec oci = build_spec(req, store.layer_dir(rec.id) + "/merged");
  auto ids = image_layer_ids(cfg);
  oci.minirun.overlay =
      container_overlay_layout(store, rec.id, ids, ids.size() >= kFlattenFrom && store.has_flat(ids.back()));
  oci.minirun.seccomp_program = container_seccomp_program(store, req);  // run's profile (container_seccomp.h)
  return oci;
}

void start_container(Store& store, const std::string& cid, const std::vector<int>& attach_fds) {
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  if (rec->status == ContainerStatus::paused)
    throw Error("cannot start a paused container, try unpause instead", 1);
  if (rec->status == ContainerStatus::running || rec->status == ContainerStatus::restarting) return;
  runtime::Spec oci = rebuild_container_spec(store, *rec);
  DetachOptions d = detach_options_of(rec->config);
  try {
    start_detached(store, *rec, oci, runtime::RunOptions{}, d, attach_fds);
  } catch (const Error& e) {
    update_record(store, cid, [&](ContainerRecord& r) {
      r.status = ContainerStatus::exited;
      r.exit_code = e.exit_code();
      r.error = e.what();
      r.finished = now_nanos();
      return true;
    });
    throw;
  }
}

namespace {

// Waits for a foreground-run container (no monitor) to end: its minirun process records the exit.
bool wait_pid_gone(pid_t pid, int timeout_ms) {
  for (int waited = 0; pid_alive(pid); waited += 20) {
    if (timeout_ms >= 0 && waited >= timeout_ms) return false;
    usleep(20000);
  }
  return true;
}

}  // namespace

void stop_container(const Store& store, const std::string& cid, std::optional<int> timeout) {
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  if (!container_active(*rec)) return;
  int sig = container_stop_signal(*rec);
  int t = timeout.value_or(rec->config.stop_timeout.value_or(10));
  std::string ctl = store.container_ctl_path(cid);
  // A frozen process cannot act on its stop signal: thawed first, as Docker does.
  if (rec->status == ContainerStatus::paused) set_container_paused(store, cid, false);
  // Marked stopped first, under the lock the monitor reads it with (MonitorOptions::stop_marked):
  // its restart policy ends even when the container exits before the request below is read.
  bool active = false;
  update_record(store, cid, [&](ContainerRecord& r) {
    active = container_active(r);
    r.manually_stopped = true;
    return active;
  });
  if (!active) return;
  if (monitor::send_monitor_command(ctl, "stop " + std::to_string(sig) + " " + std::to_string(t) + "\n")) {
    monitor::wait_monitor_exit(ctl, -1);
    refresh_container_state(store, cid);
    return;
  }
  // The monitor ended meanwhile (the mark above ended its policy): nothing more to stop.
  rec = refresh_container_state(store, cid);
  if (!rec || !container_active(*rec)) return;
  // Run in the foreground by another minirun: signal its process, which records the exit.
  if (rec->container_pid > 0) ::kill(rec->container_pid, sig);
  if (!wait_pid_gone(rec->pid, t < 0 ? -1 : t * 1000) && rec->container_pid > 0) {
    ::kill(rec->container_pid, SIGKILL);
    wait_pid_gone(rec->pid, -1);
  }
  refresh_container_state(store, cid);
}

void kill_container(const Store& store, const std::string& cid, int sig) {
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  if (rec->status != ContainerStatus::running && rec->status != ContainerStatus::paused)
    throw Error("Cannot kill container: " + cid + ": container " + cid + " is not running", 1);
  if (monitor::send_monitor_command(store.container_ctl_path(cid), "kill " + std::to_string(sig) + "\n")) return;
  if (rec->container_pid > 0 && ::kill(rec->container_pid, sig) != 0) throw sys_error("kill");
}

void remove_exited_container(const Store& store, const std::string& cid, int exit_code) {
  {
    // Waiters get the code, and one that comes later reads it from the record (exited): the
    // removal itself, which can take a while, holds no lock.
    auto lock = store.lock();
    store.note_container_exit(cid, exit_code);
    if (auto r = store.container(cid)) {
      r->status = ContainerStatus::exited;
      r->exit_code = exit_code;
      r->pid = r->container_pid = 0;
      store.put_container(*r);
    }
  }
  store.remove_container(cid);
}

int wait_container(const Store& store, const std::string& cid) {
  auto rec = refresh_container_state(store, cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  // An --rm container is removed as it exits: its exit code comes to a file of this waiter's
  // (Store::add_exit_waiter), registered while the record is there.
  std::string note;
  std::unique_ptr<RemoveOnExit> note_dir;
  if (container_active(*rec)) {
    if (rec->auto_remove) {
      auto lock = store.lock();
      if (!store.container(cid)) throw Error("No such container: " + cid, 1);
      note = store.add_exit_waiter(cid);
      note_dir = std::make_unique<RemoveOnExit>(note.substr(0, note.rfind('/')));
    }
    std::string ctl = store.container_ctl_path(cid);
    if (!monitor::wait_monitor_exit(ctl, -1) || pid_alive(rec->pid)) wait_pid_gone(rec->pid, -1);
  }
  rec = refresh_container_state(store, cid);
  if (rec) return rec->exit_code;
  if (!note.empty())
    if (auto code = read_file_if_exists(note, 64); code && !code->empty()) return std::atoi(code->c_str());
  return 0;  // removed by someone else (rm -f of an exited container)
}

}  // namespace minirun
