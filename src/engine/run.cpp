// run.cpp — see run.h. The request's checks come first, in Docker's order, before any record
// exists; then the record, the name, the layers and files; then the run. A failure before the
// start removes the container; after it, the record keeps the failure (foreground, not --rm).
#include "minirun/engine/run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "minirun/engine/container_health.h"
#include "minirun/engine/container_seccomp.h"
#include "minirun/engine/container_spec.h"
#include "minirun/engine/foreground_log.h"
#include "minirun/engine/images.h"
#include "minirun/engine/process.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/image/flatten.h"
#include "minirun/image/reference.h"
#include "minirun/runtime/cgroup_task.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/container.h"
#include "minirun/runtime/rootfs_builder.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/util/size.h"
#include "minirun/util/timefmt.h"

namespace minirun {

namespace {

bool looks_like_archive(const std::string& ref) {
  struct stat st;
  if (::stat(ref.c_str(), &st) != 0) return false;
  if (S_ISREG(st.st_mode)) return true;
  return S_ISDIR(st.st_mode) && ::access((ref + "/index.json").c_str(), F_OK) == 0;
}

// Whether REF names an image a registry could have: a reference, not an ID ("sha256:…").
bool pullable(const std::string& ref) {
  if (ref.rfind("sha256:", 0) == 0) return false;
  try {
    parse_normalized_reference(ref);
    return true;
  } catch (const Error&) {
    return false;
  }
}

BindMount parse_volume(const std::string& v) {
  BindMount b;
  auto first = v.find(':');
  if (first == std::string::npos) throw Error("invalid volume \"" + v + "\": want SRC:DST[:ro|rw]");
  b.source = v.substr(0, first);
  std::string rest = v.substr(first + 1);
  auto second = rest.find(':');
  b.target = rest.substr(0, second);
  if (second != std::string::npos) {
    std::string mode = rest.substr(second + 1);
    if (mode == "ro") b.readonly = true;
    else if (mode != "rw") throw Error("invalid volume mode \"" + mode + "\" in \"" + v + "\"");
  }
  if (b.source.empty() || b.source[0] != '/') throw Error("invalid volume \"" + v + "\": source must be an absolute path");
  if (b.target.empty() || b.target[0] != '/') throw Error("invalid volume \"" + v + "\": destination must be an absolute path");
  if (::access(b.source.c_str(), F_OK) != 0) throw sys_error("volume source " + b.source);
  return b;
}

// A Docker-like "adjective_name"; a random suffix once the short names collide.
std::string generate_name(int attempt) {
  static const char* left[] = {"brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
                               "nifty", "proud", "quirky", "sharp", "tender", "vivid", "witty", "zen"};
  static const char* right[] = {"turing", "hopper", "lovelace", "ritchie", "thompson", "torvalds", "knuth", "dijkstra",
                                "liskov", "hamilton", "shannon", "wirth", "backus", "kay", "perlman", "allen"};
  std::string h = random_hex(4);
  unsigned a = std::stoul(h.substr(0, 2), nullptr, 16) % 18, b = std::stoul(h.substr(2, 2), nullptr, 16) % 16;
  std::string n = std::string(left[a]) + "_" + right[b];
  return attempt < 3 ? n : n + "_" + random_hex(6);
}


}  // namespace

std::string resolve_run_image(Store& store, const std::string& ref, const std::string& pull, uint64_t max_layer_size,
                              const RunHooks& hooks) {
  if (looks_like_archive(ref)) {
    LoadOptions load_opts;
    load_opts.max_layer_size = max_layer_size;
    auto loaded = load_archive(store, ref, load_opts);
    return loaded.front().id.substr(7);
  }
  const bool may_pull = pull != "never" && pullable(ref) && hooks.pull;
  if (pull == "always" && may_pull) return hooks.pull(ref).substr(7);
  try {
    return store.resolve_image(ref);
  } catch (const Error& e) {
    if (pull != "missing" || !may_pull) throw Error("Unable to find image '" + ref + "' locally: " + e.what(), kExitFailed);
  }
  return hooks.pull(ref).substr(7);
}

ContainerConfig run_config(const ContainerRequest& s, const RunRequest& f) {
  ContainerConfig c;
  c.hostname = s.hostname;
  c.user = f.user;
  c.env = s.env;
  c.cmd = s.argv;
  c.working_dir = s.workdir;
  c.entrypoint = f.entrypoint.value_or("");
  c.tty = s.tty;
  c.open_stdin = s.interactive;
  c.network_mode = s.network;
  c.readonly_rootfs = s.read_only;
  c.init = s.init;
  c.privileged = s.privileged;
  c.no_new_privileges = s.no_new_privileges;
  c.cap_add = s.cap_add;
  c.cap_drop = s.cap_drop;
  c.binds = f.volumes;
  c.cgroup_parent = f.cgroup_parent;
  c.security_opt = f.security_opts;
  c.cgroup = s.cgroup_path;
  if (s.resources) c.resources = runtime::resources_to_json(*s.resources);
  for (const auto& d : s.devices) c.devices.push_back({d.type, d.path, d.major, d.minor, d.file_mode, d.uid, d.gid});
  c.ulimits = f.limits.ulimits;
  return c;
}

int run_container(Store& store, RunRequest f, const RunHooks& hooks, std::string* id_out) {
  const bool detach = f.mode == RunRequest::Mode::detached, create_only = f.mode == RunRequest::Mode::create_only;
  const std::string& ref = f.image;
  const std::vector<std::string>& args = f.args;
  std::string hex = resolve_run_image(store, ref, f.pull, f.max_layer_size.empty() ? 0 : parse_byte_size(f.max_layer_size), hooks);
  auto cfg = parse_image_config(store.image_config(hex), /*history=*/false);

  ContainerRequest spec;
  spec.argv = merge_argv(cfg.entrypoint, cfg.cmd, f.entrypoint, args);
  std::vector<std::string> user_env = f.env;
  for (const auto& file : f.env_files)
    for (auto& e : read_env_file(file)) user_env.push_back(std::move(e));
  spec.env = merge_env(cfg.env, user_env);
  spec.user = f.user.empty() ? cfg.user : f.user;
  spec.workdir = f.workdir.empty() ? cfg.workdir : f.workdir;
  for (const auto& v : f.volumes) spec.binds.push_back(parse_volume(v));
  // ---- network (netrun): validated before any record; container_network.h ----
  f.net.network = f.network;
  NetworkPlan netplan = plan_network(store, f.net, cfg.exposed_ports, f.hostname);
  f.network = netplan.network_mode;
  spec.network = netplan.network_mode;
  spec.network_ns_path = netplan.ns_path;
  spec.read_only = f.read_only;
  spec.init = f.init;
  spec.interactive = f.interactive;
  spec.tty = f.tty;
  spec.privileged = f.privileged;
  spec.cap_add = f.cap_add;
  spec.cap_drop = f.cap_drop;
  std::optional<std::string> seccomp_opt;  // nullopt: Docker's default profile
  for (const auto& o : f.security_opts) {
    if (o == "no-new-privileges" || o == "no-new-privileges:true" || o == "no-new-privileges=true")
      spec.no_new_privileges = true;
    else if (o.rfind("seccomp=", 0) == 0 || o.rfind("seccomp:", 0) == 0)
      seccomp_opt = o.substr(8);
    else if (o != "no-new-privileges:false")
      throw Error("unsupported --security-opt \"" + o + "\"");
  }
  // Limits, devices, ulimits (Docker's units, defaults and messages).
  f.limits.privileged = f.privileged;
  auto limits = resources_from_flags(f.limits);
  for (const auto& w : limits.warnings)
    if (hooks.warn) hooks.warn(w);
  spec.devices = limits.devices;
  spec.rlimits = limits.rlimits;
  if (f.cgroups != "enabled" && f.cgroups != "disabled") throw Error("invalid --cgroups \"" + f.cgroups + "\": enabled or disabled");
  const bool cgroup = f.cgroups == "enabled" && runtime::CgroupHierarchy::host().mode != runtime::CgroupHierarchy::Mode::none;
  if (cgroup) spec.resources = limits.resources;
  else if (limits.resources.memory || limits.resources.cpu || limits.resources.pids_limit || limits.resources.block_io)
    throw Error("resource limits need a cgroup: not with --cgroups=disabled");
  // Seccomp: Docker's default profile compiled once per capability set (the store's cache);
  // --privileged and seccomp=unconfined run without a filter. A profile file is read and checked
  // here; the program is loaded (or compiled) below, while the container's cgroup is being made.
  std::optional<SeccompTarget> default_seccomp;
  std::optional<runtime::Seccomp> seccomp_profile;
  std::string seccomp_text;  // a profile file's, kept with the container (container_seccomp.h)
  if (!f.privileged && (!seccomp_opt || *seccomp_opt != "unconfined")) {
    SeccompTarget target{docker_capabilities(spec.privileged, spec.cap_add, spec.cap_drop), "", std::nullopt};
    if (!seccomp_opt || seccomp_opt->empty() || *seccomp_opt == "builtin") default_seccomp = target;
    else seccomp_profile = seccomp_from_option(*seccomp_opt, target, &seccomp_text);
  }
  std::shared_ptr<const runtime::SeccompProgram> seccomp;
  docker_capabilities(spec.privileged, spec.cap_add, spec.cap_drop);  // validate before any record exists
  if (detach || create_only) check_detach_options(f.detach_opts);  // run -d, create (started as -d)
  const logs::LogOptions log_opts = logs::parse_log_options(f.detach_opts.log_driver, f.detach_opts.log_opts);
  // The health check: the flags (Docker's checks) over the image's HEALTHCHECK.
  std::optional<HealthConfig> health = health_config_from_flags(f.health);
  if (cfg.raw.contains("config") && cfg.raw["config"].is_object() && cfg.raw["config"].contains("Healthcheck"))
    health = merge_health_config(health, health_config_from_json(cfg.raw["config"]["Healthcheck"]));

  // A deep image runs on its flat layer (flatten.h) when it has one: two lowers, as a shallow
  // image. Without one (an image stored by an older minirun, or one that could not be flattened),
  // the root file system's builder starts now (on the image's own overlay past 499 layers) and
  // the container's mounts are released on a thread (container.h). With a few layers both cost
  // more in hand-overs between threads than they save.
  auto ids = image_layer_ids(cfg);
  const bool flat = ids.size() >= kFlattenFrom && store.has_flat(ids.back());
  std::optional<RootfsBuilder> rootfs;
  // (Not with --init: the child is then a copy of this memory, cloned while the builder's thread
  // runs, and could inherit a lock it held.)
  if (!flat && !spec.init && ids.size() + 1 >= RootfsBuilder::kMinLayers) {
    OverlayLayout image;
    image.overlay_root = store.overlay_root();
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) image.lower_dirs.push_back(store.diff_name(*it));
    image.lower_links = image.lower_dirs;
    rootfs.emplace(image);
  }
  // run -d, create: the monitor mounts the layers itself (a builder is a thread here).
  if (detach || create_only) rootfs.reset();

