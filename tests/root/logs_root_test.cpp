// `minirun logs` on a store's container log, and the monitor's log pipeline end to end with
// plain fork/exec children: several `logs -f` readers while the log rotates, a follower that ends
// with the monitor, and a disk that fills up while logging (a tmpfs in a private mount namespace:
// the writer drops lines, the child never blocks, the log says so once there is room again).
#include <fcntl.h>
#include <sys/wait.h>
#include <cstring>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "minirun/monitor/log_writer.h"
#include "minirun/monitor/daemonize.h"
#include "minirun/monitor/monitor.h"
#include "minirun/monitor/monitor_client.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "monitor_start.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class Logs : public ::testing::Test {
 protected:
  void SetUp() override {
    t_ = std::make_unique<TempDir>("minirun-logs-");
    store_ = std::make_unique<Store>(root());
    ContainerRecord r = put_exited_container(*store_, "logged");
    ASSERT_TRUE(store_->reserve_name(r.name, r.id));
    cid_ = r.id;
  }
  std::string root() const { return t_->path() + "/store"; }
  CmdResult mr(std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", root()});
    return run_cmd(args);
  }
  std::unique_ptr<TempDir> t_;
  std::unique_ptr<Store> store_;
  std::string cid_;
};

std::string seq(int from, int to, const std::string& prefix) {
  std::string s;
  for (int i = from; i < to; i++) s += prefix + std::to_string(i) + "\n";
  return s;
}

}  // namespace

