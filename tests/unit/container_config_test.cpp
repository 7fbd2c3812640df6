// ContainerConfig (store/container_config.h): the one writer and the one reader of a container's
// run options. Every field survives the writer and the reader; the reader ignores what it does not
// know and keeps its defaults for what is missing or of another type; records written by earlier
// minirun builds (state.json files copied from a store) still read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "minirun/store/container_config.h"
#include "minirun/store/store.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;

namespace {

// Every field set to a value other than its default: a field the writer or the reader forgets
// comes back different.
ContainerConfig every_field_set() {
  ContainerConfig c;
  c.hostname = "web";
  c.user = "1000:1000";
  c.working_dir = "/w";
  c.entrypoint = "/bin/sh";
  c.env = {"A=1", "B=2"};
  c.cmd = {"-c", "echo hi"};
  c.tty = true;
  c.open_stdin = true;
  c.stdin_once = true;
  c.healthcheck = ConfigHealthcheck{{"CMD-SHELL", "true"}, 2000000000, 3000000000, 4000000000, 5000000000, 6};
  c.stop_signal = "SIGINT";
  c.stop_timeout = 7;
  c.network_mode = "bridge";
  c.binds = {"/tmp:/mnt:ro"};
  c.readonly_rootfs = true;
  c.init = true;
  c.privileged = true;
  c.no_new_privileges = true;
  c.cap_add = {"NET_ADMIN"};
  c.cap_drop = {"CHOWN"};
  c.security_opt = {"no-new-privileges", "seccomp=unconfined"};
  c.ulimits = {"nofile=100:200"};
  c.cgroup_parent = "/custom";
  c.cgroup = "/custom/abc";
  c.resources = {{"memory", {{"limit", 67108864}}}, {"pids", {{"limit", 50}}}};
  c.devices = {ConfigDevice{"b", "/dev/xda", 8, 1, 0660, 1, 2}};
  c.restart_policy = ConfigRestartPolicy{"on-failure", 3};
  c.log_config = ConfigLog{"none", {"max-size=1m"}};
  ConfigNetworkPlan p;
  p.mode = "user";
  p.network_mode = "net1";
  p.ns_path = "/proc/1/ns/net";
  p.peer_id = "peer";
  p.network = "net1";
  p.ip = "10.1.0.5";
  p.mac = "02:42:0a:01:00:05";
  p.ports = {ConfigPort{"127.0.0.1", 8080, 80, "udp"}};
  p.extra_hosts = {{"h", "10.0.0.9"}};
  p.dns = {"1.1.1.1"};
  p.dns_search = {"example.com"};
  p.dns_options = {"ndots:2"};
  c.network_plan = p;
  return c;
}

// A container made by `create` with most flags, as an earlier minirun wrote its state.json.
const std::string kCreated = R"~({"auto_remove":false,"command":["/bin/sh","-c","echo hi"],"container_pid":0,"created":"2026-12-07T19)~"
                             R"~(:38:33.396288842Z","error":"","exit_code":0,"finished":"","id":"56679ca7fd698b068c899388c6ff91879f36)~"
                             R"~(6481ab9600364e0af43ca7590b82","image_id":"f934d2784f47e4acd508c65f528b2fb0ce66958103606f9409b787c0cf)~"
                             R"~(07ae92","image_ref":"t/bb","name":"full","oom_killed":false,"pid":0,"restart_count":0,"spec":"{\"Bin)~"
                             R"~(ds\":[\"/tmp:/mnt:ro\"],\"CapAdd\":[\"NET_ADMIN\"],\"CapDrop\":[\"CHOWN\"],\"Cgroup\":\"minirun/5667)~"
                             R"~(9ca7fd698b068c899388c6ff91879f366481ab9600364e0af43ca7590b82\",\"CgroupParent\":\"minirun\",\"Cmd\":)~"
                             R"~([\"/bin/sh\",\"-c\",\"echo hi\"],\"Entrypoint\":\"/bin/sh\",\"Env\":[\"A=1\"],\"Healthcheck\":{\"Int)~"
                             R"~(erval\":2000000000,\"Retries\":4,\"Test\":[\"CMD-SHELL\",\"true\"]},\"Hostname\":\"web\",\"Init\":tr)~"
                             R"~(ue,\"NetworkMode\":\"bridge\",\"NetworkPlan\":{\"Dns\":[\"1.1.1.1\"],\"DnsOptions\":[\"ndots:2\"],\")~"
                             R"~(DnsSearch\":[\"example.com\"],\"ExtraHosts\":[[\"h\",\"10.0.0.9\"]],\"Ip\":\"\",\"Mac\":\"\",\"Mode\)~"
                             R"~(":\"bridge\",\"Network\":\"bridge\",\"NetworkMode\":\"bridge\",\"NsPath\":\"\",\"PeerId\":\"\",\"Por)~"
                             R"~(ts\":[{\"ContainerPort\":80,\"HostIp\":\"127.0.0.1\",\"HostPort\":8080,\"Proto\":\"tcp\"}]},\"OpenSt)~"
                             R"~(din\":true,\"Privileged\":false,\"ReadonlyRootfs\":true,\"Resources\":{\"cpu\":{\"period\":100000,\")~"
                             R"~(quota\":50000},\"devices\":[{\"access\":\"rwm\",\"allow\":false,\"type\":\"a\"},{\"access\":\"m\",\")~"
                             R"~(allow\":true,\"type\":\"c\"},{\"access\":\"m\",\"allow\":true,\"type\":\"b\"},{\"access\":\"rwm\",\")~"
                             R"~(allow\":true,\"major\":1,\"minor\":3,\"type\":\"c\"},{\"access\":\"rwm\",\"allow\":true,\"major\":1,)~"
                             R"~(\"minor\":5,\"type\":\"c\"},{\"access\":\"rwm\",\"allow\":true,\"major\":1,\"minor\":7,\"type\":\"c\)~"
                             R"~("},{\"access\":\"rwm\",\"allow\":true,\"major\":1,\"minor\":8,\"type\":\"c\"},{\"access\":\"rwm\",\")~"
                             R"~(allow\":true,\"major\":1,\"minor\":9,\"type\":\"c\"},{\"access\":\"rwm\",\"allow\":true,\"major\":5,)~"
                             R"~(\"minor\":0,\"type\":\"c\"},{\"access\":\"rwm\",\"allow\":true,\"major\":5,\"minor\":1,\"type\":\"c\)~"
                             R"~("},{\"access\":\"rwm\",\"allow\":true,\"major\":5,\"minor\":2,\"type\":\"c\"},{\"access\":\"rwm\",\")~"
                             R"~(allow\":true,\"major\":136,\"type\":\"c\"},{\"access\":\"rwm\",\"allow\":true,\"major\":10,\"minor\")~"
                             R"~(:200,\"type\":\"c\"},{\"access\":\"rwm\",\"allow\":true,\"major\":1,\"minor\":3,\"type\":\"c\"}],\"m)~"
                             R"~(emory\":{\"limit\":67108864,\"swap\":134217728},\"pids\":{\"limit\":50}},\"SecurityOpt\":[\"no-new-p)~"
                             R"~(rivileges\"],\"StdinOnce\":true,\"Tty\":true,\"Ulimits\":[\"nofile=100:200\"],\"User\":\"1000\",\"Wo)~"
                             R"~(rkingDir\":\"/w\"}","started":"","status":"created"})~";