  spec.id = random_hex(64);
  spec.hostname = f.hostname.empty() ? spec.id.substr(0, 12) : f.hostname;
  if (cgroup) spec.cgroup_path = runtime::container_cgroup_path(spec.id, f.cgroup_parent);
  // Its group is made on a thread while the layers are written (cgroup_task.h): started once the
  // record exists, so that a run killed meanwhile leaves a group the next command's recovery
  // finds (container_state.h: recover_container_cgroups goes by this store's records).
  std::optional<runtime::CgroupTask> cgroup_task;
  std::string name = f.name;
  if (name.empty()) {
    // Reserving is the check: concurrent runs never get the same name.
    for (int attempt = 0; name.empty(); attempt++) {
      std::string candidate = generate_name(attempt);
      if (store.reserve_name(candidate, spec.id)) name = candidate;
    }
  } else if (!store.reserve_name(name, spec.id)) {
    std::string other;
    try {
      other = store.resolve_container(name);
    } catch (const Error&) {
    }
    throw Error("Conflict. The container name \"/" + name + "\" is already in use by container \"" + other +
                "\". You have to remove (or rename) that container to be able to reuse that name.");
  }

  ContainerRecord rec;
  rec.id = spec.id;
  rec.name = name;
  rec.image_id = hex;
  rec.image_ref = ref;
  rec.command = spec.argv;
  rec.created = format_rfc3339_nano(now_unix_ns());
  rec.auto_remove = f.rm;
  rec.config = run_config(spec, f);
  // Docker's StdinOnce: after a foreground -i, the container's stdin ends with the attached
  // one's (start -ai); a detached -i keeps it open.
  rec.config.stdin_once = f.interactive && !detach;
  if (health) rec.config.healthcheck = *health;
  // start/restart: the network again at every start (container_network.h).
  rec.config.network_plan = network_plan_config(netplan);
  rec.pid = getpid();  // while "created": the runner, so a kill before the start is noticed (container_state.h)
  OverlayLayout layout;
  runtime::Spec oci;
  try {
    {
      auto lock = store.lock();
      if (!store.has_image(hex)) throw Error("image " + hex.substr(0, 12) + " was removed");
      store.put_container(rec);
      if (cgroup && !detach && !create_only) cgroup_task.emplace(spec.cgroup_path);
      store.create_container_layers(spec.id, ids.empty() ? "" : ids.back());
    }
    if (default_seccomp)
      seccomp = std::make_shared<runtime::SeccompProgram>(docker_default_seccomp_program(*default_seccomp, store.root() + "/seccomp"));
    else if (seccomp_profile)
      seccomp = std::make_shared<runtime::SeccompProgram>(runtime::compile_seccomp_cached(*seccomp_profile, store.root() + "/seccomp"));
    prepare_init_layer(store.diff_dir(store.init_layer_id(spec.id)));
    spec.state_dir = store.container_dir(spec.id);
    write_state_files(spec);
    if (seccomp_profile) keep_container_seccomp_profile(store, spec.id, seccomp_text);
    copy_peer_files(store, netplan, spec.state_dir);  // netrun: container: / --add-host, --dns without a bridge
    layout = container_overlay_layout(store, spec.id, ids, flat);
    oci = build_spec(spec, store.layer_dir(spec.id) + "/merged");
    oci.minirun.overlay = layout;
    oci.minirun.seccomp_program = seccomp;
  } catch (...) {
    rootfs.reset();
    store.remove_container(spec.id);
    throw;
  }