TEST_F(Logs, VerbReadsTheStoresLogWithDockersFlags) {
  const int64_t t0 = 1764118923000000000;
  {
    logs::LogWriter w(store_->container_log_path(cid_), logs::parse_log_options("json-file", {"max-size=1k,max-file=9"}));
    for (int i = 0; i < 40; i++) {
      std::string o = "out " + std::to_string(i) + "\n", e = "err " + std::to_string(i) + "\n";
      w.feed(logs::Stream::out, o.data(), o.size(), t0 + i * 1000000000LL);
      w.feed(logs::Stream::err, e.data(), e.size(), t0 + i * 1000000000LL);
    }
  }
  EXPECT_TRUE(fs::exists(store_->container_log_path(cid_) + ".2"));
  EXPECT_EQ(store_->container_log_path(cid_), root() + "/containers/" + cid_ + "/" + cid_ + "-json.log");
  auto r = mr({"logs", "logged"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, seq(0, 40, "out "));
  EXPECT_EQ(r.err, seq(0, 40, "err "));
  r = mr({"logs", "--tail", "3", cid_.substr(0, 12)});
  EXPECT_EQ(r.out, "out 39\n");  // the last 3 entries: err 38, out 39, err 39
  EXPECT_EQ(r.err, "err 38\nerr 39\n");
  r = mr({"logs", "-t", "--since", "2025-11-26T01:02:40Z", "--until", "1764118961", "logged"});
  EXPECT_EQ(r.out, "2025-11-26T01:02:40.000000000Z out 37\n2025-11-26T01:02:41.000000000Z out 38\n");
  r = mr({"logs", "--since", "yesterday", "logged"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("failed to parse value as time or duration"), std::string::npos) << r.err;
  EXPECT_EQ(mr({"logs", "--tail", "x", "logged"}).code, 125);
  EXPECT_EQ(mr({"logs", "nosuch"}).code, 1);
  // -f on a container that is not running: what is there, then done.
  r = mr({"logs", "-f", "--tail", "1", "logged"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "err 39\n");
}

TEST_F(Logs, FollowersKeepEveryLineAcrossRotationAndEndWithTheMonitor) {
  monitor::MonitorOptions o;
  o.log_path = store_->container_log_path(cid_);
  o.ctl_path = store_->container_ctl_path(cid_);
  o.log = logs::parse_log_options("json-file", {"max-size=16k", "max-file=50"});
  // Start the container only once the followers are there.
  std::string go = t_->path() + "/go";
  monitor::DetachedMonitor d = monitor::daemonize_monitor([&](int ready) {
    o.ready_fd = ready;
    return monitor::run_monitor(
        o, sh_start("while [ ! -e " + go + " ]; do sleep 0.05; done; i=0; while [ $i -lt 3000 ]; do echo \"line $i\"; "
              "i=$((i+1)); done; echo done >&2"));
  });
  ASSERT_GT(d.monitor_pid, 0);
  std::vector<pid_t> followers;
  for (int k = 0; k < 3; k++)
    followers.push_back(spawn_cmd({MINIRUN_BINARY, "--root", root(), "logs", "-f", "logged"},
                                  t_->path() + "/f" + std::to_string(k)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  write_file(go, "");
  for (pid_t p : followers) {
    int st = 0;
    ::waitpid(p, &st, 0);  // each returns once the monitor has exited
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  }
  EXPECT_TRUE(fs::exists(o.log_path + ".3")) << "the log rotated";
  std::string want = seq(0, 3000, "line ") + "done\n";
  for (int k = 0; k < 3; k++) {
    std::string got = read_file(t_->path() + "/f" + std::to_string(k));
    size_t diff = 0;
    while (diff < got.size() && diff < want.size() && got[diff] == want[diff]) diff++;
    EXPECT_TRUE(got == want) << "follower " << k << ": " << got.size() << " bytes, want " << want.size()
                             << "; first difference at " << diff << ": got \"" << got.substr(diff, 40) << "\" want \""
                             << want.substr(diff, 40) << "\"";
  }
  // Whatever happened, no monitor is left behind.
  monitor::send_monitor_command(o.ctl_path, "stop 9 0");
  EXPECT_TRUE(monitor::wait_monitor_exit(o.ctl_path, 10000));
}

TEST(LogsDisk, AFullDiskDropsLinesWithoutBlockingAndTheLogSaysSo) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t;
  std::string mnt = t / "mnt", report = t / "report";
  ::mkdir(mnt.c_str(), 0755);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(2);
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0) _exit(3);
    // Fill the file system, leaving a few KB.
    {
      std::ofstream f(mnt + "/filler");
      f << std::string(240 * 1024, 'f');
    }
    monitor::MonitorOptions o;
    o.log_path = mnt + "/c-json.log";
    std::ofstream rep(report);
    o.on_exit = [&](const monitor::ExitInfo& e) {
      rep << e.exit_code << " " << e.log.lines_dropped << " " << e.log.last_errno << std::endl;
    };
    // 20,000 lines (about 2 MB of log) into a 256 KB file system, then room again, then more.
    int rc = monitor::run_monitor(o, sh_start("i=0; while [ $i -lt 20000 ]; do echo \"filling line $i\"; i=$((i+1)); done; "
                                        "rm " + mnt + "/filler; sleep 0.2; echo after"));
    // The log, copied out of the private mount.
    std::ifstream in(o.log_path);
    std::ofstream(t / "log-copy") << in.rdbuf();
    _exit(rc);
  }
  int st = 0;
  auto t0 = std::chrono::steady_clock::now();
  ::waitpid(pid, &st, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0) << "the child ran to its end";
  int code = -1, err = 0;
  long long dropped = 0;
  std::ifstream(report) >> code >> dropped >> err;
  EXPECT_EQ(code, 0);
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(err, ENOSPC);
  // Whole entries only; the note about the dropped lines; the last line after it.
  std::string log = read_file(t / "log-copy");
  std::vector<nlohmann::json> entries;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    entries.push_back(nlohmann::json::parse(log.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  ASSERT_GE(entries.size(), 2u);
  EXPECT_EQ(entries.back()["log"], "after\n");
  bool noted = false;
  for (const auto& e : entries)
    if (e["stream"] == "stderr" && e["log"].get<std::string>().find("log lines dropped: No space left on device") != std::string::npos)
      noted = true;
  EXPECT_TRUE(noted) << log.substr(0, 300);
  EXPECT_TRUE(mounts_under(t.path()).empty());
}
