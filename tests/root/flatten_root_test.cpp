// Flat layers (flatten.h). The kernel is the oracle: random stacks of 40 layers (files, directories
// with modes, owners, times and xattrs, opaque directories, whiteouts, symlinks, hard links, fifos,
// names changing type from layer to layer) are mounted as an overlay in a child's own mount
// namespace, and the overlay's view must equal the flat layer name for name. Then, through the
// binary: run uses the flat layer when there is one and the layers when not, load and commit
// make it, rmi removes it.
#include <gtest/gtest.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include "minirun/util/error.h"
#include "minirun/image/flatten.h"
#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

// One line per name below dirfd, sorted: what a container can see of it (no inode numbers, no
// link counts, no directory sizes: those legitimately differ).
void list_tree(int dirfd, const std::string& rel, std::string& out) {
  std::vector<std::string> names;
  DIR* d = ::fdopendir(::dup(dirfd));
  if (!d) {
    out += rel + ": opendir failed\n";
    return;
  }
  while (struct dirent* e = ::readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.emplace_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string p = rel + "/" + n;
    struct stat st;
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      // overlayfs lists a whiteout of a directory that only one layer holds (nothing below it to
      // hide) but finds no such name: not there for a reader, as in the flat layer.
      if (errno != ENOENT) out += p + ": stat failed\n";
      continue;
    }
    char line[256];
    snprintf(line, sizeof line, " type=%o mode=%o owner=%u:%u", st.st_mode & S_IFMT, st.st_mode & 07777, st.st_uid, st.st_gid);
    out += p + line;
    if (!S_ISLNK(st.st_mode)) out += " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (S_ISLNK(st.st_mode)) {
      char buf[256];
      ssize_t l = ::readlinkat(dirfd, n.c_str(), buf, sizeof buf);
      out += " -> " + std::string(buf, static_cast<size_t>(std::max<ssize_t>(l, 0)));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      out += " dev=" + std::to_string(major(st.st_rdev)) + "," + std::to_string(minor(st.st_rdev));
    } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
      int fd = ::openat(dirfd, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
      char v[64];
      ssize_t vl = ::fgetxattr(fd, "user.tag", v, sizeof v);
      if (vl >= 0) out += " user.tag=" + std::string(v, static_cast<size_t>(vl));
      if (S_ISREG(st.st_mode)) {
        char buf[128];
        ssize_t l = ::read(fd, buf, sizeof buf);
        out += " data=" + std::string(buf, static_cast<size_t>(std::max<ssize_t>(l, 0)));
      }
      out += "\n";
      if (S_ISDIR(st.st_mode)) list_tree(fd, p, out);
      ::close(fd);
      continue;
    }
    out += "\n";
  }
}

std::string listing(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  ::fstat(fd, &st);
  std::string out = "/ mode=" + std::to_string(st.st_mode & 07777) + " owner=" + std::to_string(st.st_uid) +
                    " mtime=" + std::to_string(st.st_mtim.tv_sec) + "\n";
  list_tree(fd, "", out);
  ::close(fd);
  return out;
}

// Writes random layers in overlay form (whiteouts as 0/0 devices, trusted.overlay.opaque) over a
// small set of names, so that layers collide often.
class LayerGen {
 public:
  explicit LayerGen(unsigned seed) : rng_(seed) {}

