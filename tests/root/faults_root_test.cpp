// Faults: load, rmi, commit and rm killed (SIGKILL) at random moments, and a store that runs out
// of space. Afterwards the store must hold only whole layers, images and containers, the next
// command cleans up what the killed one left, and the same command then succeeds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <random>
#include <sstream>
#include <algorithm>
#include <chrono>

#include "minirun/runtime/cgroups.h"
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

std::vector<std::string> minirun_argv(const std::string& root, std::vector<std::string> args) {
  args.insert(args.begin(), {MINIRUN_BINARY, "--root", root});
  return args;
}

CmdResult mr(const std::string& root, std::vector<std::string> args) { return run_cmd(minirun_argv(root, args)); }

// Every layer directory in overlay2/ is whole (image layers have layer.json, container layers
// work/), every listed image can be inspected and saved (all its files are there), every short
// link resolves once a command has run.
void expect_whole(const std::string& root, bool save = false) {
  if (!fs::exists(root + "/overlay2")) return;  // killed before the store was even created
  for (auto& e : fs::directory_iterator(root + "/overlay2")) {
    std::string n = e.path().filename();
    if (n == "l") continue;
    bool container = n.size() > 64 || fs::exists(e.path() / "work");
    if (!container) { EXPECT_TRUE(fs::exists(e.path() / "layer.json")) << n; }
    EXPECT_TRUE(fs::exists(e.path() / "link")) << n;
    EXPECT_TRUE(fs::exists(e.path() / "diff")) << n;
  }
  auto ids = mr(root, {"images", "-q"});  // the first command after the kill: it recovers
  ASSERT_EQ(ids.code, 0) << ids.err;
  std::istringstream in(ids.out);
  for (std::string id; in >> id;) {
    EXPECT_EQ(mr(root, {"inspect", id}).code, 0) << id;
    if (save) { EXPECT_EQ(mr(root, {"save", "-o", "/dev/null", id}).code, 0) << id; }
  }
  EXPECT_TRUE(fs::is_empty(root + "/tmp"));
}

size_t count_entries(const std::string& dir, bool skip_l = true) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir)) n += !(skip_l && e.path().filename() == "l");
  return n;
}

// Runs argv, measuring how long it takes when nobody interrupts it (microseconds).
long timed(const std::vector<std::string>& argv) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_cmd(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
}

// Starts minirun with args, kills it with SIGKILL after `delay_us`; true when it was killed
// (false: it had already finished).
bool kill_after(const std::string& root, const std::vector<std::string>& args, long delay_us) {
  pid_t pid = spawn_cmd(minirun_argv(root, args));
  usleep(static_cast<useconds_t>(delay_us));
  kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFSIGNALED(st);
}

// Starts minirun with args and kills it (SIGKILL) the moment `seen()` turns true (polled every
// 100 µs): the first change a command makes visible in the store is where a wrong order of its
// steps shows, and a kill at a random time rarely lands in that window. True when it was killed.
bool kill_when(const std::string& root, const std::vector<std::string>& args, const std::function<bool()>& seen) {
  pid_t pid = spawn_cmd(minirun_argv(root, args));
  int st = 0;
  while (waitpid(pid, &st, WNOHANG) == 0) {
    if (seen()) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      break;
    }
    usleep(100);
  }
  return WIFSIGNALED(st);
}

// Entries of dir (0 when it does not exist yet) whose name passes `keep`.
size_t count_if_exists(const std::string& dir, const std::function<bool(const std::string&)>& keep) {
  std::error_code ec;
  size_t n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) n += keep(it->path().filename());
  return n;
}

bool is_image_record(const std::string& n) { return n.size() == 69 && n.compare(64, 5, ".json") == 0; }

