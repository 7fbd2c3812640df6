// oci_info.cpp — spec (a starting config.json, as `runc spec` writes one) and features (what this
// runtime implements, runtime-spec features.md).
#include <sys/stat.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "minirun/runtime/capabilities.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "oci.h"

namespace minirun::cli::oci {

namespace {

runtime::Spec default_spec() {
  runtime::Spec s;
  s.oci_version = "1.2.0";
  runtime::Process p;
  p.terminal = true;
  p.args = {"sh"};
  p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  p.capabilities = runtime::Capabilities{caps, caps, {}, caps, {}};
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
  p.no_new_privileges = true;
  s.process = p;
  s.root = {"rootfs", true};
  s.hostname = "minirun";
  s.mounts = {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}}};
  for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) s.linux.namespaces.push_back({ns, ""});
  s.linux.masked_paths = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                          "/proc/scsi"};
  s.linux.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  return s;
}

}  // namespace

void register_info(CLI::App& app, Globals&) {
  struct Flags {
    std::string bundle = ".";
    bool rootless = false;
  };
  auto f = std::make_shared<Flags>();
  auto* spec = app.add_subcommand("spec", "Write a starting config.json into the bundle directory");
  spec->add_option("-b,--bundle", f->bundle, "Bundle directory (default: the current one)");
  spec->add_flag("--rootless", f->rootless, "Not supported");
  spec->callback([f] {
    if (f->rootless) throw minirun::Error("rootless containers are not supported");
    std::string path = f->bundle + "/config.json";
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) throw minirun::Error("File " + path + " exists. Remove it first");
    write_file_atomic(path, runtime::spec_to_json(default_spec()).dump(2) + "\n");
  });
  auto* features = app.add_subcommand("features", "What this runtime implements (JSON)");
  features->callback([] {
    nlohmann::json j = {
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.2.0"},
        {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
        {"mountOptions",
         {"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud",
          "mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime",
          "nostrictatime", "nosuid", "private", "rbind", "relatime", "remount", "ro", "rprivate", "rshared", "rslave",
          "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "sync", "tmpcopyup",
          "unbindable"}},
        {"linux",
         {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "uts"}},
          {"capabilities", runtime::all_capability_names()},
          {"cgroup", {{"v1", false}, {"v2", false}, {"systemd", false}}},
          {"seccomp", {{"enabled", false}}},
          {"apparmor", {{"enabled", false}}},
          {"selinux", {{"enabled", false}}}}},
        {"annotations", {{"org.opencontainers.runc.version", "minirun-runtime 0.1.0 (runc-compatible command line)"}}}};
    std::cout << j.dump(2) << std::endl;
  });
}

}  // namespace minirun::cli::oci
