// Container behaviour, black box through the minirun binary on a busybox image made here.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>

#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class Run : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    t_ = std::make_unique<TempDir>("minirun-run-");
    TarBuilder t = busybox_rootfs();
    t.chardev("dev-null-copy", 1, 3, TarMeta{0666});  // an image device node: must be unusable (nodev)
    for (const char* d : {"data", "data/sub", "data/emptydir", "olddir", "olddir/deep", "fileturnsdir"}) t.dir(d);
    t.file("data/a", "a").file("data/sub/c", "c").file("olddir/deep/x", "x").file("fileturnsdir/f", "f");
    write_file(*t_ / "rootfs.tar", t.build());
    ASSERT_EQ(mr({"import", *t_ / "rootfs.tar", "t/bb"}).code, 0);
  }
  void TearDown() override {
    if (t_) {
      EXPECT_TRUE(mounts_under(t_->path()).empty()) << "a mount was left on the host";
    }
  }
  CmdResult mr(std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", *t_ / "store"});
    return run_cmd(args);
  }
  CmdResult sh(const std::string& script, std::vector<std::string> flags = {}) {
    std::vector<std::string> a = {"run", "--rm"};
    a.insert(a.end(), flags.begin(), flags.end());
    a.insert(a.end(), {"t/bb", "sh", "-c", script});
    return mr(a);
  }
  std::unique_ptr<TempDir> t_;
};

}  // namespace

TEST_F(Run, Pid1HostnameAndEnv) {
  auto r = sh("echo $$ $HOSTNAME $(hostname) $HOME $A $B", {"-h", "box", "-e", "A=1", "-e", "B=two"});
  EXPECT_EQ(r.out, "1 box box /root 1 two\n") << r.err;
}

TEST_F(Run, UsersAndGroupsFromTheImage) {
  EXPECT_EQ(sh("id", {"-u", "app"}).out, "uid=1000(app) gid=1000(app) groups=10(wheel),1000(app)\n");
  EXPECT_EQ(sh("id -u; id -g", {"-u", "4242:77"}).out, "4242\n77\n");
  // The primary group is a supplementary group too, as Docker sets them.
  EXPECT_EQ(sh("id", {"-u", "4242:4343"}).out, "uid=4242 gid=4343 groups=4343\n");
  EXPECT_EQ(sh("id", {"-u", "app:wheel"}).out, "uid=1000(app) gid=10(wheel) groups=10(wheel)\n");
  EXPECT_EQ(sh("echo $HOME; pwd", {"-u", "app", "-w", "/home/app"}).out, "/home/app\n/home/app\n");
  EXPECT_EQ(sh("true", {"-u", "nosuch"}).code, 125);
  EXPECT_EQ(sh("pwd", {"-w", "/new/dir"}).out, "/new/dir\n");
}

TEST_F(Run, CapabilitiesAsDocker) {
  EXPECT_EQ(sh("grep CapEff /proc/self/status").out, "CapEff:\t00000000a80425fb\n");
  EXPECT_EQ(sh("grep CapBnd /proc/self/status").out, "CapBnd:\t00000000a80425fb\n");
  EXPECT_EQ(sh("grep CapEff /proc/self/status", {"-u", "app"}).out, "CapEff:\t0000000000000000\n");
  EXPECT_EQ(sh("grep CapEff /proc/self/status", {"--cap-drop", "ALL", "--cap-add", "NET_ADMIN"}).out, "CapEff:\t0000000000001000\n");
  EXPECT_EQ(sh("grep NoNewPrivs /proc/self/status", {"--security-opt", "no-new-privileges"}).out, "NoNewPrivs:\t1\n");
  // --privileged: every capability minirun holds, and /proc/sys writable.
  std::string mine = read_file("/proc/self/status");
  std::string prm = mine.substr(mine.find("CapPrm:\t") + 8, 16);
  EXPECT_EQ(sh("grep CapEff /proc/self/status", {"--privileged"}).out, "CapEff:\t" + prm + "\n");
  EXPECT_EQ(sh("grep -c ' /proc/sys .* ro,' /proc/self/mountinfo", {"--privileged"}).out, "0\n");
}