  if (id_out) *id_out = rec.id;
  if (create_only) {  // `create`: made, not started; its runner's pid goes (ps: "Created")
    rec.pid = 0;
    record_detach_options(rec.config, f.detach_opts);  // `start` runs it as run -d would
    store.put_container(rec);
    return 0;
  }
  int code;
  netplan.attach.hostname = spec.hostname;  // netrun: /etc/hosts names the host name
  ContainerNetwork net(store, spec.id, name, netplan);
  MountNamespaceHold mntns;  // many layers: unmounted while the container is removed, joined on return
  std::unique_ptr<monitor::HealthThread> health_thread;  // stopped once the container has exited
  std::optional<ForegroundLog> fg_log;  // its output into its log too (foreground_log.h)
  try {
    if (rootfs) {  // joined (rootfs.reset()) before the container's layers may be removed
      rootfs->finish(layout);
      oci.minirun.rootfs_sock = rootfs->child_end();
    }
    runtime::RunOptions opts;
    opts.on_start = [&](pid_t pid) {
      rec.status = ContainerStatus::running;
      rec.pid = getpid();
      rec.container_pid = pid;
      rec.started = format_rfc3339_nano(now_unix_ns());
      store.put_container(rec);
      // In the foreground, this process runs the health check (run -d: its monitor does).
      if (!detach) health_thread = start_health_thread(store, rec, oci, pid);
    };
    if (netplan.attaches()) opts.on_created = [&net](pid_t pid) { net.on_created(pid); };  // netrun: attach
    opts.mntns = rootfs ? &mntns : nullptr;
    opts.forward_stdin = f.interactive;
    opts.oom_killed = &rec.oom_killed;
    opts.cgroup_task = cgroup_task ? &*cgroup_task : nullptr;
    if (detach) {  // run -d: a monitor runs it (engine/detached.h); a failed start is recorded below
      start_detached(store, rec, oci, opts, f.detach_opts);
      return 0;
    }
    // Logged as Docker logs every container (`logs`), but for --rm: gone once it exits.
    if (!f.rm && log_opts.driver != logs::LogOptions::Driver::none) {
      try {
        fg_log.emplace(store.container_log_path(spec.id), log_opts);
      } catch (const Error& e) {
        if (hooks.warn) hooks.warn(std::string("minirun: warning: the container's output is not logged: ") + e.what());
      }
    }
    code = runtime::run(oci, opts);
    fg_log.reset();
  } catch (const Error& e) {
    fg_log.reset();
    health_thread.reset();
    net.failed();  // netrun: detach (veth deleted too)
    rootfs.reset();
    mntns.release();
    rec.status = ContainerStatus::exited;
    rec.exit_code = e.exit_code();
    rec.finished = format_rfc3339_nano(now_unix_ns());
    if (f.rm) remove_exited_container(store, spec.id, rec.exit_code);
    else store.put_container(rec);
    throw;
  }
  health_thread.reset();
  net.exited();  // netrun: detach; the kernel removes the veth with the namespace
  rootfs.reset();
  mntns.release();
  rec.status = ContainerStatus::exited;
  rec.exit_code = code;
  rec.finished = format_rfc3339_nano(now_unix_ns());
  if (f.rm) remove_exited_container(store, spec.id, code);
  else store.put_container(rec);
  return code;
}

}  // namespace minirun