  void build(const std::string& root, int layer) {
    ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
    for (int op = 0; op < 8; op++) {
      std::string p = root + "/" + random_path();
      if (!parents_are_dirs(root, p)) continue;
      struct stat st;
      bool taken = ::lstat(p.c_str(), &st) == 0;
      std::string tag = "L" + std::to_string(layer) + "." + std::to_string(op);
      switch (pick(8)) {
        case 0:  // a file
          if (!taken) make_file(p, tag);
          break;
        case 1:  // a directory, maybe opaque, maybe with an xattr
          if (!taken) { ASSERT_EQ(::mkdir(p.c_str(), 0755), 0) << p; }
          if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            ::chmod(p.c_str(), std::vector<mode_t>{0755, 0700, 01777, 02750}[pick(4)]);
            ::lchown(p.c_str(), pick(2) ? 0 : 1000, pick(2) ? 0 : 1000);
            if (pick(2)) ::lsetxattr(p.c_str(), "user.tag", tag.data(), tag.size(), 0);
            if (pick(4) == 0) { ASSERT_EQ(::lsetxattr(p.c_str(), "trusted.overlay.opaque", "y", 1, 0), 0); }
          }
          break;
        case 2:  // a whiteout
          if (!taken) { ASSERT_EQ(::mknod(p.c_str(), S_IFCHR, makedev(0, 0)), 0) << p; }
          break;
        case 3:
          if (!taken) { ASSERT_EQ(::symlink(("../" + tag).c_str(), p.c_str()), 0); }
          break;
        case 4: {  // a hard link pair inside the layer
          std::string q = root + "/" + random_path();
          // (making q's parents may have made p a directory)
          if (!taken && q != p && parents_are_dirs(root, q) && ::lstat(q.c_str(), &st) != 0 &&
              ::lstat(p.c_str(), &st) != 0) {
            make_file(p, tag);
            ASSERT_EQ(::link(p.c_str(), q.c_str()), 0);
          }
          break;
        }
        case 5:
          if (!taken) { ASSERT_EQ(::mkfifo(p.c_str(), 0640), 0); }
          break;
        case 6:  // a device node (not a whiteout)
          if (!taken) { ASSERT_EQ(::mknod(p.c_str(), S_IFCHR | 0600, makedev(1, 3)), 0); }
          break;
        default:  // only metadata of an existing directory of this layer
          if (taken && S_ISDIR(st.st_mode)) ::chmod(p.c_str(), 0711);
      }
    }
    ::chmod(root.c_str(), pick(2) ? 0755 : 0750);
    set_times(root);
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string random_path() {
    std::string p;
    for (int depth = 1 + pick(3); depth > 0; depth--) p += (p.empty() ? "" : "/") + std::string(1, "abcd"[pick(4)]);
    return p;
  }
  bool parents_are_dirs(const std::string& root, const std::string& p) {
    for (size_t s = p.find('/', root.size() + 1); s != std::string::npos; s = p.find('/', s + 1)) {
      std::string parent = p.substr(0, s);
      struct stat st;
      if (::lstat(parent.c_str(), &st) != 0) {
        if (::mkdir(parent.c_str(), 0755) != 0) return false;
      } else if (!S_ISDIR(st.st_mode)) {
        return false;
      }
    }
    return true;
  }
  void make_file(const std::string& p, const std::string& data) {
    write_file(p, data, std::vector<mode_t>{0644, 0600, 0755, 04755}[pick(4)]);
    ::chown(p.c_str(), pick(2) ? 0 : 1000, 0);
    if (pick(3) == 0) ::setxattr(p.c_str(), "user.tag", data.data(), data.size(), 0);
  }
  // Random times on every entry, deepest first (adding entries changed the directories' mtime).
  void set_times(const std::string& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return;
    if (S_ISDIR(st.st_mode))
      for (const auto& e : fs::directory_iterator(p)) set_times(e.path());
    struct timespec ts[2] = {{1600000000 + pick(1000000), pick(1000) * 1000}, {1600000000 + pick(1000000), pick(1000) * 1000}};
    ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
  }
  std::mt19937 rng_;
};

// The overlay of the layers (named "0", "1", … bottom first, in dir) as the kernel shows it,
// listed by a child in a mount namespace of its own (private first; it dies with the child).
std::string overlay_listing(const std::string& dir, int layers, const std::string& out_file) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(2);
    if (::chdir(dir.c_str()) != 0) _exit(3);
    std::string opts = "lowerdir=";
    for (int i = layers - 1; i >= 0; i--) opts += std::to_string(i) + (i ? ":" : "");
    ::mkdir("mnt", 0755);
    if (::mount("overlay", "mnt", "overlay", MS_RDONLY, opts.c_str()) != 0) _exit(4);
    write_file(out_file, listing(dir + "/mnt"));
    _exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "overlay child failed: " + std::to_string(status);
  return read_file(out_file);
}

