// Faults: a load killed at random moments, and a store that runs out of space. Afterwards the
// store must hold only whole layers and images, and the same load must then succeed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <sstream>
#include <algorithm>

#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

// About 24 MB in 3 layers of incompressible files.
std::string big_archive(std::vector<TestImage>& imgs) {
  std::mt19937 rng(42);
  TestImage img;
  img.repo_tags = {"test/big:1"};
  for (int l = 0; l < 3; l++) {
    TarBuilder t;
    t.dir("d" + std::to_string(l));
    for (int f = 0; f < 8; f++) {
      std::string data(1 << 20, '\0');
      for (auto& c : data) c = static_cast<char>(rng());
      t.file("d" + std::to_string(l) + "/f" + std::to_string(f), data);
    }
    img.layers.push_back(t.build());
  }
  imgs = {img};
  return docker_archive(imgs);
}

CmdResult mr(const std::string& root, std::vector<std::string> args) {
  args.insert(args.begin(), {MINIRUN_BINARY, "--root", root});
  return run_cmd(args);
}

// Every layer directory in overlay2/ is whole; every listed image can be inspected.
void expect_whole(const std::string& root) {
  if (!fs::exists(root + "/overlay2")) return;  // killed before the store was even created
  for (auto& e : fs::directory_iterator(root + "/overlay2")) {
    std::string n = e.path().filename();
    if (n == "l") continue;
    EXPECT_TRUE(fs::exists(e.path() / "layer.json")) << n;
    EXPECT_TRUE(fs::exists(e.path() / "link")) << n;
  }
  auto ids = mr(root, {"images", "-q"});
  ASSERT_EQ(ids.code, 0) << ids.err;
  std::istringstream in(ids.out);
  for (std::string id; in >> id;) EXPECT_EQ(mr(root, {"inspect", id}).code, 0) << id;
}

}  // namespace

TEST(Faults, LoadKilledAtRandomMomentsLeavesNoHalfLayerOrImage) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-faults-");
  std::vector<TestImage> imgs;
  write_file(t / "big.tar", big_archive(imgs));
  std::string root = t / "store";
  std::mt19937 rng(7);
  for (int round = 0; round < 20; round++) {
    fs::remove_all(root);
    if (round % 2) {  // sometimes over a store that already holds the image
      ASSERT_EQ(mr(root, {"load", "-i", t / "big.tar"}).code, 0);
    }
    pid_t pid = fork();
    if (pid == 0) {
      execl(MINIRUN_BINARY, MINIRUN_BINARY, "--root", root.c_str(), "load", "-q", "-i", (t / "big.tar").c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    usleep(std::uniform_int_distribution<int>(0, 120000)(rng));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    expect_whole(root);
    auto again = mr(root, {"load", "-i", t / "big.tar"});
    ASSERT_EQ(again.code, 0) << "round " << round << ": " << again.err;
    EXPECT_TRUE(fs::is_empty(root + "/tmp")) << "round " << round;  // the leftovers were cleaned
    EXPECT_EQ(mr(root, {"inspect", "test/big:1"}).code, 0);
  }
  ASSERT_EQ(mr(root, {"rmi", "test/big:1"}).code, 0);
  EXPECT_EQ(std::distance(fs::directory_iterator(root + "/overlay2"), fs::directory_iterator()), 1);  // only l/
}

TEST(Faults, FullDiskRefusesTheLoadAndLeavesTheStoreAsItWas) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-enospc-");
  std::vector<TestImage> imgs;
  write_file(t / "big.tar", big_archive(imgs));
  std::string root = t / "store";
  fs::create_directories(root);
  ASSERT_EQ(::mount("tmpfs", root.c_str(), "tmpfs", 0, "size=12m"), 0);
  auto r = mr(root, {"load", "-i", t / "big.tar"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(mr(root, {"images", "-q"}).out, "");
  EXPECT_EQ(std::distance(fs::directory_iterator(root + "/overlay2"), fs::directory_iterator()), 1);
  EXPECT_TRUE(fs::is_empty(root + "/tmp"));
  ::umount2(root.c_str(), MNT_DETACH);
}

TEST(Faults, EightConcurrentLoadsOfOneArchiveStoreEachLayerOnce) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-concurrent-");
  std::vector<TestImage> imgs;
  write_file(t / "big.tar", big_archive(imgs));
  std::string root = t / "store";
  std::vector<pid_t> pids;
  for (int i = 0; i < 8; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execl(MINIRUN_BINARY, MINIRUN_BINARY, "--root", root.c_str(), "load", "-q", "-i", (t / "big.tar").c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  size_t layers = 0, links = 0;
  for (auto& e : fs::directory_iterator(root + "/overlay2")) layers += e.path().filename() != "l";
  for (auto& e : fs::directory_iterator(root + "/overlay2/l")) links += fs::exists(e.path());  // not dangling
  EXPECT_EQ(layers, 3u);
  EXPECT_EQ(links, 3u);
  EXPECT_EQ(std::distance(fs::directory_iterator(root + "/overlay2/l"), fs::directory_iterator()), 3);
  EXPECT_TRUE(fs::is_empty(root + "/tmp"));
  ASSERT_EQ(mr(root, {"rmi", "test/big:1"}).code, 0);
  EXPECT_EQ(std::distance(fs::directory_iterator(root + "/overlay2"), fs::directory_iterator()), 1);
  EXPECT_TRUE(fs::is_empty(root + "/overlay2/l"));
}
