// Black-box tests of the minirun binary: load/images/inspect/export/rmi/tag/import, run/ps/rm,
// diff/commit/save, on archives generated here. Each test uses its own store in a TempDir.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "minirun/util/digest.h"
#include "testutil.h"

using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    store_ = std::make_unique<TempDir>("minirun-cli-");
  }
  CmdResult mr(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", root()});
    return run_cmd(args, input);
  }
  std::string root() const { return store_->path() + "/store"; }
  std::string file(const std::string& name, const std::string& data) {
    std::string p = *store_ / name;
    write_file(p, data);
    return p;
  }
  // What overlay2/ holds besides an empty l/.
  std::vector<std::string> store_leftovers() {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(root() + "/overlay2"))
      if (e.path().filename() != "l") out.push_back(e.path().filename());
    for (auto& e : fs::directory_iterator(root() + "/overlay2/l")) out.push_back("l/" + e.path().filename().string());
    return out;
  }
  std::unique_ptr<TempDir> store_;
};

std::string busybox_layer() {
  TarBuilder t;
  t.dir("bin").dir("etc").dir("tmp", TarMeta{01777}).dir("root", TarMeta{0700});
  t.file("bin/busybox", read_file("/bin/busybox"), TarMeta{0755});
  for (const char* app : {"sh", "echo", "cat", "ls", "id", "hostname", "touch", "rm", "mkdir", "true", "false",
                          "sleep", "env", "pwd", "chmod", "mv", "test", "grep", "wc", "kill", "ps"})
    t.symlink(std::string("bin/") + app, "busybox");
  t.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
  t.file("etc/group", "root:x:0:\napp:x:1000:\n");
  return t.build();
}

TestImage two_layer_image() {
  TestImage img;
  img.repo_tags = {"test/two:1"};
  img.layers.push_back(TarBuilder()
                           .dir("etc")
                           .file("etc/a", "alpha\n")
                           .file("etc/secret", "s3cret\n")
                           .dir("data")
                           .file("data/x", "x\n")
                           .build());
  img.layers.push_back(TarBuilder().raw("etc/.wh.secret", 0100000).file("etc/b", "beta\n").build());
  return img;
}

}  // namespace

