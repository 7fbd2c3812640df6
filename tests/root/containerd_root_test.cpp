// minirun-runtime driven by containerd, as `ctr run --runc-binary` does: containerd's runc shim
// (io.containerd.runc.v2) calls it with runc's command line and a --root under
// /run/containerd/runc/<namespace>. A private containerd (its own root, state and socket in the
// test's TempDir, no CRI plugin) gets minirun's busybox image through `ctr images import`, then
// runs, execs, pauses, resumes, kills and deletes through minirun-runtime. Skipped with a message
// where containerd or ctr is not installed. TearDown stops containerd and every shim it started,
// and unmounts what they left, even after a failure.
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

std::string runtime_binary() { return fs::path(MINIRUN_BINARY).parent_path() / "minirun-runtime"; }

class Containerd : public ContainerTest {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    containerd_ = find_in_path("containerd");
    ctr_ = find_in_path("ctr");
    if (containerd_.empty() || ctr_.empty()) GTEST_SKIP() << "containerd or ctr not installed";
    ASSERT_NO_FATAL_FAILURE(make_store("minirun-ctrd-"));
    dir_ = t_->path();
    for (const auto& d : kRunDirs)
      if (!fs::exists(d)) made_.push_back(d);
    write_file(dir_ + "/config.toml", "version = 2\nroot = \"" + dir_ + "/croot\"\nstate = \"" + dir_ +
                                          "/cstate\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
                                          "[grpc]\n  address = \"" + sock() + "\"\n"
                                          "[ttrpc]\n  address = \"" + sock() + ".ttrpc\"\n"
                                          "[debug]\n  address = \"" + dir_ + "/debug.sock\"\n");
    daemon_ = spawn_cmd({containerd_, "-c", dir_ + "/config.toml"}, dir_ + "/containerd.log");
    for (int i = 0; i < 200 && !fs::exists(sock()); i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(fs::exists(sock())) << read_file(dir_ + "/containerd.log");
  }
  void TearDown() override {
    if (daemon_ > 0) {
      // Tasks first (their shims hold the mounts), then containerd, then whatever is left.
      for (pid_t p : processes_mentioning(sock())) ::kill(p, SIGKILL);
      stop_daemon(daemon_, dir_);
      EXPECT_TRUE(processes_mentioning(dir_).empty());
      // What containerd, its shims and minirun-runtime (--root) made under /run: removed when
      // empty, if the test made it.
      for (auto it = made_.rbegin(); it != made_.rend(); ++it) ::rmdir(it->c_str());
    }
    remove_containers();
    expect_no_mounts_left();
  }
  std::string sock() const { return dir_ + "/containerd.sock"; }
  CmdResult ctr(std::vector<std::string> args, int timeout_s = 60) {
    args.insert(args.begin(), {ctr_, "-a", sock()});
    return run_cmd(args, "", timeout_s);
  }

  // Outermost first.
  static constexpr const char* kRunDirs[] = {"/run/containerd", "/run/containerd/fifo", "/run/containerd/s",
                                             "/run/containerd/runc", "/run/containerd/runc/default"};
  std::string containerd_, ctr_, dir_;
  std::vector<std::string> made_;
  pid_t daemon_ = -1;
};

}  // namespace

TEST_F(Containerd, RunsExecsPausesAndKillsThroughMinirunRuntime) {
  ASSERT_EQ(mr({"save", "t/bb", "-o", dir_ + "/bb.tar"}).code, 0);
  auto imported = ctr({"images", "import", dir_ + "/bb.tar"});
  ASSERT_EQ(imported.code, 0) << imported.err;
  const std::string image = "docker.io/t/bb:latest";
  const std::string rt = runtime_binary();

  auto once = ctr({"run", "--rm", "--runc-binary", rt, image, "once", "sh", "-c", "echo hello; exit 3"});
  EXPECT_EQ(once.out, "hello\n") << once.err;
  EXPECT_EQ(once.code, 3) << once.err;

  auto started = ctr({"run", "-d", "--runc-binary", rt, image, "web", "sleep", "1000"});
  ASSERT_EQ(started.code, 0) << started.err;
  auto ex = ctr({"task", "exec", "--exec-id", "e1", "web", "sh", "-c", "echo in-$(cat /proc/1/comm)"});
  EXPECT_EQ(ex.out, "in-sleep\n") << ex.err;
  EXPECT_NE(ctr({"task", "ps", "web"}).out.find("PID"), std::string::npos);
  EXPECT_EQ(ctr({"task", "pause", "web"}).code, 0);
  EXPECT_NE(ctr({"task", "ls"}).out.find("PAUSED"), std::string::npos);
  EXPECT_EQ(ctr({"task", "resume", "web"}).code, 0);
  EXPECT_NE(ctr({"task", "ls"}).out.find("RUNNING"), std::string::npos);
  EXPECT_EQ(ctr({"task", "kill", "-s", "SIGKILL", "web"}).code, 0);
  bool stopped = false;
  for (int i = 0; i < 100 && !stopped; i++) {
    stopped = ctr({"task", "ls"}).out.find("STOPPED") != std::string::npos;
    if (!stopped) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(stopped);
  EXPECT_EQ(ctr({"task", "delete", "web"}).code, 0);
  EXPECT_EQ(ctr({"container", "rm", "web"}).code, 0);
  EXPECT_EQ(ctr({"task", "ls", "-q"}).out, "");
}