// A container made by `create --network none` and started (RestartPolicy, LogConfig recorded).
const std::string kStarted = R"~({"auto_remove":false,"command":["/bin/busybox","true"],"container_pid":0,"created":"2026-12-07T19:38)~"
                             R"~(:37.830039615Z","error":"","exit_code":0,"finished":"2026-12-07T19:38:38.803646880Z","id":"3583ea75e)~"
                             R"~(7c3693b5e91034230eb355c63c9ce2c22cd5653238fb5c32071b01a","image_id":"f934d2784f47e4acd508c65f528b2fb)~"
                             R"~(0ce66958103606f9409b787c0cf07ae92","image_ref":"t/bb","name":"started","oom_killed":false,"pid":0,"r)~"
                             R"~(estart_count":0,"spec":"{\"Binds\":[],\"CapAdd\":[],\"CapDrop\":[],\"Cgroup\":\"\",\"CgroupParent\":)~"
                             R"~(\"minirun\",\"Cmd\":[\"/bin/busybox\",\"true\"],\"Entrypoint\":\"\",\"Env\":[],\"Hostname\":\"3583ea)~"
                             R"~(75e7c3\",\"Init\":false,\"LogConfig\":{\"Opts\":[],\"Type\":\"json-file\"},\"NetworkMode\":\"none\",)~"
                             R"~(\"NetworkPlan\":{\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":[],\"Ip\":\"\",\"Mac\")~"
                             R"~(:\"\",\"Mode\":\"none\",\"Network\":\"bridge\",\"NetworkMode\":\"none\",\"NsPath\":\"\",\"PeerId\":\)~"
                             R"~("\",\"Ports\":[]},\"OpenStdin\":false,\"Privileged\":false,\"ReadonlyRootfs\":false,\"Resources\":nu)~"
                             R"~(ll,\"RestartPolicy\":{\"MaximumRetryCount\":0,\"Name\":\"no\"},\"SecurityOpt\":[\"seccomp=unconfined)~"
                             R"~(\"],\"Tty\":false,\"Ulimits\":[],\"User\":\"\",\"WorkingDir\":\"\"}","started":"2026-12-07T19:38:37.)~"
                             R"~(911990851Z","status":"exited"})~";

}  // namespace

