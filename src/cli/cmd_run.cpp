// minirun run [flags] REF|ARCHIVE [ARG…] — create a container from an image and run it.
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "flags.h"
#include "minirun/engine/container_network.h"
#include "minirun/engine/container_seccomp.h"
#include "minirun/engine/foreground_log.h"
#include "minirun/engine/container_spec.h"
#include "minirun/engine/container_health.h"
#include "minirun/engine/healthcheck.h"
#include "minirun/engine/resource_flags.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/engine/detached.h"
#include "minirun/runtime/cgroup_task.h"
#include "minirun/runtime/container.h"
#include "minirun/runtime/rootfs_builder.h"
#include "minirun/util/error.h"
#include "minirun/image/flatten.h"
#include "minirun/image/reference.h"
#include "minirun/util/fsutil.h"
#include "minirun/engine/images.h"
#include "minirun/engine/process.h"
#include "minirun/util/size.h"

namespace minirun::cli {

namespace {

struct RunFlags {
  std::string name, workdir, user, hostname, network = "bridge", max_layer_size;
  std::string pull = "missing";  // --pull: always, missing, never
  std::optional<std::string> entrypoint;
  std::vector<std::string> env, env_files, volumes, cap_add, cap_drop, security_opts;
  bool rm = false, read_only = false, init = false, interactive = false, tty = false, privileged = false;
  std::vector<std::string> rest;  // REF|ARCHIVE then the command's arguments
  ResourceFlags limits;           // --memory, --cpus, --pids-limit, --device, --ulimit, …
  std::string cgroup_parent = "minirun", cgroups = "enabled";
  NetworkFlags net;  // -p, -P, --ip, --mac-address, --dns*, --add-host (container_network.h)
  // run -d (engine/detached.h)
  bool detach = false;
  DetachOptions detach_opts;
  bool create_only = false;  // `create`: the container made, not started (`start` runs it)
  HealthFlags health;        // --health-*, --no-healthcheck (engine/healthcheck.h)
};

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

// REF → image ID hex; an archive path is loaded first (layers already present are skipped).
// --pull (Docker's): "missing" pulls a reference the store does not have, "always" pulls it
// first, "never" only looks in the store; the pull's lines go to stderr, as docker run's.
std::string image_for(Store& store, const std::string& ref, const LoadOptions& load_opts, const std::string& pull) {
  if (looks_like_archive(ref)) {
    auto loaded = load_archive(store, ref, load_opts);
    return loaded.front().id.substr(7);
  }
  const bool may_pull = pull != "never" && pullable(ref);
  if (pull == "always" && may_pull) return pull_with_progress(store, ref, std::cerr, false).substr(7);
  try {
    return store.resolve_image(ref);
  } catch (const Error& e) {
    if (pull != "missing" || !may_pull) throw Error("Unable to find image '" + ref + "' locally: " + e.what(), kExitFailed);
  }
  std::cerr << "Unable to find image '" << normalize_reference(ref) << "' locally" << std::endl;
  return pull_with_progress(store, ref, std::cerr, false).substr(7);
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

nlohmann::json spec_json(const ContainerRequest& s, const RunFlags& f) {
  return {{"Hostname", s.hostname}, {"User", f.user},         {"Env", s.env},
          {"Cmd", s.argv},          {"WorkingDir", s.workdir}, {"Entrypoint", f.entrypoint ? *f.entrypoint : ""},
          {"Tty", f.tty},           {"OpenStdin", f.interactive}, {"NetworkMode", f.network},
          {"ReadonlyRootfs", f.read_only}, {"Init", f.init}, {"Privileged", f.privileged},
          {"CapAdd", f.cap_add},    {"CapDrop", f.cap_drop},    {"Binds", f.volumes},
          {"CgroupParent", f.cgroup_parent}, {"SecurityOpt", f.security_opts},
          {"Cgroup", s.cgroup_path},
          {"Resources", s.resources ? runtime::resources_to_json(*s.resources) : nlohmann::json()},
          {"Ulimits", f.limits.ulimits}};
}

int run(Globals& g, RunFlags& f) {
  if (f.rest.empty()) throw Error("\"minirun run\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
  LoadOptions load_opts;
  if (!f.max_layer_size.empty()) load_opts.max_layer_size = parse_byte_size(f.max_layer_size);
  Store store = open_store(g);
  std::string ref = f.rest[0];
  std::vector<std::string> args(f.rest.begin() + 1, f.rest.end());
  std::string hex = image_for(store, ref, load_opts, f.pull);
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
  for (const auto& w : limits.warnings) std::cerr << w << "\n";
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
  if (f.detach || f.create_only) check_detach_options(f.detach_opts);  // run -d, create (started as -d)
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
  if (f.detach || f.create_only) rootfs.reset();

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
  rec.created = now_rfc3339_nanos();
  rec.auto_remove = f.rm;
  {
    auto sj = spec_json(spec, f);
    // Docker's StdinOnce: after a foreground -i, the container's stdin ends with the attached
    // one's (start -ai); a detached -i keeps it open.
    if (f.interactive && !f.detach) sj["StdinOnce"] = true;
    if (health) sj["Healthcheck"] = health_config_json(*health);
    // start/restart: the network again at every start (container_network.h).
    rec.spec_json = record_network_plan(sj.dump(), netplan);
  }
  rec.pid = getpid();  // while "created": the runner, so a kill before the start is noticed (container_state.h)
  OverlayLayout layout;
  runtime::Spec oci;
  try {
    {
      auto lock = store.lock();
      if (!store.has_image(hex)) throw Error("image " + hex.substr(0, 12) + " was removed");
      store.put_container(rec);
      if (cgroup && !f.detach && !f.create_only) cgroup_task.emplace(spec.cgroup_path);
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

  if (f.create_only) {  // `create`: made, not started; its runner's pid goes (ps: "Created")
    rec.pid = 0;
    store.put_container(rec);
    std::cout << rec.id << std::endl;
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
      rec.status = "running";
      rec.pid = getpid();
      rec.container_pid = pid;
      rec.started = now_rfc3339_nanos();
      store.put_container(rec);
      // In the foreground, this process runs the health check (run -d: its monitor does).
      if (!f.detach) health_thread = start_health_thread(store, rec, oci, pid);
    };
    if (netplan.attaches()) opts.on_created = [&net](pid_t pid) { net.on_created(pid); };  // netrun: attach
    opts.mntns = rootfs ? &mntns : nullptr;
    opts.forward_stdin = f.interactive;
    opts.oom_killed = &rec.oom_killed;
    opts.cgroup_task = cgroup_task ? &*cgroup_task : nullptr;
    if (f.detach) {  // run -d: a monitor runs it (engine/detached.h); a failed start is recorded below
      start_detached(store, rec, oci, opts, f.detach_opts);
      std::cout << rec.id << std::endl;
      return 0;
    }
    // Logged as Docker logs every container (`logs`), but for --rm: gone once it exits.
    if (!f.rm && log_opts.driver != logs::LogOptions::Driver::none) {
      try {
        fg_log.emplace(store.container_log_path(spec.id), log_opts);
      } catch (const Error& e) {
        std::cerr << "minirun: warning: the container's output is not logged: " << e.what() << std::endl;
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
    rec.status = "exited";
    rec.exit_code = e.exit_code();
    rec.finished = now_rfc3339_nanos();
    if (f.rm) remove_exited_container(store, spec.id, rec.exit_code);
    else store.put_container(rec);
    throw;
  }
  health_thread.reset();
  net.exited();  // netrun: detach; the kernel removes the veth with the namespace
  rootfs.reset();
  mntns.release();
  rec.status = "exited";
  rec.exit_code = code;
  rec.finished = now_rfc3339_nanos();
  if (f.rm) remove_exited_container(store, spec.id, code);
  else store.put_container(rec);
  return code;
}

}  // namespace

void register_run_or_create(CLI::App& app, Globals& g, bool create) {
  auto* cmd = create ? app.add_subcommand("create",
                                          "Create a new container without starting it (`start` runs it, as run -d): "
                                          "minirun create [OPTIONS] IMAGE|ARCHIVE [COMMAND] [ARG...]")
                     : app.add_subcommand(
                           "run", "Create and run a new container: minirun run [OPTIONS] IMAGE|ARCHIVE [COMMAND] [ARG...]");
  auto f = std::make_shared<RunFlags>();
  f->create_only = create;
  cmd->set_help_flag("--help", "Print this help message and exit");  // -h is --hostname, as in docker
  cmd->prefix_command();
  cmd->add_option("--name", f->name, "Assign a name to the container");
  cmd->add_flag("--rm", f->rm, "Remove the container when it exits");
  cmd->add_option("-e,--env", f->env, "Set environment variables (K=V, or K to pass the caller's)")->allow_extra_args(false);
  cmd->add_option("--env-file", f->env_files, "Read environment variables from a file")->allow_extra_args(false);
  cmd->add_option("-w,--workdir", f->workdir, "Working directory inside the container");
  cmd->add_option("-u,--user", f->user, "Username or UID (format: <name|uid>[:<group|gid>])");
  cmd->add_option("--entrypoint", f->entrypoint, "Overwrite the default ENTRYPOINT of the image");
  cmd->add_option("-v,--volume", f->volumes, "Bind mount a volume: SRC:DST[:ro|rw]")->allow_extra_args(false);
  cmd->add_option("-h,--hostname", f->hostname, "Container host name");
  cmd->add_flag("--read-only", f->read_only, "Mount the container's root filesystem as read only");
  cmd->add_option("--network,--net", f->network, "bridge (default), none, host, container:NAME|ID or a network's name");
  cmd->add_flag("--init", f->init, "Run an init inside the container that forwards signals and reaps processes");
  cmd->add_flag("-i,--interactive", f->interactive, "Keep STDIN open");
  cmd->add_flag("-t,--tty", f->tty, "Allocate a pseudo-TTY");
  cmd->add_option("--cap-add", f->cap_add, "Add Linux capabilities")->allow_extra_args(false);
  cmd->add_option("--cap-drop", f->cap_drop, "Drop Linux capabilities")->allow_extra_args(false);
  cmd->add_flag("--privileged", f->privileged, "Give extended privileges to this container");
  cmd->add_option("--security-opt", f->security_opts,
                  "Security options: no-new-privileges, seccomp=unconfined|PROFILE.json (Docker's format)")
      ->allow_extra_args(false);
  auto& l = f->limits;
  add_limit_flags(cmd, l, "Memory plus swap limit (-1: unlimited; default twice --memory)");  // as update's
  cmd->add_flag("--oom-kill-disable", l.oom_kill_disable, "Disable the OOM killer");
  cmd->add_option("--device-read-bps", l.device_read_bps, "Read rate limit of a device (/dev/sda:1mb)")->allow_extra_args(false);
  cmd->add_option("--device-write-bps", l.device_write_bps, "Write rate limit of a device")->allow_extra_args(false);
  cmd->add_option("--device-read-iops", l.device_read_iops, "Read IO/s limit of a device")->allow_extra_args(false);
  cmd->add_option("--device-write-iops", l.device_write_iops, "Write IO/s limit of a device")->allow_extra_args(false);
  cmd->add_option("--device", l.devices, "Add a host device: /dev/X[:/dev/Y][:rwm]")->allow_extra_args(false);
  cmd->add_option("--device-cgroup-rule", l.device_cgroup_rules, "A devices cgroup rule ('c 1:3 rwm')")->allow_extra_args(false);
  cmd->add_option("--ulimit", l.ulimits, "Ulimit: name=soft[:hard] (nofile, nproc, core, …)")->allow_extra_args(false);
  cmd->add_option("--cgroup-parent", f->cgroup_parent, "Parent cgroup of the container's (default minirun)");
  cmd->add_option("--cgroups", f->cgroups, "enabled (default) or disabled: no cgroup, no limits");
  cmd->add_option("--pull", f->pull, "Pull image before running (\"always\", \"missing\", \"never\"; default missing)")
      ->check(CLI::IsMember({"always", "missing", "never"}));
  cmd->add_option("--max-layer-size", f->max_layer_size,
                  "When ARCHIVE is loaded: refuse a layer larger than SIZE uncompressed (e.g. 512M, 10G; default 64G)")
      ->type_name("SIZE");
  // ---- network flags (netrun; container_network.h) ----
  cmd->add_option("-p,--publish", f->net.publish, "Publish a container's port: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]")
      ->allow_extra_args(false);
  cmd->add_flag("-P,--publish-all", f->net.publish_all, "Publish all exposed ports to free host ports");
  cmd->add_option("--ip", f->net.ip, "IPv4 address (user-defined networks)");
  cmd->add_option("--mac-address", f->net.mac, "Container MAC address (e.g. 02:42:ac:11:00:02)");
  cmd->add_option("--dns", f->net.dns, "Set custom DNS servers")->allow_extra_args(false);
  cmd->add_option("--dns-search", f->net.dns_search, "Set custom DNS search domains")->allow_extra_args(false);
  cmd->add_option("--dns-option", f->net.dns_option, "Set DNS options")->allow_extra_args(false);
  cmd->add_option("--add-host", f->net.add_host, "Add a custom host-to-IP mapping (host:ip)")->allow_extra_args(false);
  // run -d (engine/detached.h); a created container is started as one
  if (!create) cmd->add_flag("-d,--detach", f->detach, "Run the container in the background (under a monitor) and print its ID");
  cmd->add_option("--restart", f->detach_opts.restart, "Restart policy: no, on-failure[:N], always, unless-stopped");
  cmd->add_option("--log-driver", f->detach_opts.log_driver, "Logging driver: json-file (default) or none");
  cmd->add_option("--log-opt", f->detach_opts.log_opts, "Log driver options (max-size=10m, max-file=3)")->allow_extra_args(false);
  cmd->add_option("--stop-signal", f->detach_opts.stop_signal, "Signal to stop the container (default: the image's, or SIGTERM)");
  cmd->add_option("--health-cmd", f->health.cmd, "Command to run to check health (run by the shell)");
  cmd->add_option("--health-interval", f->health.interval, "Time between running the check (ms|s|m|h) (default 30s)");
  cmd->add_option("--health-timeout", f->health.timeout, "Maximum time to allow one check to run (ms|s|m|h) (default 30s)");
  cmd->add_option("--health-retries", f->health.retries, "Consecutive failures needed to report unhealthy (default 3)");
  cmd->add_option("--health-start-period", f->health.start_period,
                  "Start period for the container to initialize before failures count (ms|s|m|h) (default 0s)");
  cmd->add_option("--health-start-interval", f->health.start_interval,
                  "Time between running the check during the start period (ms|s|m|h) (default 5s)");
  cmd->add_flag("--no-healthcheck", f->health.none, "Disable any container-specified HEALTHCHECK");
  cmd->add_option("--stop-timeout", f->detach_opts.stop_timeout, "Seconds to wait after the stop signal before SIGKILL (default 10)");
  cmd->footer(create ? "Examples:\n  minirun create --name web -p 8080:80 nginx:latest && minirun start web\n  minirun create -it --name shell busybox:latest sh && minirun start -ai shell"
                      : "Examples:\n  minirun run --rm busybox:latest echo hello\n  minirun run --name web -v /srv:/srv:ro image.tar");
  cmd->callback([&g, f, cmd] {
    f->rest = cmd->remaining();
    g.exit_code = run(g, *f);
  });
}

void register_run(CLI::App& app, Globals& g) { register_run_or_create(app, g, false); }

}  // namespace minirun::cli