std::string busybox_image(const TempDir& t, const std::string& root) {
  write_file(t / "bb.tar", busybox_rootfs().build());
  auto r = mr(root, {"import", t / "bb.tar", "t/bb"});
  EXPECT_EQ(r.code, 0) << r.err;
  return "t/bb";
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
    if (round % 4 == 2) {
      // Killed as the first layer lands in overlay2/: no image may name layers not there yet.
      kill_when(root, {"load", "-q", "-i", t / "big.tar"},
                [&] { return count_if_exists(root + "/overlay2", [](auto& n) { return n != "l"; }) > 0; });
    } else {
      pid_t pid = spawn_cmd(minirun_argv(root, {"load", "-q", "-i", t / "big.tar"}));
      usleep(std::uniform_int_distribution<int>(0, 120000)(rng));
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    expect_whole(root, round % 4 == 2);  // save: every layer of every listed image is there
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
  // From standard input the archive is spooled into tmp/ first: the disk fills there (write_all),
  // before any layer is extracted.
  ::signal(SIGPIPE, SIG_IGN);  // minirun stops reading when the disk is full
  r = run_cmd({MINIRUN_BINARY, "--root", root, "load"}, read_file(t / "big.tar"));
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
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
    pids.push_back(spawn_cmd(minirun_argv(root, {"load", "-q", "-i", t / "big.tar"}), t / ("load" + std::to_string(i))));
  }
  for (int i = 0; i < 8; i++) {
    int st = 0;
    waitpid(pids[i], &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "load " << i << ": " << read_file(t / ("load" + std::to_string(i)));
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

TEST(Faults, RmiKilledAtRandomMomentsLeavesWholeImagesOrNone) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-rmi-kill-");
  std::vector<TestImage> imgs;
  write_file(t / "big.tar", big_archive(imgs));
  std::string root = t / "store";
  std::mt19937 rng(11);
  ASSERT_EQ(mr(root, {"load", "-i", t / "big.tar"}).code, 0);
  long full = timed({MINIRUN_BINARY, "--root", root, "rmi", "test/big:1"});
  int killed = 0;
  for (int round = 0; round < 20; round++) {
    ASSERT_EQ(mr(root, {"load", "-i", t / "big.tar"}).code, 0);
    killed += kill_after(root, {"rmi", "test/big:1"}, std::uniform_int_distribution<long>(0, full)(rng));
    expect_whole(root, true);
    // Either the image is still whole and listed, or it is gone; the same rmi (or a prune of the
    // layers it had not yet removed) then leaves an empty store.
    if (mr(root, {"inspect", "test/big:1"}).code == 0) {
      auto again = mr(root, {"rmi", "test/big:1"});
      ASSERT_EQ(again.code, 0) << "round " << round << ": " << again.err;
    } else {
      ASSERT_EQ(mr(root, {"image", "prune", "-f"}).code, 0);
    }
    EXPECT_EQ(count_entries(root + "/overlay2"), 0u) << "round " << round;
    EXPECT_TRUE(fs::is_empty(root + "/overlay2/l")) << "round " << round;
    EXPECT_EQ(mr(root, {"images", "-q"}).out, "") << "round " << round;
  }
  EXPECT_GT(killed, 5) << "the kills came too late to interrupt anything";
}

TEST(Faults, CommitKilledAtRandomMomentsLeavesWholeImagesOrNone) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-commit-kill-");
  std::string root = t / "store";
  std::string img = busybox_image(t, root);
  auto made = mr(root, {"run", "--name", "c", img, "sh", "-c",
                        "mkdir /big && for i in 1 2 3 4 5 6 7 8; do head -c 2000000 /dev/urandom > /big/$i; done; rm /etc/group"});
  ASSERT_EQ(made.code, 0) << made.err;
  std::string diff = mr(root, {"diff", "c"}).out;
  long full = timed({MINIRUN_BINARY, "--root", root, "commit", "c", "t/c:0"});
  ASSERT_EQ(mr(root, {"rmi", "t/c:0"}).code, 0);
  std::mt19937 rng(12);
  int killed = 0;
  for (int round = 0; round < 20; round++) {
    std::string tag = "t/c:" + std::to_string(round + 1);
    if (round % 4 == 3) {
      // Killed as the new image record appears: its layer must already be in place.
      size_t images = count_if_exists(root + "/images", is_image_record);
      killed += kill_when(root, {"commit", "c", tag}, [&] { return count_if_exists(root + "/images", is_image_record) > images; });
    } else {
      killed += kill_after(root, {"commit", "c", tag}, std::uniform_int_distribution<long>(0, full)(rng));
    }
    expect_whole(root, true);
    auto d = mr(root, {"diff", "c"});
    EXPECT_EQ(d.out, diff) << "round " << round << ": the container changed: " << d.err;
    if (mr(root, {"inspect", tag}).code != 0) { ASSERT_EQ(mr(root, {"commit", "c", tag}).code, 0) << "round " << round; }
    auto r = mr(root, {"run", "--rm", tag, "sh", "-c", "cat /big/* | wc -c; ls /etc/group"});
    EXPECT_EQ(r.out, "16000000\n") << "round " << round << ": " << r.err;
    ASSERT_EQ(mr(root, {"rmi", tag}).code, 0);
    // A commit killed after its image record but before its tag leaves a whole, untagged image.
    ASSERT_EQ(mr(root, {"image", "prune", "-f"}).code, 0);
    EXPECT_EQ(count_entries(root + "/overlay2"), 3u) << "round " << round;  // t/bb's layer, c and c-init
  }
  EXPECT_GT(killed, 5) << "the kills came too late to interrupt anything";
  ASSERT_EQ(mr(root, {"rm", "c"}).code, 0);
  ASSERT_EQ(mr(root, {"rmi", img}).code, 0);
  EXPECT_EQ(count_entries(root + "/overlay2"), 0u);
  EXPECT_TRUE(fs::is_empty(root + "/overlay2/l"));
}

TEST(Faults, RmKilledAtRandomMomentsLeavesTheContainerOrNothing) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-rm-kill-");
  std::string root = t / "store";
  std::string img = busybox_image(t, root);
  auto fill = [&](const std::string& name) {
    auto r = mr(root, {"run", "--name", name, img, "sh", "-c",
                       "for d in 1 2 3 4 5 6 7 8 9 10; do mkdir /d$d; for f in 1 2 3 4 5 6 7 8 9 10; do "
                       "head -c 100000 /dev/zero > /d$d/$f; done; done"});
    ASSERT_EQ(r.code, 0) << r.err;
  };
  // The shortest of three: one slow rm on a busy machine would put most kills after the end.
  long full = 0;
  for (const char* c : {"c0", "c0b", "c0c"}) {
    fill(c);
    long us = timed({MINIRUN_BINARY, "--root", root, "rm", c});
    full = full ? std::min(full, us) : us;
  }
  std::mt19937 rng(13);
  int killed = 0;
  for (int round = 0; round < 20; round++) {
    std::string name = "c" + std::to_string(round + 1);
    fill(name);
    if (round % 2) {
      // Killed as it starts removing (its trash directory appears in tmp/): on a busy machine
      // the timed kills below mostly come after the end.
      killed += kill_when(root, {"rm", name}, [&] { return count_if_exists(root + "/tmp", [](auto&) { return true; }) > 0; });
    } else {
      killed += kill_after(root, {"rm", name}, std::uniform_int_distribution<long>(0, full)(rng));
    }
    if (!fs::is_empty(root + "/tmp")) {
      // The next command removes what the killed one left, and says so at info level.
      auto r = mr(root, {"--log-level", "info", "ps", "-a"});
      EXPECT_NE(r.err.find("info: removing leftover"), std::string::npos) << r.err;
      EXPECT_EQ(r.out.find("removing"), std::string::npos) << "a log line on standard output";
    }
    expect_whole(root);
    auto ps = mr(root, {"ps", "-a"});
    ASSERT_EQ(ps.code, 0) << ps.err;
    if (ps.out.find(name) != std::string::npos) {
      auto again = mr(root, {"rm", name});
      ASSERT_EQ(again.code, 0) << "round " << round << ": " << again.err;
    }
    EXPECT_EQ(mr(root, {"ps", "-aq"}).out, "") << "round " << round;
    EXPECT_EQ(count_entries(root + "/overlay2"), 1u) << "round " << round;  // t/bb's layer
    EXPECT_EQ(count_entries(root + "/overlay2/l", false), 1u) << "round " << round;
    EXPECT_TRUE(fs::is_empty(root + "/containers/names")) << "round " << round;
    // The name is free again.
    auto reuse = mr(root, {"run", "--rm", "--name", name, img, "true"});
    EXPECT_EQ(reuse.code, 0) << "round " << round << ": " << reuse.err;
    EXPECT_TRUE(mounts_under(t.path()).empty());
  }
  EXPECT_GT(killed, 5) << "the kills came too late to interrupt anything";
}

