// minirun-runtime as an engine drives it (runc's command line), on bundles minirun exports:
// the same output as `minirun run` and as runc (when installed), the create/start/state/kill/
// delete lifecycle, exec, hooks with the state on stdin, and errors.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "testutil.h"

using namespace minirun::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string runtime_binary() { return fs::path(MINIRUN_BINARY).parent_path() / "minirun-runtime"; }

class Runtime : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    t_ = std::make_unique<TempDir>("minirun-runtime-");
    write_file(*t_ / "rootfs.tar", busybox_rootfs().build());
    ASSERT_EQ(mr({"import", "-c", "CMD [\"/bin/sh\"]", *t_ / "rootfs.tar", "t/bb"}).code, 0);
  }
  void TearDown() override {
    if (!t_) return;
    // Whatever a failed test left running is killed, its state removed.
    for (const auto& id : {"c1", "c2", "c3"}) rt({"delete", "--force", id});
    EXPECT_TRUE(mounts_under(t_->path()).empty()) << "a mount was left on the host";
  }
  CmdResult mr(std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", *t_ / "store"});
    return run_cmd(args);
  }
  CmdResult rt(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {runtime_binary(), "--root", *t_ / "state"});
    return run_cmd(args, input);
  }
  // create and run --detach: the container keeps the runtime's stdout and stderr (as conmon's
  // pipes), so they go to files, not to pipes this test would read to their end.
  CmdResult rt_leaving(std::vector<std::string> args) {
    std::string cmd = runtime_binary() + " --root " + (*t_ / "state");
    for (const auto& a : args) cmd += " '" + a + "'";
    auto r = run_cmd({"/bin/sh", "-c", cmd + " >" + (*t_ / "out") + " 2>" + (*t_ / "err")});
    r.out = read_file(*t_ / "out");
    r.err = read_file(*t_ / "err");
    return r;
  }
  // A bundle of t/bb whose process runs args.
  std::string bundle(const std::string& name, const std::vector<std::string>& args,
                     const std::function<void(json&)>& edit = {}) {
    std::string dir = *t_ / name;
    auto r = mr({"export", "--bundle", dir, "t/bb"});
    EXPECT_EQ(r.code, 0) << r.err;
    json j = json::parse(read_file(dir + "/config.json"));
    j["process"]["args"] = args;
    if (edit) edit(j);
    write_file(dir + "/config.json", j.dump());
    return dir;
  }
  std::string status(const std::string& id) {
    auto r = rt({"state", id});
    if (r.code != 0) return "error: " + r.err;
    return json::parse(r.out).at("status").get<std::string>();
  }
  std::unique_ptr<TempDir> t_;
};

const char* kProbe =
    "id; ls /dev; grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/self/status; cat /proc/1/cmdline | tr '\\0' ' '; "
    "echo; ls /; cat /etc/hosts | head -1; touch /sys/x 2>&1 | sed 's/.*: //'";

}  // namespace

