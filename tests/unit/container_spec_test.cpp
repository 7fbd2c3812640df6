// Docker's rules for a container as a runtime::Spec (engine/container_spec.h), without root: the
// process (args, env, cwd, capabilities, user), the namespaces by network mode, limits and
// seccomp carried over, a stored container's request from its record's run options, and the
// state and -init layer files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "minirun/engine/container_spec.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
namespace fs = std::filesystem;
using minirun::test::TempDir;

namespace {

ContainerRequest basic() {
  ContainerRequest req;
  req.id = "0123456789abcdef";
  req.hostname = "0123456789ab";
  req.argv = {"/bin/echo", "hi"};
  req.env = {"FOO=bar"};
  req.state_dir = "/nonexistent-state";
  return req;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::vector<std::string> namespace_types(const runtime::Spec& s) {
  std::vector<std::string> out;
  for (const auto& n : s.linux.namespaces) out.push_back(n.type + (n.path.empty() ? "" : "=" + n.path));
  return out;
}

}  // namespace

TEST(ContainerSpec, TheProcessFromTheRequest) {
  auto req = basic();
  req.workdir = "/srv";
  req.user = "app:wheel";
  req.tty = true;
  req.interactive = true;
  req.no_new_privileges = true;
  auto s = build_spec(req, "/var/lib/minirun/overlay2/x/merged");
  EXPECT_EQ(s.root.path, "/var/lib/minirun/overlay2/x/merged");
  EXPECT_FALSE(s.root.readonly);
  EXPECT_EQ(s.hostname, "0123456789ab");
  ASSERT_TRUE(s.process);
  EXPECT_EQ(s.process->args, (std::vector<std::string>{"/bin/echo", "hi"}));
  EXPECT_EQ(s.process->cwd, "/srv");
  EXPECT_TRUE(s.process->terminal);
  EXPECT_TRUE(s.process->no_new_privileges);
  const auto& env = s.process->env;
  EXPECT_TRUE(has(env, "FOO=bar"));
  EXPECT_TRUE(has(env, "HOSTNAME=0123456789ab"));
  EXPECT_TRUE(has(env, "TERM=xterm"));
  EXPECT_TRUE(std::any_of(env.begin(), env.end(), [](const std::string& e) { return e.rfind("PATH=", 0) == 0; }));
  // The user is resolved in the container's root by the runtime (user.h), not here.
  EXPECT_EQ(s.minirun.user_name.value_or(""), "app:wheel");
  EXPECT_TRUE(s.minirun.keep_stdin);
  EXPECT_FALSE(s.minirun.init);
}

TEST(ContainerSpec, TheWorkingDirectoryDefaultsToSlashAndMustBeAbsolute) {
  auto req = basic();
  EXPECT_EQ(build_spec(req, "/r").process->cwd, "/");
  req.workdir = "srv";
  EXPECT_THROW(build_spec(req, "/r"), Error);
  req = basic();
  req.argv.clear();
  EXPECT_THROW(build_spec(req, "/r"), Error);
}

TEST(ContainerSpec, DockersDefaultCapabilitiesWithAddAndDrop) {
  auto s = build_spec(basic(), "/r");
  const auto& caps = *s.process->capabilities;
  EXPECT_EQ(caps.bounding, caps.effective);
  EXPECT_EQ(caps.bounding, caps.permitted);
  EXPECT_TRUE(caps.inheritable.empty());
  EXPECT_TRUE(caps.ambient.empty());
  EXPECT_EQ(caps.bounding.size(), docker_default_capabilities().size());
  EXPECT_TRUE(has(caps.bounding, "CAP_CHOWN"));
  EXPECT_FALSE(has(caps.bounding, "CAP_SYS_ADMIN"));

  auto changed = docker_capabilities(false, {"SYS_ADMIN", "CAP_NET_ADMIN"}, {"chown"});
  EXPECT_TRUE(has(changed, "CAP_SYS_ADMIN"));
  EXPECT_TRUE(has(changed, "CAP_NET_ADMIN"));
  EXPECT_FALSE(has(changed, "CAP_CHOWN"));
  // --cap-drop ALL then --cap-add: only what was added.
  EXPECT_EQ(docker_capabilities(false, {"NET_BIND_SERVICE"}, {"ALL"}), std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_GT(docker_capabilities(true, {}, {}).size(), changed.size());
  EXPECT_THROW(docker_capabilities(false, {"NOT_A_CAP"}, {}), Error);
  EXPECT_THROW(docker_capabilities(false, {}, {"NOT_A_CAP"}), Error);
}

TEST(ContainerSpec, NamespacesByNetworkMode) {
  auto req = basic();
  EXPECT_EQ(namespace_types(build_spec(req, "/r")),
            (std::vector<std::string>{"pid", "mount", "uts", "ipc", "network"}));
  req.network = "host";
  EXPECT_EQ(namespace_types(build_spec(req, "/r")), (std::vector<std::string>{"pid", "mount", "uts", "ipc"}));
  req.network = "none";
  EXPECT_EQ(namespace_types(build_spec(req, "/r")).back(), "network");
  req.network = "container:abc";
  EXPECT_THROW(build_spec(req, "/r"), Error);  // no namespace to join given
  req.network_ns_path = "/proc/42/ns/net";
  EXPECT_EQ(namespace_types(build_spec(req, "/r")).back(), "network=/proc/42/ns/net");
}

TEST(ContainerSpec, BindsReadOnlyRootLimitsDevicesAndSeccompAreCarriedOver) {
  auto req = basic();
  req.read_only = true;
  req.init = true;
  req.binds = {{"/host/a", "/a", false}, {"/host/b", "/b", true}};
  runtime::Resources r;
  r.pids_limit = 100;
  req.resources = r;
  req.cgroup_path = "";
  runtime::Device d;
  d.type = "c";
  d.path = "/dev/fuse";
  req.devices = {d};
  req.rlimits = {{"RLIMIT_NOFILE", 1024, 2048}};
  runtime::Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  req.seccomp = sc;
  auto s = build_spec(req, "/r");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_TRUE(s.minirun.init);
  ASSERT_GE(s.mounts.size(), 2u);
  const auto& a = s.mounts[s.mounts.size() - 2];
  const auto& b = s.mounts.back();
  EXPECT_EQ(a.destination, "/a");
  EXPECT_EQ(a.source, "/host/a");
  EXPECT_EQ(a.options, std::vector<std::string>{"rbind"});
  EXPECT_EQ(b.destination, "/b");
  EXPECT_EQ(b.options, (std::vector<std::string>{"rbind", "ro"}));
  ASSERT_TRUE(s.linux.resources);
  EXPECT_EQ(s.linux.resources->pids_limit.value_or(0), 100);
  ASSERT_EQ(s.linux.devices.size(), 1u);
  EXPECT_EQ(s.linux.devices[0].path, "/dev/fuse");
  ASSERT_EQ(s.process->rlimits.size(), 1u);
  EXPECT_EQ(s.process->rlimits[0].hard, 2048u);
  ASSERT_TRUE(s.linux.seccomp);
  EXPECT_EQ(s.linux.seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.linux.cgroups_path, "");
  // No cgroup: no /sys/fs/cgroup mount.
  for (const auto& m : s.mounts) EXPECT_NE(m.destination, "/sys/fs/cgroup");
}

TEST(ContainerSpec, ARequestFromAStoredRecord) {
  ContainerRecord rec;
  rec.id = "0123456789abcdef0123";
  rec.command = {"/bin/sh", "-c", "true"};
  rec.config = ContainerConfig::parse(R"({"Hostname":"web","Env":["A=1"],"WorkingDir":"/w","Binds":["/h:/c:ro","/x:/y","bad"],)"
                                      R"("NetworkMode":"none","Tty":true,"OpenStdin":true,"Privileged":false,"CapAdd":["NET_ADMIN"],)"
                                      R"("Cgroup":"/minirun/0123","Ulimits":["nofile=100:200"],"SecurityOpt":["seccomp=unconfined"]})");
  auto req = request_from_record(rec, "imageuser");
  EXPECT_EQ(req.id, rec.id);
  EXPECT_EQ(req.hostname, "web");
  EXPECT_EQ(req.argv, rec.command);
  EXPECT_EQ(req.env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(req.user, "imageuser");  // none recorded: the image's
  EXPECT_EQ(req.workdir, "/w");
  ASSERT_EQ(req.binds.size(), 2u);
  EXPECT_EQ(req.binds[0].source, "/h");
  EXPECT_EQ(req.binds[0].target, "/c");
  EXPECT_TRUE(req.binds[0].readonly);
  EXPECT_FALSE(req.binds[1].readonly);
  EXPECT_EQ(req.network, "none");
  EXPECT_TRUE(req.tty);
  EXPECT_TRUE(req.interactive);
  EXPECT_EQ(req.cap_add, std::vector<std::string>{"NET_ADMIN"});
  EXPECT_EQ(req.cgroup_path, "/minirun/0123");
  ASSERT_EQ(req.rlimits.size(), 1u);
  EXPECT_EQ(req.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(req.rlimits[0].soft, 100u);
  EXPECT_EQ(req.rlimits[0].hard, 200u);
  EXPECT_TRUE(req.seccomp_unconfined);

  // An empty record: the defaults (host network, hostname the short id, the image's user).
  ContainerRecord bare;
  bare.id = rec.id;
  bare.command = {"true"};
  auto d = request_from_record(bare, "");
  EXPECT_EQ(d.hostname, "0123456789ab");
  EXPECT_EQ(d.network, "host");
  EXPECT_EQ(d.user, "");
  EXPECT_FALSE(d.seccomp_unconfined);
  bare.config = ContainerConfig::parse("{not json");  // run options it cannot read: the same defaults
  EXPECT_EQ(request_from_record(bare, "").network, "host");
}

TEST(ContainerSpec, StateFilesAndTheInitLayer) {
  TempDir t;
  auto req = basic();
  req.state_dir = t.path();
  req.network = "none";
  write_state_files(req);
  EXPECT_EQ(minirun::test::read_file(t / "hostname"), "0123456789ab\n");
  std::string hosts = minirun::test::read_file(t / "hosts");
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(hosts.find("127.0.1.1\t0123456789ab\n"), std::string::npos);
  // No network: Google's resolvers, as Docker writes them when it has none to copy.
  EXPECT_EQ(minirun::test::read_file(t / "resolv.conf"), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");

  std::string diff = t / "diff";
  fs::create_directory(diff);
  prepare_init_layer(diff);
  for (const char* d : {"dev", "dev/pts", "dev/shm", "proc", "sys", "etc"}) EXPECT_TRUE(fs::is_directory(diff + "/" + d)) << d;
  for (const char* f : {"etc/hostname", "etc/hosts", "etc/resolv.conf", "dev/console"})
    EXPECT_TRUE(fs::is_regular_file(diff + "/" + f)) << f;
  EXPECT_EQ(fs::read_symlink(diff + "/etc/mtab").string(), "/proc/mounts");
  prepare_init_layer(diff);  // again: nothing to do, no error
}