// /sys/fs/cgroup shows the container's own group (v1: a directory per hierarchy), read-only but
// for --privileged, as Docker's.
TEST_F(Run, SysFsCgroupIsTheContainersOwnGroup) {
  if (!fs::is_directory("/sys/fs/cgroup/pids") || fs::exists("/sys/fs/cgroup/cgroup.controllers"))
    GTEST_SKIP() << "a cgroup v1 pids hierarchy at /sys/fs/cgroup/pids (the VM tests cover pure v2)";
  // The groups under minirun's parent: a run --rm's is gone when the command returns (removed by
  // the cgroup thread, cgroup_task.h).
  auto groups = [] {
    std::set<std::string> g;
    for (const auto& e : fs::directory_iterator("/sys/fs/cgroup/pids/minirun"))
      if (e.is_directory()) g.insert(e.path().filename());
    return g;
  };
  const auto before = groups();
  // Whatever this test leaves (a broken build's groups, tests/mutants) is removed, pass or fail.
  struct Sweep {
    std::set<std::string> keep;
    std::function<std::set<std::string>()> now;
    ~Sweep() {
      for (const auto& id : now())
        if (!keep.count(id))
          for (const auto& h : fs::directory_iterator("/sys/fs/cgroup")) ::rmdir((h.path() / "minirun" / id).c_str());
    }
  } sweep{before, groups};
  // Both ways the runtime makes it (runtime/cgroup_task.h): a child cloned like posix_spawn
  // (--network none; a bridge, attached on a thread) joins late, the thread sending it the group
  // and the mounted tree; with --init (a plain clone: pid 1 never execs) the group is taken before
  // the clone, and the shell is the group's second process.
  for (std::vector<std::string> net : {std::vector<std::string>{"--network", "none"}, std::vector<std::string>{},
                                       std::vector<std::string>{"--network", "none", "--init"}}) {
    const bool init = net.size() == 3;
    SCOPED_TRACE(net.empty() ? "bridge" : init ? "--init" : "--network none");
    auto with = [&net](std::vector<std::string> f) {
      f.insert(f.end(), net.begin(), net.end());
      return f;
    };
    EXPECT_EQ(sh("cat /sys/fs/cgroup/pids/pids.max", with({"--pids-limit", "33"})).out, "33\n");
    EXPECT_EQ(sh("cat /sys/fs/cgroup/memory/memory.limit_in_bytes", with({"--memory", "64m"})).out, "67108864\n");
    auto ro = sh("echo 34 > /sys/fs/cgroup/pids/pids.max", with({"--pids-limit", "33"}));
    EXPECT_NE(ro.code, 0);
    EXPECT_NE(ro.err.find("Read-only file system"), std::string::npos) << ro.err;
    EXPECT_EQ(sh("grep -c ' /sys/fs/cgroup/[a-z]* ro,nosuid,nodev,noexec' /proc/self/mountinfo", with({})).out,
              sh("ls /sys/fs/cgroup | wc -l", with({})).out);
    EXPECT_EQ(sh("echo 34 > /sys/fs/cgroup/pids/pids.max && cat /sys/fs/cgroup/pids/pids.max", with({"--privileged", "--pids-limit", "33"})).out, "34\n");
    EXPECT_EQ(sh("grep -c ' /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755$' /proc/self/mountinfo", with({})).out, "1\n");
    // The command runs in the group: the kernel counts its shell (builtins only: no other process).
    auto in = sh("read n < /sys/fs/cgroup/pids/pids.current; echo $n; grep -c ':/minirun/[0-9a-f]\\{64\\}$' /proc/self/cgroup", with({}));
    EXPECT_EQ(in.out, (init ? "2\n" : "1\n") + sh("grep -vc -e '^0::' -e ':name=' /proc/self/cgroup", with({})).out) << in.err;
    // The cgroup mount waits for the group after the other mounts, never after one below it.
    std::string vol = *t_ / "cgvol";
    fs::create_directories(vol);
    write_file(vol + "/mark", "below");
    auto below = sh("cat /sys/fs/cgroup/extra/mark; cat /sys/fs/cgroup/pids/pids.max", with({"-v", vol + ":/sys/fs/cgroup/extra:ro", "--pids-limit", "35"}));
    EXPECT_EQ(below.out, "below35\n") << below.err;
    EXPECT_EQ(groups(), before) << "a run --rm left its cgroup";
  }
}