class FlatLayer : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    t_ = std::make_unique<TempDir>("minirun-flat-");
  }
  void TearDown() override {
    if (t_) { EXPECT_TRUE(mounts_under(t_->path()).empty()) << "a mount was left on the host"; }
  }
  CmdResult mr(std::vector<std::string> args) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", *t_ / "store"});
    return run_cmd(args);
  }
  // The store's flat layer directories.
  std::vector<std::string> flats() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(*t_ / "store/overlay2"))
      if (e.path().filename().string().size() > 5 && e.path().string().substr(e.path().string().size() - 5) == "-flat")
        out.push_back(e.path());
    return out;
  }
  // deep_image(n, tag) as a docker-save archive.
  std::string deep_archive(int n, const std::string& tag) {
    std::vector<TestImage> imgs = {deep_image(n, tag)};
    std::string path = *t_ / (std::to_string(n) + ".tar");
    write_file(path, docker_archive(imgs));
    return path;
  }
  std::unique_ptr<TempDir> t_;
};

}  // namespace

TEST_F(FlatLayer, EqualsTheKernelsOverlayOfRandomLayers) {
  constexpr int kLayers = 40;
  for (unsigned seed = 1; seed <= 12; seed++) {
    std::string dir = *t_ / ("s" + std::to_string(seed));
    fs::create_directories(dir);
    LayerGen gen(seed);
    std::vector<std::string> diffs;
    for (int i = 0; i < kLayers; i++) {
      diffs.push_back(dir + "/" + std::to_string(i));
      gen.build(diffs.back(), i);
      if (HasFatalFailure()) return;
    }
    std::string flat = dir + "/flat";
    fs::create_directories(flat);
    ASSERT_NO_THROW(minirun::flatten_layers(diffs, flat)) << "seed " << seed;
    std::string want = overlay_listing(dir, kLayers, dir + "/overlay.txt");
    EXPECT_GT(std::count(want.begin(), want.end(), '\n'), 5) << "seed " << seed << ": a stack that shows nearly nothing";
    EXPECT_EQ(listing(flat), want) << "seed " << seed;
    // Only directories are new: every other name is the layer's own inode.
    char v[2];
    for (const auto& e : fs::recursive_directory_iterator(flat)) {
      EXPECT_LT(::lgetxattr(e.path().c_str(), "trusted.overlay.opaque", v, sizeof v), 0) << e.path();
      if (!e.is_directory() && !e.is_symlink()) { EXPECT_GE(fs::hard_link_count(e.path()), 2u) << e.path(); }
    }
  }
}