TEST_F(Cli, LoadInspectExportRmiLeavesStoreEmpty) {
  std::vector<TestImage> imgs = {two_layer_image()};
  std::string ar = file("a.tar", docker_archive(imgs));
  auto r = mr({"load", "-i", ar});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Loaded image: test/two:1\n");
  r = mr({"images", "-q", "--no-trunc"});
  EXPECT_EQ(r.out, imgs[0].image_id + "\n");
  r = mr({"inspect", "test/two:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j[0]["Id"], imgs[0].image_id);
  EXPECT_EQ(j[0]["RootFS"]["Layers"], imgs[0].diff_ids);
  // The layer directories are named by ChainID.
  auto chains = minirun::chain_ids(imgs[0].diff_ids);
  EXPECT_TRUE(fs::is_directory(root() + "/overlay2/" + chains[1].substr(7) + "/diff"));
  EXPECT_EQ(read_file(root() + "/overlay2/" + chains[1].substr(7) + "/lower").substr(0, 2), "l/");
  std::string out = *store_ / "export.tar";
  r = mr({"export", "test/two:1", "-o", out});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string listing = run_cmd({"/bin/tar", "-tf", out}).out;
  EXPECT_NE(listing.find("etc/a"), std::string::npos);
  EXPECT_NE(listing.find("etc/b"), std::string::npos);
  EXPECT_EQ(listing.find("secret"), std::string::npos) << listing;
  r = mr({"rmi", "test/two:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(store_leftovers().empty());
  EXPECT_EQ(mr({"images", "-q"}).out, "");
}

TEST_F(Cli, LoadsOciGzipZstdStdinAndCompressedArchive) {
  for (auto c : {Compression::gzip, Compression::zstd}) {
    std::vector<TestImage> imgs = {two_layer_image()};
    std::string ar = oci_archive(imgs, c);
    auto r = mr({"load", "-q", "-i", file("oci.tar", ar)});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(mr({"inspect", imgs[0].image_id}).code, 0);
    r = mr({"load", "-q"}, compress(ar, c));  // whole archive compressed, on stdin
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(mr({"rmi", "-f", imgs[0].image_id}).code, 0);
    EXPECT_TRUE(store_leftovers().empty());
  }
}

TEST_F(Cli, RefusedLoadLeavesStoreUntouched) {
  std::vector<TestImage> imgs = {two_layer_image()};
  std::string ar = docker_archive(imgs);
  // Corrupt one byte of a layer's file content: its digest no longer matches the diff_id.
  auto pos = ar.find("alpha\n");
  ASSERT_NE(pos, std::string::npos);
  ar[pos] = 'A';
  auto r = mr({"load", "-i", file("bad.tar", ar)});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("diff_id"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(store_leftovers().empty());
  EXPECT_EQ(mr({"images", "-q"}).out, "");
  // Not an image archive at all.
  r = mr({"load", "-i", file("junk.tar", TarBuilder().file("hello", "x").build())});
  EXPECT_EQ(r.code, 125);
  EXPECT_TRUE(store_leftovers().empty());
}

TEST_F(Cli, SharedBaseIsStoredOnceAndTagsMove) {
  std::vector<TestImage> a = {two_layer_image()};
  ASSERT_EQ(mr({"load", "-i", file("a.tar", docker_archive(a))}).code, 0);
  TestImage b = two_layer_image();
  b.layers[1] = TarBuilder().file("etc/c", "gamma\n").build();
  b.repo_tags = {"test/two:1"};
  std::vector<TestImage> bs = {b};
  ASSERT_EQ(mr({"load", "-i", file("b.tar", docker_archive(bs))}).code, 0);
  EXPECT_EQ(store_leftovers().size(), 3u + 3u);  // 3 layers + 3 short links
  auto j = nlohmann::json::parse(mr({"inspect", "test/two:1"}).out);
  EXPECT_EQ(j[0]["Id"], bs[0].image_id);  // the tag moved to the newest image
  EXPECT_NE(mr({"images"}).out.find("<none>"), std::string::npos);
  ASSERT_EQ(mr({"tag", a[0].image_id.substr(7, 12), "other/name"}).code, 0);
  EXPECT_EQ(nlohmann::json::parse(mr({"inspect", "other/name:latest"}).out)[0]["Id"], a[0].image_id);
  EXPECT_EQ(mr({"rmi", "nosuch:tag"}).code, 1);
  ASSERT_EQ(mr({"rmi", "other/name", "test/two:1"}).code, 0);
  EXPECT_TRUE(store_leftovers().empty());
}

TEST_F(Cli, ImportRunDiffCommitSaveRoundTrip) {
  std::string rootfs = file("rootfs.tar", busybox_layer());
  auto r = mr({"import", "-c", "CMD [\"/bin/sh\", \"-c\", \"echo hi from $HOSTNAME\"]", rootfs, "test/bb"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = mr({"run", "--rm", "--hostname", "box", "test/bb"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi from box\n");
  r = mr({"run", "--name", "c1", "test/bb", "sh", "-c", "echo new > /tmp/new; rm /etc/group; exit 3"});
  EXPECT_EQ(r.code, 3) << r.err;
  r = mr({"ps", "-a"});
  EXPECT_NE(r.out.find("Exited (3)"), std::string::npos) << r.out;
  r = mr({"diff", "c1"});
  EXPECT_EQ(r.out, "C /etc\nD /etc/group\nC /tmp\nA /tmp/new\n") << r.err;
  r = mr({"commit", "-m", "tmp file", "c1", "test/bb:2"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = mr({"run", "--rm", "test/bb:2", "sh", "-c", "cat /tmp/new; test -e /etc/group || echo group gone"});
  EXPECT_EQ(r.out, "new\ngroup gone\n") << r.err;
  std::string saved = *store_ / "saved.tar";
  ASSERT_EQ(mr({"save", "-o", saved, "test/bb:2"}).code, 0);
  std::string id = nlohmann::json::parse(mr({"inspect", "test/bb:2"}).out)[0]["Id"];
  ASSERT_EQ(mr({"rm", "c1"}).code, 0);
  ASSERT_EQ(mr({"rmi", "test/bb:2", "test/bb"}).code, 0);
  EXPECT_TRUE(store_leftovers().empty());
  r = mr({"load", "-i", saved});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(mr({"inspect", "test/bb:2"}).out)[0]["Id"], id) << "save must reproduce the layers byte for byte";
  // run straight from an archive
  r = mr({"run", "--rm", saved, "cat", "/tmp/new"});
  EXPECT_EQ(r.out, "new\n") << r.err;
}

// main() registers only the verb named (after the global flags and their values); help, a
// typo or no verb still see every verb.
TEST_F(Cli, HelpListsEveryVerbAndGlobalFlagsComeFirst) {
  auto help = run_cmd({MINIRUN_BINARY, "--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* v : {"load", "import", "images", "inspect", "history", "tag", "rmi", "image", "export", "mount",
                        "umount", "run", "ps", "rm", "diff", "commit", "save"})
    EXPECT_NE(help.out.find(std::string("\n  ") + v + " "), std::string::npos) << v << " missing from:\n" << help.out;
  EXPECT_EQ(run_cmd({MINIRUN_BINARY, "--root", root(), "--help"}).out, help.out);
  auto typo = run_cmd({MINIRUN_BINARY, "--root", root(), "imagess"});
  EXPECT_EQ(typo.code, 125);
  EXPECT_NE(typo.err.find("imagess"), std::string::npos) << typo.err;
  EXPECT_EQ(run_cmd({MINIRUN_BINARY}).code, 125);
  // A global flag's value that names a verb is the value, not the verb.
  auto r = run_cmd({MINIRUN_BINARY, "--log-level", "info", "--root", *store_ / "run", "images", "-q"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_directory(*store_ / "run/overlay2"));
  r = run_cmd({MINIRUN_BINARY, "--root=" + root(), "ps", "-a"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("CONTAINER ID"), std::string::npos);
  EXPECT_NE(run_cmd({MINIRUN_BINARY, "run", "--help"}).out.find("--rm"), std::string::npos);
}

TEST_F(Cli, RunExitCodesAndErrors) {
  ASSERT_EQ(mr({"import", file("rootfs.tar", busybox_layer()), "test/bb"}).code, 0);
  EXPECT_EQ(mr({"run", "--rm", "test/bb"}).code, 125);  // no command
  EXPECT_EQ(mr({"run", "--rm", "--pull", "never", "nosuch/image"}).code, 125);  // no registry asked
  EXPECT_EQ(mr({"run", "--rm", "test/bb", "/nonexistent"}).code, 127);
  EXPECT_EQ(mr({"run", "--rm", "test/bb", "/etc/passwd"}).code, 126);
  // pid 1 ignores signals it has no handler for; with --init the command is not pid 1.
  EXPECT_EQ(mr({"run", "--rm", "--init", "test/bb", "sh", "-c", "kill -9 $$"}).code, 137);
  EXPECT_EQ(mr({"run", "--rm", "--bogus-flag", "test/bb", "true"}).code, 125);
  auto r = mr({"run", "--rm", "test/bb", "sh", "-c", "echo $$"});
  EXPECT_EQ(r.out, "1\n");
  ASSERT_EQ(mr({"run", "--name", "dup", "test/bb", "true"}).code, 0);
  r = mr({"run", "--name", "dup", "test/bb", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("already in use"), std::string::npos) << r.err;
  EXPECT_EQ(mr({"rmi", "test/bb"}).code, 1);  // used by a container
  ASSERT_EQ(mr({"rm", "dup"}).code, 0);
  ASSERT_EQ(mr({"rmi", "test/bb"}).code, 0);
  EXPECT_TRUE(store_leftovers().empty());
  EXPECT_TRUE(mounts_under(root()).empty());
}

TEST_F(Cli, HistoryHiddenListsWhatLaterLayersHide) {
  TestImage img;
  img.repo_tags = {"test/secret:1"};
  img.layers.push_back(TarBuilder()
                           .dir("root")
                           .file("root/.credentials", "password=hunter2\n")
                           .dir("data")
                           .file("data/keep", "k")
                           .file("data/over", "old content")
                           .dir("opq")
                           .file("opq/x", "xx")
                           .dir("gone")
                           .file("gone/deep", "ddd")
                           .build());
  img.layers.push_back(TarBuilder()
                           .raw("root/.wh..credentials", 0100000)
                           .file("data/over", "new")
                           .dir("opq")
                           .raw("opq/.wh..wh..opq", 0100000)
                           .file("opq/y", "y")
                           .raw(".wh.gone", 0100000)
                           .build());
  std::vector<TestImage> imgs = {img};
  ASSERT_EQ(mr({"load", "-i", file("s.tar", docker_archive(imgs))}).code, 0);
  auto r = mr({"history", "--hidden", "test/secret:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* p : {"/root/.credentials", "/data/over", "/opq/x", "/gone/deep"})
    EXPECT_NE(r.out.find(p), std::string::npos) << p << "\n" << r.out;
  EXPECT_EQ(r.out.find("/data/keep"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 hidden files, 33B (33 bytes) shipped but invisible"), std::string::npos) << r.out;
}
