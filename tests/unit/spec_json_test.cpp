// config.json ⇄ runtime::Spec: the spec's names and defaults, any 1.x version, unknown fields
// ignored, wrong types and unsupported features refused by name.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "minirun/runtime/spec_json.h"
#include "minirun/util/error.h"

using namespace minirun;
using namespace minirun::runtime;
using nlohmann::json;

namespace {

json minimal() {
  return json::parse(R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},
    "process":{"args":["sh"],"cwd":"/","user":{"uid":0,"gid":0}}})");
}

}  // namespace

TEST(SpecJson, ReadsTheFieldsMinirunUses) {
  json j = json::parse(R"({
    "ociVersion": "1.3.0", "hostname": "box", "domainname": "example",
    "root": {"path": "rootfs", "readonly": true},
    "process": {"terminal": true, "user": {"uid": 1000, "gid": 100, "additionalGids": [5, 6], "umask": 18},
      "args": ["sh", "-c", "true"], "env": ["A=1"], "cwd": "/work",
      "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
      "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048}],
      "noNewPrivileges": true, "oomScoreAdj": 100, "someFutureField": {"x": 1}},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind", "ro"]}],
    "hooks": {"prestart": [{"path": "/bin/true", "args": ["true"], "timeout": 5}],
              "poststop": [{"path": "/bin/false"}]},
    "annotations": {"a": "b"},
    "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
      "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438}],
      "cgroupsPath": "/minirun/x",
      "resources": {"memory": {"limit": 67108864}, "pids": {"limit": 100},
                    "cpu": {"quota": 50000, "period": 100000, "cpus": "0"},
                    "devices": [{"allow": false, "access": "rwm"}]},
      "sysctl": {"net.ipv4.ip_forward": "1"},
      "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                  "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
      "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"], "rootfsPropagation": "rslave"}})");
  Spec s = spec_from_json(j);
  EXPECT_EQ(s.oci_version, "1.3.0");
  EXPECT_EQ(s.hostname, "box");
  EXPECT_EQ(s.domainname, "example");
  EXPECT_TRUE(s.root.readonly);
  ASSERT_TRUE(s.process);
  EXPECT_TRUE(s.process->terminal);
  EXPECT_EQ(s.process->user.uid, 1000u);
  EXPECT_EQ(s.process->user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(s.process->user.umask, 18u);
  EXPECT_EQ(s.process->cwd, "/work");
  EXPECT_EQ(s.process->capabilities->bounding, std::vector<std::string>{"CAP_KILL"});
  EXPECT_TRUE(s.process->capabilities->ambient.empty());
  ASSERT_EQ(s.process->rlimits.size(), 1u);
  EXPECT_EQ(s.process->rlimits[0].hard, 2048u);
  EXPECT_TRUE(s.process->no_new_privileges);
  EXPECT_EQ(s.process->oom_score_adj, 100);
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[1].options, (std::vector<std::string>{"rbind", "ro"}));
  ASSERT_EQ(s.hooks.prestart.size(), 1u);
  EXPECT_EQ(s.hooks.prestart[0].timeout, 5);
  EXPECT_EQ(s.hooks.poststop[0].path, "/bin/false");
  EXPECT_EQ(s.annotations.at("a"), "b");
  ASSERT_NE(s.linux.find_namespace("network"), nullptr);
  EXPECT_EQ(s.linux.find_namespace("network")->path, "/proc/1/ns/net");
  EXPECT_EQ(s.linux.find_namespace("mount"), nullptr);
  EXPECT_EQ(s.linux.devices[0].file_mode, 438u);
  EXPECT_EQ(s.linux.resources->memory->limit, 67108864);
  EXPECT_EQ(s.linux.resources->pids_limit, 100);
  EXPECT_EQ(s.linux.resources->cpu->cpus, "0");
  EXPECT_FALSE(s.linux.resources->devices[0].allow);
  EXPECT_EQ(s.linux.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(s.linux.seccomp->syscalls[0].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(s.linux.rootfs_propagation, "rslave");

  // What is written reads back the same.
  Spec again = spec_from_json(spec_to_json(s));
  EXPECT_EQ(spec_to_json(again), spec_to_json(s));
}

TEST(SpecJson, DefaultsAreTheSpecs) {
  Spec s = spec_from_json(minimal());
  EXPECT_FALSE(s.process->terminal);
  EXPECT_FALSE(s.root.readonly);
  EXPECT_FALSE(s.process->capabilities);
  EXPECT_TRUE(s.mounts.empty());
  EXPECT_TRUE(s.hooks.empty());
  EXPECT_FALSE(s.linux.resources);
}

TEST(SpecJson, AnyOneDotXVersionOnly) {
  for (const char* v : {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.3.0"}) {
    json j = minimal();
    j["ociVersion"] = v;
    EXPECT_NO_THROW(spec_from_json(j)) << v;
  }
  for (const char* v : {"2.0.0", "0.9", ""}) {
    json j = minimal();
    j["ociVersion"] = v;
    EXPECT_THROW(spec_from_json(j), Error) << v;
  }
}

TEST(SpecJson, RefusesWhatItCannotReadByName) {
  auto message = [](json j) {
    try {
      spec_from_json(j);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  json j = minimal();
  j["process"]["args"] = "sh";
  EXPECT_NE(message(j).find("process.args"), std::string::npos) << message(j);
  j = minimal();
  j["process"]["cwd"] = "relative";
  EXPECT_NE(message(j).find("process.cwd"), std::string::npos);
  j = minimal();
  j["linux"]["namespaces"] = json::parse(R"([{"type":"pid"},{"type":"pid"}])");
  EXPECT_NE(message(j).find("duplicate"), std::string::npos);
  j = minimal();
  j["linux"]["namespaces"] = json::parse(R"([{"type":"bogus"}])");
  EXPECT_NE(message(j).find("bogus"), std::string::npos);
  j = minimal();
  j["mounts"] = json::parse(R"([{"destination":"/x","type":"bind","source":"/y","uidMappings":[]}])");
  EXPECT_NE(message(j).find("idmapped"), std::string::npos);
  j = minimal();
  j["hooks"] = json::parse(R"({"startContainer":[{"path":"/bin/true"}]})");
  EXPECT_EQ(message(j), "no error");
  j["hooks"] = json::parse(R"({"createContainer":[{"args":["x"]}]})");
  EXPECT_NE(message(j).find("hooks.createContainer"), std::string::npos) << message(j);  // no path
  j["hooks"] = json::parse(R"({"createContainer":[],"startContainer":null,"prestart":[{"path":"/bin/true"}]})");
  EXPECT_EQ(message(j), "no error");  // empty lists ask for nothing
  j = minimal();
  j["linux"]["intelRdt"] = json::object();
  EXPECT_NE(message(j).find("intelRdt"), std::string::npos);
  j = minimal();
  j.erase("root");
  EXPECT_NE(message(j).find("root"), std::string::npos);
  j = minimal();
  j["linux"]["resources"] = json::parse(R"({"memory":{"limit":"lots"}})");
  EXPECT_NE(message(j).find("linux.resources.memory.limit"), std::string::npos) << message(j);
}
