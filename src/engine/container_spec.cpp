#include "minirun/engine/container_spec.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include <nlohmann/json.hpp>

#include "minirun/engine/process.h"
#include "minirun/engine/resource_flags.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/runtime/capabilities.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

std::vector<std::string> docker_capabilities(bool privileged, const std::vector<std::string>& add,
                                             const std::vector<std::string>& drop) {
  using runtime::capability_number;
  std::set<int> caps;
  if (privileged) return runtime::all_capability_names();
  for (const auto& d : docker_default_capabilities()) caps.insert(capability_number(d));
  auto is_all = [](const std::string& n) { return n == "ALL" || n == "all" || n == "CAP_ALL"; };
  for (const auto& d : drop) {
    if (is_all(d)) caps.clear();
    else if (int c = capability_number(d); c >= 0) caps.erase(c);
    else throw Error("unknown capability to drop: \"" + d + "\"");
  }
  for (const auto& a : add) {
    if (is_all(a))
      for (int c = 0; c <= runtime::last_capability(); c++) caps.insert(c);
    else if (int c = capability_number(a); c >= 0) caps.insert(c);
    else throw Error("unknown capability to add: \"" + a + "\"");
  }
  std::vector<std::string> out;
  for (int c : caps)
    if (c <= runtime::last_capability()) out.push_back(runtime::capability_name(c));
  return out;
}

runtime::Spec build_spec(const ContainerRequest& req, const std::string& root_path) {
  if (req.argv.empty()) throw Error("no command specified");
  std::string wd = req.workdir.empty() ? "/" : req.workdir;
  if (wd[0] != '/') throw Error("the working directory '" + wd + "' is invalid, it needs to be an absolute path");
  const bool joins_net = req.network.rfind("container:", 0) == 0;
  if (joins_net && req.network_ns_path.empty()) throw Error("network " + req.network + ": no namespace to join");

  runtime::Spec s;
  s.root.path = root_path;
  s.root.readonly = req.read_only;
  s.hostname = req.hostname;
  runtime::Process p;
  p.terminal = req.tty;
  p.args = req.argv;
  p.env = finish_env(req.env, req.hostname, "", req.tty);  // HOME: the runtime, from the user
  p.cwd = wd;
  auto caps = docker_capabilities(req.privileged, req.cap_add, req.cap_drop);
  p.capabilities = runtime::Capabilities{caps, caps, {}, caps, {}};
  p.no_new_privileges = req.no_new_privileges;
  s.process = p;
  s.minirun.user_name = req.user;
  s.minirun.init = req.init;
  s.minirun.keep_stdin = req.interactive;

  for (const char* ns : {"pid", "mount", "uts", "ipc"}) s.linux.namespaces.push_back({ns, ""});
  // Network: the host's (host), another container's (container:), else a new one — lo only
  // (none), or eth0 added by the engine's on_created (bridge, user networks).
  if (joins_net) s.linux.namespaces.push_back({"network", req.network_ns_path});
  else if (req.network != "host") s.linux.namespaces.push_back({"network", ""});

  // Docker's mounts. /dev holds real nodes, as Docker's, when the container has a cgroup: its
  // device rules (Docker's, --device, --device-cgroup-rule; always given, and an error when the
  // kernel cannot enforce them) decide what opens. Without a cgroup (--cgroups=disabled) /dev is
  // nodev and its nodes are the host's, bound (devices.h): CAP_MKNOD could otherwise make any
  // node there. --privileged containers get real nodes either way.
  std::vector<std::string> dev = {"nosuid", "strictatime", "mode=755", "size=65536k"};
  if (!req.privileged && req.cgroup_path.empty()) dev.push_back("nodev");
  std::vector<std::string> sys = {"nosuid", "noexec", "nodev"};
  if (!req.privileged) sys.push_back("ro");
  s.mounts = {
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", dev},
      {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/sys", "sysfs", "sysfs", sys},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
  };
  if (!req.cgroup_path.empty()) {
    // The container's own cgroup at /sys/fs/cgroup, read-only but for --privileged (Docker's); on
    // cgroup v2 in a cgroup namespace of its own (Docker's --cgroupns private there).
    std::vector<std::string> opts = {"nosuid", "noexec", "nodev", "relatime"};
    if (!req.privileged) opts.push_back("ro");
    s.mounts.push_back({"/sys/fs/cgroup", "cgroup", "cgroup", opts});
    if (runtime::CgroupHierarchy::host().mode == runtime::CgroupHierarchy::Mode::v2)
      s.linux.namespaces.push_back({"cgroup", ""});
  }
  for (const char* f : {"hostname", "hosts", "resolv.conf"})
    s.mounts.push_back({std::string("/etc/") + f, "bind", req.state_dir + "/" + f, {"rbind", "rprivate"}});
  for (const auto& b : req.binds) {
    std::vector<std::string> opts = {"rbind"};
    if (b.readonly) opts.push_back("ro");
    s.mounts.push_back({b.target, "bind", b.source, opts});
  }
  s.linux.resources = req.resources;
  s.linux.cgroups_path = req.cgroup_path;
  s.linux.devices = req.devices;
  s.linux.seccomp = req.seccomp;
  s.process->rlimits = req.rlimits;
  if (!req.privileged) {
    s.linux.masked_paths = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                            "/proc/interrupts", "/sys/firmware", "/sys/devices/virtual/powercap"};
    s.linux.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  }
  return s;
}