TEST(Faults, RunKilledBeforeItsContainerExistedDoesNotHoldItsName) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-name-kill-");
  std::string root = t / "store";
  std::string img = busybox_image(t, root);
  long full = timed({MINIRUN_BINARY, "--root", root, "run", "--rm", "--name", "n0", img, "true"});
  std::mt19937 rng(14);
  for (int round = 0; round < 20; round++) {
    std::string name = "n" + std::to_string(round + 1);
    if (round % 4 == 1) {
      // Killed the moment its name is reserved, before the container exists.
      kill_when(root, {"run", "--name", name, img, "true"}, [&] { return fs::is_symlink(root + "/containers/names/" + name); });
    } else {
      kill_after(root, {"run", "--name", name, img, "true"}, std::uniform_int_distribution<long>(0, full)(rng));
    }
    auto r = mr(root, {"ps", "-a"});
    ASSERT_EQ(r.code, 0) << r.err;
    if (r.out.find(name) != std::string::npos) { ASSERT_EQ(mr(root, {"rm", "-f", name}).code, 0) << r.out; }
    auto again = mr(root, {"run", "--rm", "--name", name, img, "true"});
    EXPECT_EQ(again.code, 0) << "round " << round << ": " << again.err;
    EXPECT_TRUE(mounts_under(t.path()).empty()) << "round " << round;
  }
  EXPECT_EQ(mr(root, {"ps", "-aq"}).out, "");
  EXPECT_TRUE(fs::is_empty(root + "/containers/names"));
  EXPECT_EQ(count_entries(root + "/overlay2"), 1u);
  EXPECT_TRUE(fs::is_empty(root + "/tmp"));
}