TEST(ContainerConfig, EveryFieldRoundTrips) {
  const ContainerConfig c = every_field_set();
  EXPECT_NE(c, ContainerConfig{});
  EXPECT_EQ(ContainerConfig::from_json(c.to_json()), c);
  EXPECT_EQ(ContainerConfig::parse(c.to_json().dump()), c);
  // Each field on its own: one the writer or the reader misses shows by name here.
  const ContainerConfig back = ContainerConfig::from_json(c.to_json());
  EXPECT_EQ(back.healthcheck, c.healthcheck);
  EXPECT_EQ(back.devices, c.devices);
  EXPECT_EQ(back.network_plan, c.network_plan);
  EXPECT_EQ(back.restart_policy, c.restart_policy);
  EXPECT_EQ(back.log_config, c.log_config);
  EXPECT_EQ(back.resources, c.resources);
}

TEST(ContainerConfig, TheDefaultsRoundTripAndTheOptionalKeysStayOut) {
  const ContainerConfig d;
  const auto j = d.to_json();
  EXPECT_EQ(ContainerConfig::from_json(j), d);
  for (const char* key : {"StdinOnce", "Cgroup", "Healthcheck", "StopSignal", "StopTimeout", "RestartPolicy", "LogConfig",
                          "NetworkPlan"})
    EXPECT_FALSE(j.contains(key)) << key;
  EXPECT_TRUE(j["Resources"].is_null());
  // An empty Cgroup (--cgroups=disabled) is kept: it is not the absent one (the parent's path).
  ContainerConfig none;
  none.cgroup = "";
  EXPECT_EQ(ContainerConfig::from_json(none.to_json()).cgroup, std::optional<std::string>(""));
}

TEST(ContainerConfig, UnknownKeysAreIgnoredAndWrongTypesKeepTheDefaults) {
  auto j = every_field_set().to_json();
  j["SomethingNew"] = {{"x", 1}};
  j["NetworkPlan"]["Later"] = true;
  EXPECT_EQ(ContainerConfig::from_json(j), every_field_set());

  auto c = ContainerConfig::parse(R"({"Tty":"yes","Env":"A=1","StopTimeout":"7","Hostname":"web",)"
                                  R"("Healthcheck":{"Test":"not a list"},"RestartPolicy":[],"Devices":[1,{"path":"/dev/x"}]})");
  EXPECT_FALSE(c.tty);
  EXPECT_TRUE(c.env.empty());
  EXPECT_FALSE(c.stop_timeout);
  EXPECT_EQ(c.hostname, "web");
  EXPECT_FALSE(c.healthcheck);  // a check it cannot read: none
  EXPECT_FALSE(c.restart_policy);
  ASSERT_EQ(c.devices.size(), 1u);
  EXPECT_EQ(c.devices[0].path, "/dev/x");
  EXPECT_EQ(c.devices[0].type, "c");
  // Not JSON, or not an object: the defaults (a record without run options).
  EXPECT_EQ(ContainerConfig::parse("{not json"), ContainerConfig{});
  EXPECT_EQ(ContainerConfig::parse("[1]"), ContainerConfig{});
  EXPECT_EQ(ContainerConfig::parse(""), ContainerConfig{});
  EXPECT_EQ(ContainerConfig{}.network_mode, "host");
}