TEST_F(Runtime, ABundleRunsAsMinirunRunsTheImage) {
  auto ran = mr({"run", "--rm", "t/bb", "sh", "-c", kProbe});
  ASSERT_EQ(ran.code, 0) << ran.err;
  std::string dir = bundle("b", {"sh", "-c", kProbe});
  ASSERT_TRUE(fs::exists(dir + "/rootfs/bin/busybox"));
  auto r = run_cmd({"/bin/sh", "-c", "cd " + dir + " && " + runtime_binary() + " --root " + (*t_ / "state") + " run c1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, ran.out);
  EXPECT_NE(r.out.find("uid=0(root)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
  if (access("/usr/sbin/runc", X_OK) != 0) {
    GTEST_SKIP() << "runc is not installed: minirun-runtime and minirun run agree; runc not compared";
  }
  auto rc = run_cmd({"/bin/sh", "-c", "cd " + dir + " && runc --root " + (*t_ / "runc") + " run c1"});
  ASSERT_EQ(rc.code, 0) << rc.err;
  EXPECT_EQ(rc.out, r.out);
}

TEST_F(Runtime, CreateStartStateKillDeleteAsRunc) {
  std::string dir = bundle("b", {"sh", "-c", "echo started > /tmp/started; exec sleep 1000"});
  auto c = rt_leaving({"create", "--bundle", dir, "--pid-file", *t_ / "pid", "c1"});
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(status("c1"), "created");
  pid_t pid = std::stoi(read_file(*t_ / "pid"));
  auto st = json::parse(rt({"state", "c1"}).out);
  EXPECT_EQ(st.at("pid").get<pid_t>(), pid);
  EXPECT_EQ(st.at("bundle").get<std::string>(), dir);
  EXPECT_EQ(st.at("id").get<std::string>(), "c1");
  // Created, not started: the command has not run.
  EXPECT_FALSE(fs::exists(dir + "/rootfs/tmp/started"));
  EXPECT_NE(rt_leaving({"create", "--bundle", dir, "c1"}).code, 0) << "a second container with the same id";
  ASSERT_EQ(rt({"start", "c1"}).code, 0);
  EXPECT_EQ(status("c1"), "running");
  EXPECT_NE(rt({"start", "c1"}).code, 0) << "started twice";
  auto e = rt({"exec", "c1", "sh", "-c", "cat /tmp/started; hostname; echo $$"});
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("started\n"), std::string::npos) << e.out;
  auto ex = rt({"exec", "c1", "sh", "-c", "exit 7"});
  EXPECT_EQ(ex.code, 7);
  auto ps = rt({"ps", "--format", "json", "c1"});
  ASSERT_EQ(ps.code, 0) << ps.err;
  auto pids = json::parse(ps.out);
  EXPECT_EQ(pids.size(), 1u);
  EXPECT_EQ(pids[0].get<pid_t>(), pid);
  auto del = rt({"delete", "c1"});
  EXPECT_NE(del.code, 0) << "a running container is not deleted without --force";
  EXPECT_NE(del.err.find("not stopped"), std::string::npos) << del.err;
  ASSERT_EQ(rt({"kill", "c1", "KILL"}).code, 0);
  for (int i = 0; i < 200 && status("c1") != "stopped"; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(status("c1"), "stopped");
  EXPECT_NE(rt({"kill", "c1", "TERM"}).code, 0) << "kill of a stopped container";
  EXPECT_EQ(rt({"delete", "c1"}).code, 0);
  EXPECT_NE(rt({"state", "c1"}).code, 0);
  EXPECT_EQ(rt({"list", "-q"}).out, "");
}

// containerd's shim names a --root (/run/containerd/runc/<namespace>) that nothing may have made
// yet: it is made with its missing parents, 0700, as runc makes it.
TEST_F(Runtime, AMissingRootIsMade) {
  std::string dir = bundle("b", {"sleep", "1000"});
  const std::string root = *t_ / "run/containerd/runc/default";
  auto c = run_cmd({"/bin/sh", "-c", runtime_binary() + " --root " + root + " create --bundle " + dir + " c3 >" +
                                         (*t_ / "out") + " 2>" + (*t_ / "err")});
  EXPECT_EQ(c.code, 0) << read_file(*t_ / "err");
  struct stat st;
  ASSERT_EQ(::stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((*t_ / "run/containerd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(run_cmd({runtime_binary(), "--root", root, "delete", "--force", "c3"}).code, 0);
}

TEST_F(Runtime, DeleteForceKillsAndSignalsByNumberAndName) {
  std::string dir = bundle("b", {"sleep", "1000"});
  ASSERT_EQ(rt_leaving({"run", "--detach", "--bundle", dir, "c2"}).code, 0);
  EXPECT_EQ(status("c2"), "running");
  EXPECT_NE(rt({"kill", "c2", "NOSUCHSIG"}).code, 0);
  ASSERT_EQ(rt({"kill", "c2", "15"}).code, 0);  // sleep as pid 1 ignores TERM
  ASSERT_EQ(rt({"pause", "c2"}).code, 0);
  EXPECT_EQ(status("c2"), "paused");
  ASSERT_EQ(rt({"resume", "c2"}).code, 0);
  EXPECT_EQ(status("c2"), "running");
  ASSERT_EQ(rt({"delete", "--force", "c2"}).code, 0);
  EXPECT_NE(rt({"state", "c2"}).code, 0);
}

TEST_F(Runtime, HooksGetTheStateOnStdin) {
  std::string log = *t_ / "hooks";
  std::string dir = bundle("b", {"true"}, [&](json& j) {
    for (const char* kind : {"prestart", "createRuntime", "poststart", "poststop"})
      j["hooks"][kind] = json::array(
          {{{"path", "/bin/sh"}, {"args", {"sh", "-c", std::string("cat >> ") + log + "; echo ' " + kind + "' >> " + log}}}});
  });
  auto r = run_cmd({"/bin/sh", "-c", "cd " + dir + " && " + runtime_binary() + " --root " + (*t_ / "state") + " run c3"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string got = read_file(log);
  size_t at = 0;
  for (const char* kind : {"prestart", "createRuntime", "poststart", "poststop"}) {
    size_t k = got.find(std::string(" ") + kind, at);
    ASSERT_NE(k, std::string::npos) << kind << " missing or out of order in: " << got;
    at = k;
  }
  EXPECT_NE(got.find("\"id\":\"c3\""), std::string::npos) << got;
  EXPECT_NE(got.find("\"bundle\":\"" + dir + "\""), std::string::npos) << got;
}

// runtime-spec: prestart and createRuntime run in the runtime's namespaces once the mounts are
// made and before pivot_root (the process's root is still the host's); createContainer at that
// moment in the container's namespaces (pid 1, host paths still visible); startContainer inside
// the container after `start`; each with the state of its moment.
TEST_F(Runtime, HooksRunWhereAndWhenTheSpecSays) {
  std::string log = *t_ / "hooks";
  const std::string fields =
      "s=$(cat); pid=$(echo \"$s\" | sed -n 's/.*\"pid\":\\([0-9]*\\).*/\\1/p'); "
      "st=$(echo \"$s\" | sed -n 's/.*\"status\":\"\\([a-z]*\\)\".*/\\1/p'); ";
  auto hook = [&](const std::string& body) { return json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", fields + body}}}}); };
  std::string dir = bundle("b", {"true"}, [&](json& j) {
    for (const char* kind : {"prestart", "createRuntime"})
      j["hooks"][kind] = hook(std::string("echo \"") + kind + " $st root=$(readlink /proc/$pid/root)\" >> " + log);
    j["hooks"]["createContainer"] =
        hook("echo \"createContainer $st pid=$pid mnt=$(readlink /proc/self/ns/mnt)\" >> " + log);
    j["hooks"]["startContainer"] = hook("echo \"startContainer $st pid=$pid\" > /start-hook");
    j["hooks"]["poststart"] = hook("echo \"poststart $st\" >> " + log);
    j["hooks"]["poststop"] = hook("echo \"poststop $st\" >> " + log);
  });
  auto c = rt_leaving({"create", "--bundle", dir, "c1"});
  ASSERT_EQ(c.code, 0) << c.err;
  std::string after_create = read_file(log);
  EXPECT_EQ(after_create.find("poststart"), std::string::npos) << after_create;
  EXPECT_FALSE(fs::exists(dir + "/rootfs/start-hook")) << "startContainer ran before start";
  ASSERT_EQ(rt({"start", "c1"}).code, 0);
  for (int i = 0; i < 200 && status("c1") != "stopped"; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(rt({"delete", "c1"}).code, 0);

  char host_mnt[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/mnt", host_mnt, sizeof host_mnt - 1), 0);
  std::string got = read_file(log);
  std::vector<std::string> want = {"prestart created root=/\n", "createRuntime created root=/\n",
                                   "createContainer creating pid=1 mnt=mnt:", "poststart running\n",
                                   "poststop stopped\n"};
  size_t at = 0;
  for (const auto& w : want) {
    size_t k = got.find(w, at);
    ASSERT_NE(k, std::string::npos) << "\"" << w << "\" missing or out of order in:\n" << got;
    at = k + w.size();
  }
  EXPECT_EQ(got.find(std::string("mnt=") + host_mnt), std::string::npos) << "createContainer ran in the host's mount namespace";
  EXPECT_EQ(read_file(dir + "/rootfs/start-hook"), "startContainer created pid=1\n");

  // A failing createContainer hook fails create: one line, and nothing is left.
  std::string bad = bundle("bad", {"true"}, [&](json& j) { j["hooks"]["createContainer"] = json::array({{{"path", "/bin/false"}}}); });
  auto f = rt_leaving({"create", "--bundle", bad, "c2"});
  EXPECT_NE(f.code, 0);
  EXPECT_NE(f.err.find("createContainer hook /bin/false failed (exit status 1)"), std::string::npos) << f.err;
  EXPECT_NE(rt({"state", "c2"}).code, 0) << "a failed create leaves no container";
}

// The group is made and limited on a thread while the child sets up (runtime/cgroup_task.h): a
// limit the kernel refuses still fails the run with the kernel's words, and leaves no group.
TEST_F(Runtime, ALimitTheKernelRefusesFailsTheRunAndLeavesNoGroup) {
  if (access("/sys/fs/cgroup/cpu/cpu.rt_runtime_us", W_OK) != 0)
    GTEST_SKIP() << "a cgroup v1 cpu hierarchy with real-time groups (the VM tests cover pure v2)";
  std::string dir = bundle("b", {"true"}, [](json& j) {
    j["linux"]["cgroupsPath"] = "minirun-test/rt-refused";
    j["linux"]["resources"]["cpu"] = {{"realtimeRuntime", 900000}, {"realtimePeriod", 1000000}};
  });
  auto r = run_cmd({"/bin/sh", "-c", "cd " + dir + " && " + runtime_binary() + " --root " + (*t_ / "state") + " run c1"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("cpu.rt_runtime_us"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Invalid argument"), std::string::npos) << r.err;
  for (const auto& h : fs::directory_iterator("/sys/fs/cgroup")) {
    EXPECT_FALSE(fs::exists(h.path() / "minirun-test/rt-refused")) << h.path();
    ::rmdir((h.path() / "minirun-test/rt-refused").c_str());
    ::rmdir((h.path() / "minirun-test").c_str());
  }
}

TEST_F(Runtime, ErrorsAreOneLineWithDockersCodes) {
  std::string dir = bundle("b", {"no-such-command"});
  auto r = rt_leaving({"create", "--bundle", dir, "c1"});
  EXPECT_EQ(r.code, 127);
  EXPECT_NE(r.err.find("executable file not found"), std::string::npos) << r.err;
  EXPECT_NE(rt({"state", "c1"}).code, 0) << "a failed create leaves no container";
  json j = json::parse(read_file(dir + "/config.json"));
  j["ociVersion"] = "2.0.0";
  write_file(dir + "/config.json", j.dump());
  auto v = rt_leaving({"create", "--bundle", dir, "c1"});
  EXPECT_EQ(v.code, 1);
  EXPECT_NE(v.err.find("ociVersion"), std::string::npos) << v.err;
  auto log = rt({"--log", *t_ / "log.json", "--log-format", "json", "state", "nosuch"});
  EXPECT_NE(log.code, 0);
  auto line = json::parse(read_file(*t_ / "log.json"));
  EXPECT_EQ(line.at("level"), "error");
  EXPECT_NE(line.at("msg").get<std::string>().find("does not exist"), std::string::npos);
}