// Past 256 directory levels the walk stops (two descriptors a level): such an image runs on its
// layers; its load still succeeds.
TEST_F(FlatLayer, TooDeepATreeIsLeftToTheLayers) {
  std::string deep = *t_ / "0";
  for (int i = 0; i < 300; i++) deep += "/d";
  fs::create_directories(deep);
  fs::create_directories(*t_ / "flat");
  try {
    minirun::flatten_layers({*t_ / "0"}, *t_ / "flat");
    ADD_FAILURE() << "a tree 300 directories deep was flattened";
  } catch (const minirun::Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1 of 1: d/d/d"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("deeper than 256 directories"), std::string::npos) << e.what();
  }
  TestImage img;
  img.layers.push_back(busybox_rootfs().build());
  std::string path;
  for (int i = 0; i < 300; i++) path += "d/";
  for (int i = 1; i < 40; i++) img.layers.push_back(TarBuilder().file(i == 1 ? path + "f" : "f" + std::to_string(i), "x").build());
  img.repo_tags = {"t/toodeep:1"};
  std::vector<TestImage> imgs = {img};
  write_file(*t_ / "toodeep.tar", docker_archive(imgs));
  auto r = mr({"load", "-q", "-i", *t_ / "toodeep.tar"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("not flattened"), std::string::npos) << r.err;
  EXPECT_TRUE(flats().empty());
  r = mr({"run", "--rm", "t/toodeep:1", "sh", "-c", "cat /" + path + "f /f39"});
  EXPECT_EQ(r.out, "xx") << r.err;
}

TEST_F(FlatLayer, RunUsesItLoadCommitMakeItRmiRemovesIt) {
  std::string archive = deep_archive(40, "t/deep:40");
  ASSERT_EQ(mr({"load", "-q", "-i", archive}).code, 0);
  auto f = flats();
  ASSERT_EQ(f.size(), 1u);
  const std::string view = "cat /etc/layer-1 /etc/layer-39; test -e /etc/group || echo nogroup; ls /etc | grep -c layer-; "
                           "cat /etc/planted 2>/dev/null; echo x > /tmp/x && cat /tmp/x";
  // A file planted in the flat layer shows: run stacks the flat layer, not the 40 layers.
  write_file(f[0] + "/diff/etc/planted", "planted\n");
  auto r = mr({"run", "--rm", "t/deep:40", "sh", "-c", view});
  EXPECT_EQ(r.out, "1\n39\nnogroup\n39\nplanted\nx\n") << r.err;
  // Without it (a store of an older minirun), the same view from the layers.
  fs::remove_all(f[0]);
  r = mr({"run", "--rm", "t/deep:40", "sh", "-c", view});
  EXPECT_EQ(r.out, "1\n39\nnogroup\n39\nx\n") << r.err;
  // Loading the image again makes the missing flat layer.
  ASSERT_EQ(mr({"load", "-q", "-i", archive}).code, 0);
  EXPECT_EQ(flats().size(), 1u);

  // A shallow image has none; a commit that makes it deep makes one.
  ASSERT_EQ(mr({"load", "-q", "-i", deep_archive(31, "t/deep:31")}).code, 0);
  EXPECT_EQ(flats().size(), 1u);
  ASSERT_EQ(mr({"run", "--name", "c", "t/deep:31", "sh", "-c", "echo committed > /etc/layer-31"}).code, 0);
  ASSERT_EQ(mr({"commit", "c", "t/deep:32"}).code, 0);
  EXPECT_EQ(flats().size(), 2u);
  r = mr({"run", "--rm", "t/deep:32", "sh", "-c", "cat /etc/layer-31; ls /etc | grep -c layer-"});
  EXPECT_EQ(r.out, "committed\n31\n") << r.err;

  // A longer image on top of t/deep:40.
  ASSERT_EQ(mr({"run", "--name", "d", "t/deep:40", "sh", "-c", "echo more > /etc/more"}).code, 0);
  ASSERT_EQ(mr({"commit", "d", "t/deep:41"}).code, 0);
  EXPECT_EQ(flats().size(), 3u);

  // rmi takes a flat layer with its image's top layer, and leaves the other images'.
  ASSERT_EQ(mr({"rm", "c", "d"}).code, 0);
  ASSERT_EQ(mr({"rmi", "t/deep:32"}).code, 0);
  EXPECT_EQ(flats().size(), 2u);
  // t/deep:40's layers stay for t/deep:41, but no image is topped by its top layer any more.
  ASSERT_EQ(mr({"rmi", "t/deep:40"}).code, 0);
  EXPECT_EQ(flats().size(), 1u);
  r = mr({"run", "--rm", "t/deep:41", "sh", "-c", "cat /etc/more /etc/layer-39 /etc/planted"});
  EXPECT_EQ(r.out, "more\n39\n") << r.err;
  ASSERT_EQ(mr({"rmi", "t/deep:41", "t/deep:31"}).code, 0);
  EXPECT_TRUE(flats().empty());
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(*t_ / "store/overlay2")) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{"l"});
  EXPECT_TRUE(fs::is_empty(*t_ / "store/overlay2/l"));
  EXPECT_TRUE(fs::is_empty(*t_ / "store/tmp"));
}