TEST_F(Run, ProcSysDevAreLockedDown) {
  EXPECT_NE(sh("echo 1 > /proc/sys/kernel/domainname").code, 0);
  EXPECT_NE(sh("touch /sys/x").code, 0);
  EXPECT_EQ(sh("ls /dev | head -50").out.find("sda"), std::string::npos);
  EXPECT_EQ(sh("cat /dev-null-copy").code, 1);  // nodev: EACCES on an image device node
  EXPECT_NE(sh("mknod /tmp/sda b 8 0 && head -c1 /tmp/sda").code, 0);
  // /dev holds real nodes, as Docker's, and the devices cgroup decides what opens: a node made
  // there (CAP_MKNOD, as Docker) with an allowed number works, a disk's is refused by the cgroup
  // (EPERM before any driver is asked, so the same whether or not the host has that disk).
  EXPECT_EQ(sh("mknod /dev/null2 c 1 3 && echo x > /dev/null2 && echo ok").out, "ok\n");
  auto disk = sh("mknod /dev/sda9 b 8 9 && head -c1 /dev/sda9");
  EXPECT_NE(disk.code, 0);
  EXPECT_NE(disk.err.find("Operation not permitted"), std::string::npos) << disk.err;
  EXPECT_EQ(sh("grep -c ' /dev/null ' /proc/self/mountinfo").out, "0\n");  // a node, not a bind
  // Without a cgroup /dev is nodev, its nodes the host's, bound: a node made there cannot be
  // opened, even one as harmless as null.
  EXPECT_EQ(sh("mknod /dev/null2 c 1 3 || exit 9; echo x > /dev/null2", {"--cgroups=disabled"}).code, 1);
  EXPECT_EQ(sh("grep -c ' /dev/null ' /proc/self/mountinfo; echo x > /dev/null && echo ok", {"--cgroups=disabled"}).out,
            "1\nok\n");
  EXPECT_EQ(sh("ls /dev/null /dev/zero /dev/pts/ptmx /dev/shm > /dev/null && echo ok").out, "ok\n");
  EXPECT_NE(sh("mount -o remount,rw /proc/sys").code, 0);
}

