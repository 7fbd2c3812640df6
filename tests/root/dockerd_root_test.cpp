// minirun-runtime as a Docker runtime (`dockerd --add-runtime minirun=…`, `docker run --runtime
// minirun`): a private dockerd (its own data root, exec root, pidfile and socket in the test's
// TempDir; no bridge, no iptables; its own containerd namespaces) loads minirun's busybox image
// (`minirun save` → `docker load`), then runs, execs, pauses, stops and removes containers
// through minirun-runtime. (Its log may warn "failed to remove runc container … exit status 255"
// after a --rm run: containerd's shim cleanup says so with runc too.) Skipped with a message
// where dockerd or docker is not installed. TearDown stops dockerd (which stops its containerd),
// kills what is left of it, unmounts what it left, and removes what it made outside the TempDir
// (/run/docker, /etc/docker/key.json) when the test made it, even after a failure.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "container_fixture.h"
#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class Dockerd : public ContainerTest {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    dockerd_ = find_in_path("dockerd");
    docker_ = find_in_path("docker");
    if (dockerd_.empty() || docker_.empty()) GTEST_SKIP() << "dockerd or docker not installed";
    ASSERT_NO_FATAL_FAILURE(make_store("minirun-dockerd-"));
    dir_ = t_->path();
    for (const auto& p : kOutside)
      if (!fs::exists(p)) made_.push_back(p);
    const std::string runtime = fs::path(MINIRUN_BINARY).parent_path() / "minirun-runtime";
    daemon_ = spawn_cmd({dockerd_, "--data-root", dir_ + "/data", "--exec-root", dir_ + "/exec", "--pidfile",
                         dir_ + "/dockerd.pid", "-H", "unix://" + sock(), "--bridge=none", "--iptables=false",
                         "--ip6tables=false", "--containerd-namespace", "minirun-test",
                         "--containerd-plugins-namespace", "minirun-test-plugins", "--add-runtime",
                         "minirun=" + runtime},
                        dir_ + "/dockerd.log");
    bool up = false;
    for (int i = 0; i < 300 && !up; i++) {
      up = fs::exists(sock()) && docker({"version"}, 10).code == 0;
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(up) << read_file(dir_ + "/dockerd.log");
  }
  void TearDown() override {
    if (daemon_ > 0) {
      stop_daemon(daemon_, dir_);
      EXPECT_TRUE(processes_mentioning(dir_).empty());
      for (auto it = made_.rbegin(); it != made_.rend(); ++it) fs::remove_all(*it);
    }
    remove_containers();
    expect_no_mounts_left();
  }
  std::string sock() const { return dir_ + "/docker.sock"; }
  CmdResult docker(std::vector<std::string> args, int timeout_s = 60) {
    args.insert(args.begin(), {docker_, "-H", "unix://" + sock()});
    return run_cmd(args, "", timeout_s);
  }

  // What dockerd makes outside its roots, outermost first (removed when the test made it).
  static constexpr const char* kOutside[] = {"/run/docker", "/run/docker/plugins", "/etc/docker/key.json"};
  std::string dockerd_, docker_, dir_;
  std::vector<std::string> made_;
  pid_t daemon_ = -1;
};

}  // namespace

TEST_F(Dockerd, RunsExecsPausesAndStopsThroughMinirunRuntime) {
  ASSERT_EQ(mr({"save", "t/bb", "-o", dir_ + "/bb.tar"}).code, 0);
  auto loaded = docker({"load", "-i", dir_ + "/bb.tar"});
  ASSERT_EQ(loaded.code, 0) << loaded.err;

  auto once = docker({"run", "--rm", "--runtime", "minirun", "--network", "none", "t/bb", "sh", "-c",
                      "echo hello; exit 4"});
  EXPECT_EQ(once.out, "hello\n") << once.err;
  EXPECT_EQ(once.code, 4) << once.err;

  auto started = docker({"run", "-d", "--runtime", "minirun", "--network", "none", "--name", "web", "t/bb", "sleep",
                         "1000"});
  ASSERT_EQ(started.code, 0) << started.err;
  EXPECT_EQ(docker({"inspect", "-f", "{{.HostConfig.Runtime}}", "web"}).out, "minirun\n");
  auto ex = docker({"exec", "web", "sh", "-c", "echo in-$(cat /proc/1/comm)"});
  EXPECT_EQ(ex.out, "in-sleep\n") << ex.err;
  EXPECT_EQ(docker({"exec", "web", "nosuchcommand"}).code, 126);
  EXPECT_EQ(docker({"pause", "web"}).code, 0);
  EXPECT_NE(docker({"ps", "--format", "{{.Status}}"}).out.find("(Paused)"), std::string::npos);
  EXPECT_EQ(docker({"unpause", "web"}).code, 0);
  EXPECT_EQ(docker({"stop", "-t", "1", "web"}).code, 0);
  EXPECT_EQ(docker({"inspect", "-f", "{{.State.Status}}", "web"}).out, "exited\n");
  EXPECT_EQ(docker({"rm", "web"}).code, 0);
  EXPECT_EQ(docker({"ps", "-aq"}).out, "");
}
