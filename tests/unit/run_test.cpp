// The run options a container's record keeps (engine/run.h: run_config, through its JSON) read back by
// request_from_record (container_spec.h), without root: every later start, restart and exec builds
// the same runtime spec as the first run did, for every field `run` takes.
#include <gtest/gtest.h>

#include "minirun/engine/container_spec.h"
#include "minirun/engine/resource_flags.h"
#include "minirun/engine/run.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/spec_json.h"

using namespace minirun;

namespace {

// A request as `run` builds it from these flags (engine/run.cpp), every field set.
struct Built {
  RunRequest flags;
  ContainerRequest req;
};

Built everything_set() {
  Built b;
  RunRequest& f = b.flags;
  f.user = "4242:4343";
  f.entrypoint = "/bin/sh";
  f.volumes = {"/srv:/data:ro", "/tmp:/scratch"};
  f.security_opts = {"no-new-privileges"};
  f.cgroup_parent = "/custom";
  f.limits.ulimits = {"nofile=100:200", "core=0"};
  ContainerRequest& r = b.req;
  r.id = std::string(64, 'a');
  r.hostname = "box";
  r.argv = {"/bin/sh", "-c", "echo hi"};
  r.env = {"PATH=/usr/bin:/bin", "FOO=bar"};
  r.user = f.user;
  r.workdir = "/work";
  r.binds = {{"/srv", "/data", true}, {"/tmp", "/scratch", false}};
  r.network = "none";
  r.read_only = r.init = r.tty = true;
  r.interactive = false;  // a start never keeps stdin (rebuild_container_spec)
  r.no_new_privileges = true;
  r.cap_add = {"NET_ADMIN"};
  r.cap_drop = {"CHOWN"};
  r.cgroup_path = runtime::container_cgroup_path(r.id, f.cgroup_parent);
  runtime::Resources res;
  res.memory = runtime::MemoryResources{};
  res.memory->limit = 64 << 20;
  res.pids_limit = 99;
  r.resources = res;
  auto [dev, rule] = device_from_mapping(parse_device_flag("/dev/null:/dev/mynull:rw"));
  r.devices = {dev};
  for (const auto& u : f.limits.ulimits) r.rlimits.push_back(parse_ulimit(u));
  r.state_dir = "/nonexistent-state";
  return b;
}

}  // namespace

TEST(RunOptions, AStoredContainersSpecIsTheFirstRunsForEveryField) {
  Built b = everything_set();
  ContainerRecord rec;
  rec.id = b.req.id;
  rec.command = b.req.argv;
  rec.config = ContainerConfig::from_json(run_config(b.req, b.flags).to_json());
  ContainerRequest back = request_from_record(rec, "imageuser");
  back.state_dir = b.req.state_dir;
  // Field by field, then the runtime spec both give.
  EXPECT_EQ(back.hostname, b.req.hostname);
  EXPECT_EQ(back.argv, b.req.argv);
  EXPECT_EQ(back.env, b.req.env);
  EXPECT_EQ(back.user, b.req.user);
  EXPECT_EQ(back.workdir, b.req.workdir);
  ASSERT_EQ(back.binds.size(), 2u);
  EXPECT_EQ(std::make_tuple(back.binds[0].source, back.binds[0].target, back.binds[0].readonly),
            std::make_tuple(std::string("/srv"), std::string("/data"), true));
  EXPECT_EQ(back.network, "none");
  EXPECT_TRUE(back.read_only && back.init && back.tty && back.no_new_privileges);
  EXPECT_EQ(back.cap_add, b.req.cap_add);
  EXPECT_EQ(back.cap_drop, b.req.cap_drop);
  EXPECT_EQ(back.cgroup_path, b.req.cgroup_path);
  ASSERT_TRUE(back.resources);
  EXPECT_EQ(runtime::resources_to_json(*back.resources), runtime::resources_to_json(*b.req.resources));
  ASSERT_EQ(back.devices.size(), 1u);
  EXPECT_EQ(back.devices[0].path, "/dev/mynull");
  EXPECT_EQ(back.devices[0].major, b.req.devices[0].major);
  EXPECT_EQ(back.devices[0].minor, b.req.devices[0].minor);
  EXPECT_EQ(back.rlimits.size(), 2u);
  EXPECT_EQ(runtime::spec_to_json(build_spec(back, "/root")), runtime::spec_to_json(build_spec(b.req, "/root")));
}

// Without -u the image's USER applies at every start, as at the first.
TEST(RunOptions, NoUserFlagMeansTheImagesUser) {
  Built b = everything_set();
  b.flags.user.clear();
  ContainerRecord rec;
  rec.id = b.req.id;
  rec.config = ContainerConfig::from_json(run_config(b.req, b.flags).to_json());
  EXPECT_EQ(request_from_record(rec, "imageuser").user, "imageuser");
}