// A foreground run killed while its container runs: the container dies with it (PDEATHSIG) and
// its cgroup, now empty, goes at the next command of any kind (open_store's recovery), not only
// at `ps`/`rm`; the cgroup of a container that still runs is left alone.
TEST(Faults, RunKilledWhileRunningLosesItsCgroupAtTheNextCommand) {
  MINIRUN_REQUIRE_ROOT();
  const auto& h = minirun::runtime::CgroupHierarchy::host();
  if (h.mode == minirun::runtime::CgroupHierarchy::Mode::none) GTEST_SKIP() << "no cgroup hierarchy";
  TempDir t("minirun-cgroup-kill-");
  std::string root = t / "store";
  std::string img = busybox_image(t, root);
  auto live = mr(root, {"run", "-d", "--name", "live", img, "sleep", "100"});
  ASSERT_EQ(live.code, 0) << live.err;
  const std::string live_id = live.out.substr(0, 64);
  const std::string parent = h.mode == minirun::runtime::CgroupHierarchy::Mode::v2 ? h.v2_root + "/minirun"
                                                                           : h.v1.begin()->second + "/minirun";
  auto populated = [&](const std::string& id) {
    std::error_code ec;
    std::string f = parent + "/" + id + "/" + h.procs_file();
    return fs::exists(f, ec) && !read_file(f).empty();
  };
  pid_t pid = spawn_cmd(minirun_argv(root, {"run", "--name", "victim", img, "sleep", "100"}));
  std::string id;
  for (int i = 0; i < 500 && id.empty(); i++) {  // its container runs once its group has a process
    auto q = mr(root, {"ps", "-q", "--no-trunc", "--filter", "name=victim"});
    if (q.out.size() >= 64 && populated(q.out.substr(0, 64))) id = q.out.substr(0, 64);
    else usleep(10000);
  }
  ASSERT_FALSE(id.empty()) << "the victim never ran";
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  for (int i = 0; i < 200 && populated(id); i++) usleep(10000);  // its process dies with its minirun
  ASSERT_TRUE(fs::is_directory(parent + "/" + id)) << "a killed run cannot have removed its group";
  ASSERT_EQ(mr(root, {"images", "-q"}).code, 0);
  EXPECT_FALSE(fs::exists(parent + "/" + id)) << "the killed run's cgroup survived the next command";
  EXPECT_TRUE(fs::is_directory(parent + "/" + live_id)) << "a running container's cgroup went";
  EXPECT_EQ(mr(root, {"rm", "-f", "live", "victim"}).code, 0);
  EXPECT_FALSE(fs::exists(parent + "/" + live_id));
}
