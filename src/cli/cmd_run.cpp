// minirun run|create [flags] REF|ARCHIVE [ARG…] — the flags into a RunRequest for the engine
// (engine/run.h), and its result printed: the exit code, or the ID of a detached or created container.
#include <iostream>

#include "cli.h"
#include "flags.h"
#include "minirun/engine/run.h"
#include "minirun/image/reference.h"
#include "minirun/util/error.h"

namespace minirun::cli {

namespace {

// The flags: the engine's request (run.h), and the words after the options.
struct RunFlags {
  RunRequest req;
  std::vector<std::string> rest;  // REF|ARCHIVE then the command's arguments
  bool detach = false, create_only = false;
};

int run(Globals& g, const RunFlags& f) {
  if (f.rest.empty()) throw Error("\"minirun run\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
  RunRequest req = f.req;
  req.image = f.rest[0];
  req.args.assign(f.rest.begin() + 1, f.rest.end());
  req.mode = f.create_only ? RunRequest::Mode::create_only
             : f.detach    ? RunRequest::Mode::detached
                           : RunRequest::Mode::foreground;
  const auto mode = req.mode;
  Store store = open_store(g);
  RunHooks hooks;
  // docker run's pull: its lines on stderr, after "Unable to find image … locally" (--pull missing).
  hooks.pull = [&store, always = req.pull == "always"](const std::string& ref) {
    if (!always) std::cerr << "Unable to find image '" << normalize_reference(ref) << "' locally" << std::endl;
    return pull_with_progress(store, ref, std::cerr, false);
  };
  hooks.warn = [](const std::string& line) { std::cerr << line << std::endl; };
  std::string id;
  int code = run_container(store, std::move(req), hooks, &id);
  if (mode != RunRequest::Mode::foreground) std::cout << id << std::endl;
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
  cmd->add_option("--name", f->req.name, "Assign a name to the container");
  cmd->add_flag("--rm", f->req.rm, "Remove the container when it exits");
  cmd->add_option("-e,--env", f->req.env, "Set environment variables (K=V, or K to pass the caller's)")->allow_extra_args(false);
  cmd->add_option("--env-file", f->req.env_files, "Read environment variables from a file")->allow_extra_args(false);
  cmd->add_option("-w,--workdir", f->req.workdir, "Working directory inside the container");
  cmd->add_option("-u,--user", f->req.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  cmd->add_option("--entrypoint", f->req.entrypoint, "Overwrite the default ENTRYPOINT of the image");
  cmd->add_option("-v,--volume", f->req.volumes, "Bind mount a volume: SRC:DST[:ro|rw]")->allow_extra_args(false);
  cmd->add_option("-h,--hostname", f->req.hostname, "Container host name");
  cmd->add_flag("--read-only", f->req.read_only, "Mount the container's root filesystem as read only");
  cmd->add_option("--network,--net", f->req.network, "bridge (default), none, host, container:NAME|ID or a network's name");
  cmd->add_flag("--init", f->req.init, "Run an init inside the container that forwards signals and reaps processes");
  cmd->add_flag("-i,--interactive", f->req.interactive, "Keep STDIN open");
  cmd->add_flag("-t,--tty", f->req.tty, "Allocate a pseudo-TTY");
  cmd->add_option("--cap-add", f->req.cap_add, "Add Linux capabilities")->allow_extra_args(false);
  cmd->add_option("--cap-drop", f->req.cap_drop, "Drop Linux capabilities")->allow_extra_args(false);
  cmd->add_flag("--privileged", f->req.privileged, "Give extended privileges to this container");
  cmd->add_option("--security-opt", f->req.security_opts,
                  "Security options: no-new-privileges, seccomp=unconfined|PROFILE.json (Docker's format)")
      ->allow_extra_args(false);
  auto& l = f->req.limits;
  add_limit_flags(cmd, l, "Memory plus swap limit (-1: unlimited; default twice --memory)");  // as update's
  cmd->add_flag("--oom-kill-disable", l.oom_kill_disable, "Disable the OOM killer");
  cmd->add_option("--device-read-bps", l.device_read_bps, "Read rate limit of a device (/dev/sda:1mb)")->allow_extra_args(false);
  cmd->add_option("--device-write-bps", l.device_write_bps, "Write rate limit of a device")->allow_extra_args(false);
  cmd->add_option("--device-read-iops", l.device_read_iops, "Read IO/s limit of a device")->allow_extra_args(false);
  cmd->add_option("--device-write-iops", l.device_write_iops, "Write IO/s limit of a device")->allow_extra_args(false);
  cmd->add_option("--device", l.devices, "Add a host device: /dev/X[:/dev/Y][:rwm]")->allow_extra_args(false);
  cmd->add_option("--device-cgroup-rule", l.device_cgroup_rules, "A devices cgroup rule ('c 1:3 rwm')")->allow_extra_args(false);
  cmd->add_option("--ulimit", l.ulimits, "Ulimit: name=soft[:hard] (nofile, nproc, core, …)")->allow_extra_args(false);
  cmd->add_option("--cgroup-parent", f->req.cgroup_parent, "Parent cgroup of the container's (default minirun)");
  cmd->add_option("--cgroups", f->req.cgroups, "enabled (default) or disabled: no cgroup, no limits");
  cmd->add_option("--pull", f->req.pull, "Pull image before running (\"always\", \"missing\", \"never\"; default missing)")
      ->check(CLI::IsMember({"always", "missing", "never"}));
  cmd->add_option("--max-layer-size", f->req.max_layer_size,
                  "When ARCHIVE is loaded: refuse a layer larger than SIZE uncompressed (e.g. 512M, 10G; default 64G)")
      ->type_name("SIZE");
  // ---- network flags (netrun; container_network.h) ----
  cmd->add_option("-p,--publish", f->req.net.publish, "Publish a container's port: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]")
      ->allow_extra_args(false);
  cmd->add_flag("-P,--publish-all", f->req.net.publish_all, "Publish all exposed ports to free host ports");
  cmd->add_option("--ip", f->req.net.ip, "IPv4 address (user-defined networks)");
  cmd->add_option("--mac-address", f->req.net.mac, "Container MAC address (e.g. 02:42:ac:11:00:02)");
  cmd->add_option("--dns", f->req.net.dns, "Set custom DNS servers")->allow_extra_args(false);
  cmd->add_option("--dns-search", f->req.net.dns_search, "Set custom DNS search domains")->allow_extra_args(false);
  cmd->add_option("--dns-option", f->req.net.dns_option, "Set DNS options")->allow_extra_args(false);
  cmd->add_option("--add-host", f->req.net.add_host, "Add a custom host-to-IP mapping (host:ip)")->allow_extra_args(false);
  // run -d (engine/detached.h); a created container is started as one
  if (!create) cmd->add_flag("-d,--detach", f->detach, "Run the container in the background (under a monitor) and print its ID");
  cmd->add_option("--restart", f->req.detach_opts.restart, "Restart policy: no, on-failure[:N], always, unless-stopped");
  cmd->add_option("--log-driver", f->req.detach_opts.log_driver, "Logging driver: json-file (default) or none");
  cmd->add_option("--log-opt", f->req.detach_opts.log_opts, "Log driver options (max-size=10m, max-file=3)")->allow_extra_args(false);
  cmd->add_option("--stop-signal", f->req.detach_opts.stop_signal, "Signal to stop the container (default: the image's, or SIGTERM)");
  cmd->add_option("--health-cmd", f->req.health.cmd, "Command to run to check health (run by the shell)");
  cmd->add_option("--health-interval", f->req.health.interval, "Time between running the check (ms|s|m|h) (default 30s)");
  cmd->add_option("--health-timeout", f->req.health.timeout, "Maximum time to allow one check to run (ms|s|m|h) (default 30s)");
  cmd->add_option("--health-retries", f->req.health.retries, "Consecutive failures needed to report unhealthy (default 3)");
  cmd->add_option("--health-start-period", f->req.health.start_period,
                  "Start period for the container to initialize before failures count (ms|s|m|h) (default 0s)");
  cmd->add_option("--health-start-interval", f->req.health.start_interval,
                  "Time between running the check during the start period (ms|s|m|h) (default 5s)");
  cmd->add_flag("--no-healthcheck", f->req.health.none, "Disable any container-specified HEALTHCHECK");
  cmd->add_option("--stop-timeout", f->req.detach_opts.stop_timeout, "Seconds to wait after the stop signal before SIGKILL (default 10)");
  cmd->footer(create ? "Examples:\n  minirun create --name web -p 8080:80 nginx:latest && minirun start web\n  minirun create -it --name shell busybox:latest sh && minirun start -ai shell"
                      : "Examples:\n  minirun run --rm busybox:latest echo hello\n  minirun run --name web -v /srv:/srv:ro image.tar");
  cmd->callback([&g, f, cmd] {
    f->rest = cmd->remaining();
    g.exit_code = run(g, *f);
  });
}

void register_run(CLI::App& app, Globals& g) { register_run_or_create(app, g, false); }

}  // namespace minirun::cli