TEST_F(Run, ChrootEscapeIsContained) {
  // The classic escape: chroot into a subdirectory, then walk up with "..".
  auto r = sh("mkdir -p /tmp/jail && chroot /tmp/jail /bin/sh -c true 2>/dev/null; cd /; "
              "ls /../../../../ | grep -c busybox-escape-marker; ls /../../..");
  EXPECT_EQ(r.out.find("work"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("boot"), std::string::npos) << r.out;
}

TEST_F(Run, BindMountsAndNetworkNone) {
  std::string dir = *t_ / "share";
  fs::create_directories(dir);
  write_file(dir + "/in", "from host");
  EXPECT_EQ(sh("cat /mnt/in; echo x > /mnt/out", {"-v", dir + ":/mnt"}).code, 0);
  EXPECT_EQ(read_file(dir + "/out"), "x\n");
  EXPECT_NE(sh("echo y > /mnt/ro", {"-v", dir + ":/mnt:ro"}).code, 0);
  EXPECT_FALSE(fs::exists(dir + "/ro"));
  auto r = sh("ls /sys/class/net", {"--network", "none"});
  EXPECT_EQ(r.out, "lo\n") << r.err;
}

TEST_F(Run, ReadOnlyRootAndInit) {
  EXPECT_NE(sh("touch /x", {"--read-only"}).code, 0);
  EXPECT_EQ(sh("touch /tmp/x", {"--read-only"}).code, 1);
  EXPECT_EQ(sh("sleep 0.1 & kill -TERM $$; sleep 1; echo survived").out, "survived\n");  // pid 1 ignores TERM
  EXPECT_EQ(sh("kill -TERM $$; sleep 1; echo survived", {"--init"}).code, 143);
}

TEST_F(Run, DiffFollowsDockersRules) {
  auto r = mr({"run", "--name", "d", "t/bb", "sh", "-c",
               "echo new > /data/new; echo changed >> /data/sub/c; rm /data/a; rm -rf /olddir; mkdir -p /newdir/deep/x;"
               "touch /newdir/deep/x/f; chmod 600 /etc/passwd; mv /data/emptydir /data/renamed;"
               "rm -rf /fileturnsdir && mkdir /fileturnsdir && echo again > /fileturnsdir/g; rm /bin/vi"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(mr({"diff", "d"}).out,
            "C /bin\nD /bin/vi\nC /data\nD /data/a\nD /data/emptydir\nA /data/new\nA /data/renamed\nC /data/sub\n"
            "C /data/sub/c\nC /etc\nC /etc/passwd\nC /fileturnsdir\nD /fileturnsdir/f\nA /fileturnsdir/g\nA /newdir\n"
            "A /newdir/deep\nA /newdir/deep/x\nA /newdir/deep/x/f\nD /olddir\n");
  EXPECT_EQ(mr({"diff", "--format", "json", "d"}).out.substr(0, 53), R"([{"Path":"/bin","Kind":0},{"Path":"/bin/vi","Kind":2})");
  // Committing the container turns the changes into a layer with .wh. whiteouts.
  ASSERT_EQ(mr({"commit", "d", "t/bb:2"}).code, 0);
  EXPECT_EQ(sh("ls /data; ls /olddir").out, "a\nemptydir\nsub\ndeep\n");  // the original image is unchanged
  auto c = mr({"run", "--rm", "t/bb:2", "sh", "-c", "ls /data; test -e /olddir || echo no-olddir; ls /fileturnsdir"});
  EXPECT_EQ(c.out, "new\nrenamed\nsub\nno-olddir\ng\n") << c.err;
  std::string out = *t_ / "x.tar";
  ASSERT_EQ(mr({"save", "-o", out, "t/bb:2"}).code, 0);
  std::string list = run_cmd({"/bin/sh", "-c", "tar -xOf " + out + " $(tar -tf " + out + " | grep layer.tar | tail -1) | tar -t"}).out;
  EXPECT_NE(list.find("data/.wh.a"), std::string::npos) << list;
  EXPECT_NE(list.find(".wh.olddir"), std::string::npos) << list;
  EXPECT_NE(list.find("fileturnsdir/.wh..wh..opq"), std::string::npos) << list;
  EXPECT_EQ(mr({"rm", "d"}).code, 0);
}

TEST_F(Run, StdinTtyAndMaskedPaths) {
  std::vector<std::string> base = {MINIRUN_BINARY, "--root", *t_ / "store", "run", "--rm"};
  auto with = [&](std::vector<std::string> extra, const std::string& input) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cmd(a, input);
  };
  EXPECT_EQ(with({"-i", "t/bb", "cat"}, "to the container\n").out, "to the container\n");
  EXPECT_EQ(with({"t/bb", "cat"}, "not passed without -i\n").out, "");  // stdin is /dev/null
  // -t: the command gets a terminal from the container's own devpts (script(1) gives us one).
  std::string cmd = std::string(MINIRUN_BINARY) + " --root " + (*t_ / "store") + " run --rm -t t/bb sh -c 'tty; echo $TERM'";
  auto tty = run_cmd({"/usr/bin/script", "-qec", cmd, "/dev/null"});
  EXPECT_NE(tty.out.find("/dev/pts/0"), std::string::npos) << tty.out << tty.err;
  EXPECT_NE(tty.out.find("xterm"), std::string::npos) << tty.out;
  // Masked: reading these gives nothing (a /dev/null bind), writing is refused.
  EXPECT_EQ(sh("cat /proc/keys /proc/timer_list 2>/dev/null | wc -c").out, "0\n");
  EXPECT_NE(sh("echo x > /proc/sysrq-trigger").code, 0);
}

TEST_F(Run, SignalsReachTheContainerAndMountShowsTheImage) {
  // minirun forwards SIGTERM: with --init the command gets it and dies of it (128+15).
  std::string cmd = std::string(MINIRUN_BINARY) + " --root " + (*t_ / "store") +
                    " run --rm --init t/bb sleep 30 & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid";
  auto r = run_cmd({"/bin/sh", "-c", cmd}, "", 20);
  EXPECT_EQ(r.code, 143) << r.err;
  // Without --init, pid 1 has no handler: a trap in the command catches it.
  cmd = std::string(MINIRUN_BINARY) + " --root " + (*t_ / "store") +
        " run --rm t/bb sh -c 'trap \"echo got TERM; exit 7\" TERM; sleep 30 & wait' & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid";
  r = run_cmd({"/bin/sh", "-c", cmd}, "", 20);
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_EQ(r.out, "got TERM\n");
  // `mount` shows the image read-only on the host, `umount` takes it away.
  auto m = mr({"mount", "t/bb"});
  ASSERT_EQ(m.code, 0) << m.err;
  std::string dir = m.out.substr(0, m.out.size() - 1);
  EXPECT_TRUE(fs::exists(dir + "/bin/busybox"));
  EXPECT_NE(::access((dir + "/newfile").c_str(), F_OK), 0);
  EXPECT_NE(run_cmd({"/bin/touch", dir + "/newfile"}).code, 0);
  EXPECT_EQ(mr({"umount", "t/bb"}).code, 0);
  EXPECT_TRUE(mounts_under(t_->path()).empty());
}

TEST_F(Run, DiffAndPsOfARunningContainer) {
  std::string cmd = std::string(MINIRUN_BINARY) + " --root " + (*t_ / "store") +
                    " run --name live t/bb sh -c 'touch /tmp/x; sleep 3' & sleep 1; " + MINIRUN_BINARY + " --root " +
                    (*t_ / "store") + " diff live; " + MINIRUN_BINARY + " --root " + (*t_ / "store") +
                    " ps --format json; wait";
  auto r = run_cmd({"/bin/sh", "-c", cmd}, "", 30);
  EXPECT_NE(r.out.find("C /tmp\nA /tmp/x\n"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("\"State\":\"running\""), std::string::npos) << r.out;
  EXPECT_NE(mr({"ps", "-a"}).out.find("Exited (0)"), std::string::npos);
  EXPECT_EQ(mr({"rm", "live"}).code, 0);
}

TEST_F(Run, KillingMinirunKillsTheContainer) {
  pid_t mrpid = spawn_cmd({MINIRUN_BINARY, "--root", *t_ / "store", "run", "--name", "k", "t/bb", "sh", "-c",
                           "echo data > /tmp/kept; sleep 30"});
  pid_t cpid = 0;
  for (int i = 0; i < 100 && cpid <= 0; i++) {
    usleep(50000);
    auto r = mr({"inspect", "--type", "container", "k"});
    auto pos = r.out.find("\"Pid\": ");
    if (pos != std::string::npos) cpid = std::atoi(r.out.c_str() + pos + 7);
  }
  ASSERT_GT(cpid, 0);
  usleep(200000);
  kill(mrpid, SIGKILL);
  waitpid(mrpid, nullptr, 0);
  // Gone, or a zombie waiting for the host's init to reap it.
  auto alive = [&] {
    std::string stat;
    try {
      stat = read_file("/proc/" + std::to_string(cpid) + "/stat");
    } catch (...) {
      return false;
    }
    auto close = stat.rfind(')');
    return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
  };
  for (int i = 0; i < 50 && alive(); i++) usleep(20000);
  EXPECT_FALSE(alive()) << "the container outlived minirun";
  EXPECT_NE(mr({"ps", "-a"}).out.find("Exited (137)"), std::string::npos);
  // Its changes stay for export, and rm cleans up.
  std::string out = *t_ / "c.tar";
  ASSERT_EQ(mr({"export", "k", "-o", out}).code, 0);
  EXPECT_EQ(run_cmd({"/bin/tar", "-xOf", out, "tmp/kept"}).out, "data\n");
  EXPECT_EQ(mr({"rm", "k"}).code, 0);
}

TEST_F(Run, InheritedDescriptorsNeverReachTheContainer) {
  // minirun's caller leaves descriptor 9 open on the host's "/" (not close-on-exec): neither the
  // command nor, with --init, pid 1 may hold it (runc's CVE-2024-21626 was such a descriptor).
  int host_root = ::open("/", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(host_root, 0);
  ASSERT_EQ(::dup2(host_root, 9), 9);
  ::close(host_root);
  auto plain = sh("echo $(ls /proc/self/fd)");
  auto init = sh("echo $(ls /proc/self/fd) / $(ls /proc/1/fd)", {"--init"});
  auto escape = sh("cd /proc/self/fd/9 2>/dev/null && ls /work >/dev/null 2>&1 && echo escaped; echo done");
  ::close(9);
  EXPECT_EQ(plain.out, "0 1 2 3\n") << plain.err;
  EXPECT_EQ(init.out, "0 1 2 3 / 0 1 2\n") << init.err;
  EXPECT_EQ(escape.out, "done\n") << escape.err;
}

// Images of 40 and of 500 layers run on their flat layer (flatten.h), and without it (a store of
// an older minirun) on the run path of deep images: the root file system built on a thread as a
// detached mount (past 499 layers with the image's own overlay below the -init layer) and the
// mount namespace released on a thread. The view must be the same: every layer's file, a
// whiteout in the top layer hiding a file of the bottom one, users from the bottom layer, a bind,
// the upper layer writable, nothing left mounted or in the store afterwards.
TEST_F(Run, DeepImagesShowEveryLayer) {
  for (int n : {40, 500}) {
    std::string tag = "t/deep:" + std::to_string(n);
    std::vector<TestImage> imgs = {deep_image(n, tag)};
    write_file(*t_ / "deep.tar", docker_archive(imgs));
    ASSERT_EQ(mr({"load", "-q", "-i", *t_ / "deep.tar"}).code, 0);
    fs::create_directories(*t_ / "vol");
    write_file(*t_ / "vol/v", "vol\n");
    std::string last = std::to_string(n - 1);
    for (std::string root : {std::string(*t_ / "store"), std::string("store"), std::string("no-flat")}) {
      if (root == "no-flat") {  // the same store without its flat layer: the layers themselves
        int flats = 0;
        for (const auto& e : fs::directory_iterator(*t_ / "store/overlay2"))
          if (e.path().string().find("-flat") != std::string::npos) flats += fs::remove_all(e.path()) > 0;
        EXPECT_EQ(flats, 1) << "the load of " << n << " layers made no flat layer";
        root = "store";
      }
      // An absolute and a relative --root (the nested overlay's lower is named relative to overlay2/).
      auto r = run_cmd({"/bin/sh", "-c",
                        "cd " + t_->path() + " && " + MINIRUN_BINARY + " --root " + root + " run --rm -v " +
                            (*t_ / "vol") + ":/vol:ro -u app " + tag +
                            " sh -c 'cat /etc/layer-1 /etc/layer-" + last +
                            " /vol/v; test -e /etc/group || echo nogroup; id -un; ls /etc | grep -c layer-; "
                            "echo x > /tmp/x && cat /tmp/x'"});
      EXPECT_EQ(r.code, 0) << r.err;
      EXPECT_EQ(r.out, "1\n" + last + "\nvol\nnogroup\napp\n" + last + "\nx\n") << n << " layers, --root " << root;
    }
    EXPECT_EQ(mr({"ps", "-aq"}).out, "");
    EXPECT_TRUE(mounts_under(t_->path()).empty());
  }
}