ContainerRequest request_from_record(const ContainerRecord& rec, const std::string& image_user) {
  const ContainerConfig& c = rec.config;
  ContainerRequest req;
  req.id = rec.id;
  req.hostname = c.hostname.empty() ? rec.id.substr(0, 12) : c.hostname;
  req.argv = rec.command;
  req.env = c.env;
  req.user = c.user.empty() ? image_user : c.user;
  req.workdir = c.working_dir;
  for (const auto& v : c.binds) {
    auto first = v.find(':');
    if (first == std::string::npos) continue;
    BindMount b;
    b.source = v.substr(0, first);
    std::string rest = v.substr(first + 1);
    auto second = rest.find(':');
    b.target = rest.substr(0, second);
    b.readonly = second != std::string::npos && rest.substr(second + 1) == "ro";
    req.binds.push_back(b);
  }
  req.network = c.network_mode;
  req.read_only = c.readonly_rootfs;
  req.init = c.init;
  req.interactive = c.open_stdin;
  req.tty = c.tty;
  req.privileged = c.privileged;
  req.no_new_privileges = c.no_new_privileges;
  req.cap_add = c.cap_add;
  req.cap_drop = c.cap_drop;
  req.cgroup_path = c.cgroup.value_or("");
  if (c.resources.is_object()) req.resources = runtime::resources_from_json(c.resources);
  for (const auto& u : c.ulimits) req.rlimits.push_back(parse_ulimit(u));
  for (const auto& d : c.devices) req.devices.push_back({d.type, d.path, d.major, d.minor, d.file_mode, d.uid, d.gid});
  for (const auto& o : c.security_opt)
    req.seccomp_unconfined = req.seccomp_unconfined || o == "seccomp=unconfined" || o == "seccomp:unconfined";
  return req;
}

void write_state_files(const ContainerRequest& req) {
  write_file_atomic(req.state_dir + "/hostname", req.hostname + "\n");
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                      "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";
  hosts += "127.0.1.1\t" + req.hostname + "\n";
  write_file_atomic(req.state_dir + "/hosts", hosts);
  std::string resolv;
  if (req.network != "none") {
    auto host = read_file_if_exists("/etc/resolv.conf", 1 << 20);
    if (host) resolv = *host;
  }
  if (resolv.empty()) resolv = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
  write_file_atomic(req.state_dir + "/resolv.conf", resolv);
}

void prepare_init_layer(const std::string& diff) {
  for (const char* d : {"/dev", "/dev/pts", "/dev/shm", "/proc", "/sys", "/etc"})
    if (::mkdir((diff + d).c_str(), 0755) != 0 && errno != EEXIST) throw sys_error(diff + d);
  for (const char* f : {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/console"}) {
    int fd = ::open((diff + f).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
    if (fd < 0) throw sys_error(diff + f);
    ::close(fd);
  }
  if (::symlink("/proc/mounts", (diff + "/etc/mtab").c_str()) != 0 && errno != EEXIST) throw sys_error(diff + "/etc/mtab");
}

}  // namespace minirun