TEST(ContainerConfig, ARecordOfAnEarlierMinirunReads) {
  TempDir t;
  Store store(t / "store");
  const std::string created = "56679ca7fd698b068c899388c6ff91879f366481ab9600364e0af43ca7590b82";
  const std::string started = "3583ea75e7c3693b5e91034230eb355c63c9ce2c22cd5653238fb5c32071b01a";
  for (const auto& [id, text] : {std::pair{created, kCreated}, std::pair{started, kStarted}}) {
    std::filesystem::create_directories(store.container_dir(id));
    std::ofstream(store.container_dir(id) + "/state.json") << text;
  }
  auto r = store.container(created);
  ASSERT_TRUE(r);
  const ContainerConfig& c = r->config;
  EXPECT_EQ(c.hostname, "web");
  EXPECT_EQ(c.user, "1000");
  EXPECT_EQ(c.working_dir, "/w");
  EXPECT_EQ(c.entrypoint, "/bin/sh");
  EXPECT_EQ(c.env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_TRUE(c.tty);
  EXPECT_TRUE(c.open_stdin);
  EXPECT_TRUE(c.stdin_once);
  EXPECT_TRUE(c.readonly_rootfs);
  EXPECT_TRUE(c.init);
  EXPECT_FALSE(c.privileged);
  EXPECT_EQ(c.binds, std::vector<std::string>{"/tmp:/mnt:ro"});
  EXPECT_EQ(c.cap_add, std::vector<std::string>{"NET_ADMIN"});
  EXPECT_EQ(c.cap_drop, std::vector<std::string>{"CHOWN"});
  EXPECT_EQ(c.security_opt, std::vector<std::string>{"no-new-privileges"});
  EXPECT_EQ(c.ulimits, std::vector<std::string>{"nofile=100:200"});
  EXPECT_EQ(c.cgroup_parent, "minirun");
  EXPECT_EQ(c.cgroup, "minirun/" + created);
  EXPECT_EQ(c.network_mode, "bridge");
  ASSERT_TRUE(c.resources.is_object());
  EXPECT_EQ(c.resources["memory"]["limit"], 67108864);
  EXPECT_EQ(c.resources["pids"]["limit"], 50);
  ASSERT_TRUE(c.healthcheck);
  EXPECT_EQ(c.healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "true"}));
  EXPECT_EQ(c.healthcheck->interval, 2000000000);
  EXPECT_EQ(c.healthcheck->retries, 4);
  ASSERT_TRUE(c.network_plan);
  EXPECT_EQ(c.network_plan->mode, "bridge");
  EXPECT_EQ(c.network_plan->dns, std::vector<std::string>{"1.1.1.1"});
  EXPECT_EQ(c.network_plan->dns_search, std::vector<std::string>{"example.com"});
  EXPECT_EQ(c.network_plan->dns_options, std::vector<std::string>{"ndots:2"});
  EXPECT_EQ(c.network_plan->extra_hosts, (std::vector<std::pair<std::string, std::string>>{{"h", "10.0.0.9"}}));
  ASSERT_EQ(c.network_plan->ports.size(), 1u);
  EXPECT_EQ(c.network_plan->ports[0], (ConfigPort{"127.0.0.1", 8080, 80, "tcp"}));
  EXPECT_FALSE(c.restart_policy);  // recorded at the first start
  // That build wrote no Devices nor NoNewPrivileges: the defaults.
  EXPECT_TRUE(c.devices.empty());
  EXPECT_FALSE(c.no_new_privileges);

  auto s = store.container(started);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->config.network_mode, "none");
  EXPECT_EQ(s->config.cgroup, std::optional<std::string>(""));
  EXPECT_TRUE(s->config.resources.is_null());
  EXPECT_EQ(s->config.restart_policy, (ConfigRestartPolicy{"no", 0}));
  EXPECT_EQ(s->config.log_config, (ConfigLog{"json-file", {}}));
  EXPECT_EQ(s->config.security_opt, std::vector<std::string>{"seccomp=unconfined"});
  EXPECT_FALSE(s->config.healthcheck);
}

TEST(ContainerConfig, TodaysRecordIsWrittenBackKeyForKey) {
  // The run options of kCreated with the keys today's `run` adds (Devices, NoNewPrivileges):
  // read and written again, the same JSON, so inspect's Config shows the same.
  auto spec = nlohmann::json::parse(nlohmann::json::parse(kCreated)["spec"].get<std::string>());
  spec["Devices"] = {{{"type", "c"}, {"path", "/dev/xnull"}, {"major", 1}, {"minor", 3}, {"fileMode", 8630}, {"uid", 0}, {"gid", 0}}};
  spec["NoNewPrivileges"] = true;
  spec["RestartPolicy"] = {{"Name", "on-failure"}, {"MaximumRetryCount", 3}};
  spec["LogConfig"] = {{"Type", "json-file"}, {"Opts", {"max-size=1m"}}};
  spec["StopSignal"] = "SIGINT";
  spec["StopTimeout"] = 7;
  EXPECT_EQ(ContainerConfig::from_json(spec).to_json(), spec);
  EXPECT_EQ(ContainerConfig::parse(spec.dump()).to_json().dump(), spec.dump());
}
