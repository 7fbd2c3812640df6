// Hostile layers and archives as root: chained symlink and hard-link
// escapes (in one tar and across layers), "." and "/" entries of odd types, whiteouts pointing
// outside, device nodes, names over PATH_MAX, deep nesting, a 1 GiB gzip bomb, malformed layer
// tar headers, digests that do not match, JSON of the wrong types. Everything is generated here.
// Each case is refused (an Error / exit 125 with one line naming the layer or entry) or
// contained; a canary directory beside the store must stay as it was, and a refused load must
// leave the store's listing exactly as it was before.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/image/extract.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

// Every path under dir (relative, with its type and, for files, size and content digest), so
// that "the store is unchanged" and "the canary is unchanged" are one comparison.
std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return out;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::string rel = it->path().string().substr(dir.size());
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    std::string what = rel + " mode=" + std::to_string(st.st_mode);
    if (S_ISREG(st.st_mode)) what += " size=" + std::to_string(st.st_size) + " " + sha256_digest(read_file(it->path()));
    if (S_ISLNK(st.st_mode)) what += " -> " + fs::read_symlink(it->path()).string();
    out.insert(what);
  }
  return out;
}


// The data offset of the tar member `name` in an archive written by TarBuilder/docker_archive/
// oci_archive (a 512-aligned ustar header holding the name), or npos.
size_t member_offset(const std::string& tar, const std::string& name) {
  for (size_t pos = tar.find(name); pos != std::string::npos; pos = tar.find(name, pos + 1))
    if (pos % 512 == 0 && tar[pos + name.size()] == '\0') return pos + 512;
  return std::string::npos;
}

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    t_ = std::make_unique<TempDir>("minirun-hostile-");
    ::mkdir(out().c_str(), 0755);
    // The canary: a directory beside the destination/store, with files a hostile layer would
    // like to overwrite, link to or read.
    fs::create_directories(outside());
    write_file(outside() + "/victim", "VICTIM\n");
    write_file(outside() + "/secret", "S3CRET-CANARY\n", 0600);
    canary_ = listing(outside());
  }
  void TearDown() override {
    if (t_) {
      EXPECT_EQ(listing(outside()), canary_) << "something was written outside";
    }
  }
  std::string out(const std::string& p = "") { return *t_ / ("out/" + p); }
  std::string outside() { return *t_ / "outside"; }
  std::string outside_rel() { return outside().substr(1); }  // without the leading "/"
  void reset_out() {
    fs::remove_all(out());
    ::mkdir(out().c_str(), 0755);
  }
  ExtractResult extract(const std::string& blob, ExtractOptions o = {}) {
    write_file(*t_ / "blob", blob);
    return extract_layer(*t_ / "blob", 0, blob.size(), out(), o);
  }
  // Extracts; returns "" when accepted, else the error (which must be one line).
  std::string try_extract(const std::string& blob, ExtractOptions o = {}) {
    try {
      extract(blob, o);
      return "";
    } catch (const Error& e) {
      std::string w = e.what();
      EXPECT_EQ(w.find('\n'), std::string::npos) << w;
      EXPECT_LT(w.size(), 1200u) << w.substr(0, 300);
      return w.empty() ? "?" : w;
    }
  }

  // The CLI, on a store inside the temp dir.
  CmdResult mr(std::vector<std::string> args, int timeout = 300) {
    args.insert(args.begin(), {MINIRUN_BINARY, "--root", root()});
    return run_cmd(args, "", timeout);
  }
  std::string root() { return *t_ / "store"; }
  std::string file(const std::string& name, const std::string& data) {
    std::string p = *t_ / name;
    write_file(p, data);
    return p;
  }
  // A load that must be refused: exit 125, one line naming `part`, the store exactly as before.
  void expect_refused_load(const std::string& archive_path, const std::string& part) {
    auto before = listing(root());
    auto r = mr({"load", "-q", "-i", archive_path}, 60);
    EXPECT_EQ(r.code, 125) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << "want \"" << part << "\" in: " << r.err;
    EXPECT_EQ(listing(root()), before) << "a refused load changed the store";
  }

  std::unique_ptr<TempDir> t_;
  std::set<std::string> canary_;
};

TestImage image_of(std::vector<std::string> layers, const std::string& tag = "hostile/img:1") {
  TestImage img;
  img.repo_tags = {tag};
  img.layers = std::move(layers);
  return img;
}

}  // namespace

// ---- escapes in one layer ----

TEST_F(Hostile, ChainedSymlinkAndHardLinkEscapesStayInside) {
  std::string o = outside(), orel = outside_rel();
  // link → link → outside (absolute, then relative with more ".." than there are levels), then
  // writes through the chain.
  std::string e = try_extract(TarBuilder()
                                  .symlink("l1", "l2")
                                  .symlink("l2", o)
                                  .file("l1/victim", "pwned")
                                  .dir("a")
                                  .symlink("a/r1", "../r2")
                                  .symlink("r2", "../../../../../../../../../../" + orel)
                                  .file("a/r1/new", "pwned")
                                  .build());
  // Either refused (the target does not exist inside) or written inside: never outside.
  if (e.empty()) {
    EXPECT_FALSE(fs::exists(o + "/new"));
  }
  // A directory replaced by a symlink to the outside later in the same tar, then written through.
  reset_out();
  try_extract(TarBuilder().dir("d").file("d/x", "1").symlink("d", o).file("d/victim", "pwned").file("d/new", "n").build());
  // A hard link whose target goes through a symlink chain to the outside: refused, never a link
  // to the host's inode.
  reset_out();
  e = try_extract(TarBuilder().symlink("s1", "s2").symlink("s2", o).hardlink("h", "s1/secret").build());
  EXPECT_NE(e, "") << "a hard link through a symlink to the outside was accepted";
  EXPECT_NE(e.find("h: "), std::string::npos) << e;  // names the entry
  struct stat st;
  EXPECT_NE(::lstat(out("h").c_str(), &st), 0);
  // Relative ".." hard-link target: cleaned against the root, so not found, refused.
  reset_out();
  EXPECT_NE(try_extract(TarBuilder().hardlink("h", "../../../../../../../../" + orel + "/secret").build()), "");
  // A hard link to a symlink that points outside links the symlink itself: contained.
  reset_out();
  EXPECT_EQ(try_extract(TarBuilder().symlink("s", o + "/victim").hardlink("h2", "s").file("h2", "replaced").build()), "");
  EXPECT_EQ(read_file(out("h2")), "replaced");
  ASSERT_EQ(::lstat(out("s").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  // Device nodes through a symlink to the outside: never created there.
  reset_out();
  try_extract(TarBuilder().symlink("dev", o).chardev("dev/mem", 1, 1).raw("dev/sda", AE_IFBLK).fifo("dev/fifo").build());
  EXPECT_FALSE(fs::exists(fs::symlink_status(o + "/mem")));
  // Device nodes in the layer itself are kept as nodes, inside.
  reset_out();
  EXPECT_EQ(try_extract(TarBuilder().dir("dev").chardev("dev/mem", 1, 1).build()), "");
  ASSERT_EQ(::lstat(out("dev/mem").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST_F(Hostile, RootEntriesOfOddTypesNeverReplaceTheRoot) {
  struct stat before;
  ASSERT_EQ(::stat(out().c_str(), &before), 0);
  for (const char* name : {".", "/", "./", "././", "a/..", "//", "../"}) {
    for (unsigned type : {AE_IFREG, AE_IFIFO, AE_IFCHR, AE_IFBLK, AE_IFLNK, 0u /* hard link */}) {
      reset_out();
      TarBuilder b;
      b.file("x", "x");
      if (type == 0) b.hardlink(name, "x");
      else if (type == AE_IFLNK) b.raw(name, type, "", outside());
      else b.raw(name, type, type == AE_IFREG ? "data" : "");
      b.file("after", "ok");
      // Refused (libarchive calls some of these damaged) or ignored; the root stays the directory.
      std::string e = try_extract(b.build());
      struct stat st;
      ASSERT_EQ(::lstat(out().c_str(), &st), 0);
      EXPECT_TRUE(S_ISDIR(st.st_mode)) << name << " type " << type;
      // A name ending in "/" is a directory to tar readers (its mode may then apply to the root,
      // as a "./" directory entry does in Docker); other types never touch the root's metadata.
      if (std::string(name).back() != '/') {
        EXPECT_EQ(st.st_mode & 07777, 0755u) << name << " type " << type << ": its metadata was applied to the root";
      }
      EXPECT_EQ(read_file(out("x")), "x");
      if (e.empty()) {
        EXPECT_EQ(read_file(out("after")), "ok") << name << " type " << type;
      } else {
        std::printf("odd root entry \"%s\" of type %o: refused: %s\n", name, type, e.c_str());
      }
    }
  }
}

TEST_F(Hostile, WhiteoutsPointingOutsideAreRefusedOrContained) {
  std::string orel = outside_rel();
  // ".." in front of a whiteout: cleaned against the root, so it whites out /victim inside.
  EXPECT_EQ(try_extract(TarBuilder().file("../.wh.victim", "").file("../../../../../../" + orel + "/.wh.secret", "").build()), "");
  struct stat st;
  ASSERT_EQ(::lstat(out("victim").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  ASSERT_EQ(::lstat(out(orel + "/secret").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // A whiteout through a symlink to the outside: resolved inside (refused: not a directory there).
  reset_out();
  try_extract(TarBuilder().symlink("esc", outside()).file("esc/.wh.victim", "").file("esc/.wh..wh..opq", "").build());
  // Whiteouts naming "", ".", ".." or "..." of a directory: refused, naming the entry.
  for (const char* bad : {".wh.", ".wh..", ".wh...", "../.wh..", "x/.wh..", "x/.wh...", "../../.wh...", "a/b/.wh."}) {
    reset_out();
    std::string e = try_extract(TarBuilder().dir("x").file(bad, "").build());
    EXPECT_NE(e.find("invalid whiteout"), std::string::npos) << bad << ": " << e;
  }
  // An opaque marker with ".." before it lands on the root, inside.
  reset_out();
  EXPECT_EQ(try_extract(TarBuilder().file("../../.wh..wh..opq", "").build()), "");
}

TEST_F(Hostile, NamesOverPathMaxAreRefusedWithOneLine) {
  std::string comp(200, 'n');
  std::string longpath;
  while (longpath.size() < 5000) longpath += comp + "/";
  longpath += "f";
  std::string e = try_extract(TarBuilder().file(longpath, "x").build());
  EXPECT_NE(e.find("too long"), std::string::npos) << e.substr(0, 300);
  reset_out();
  e = try_extract(TarBuilder().file(std::string(300, 'c'), "x").build());  // one component over NAME_MAX
  EXPECT_NE(e.find("too long"), std::string::npos) << e.substr(0, 300);
  reset_out();
  e = try_extract(TarBuilder().symlink("l", std::string(5000, 't')).build());
  EXPECT_NE(e.find("too long"), std::string::npos) << e.substr(0, 300);
  reset_out();
  e = try_extract(TarBuilder().file("x", "x").hardlink("h", longpath).build());
  EXPECT_NE(e, "");
}

TEST_F(Hostile, DeepNestingIsExtractedOrRefusedWithoutCrashing) {
  // 2,000 levels in one name (4,000 bytes, under PATH_MAX): extracted.
  std::string deep;
  for (int i = 0; i < 2000; i++) deep += "d/";
  EXPECT_EQ(try_extract(TarBuilder().file(deep + "f", "bottom").build()), "");
  EXPECT_EQ(read_file(out(deep + "f")), "bottom");
  // 3,000 levels in one name: over PATH_MAX, refused.
  reset_out();
  std::string deeper;
  for (int i = 0; i < 3000; i++) deeper += "d/";
  EXPECT_NE(try_extract(TarBuilder().file(deeper + "f", "x").build()).find("too long"), std::string::npos);
}

// A layer nested 5,000 directories deep on disk (each name under PATH_MAX: symlinks into the
// previous level), loaded by a minirun limited to 1,024 open files (the usual default): refused
// (a later entry fails) with the staging directory removed, and when loaded, removed by rmi.
TEST_F(Hostile, DeepTreesOnDiskAreRemovedWhenRefusedAndByRmi) {
  std::string thousand;
  for (int i = 0; i < 1000; i++) thousand += "d/";
  TarBuilder b;
  b.file(thousand + "f", "1");
  std::string prev;
  for (int k = 1; k <= 4; k++) {
    std::string link = "s" + std::to_string(k);
    b.symlink(link, (prev.empty() ? std::string("") : prev + "/") + thousand.substr(0, thousand.size() - 1));
    b.file(link + "/" + thousand + "f", std::to_string(k + 1));
    prev = link;
  }
  std::string good_layer = b.build();
  b.hardlink("last", "no/such/target");
  std::string bad_layer = b.build();
  auto mr_limited = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/prlimit", "--nofile=1024:1024", MINIRUN_BINARY, "--root", root()});
    return run_cmd(args, "", 300);
  };
  ASSERT_EQ(mr({"images", "-q"}).code, 0);
  auto before = listing(root());
  std::vector<TestImage> bad = {image_of({bad_layer}, "hostile/deep:1")};
  auto r = mr_limited({"load", "-q", "-i", file("bad.tar", docker_archive(bad))});
  EXPECT_EQ(r.code, 125) << r.err;
  EXPECT_NE(r.err.find("hard link target"), std::string::npos) << r.err;
  EXPECT_EQ(listing(root()), before) << "the staged layer was not removed";
  std::vector<TestImage> good = {image_of({good_layer}, "hostile/deep:1")};
  r = mr_limited({"load", "-q", "-i", file("good.tar", docker_archive(good))});
  ASSERT_EQ(r.code, 0) << r.err;
  r = mr_limited({"rmi", "hostile/deep:1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(listing(root() + "/overlay2").size(), 1u) << "rmi left the layer behind";  // only l/
  EXPECT_TRUE(listing(root() + "/tmp").empty());
}

TEST_F(Hostile, ManySmallFilesOverTheLimitAreRefused) {
  // The running total (not one entry's declared size) trips the limit.
  TarBuilder b;
  for (int i = 0; i < 100; i++) b.file("f" + std::to_string(i), std::string(10000, 'z'));
  ExtractOptions o;
  o.max_size = 300000;
  std::string e = try_extract(compress(b.build(), Compression::gzip), o);
  EXPECT_NE(e.find("maximum size"), std::string::npos) << e;
}

// ---- through the CLI: layers stacked, refusals leave the store as it was ----

TEST_F(Hostile, SymlinkFromALowerLayerIsNotFollowedByAnUpperLayer) {
  std::string o = outside();
  std::string lower = TarBuilder()
                          .symlink("etc", o)
                          .symlink("rel", "../../../../../../../../../../" + outside_rel())
                          .symlink("chain", "etc")
                          .build();
  std::string upper = TarBuilder()
                          .file("etc/victim", "pwned")
                          .file("rel/new", "pwned")
                          .file("chain/secret", "pwned")
                          .chardev("etc/mem", 1, 1)
                          .file(".wh.victim", "")
                          .build();
  std::vector<TestImage> imgs = {image_of({lower, upper})};
  auto r = mr({"load", "-q", "-i", file("a.tar", docker_archive(imgs))});
  ASSERT_EQ(r.code, 0) << r.err;
  // The upper layer's entries are in its own diff, as directories over the lower symlinks.
  EXPECT_EQ(mr({"images", "-q"}).out.size(), 13u);
  // A hard link in an upper layer to a file behind a lower layer's symlink to the outside:
  // refused (the target is looked up inside the lower layer), nothing copied from the host.
  std::string upper2 = TarBuilder().hardlink("h", "etc/secret").build();
  std::string upper3 = TarBuilder().hardlink("h", "chain/secret").build();
  std::vector<TestImage> bad = {image_of({lower, upper2}, "hostile/bad:1")};
  expect_refused_load(file("b.tar", docker_archive(bad)), "hard link target");
  bad = {image_of({lower, upper3}, "hostile/bad:2")};
  expect_refused_load(file("c.tar", docker_archive(bad)), "hard link target");
  // The secret was never copied into the store.
  for (auto& e : fs::recursive_directory_iterator(root()))
    if (fs::is_regular_file(fs::symlink_status(e.path()))) {
      EXPECT_EQ(read_file(e.path()).find("S3CRET-CANARY"), std::string::npos) << e.path();
    }
}

TEST_F(Hostile, DigestsThatDoNotMatchAreRefused) {
  // A good image first, so that "unchanged" means something.
  std::vector<TestImage> good = {image_of({TarBuilder().file("g", "good").build()}, "hostile/good:1")};
  ASSERT_EQ(mr({"load", "-q", "-i", file("good.tar", oci_archive(good))}).code, 0);

  auto oci = [](std::vector<TestImage>& imgs) { return oci_archive(imgs, Compression::gzip); };
  std::vector<TestImage> imgs = {image_of({TarBuilder().file("etc/a", "alpha").build()})};
  std::string ar = oci(imgs);
  auto index = nlohmann::json::parse(ar.substr(member_offset(ar, "index.json")).c_str());
  std::string mdigest = index["manifests"][0]["digest"];
  size_t moff = member_offset(ar, "blobs/sha256/" + mdigest.substr(7));
  ASSERT_NE(moff, std::string::npos);
  auto manifest = nlohmann::json::parse(ar.substr(moff, index["manifests"][0]["size"].get<size_t>()));
  std::string ldigest = manifest["layers"][0]["digest"], cdigest = manifest["config"]["digest"];
  size_t loff = member_offset(ar, "blobs/sha256/" + ldigest.substr(7));
  size_t coff = member_offset(ar, "blobs/sha256/" + cdigest.substr(7));
  ASSERT_NE(loff, std::string::npos);
  ASSERT_NE(coff, std::string::npos);

  // The layer blob: the gzip header's MTIME changed, so the content (and DiffID) is the same
  // but the blob no longer matches the manifest's digest.
  std::string a = ar;
  ASSERT_EQ(static_cast<unsigned char>(a[loff]), 0x1f);
  a[loff + 4] ^= 0x01;
  expect_refused_load(file("layer.tar", a), "does not match its descriptor");
  // The config blob.
  a = ar;
  a[coff + 2] ^= 0x01;
  expect_refused_load(file("config.tar", a), "config " + cdigest.substr(0, 19));
  // The manifest blob.
  a = ar;
  a[moff + 3] ^= 0x01;
  expect_refused_load(file("manifest.tar", a), "manifest " + mdigest.substr(0, 19));
  // A docker-save archive naming its config by digest, with other content.
  TestImage d = image_of({TarBuilder().file("x", "x").build()});
  finish_config(d);
  std::string other = d.config_json;
  other[other.find("amd64")] = 'A';
  TarBuilder b;
  b.file("blobs/sha256/" + d.image_id.substr(7), other).file("l.tar", d.layers[0]);
  b.file("manifest.json", R"([{"Config":"blobs/sha256/)" + d.image_id.substr(7) + R"(","Layers":["l.tar"]}])");
  expect_refused_load(file("docker-config.tar", b.build()), "does not match its digest");
  // A docker-save layer whose content does not match the config's diff_id.
  std::vector<TestImage> dimgs = {image_of({TarBuilder().file("etc/a", "alpha\n").build()})};
  std::string dar = docker_archive(dimgs);
  dar[dar.find("alpha\n")] = 'A';
  expect_refused_load(file("diffid.tar", dar), "diff_id");
  EXPECT_EQ(mr({"images", "-q"}).out.size(), 13u);
}

TEST_F(Hostile, JsonOfWrongTypesIsRefusedAtLoad) {
  std::vector<TestImage> good = {image_of({TarBuilder().file("g", "good").build()}, "hostile/good:1")};
  ASSERT_EQ(mr({"load", "-q", "-i", file("good.tar", docker_archive(good))}).code, 0);
  std::string d64(64, 'a');
  struct Case {
    std::string name, body, want;
  };
  for (const Case& c : std::vector<Case>{
           {"manifest.json", R"({"Config":"c.json"})", "manifest.json: not a JSON array"},
           {"manifest.json", R"([{"Config":42,"Layers":[]}])", "manifest.json entry 0: no Config"},
           {"manifest.json", R"([{"Config":"c.json","Layers":"x"}])", "no Layers array"},
           {"manifest.json", R"([{"Config":"c.json","Layers":[],"RepoTags":{"a":1}}])", "RepoTags is not an array"},
           {"index.json", R"({"manifests":{}})", "index.json: manifests is not an array"},
           {"index.json", R"({"manifests":[{"mediaType":5,"digest":"sha256:)" + d64 + R"("}]})", "index.json"},
           {"index.json", R"({"manifests":[{"digest":"sha256:)" + d64 + R"(","platform":{"os":1}}]})", "index.json"},
       }) {
    TarBuilder b;
    b.file("c.json", R"({"config":{"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[]}})");
    b.file(c.name, c.body);
    expect_refused_load(file("wrong.tar", b.build()), c.want);
  }
  TarBuilder cfg;
  cfg.file("c.json", R"({"config":{"Env":"PATH=/bin"},"rootfs":{"type":"layers","diff_ids":[]}})");
  cfg.file("manifest.json", R"([{"Config":"c.json","Layers":[]}])");
  expect_refused_load(file("wrong-config.tar", cfg.build()), "c.json: image config: \"Env\" is not an array");
}

TEST_F(Hostile, MalformedLayerTarHeadersAreRefused) {
  std::vector<TestImage> good = {image_of({TarBuilder().file("g", "good").build()}, "hostile/good:1")};
  ASSERT_EQ(mr({"load", "-q", "-i", file("good.tar", docker_archive(good))}).code, 0);
  std::string end(1024, '\0');
  std::string neg(12, '\xff');
  std::string huge = std::string(1, '\x80') + std::string(3, '\0') + std::string(8, '\x7f');
  std::string past = std::string("00000777777") + '\0';
  struct Case {
    std::string what, layer;
  };
  for (const Case& c : std::vector<Case>{
           {"bad checksum", ustar("a", '0', "a") + ustar("b", '0', "b", nullptr, false) + end},
           {"negative base-256 size", ustar("a", '0', "a") + ustar("b", '0', "", &neg) + end},
           {"huge base-256 size", ustar("a", '0', "a") + ustar("b", '0', "", &huge) + end},
           {"size past the end", ustar("a", '0', "a") + ustar("b", '0', "", &past) + std::string(512, 'b')},
           {"truncated data", (ustar("a", '0', std::string(5000, 'a')) + end).substr(0, 3000)},
       }) {
    // The config's diff_id is the digest of these very bytes: only the tar parser can refuse.
    std::vector<TestImage> imgs = {image_of({c.layer})};
    expect_refused_load(file("bad.tar", docker_archive(imgs)), "layer sha256:");
    EXPECT_FALSE(HasFailure()) << c.what;
  }
  // A PAX record whose length is "-1" (the parser once looped on it forever): libarchive skips
  // the malformed record, so the layer may load, but the load must finish, and inside.
  for (const std::string& pax : {std::string("1-1 "), std::string("6 a=b\n1-01 path=x\n")}) {
    std::vector<TestImage> imgs = {image_of({ustar("p", 'x', pax) + ustar("a", '0', "a") + end}, "hostile/pax:1")};
    auto before = listing(root());
    auto r = mr({"load", "-q", "-i", file("pax.tar", docker_archive(imgs))}, 30);
    EXPECT_TRUE(r.code == 0 || r.code == 125) << r.code << " " << r.err;
    if (r.code == 125) {
      EXPECT_EQ(listing(root()), before);
    } else {
      EXPECT_EQ(mr({"rmi", "hostile/pax:1"}).code, 0);
    }
  }
}

// A 1 GiB file of zeros in a gzip layer (about 1 MiB stored: 1000x), generated streaming. Refused
// by --max-layer-size with a small peak RSS; loaded when the limit allows it.
TEST_F(Hostile, GzipBombIsRefusedByMaxLayerSizeWithBoundedMemory) {
  const uint64_t kZeros = 1ull << 30;
  // The uncompressed tar: one header, the zeros, the end marker. Hashed and gzip-compressed as
  // it is produced, 1 MiB at a time.
  char field[12];
  std::snprintf(field, sizeof field, "%011llo", static_cast<unsigned long long>(kZeros));
  std::string size_field(field, 12);
  std::string header = ustar("zeros", '0', "", &size_field);
  std::string blob;
  Sha256 diff;
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  auto append = [](struct archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  ASSERT_EQ(archive_write_open(a, &blob, nullptr, append, nullptr), ARCHIVE_OK);
  struct archive_entry* en = archive_entry_new();
  archive_entry_set_filetype(en, AE_IFREG);
  archive_write_header(a, en);
  archive_entry_free(en);
  auto feed = [&](const std::string& s) {
    diff.update(s);
    ASSERT_EQ(archive_write_data(a, s.data(), s.size()), static_cast<la_ssize_t>(s.size()));
  };
  feed(header);
  std::string mib(1 << 20, '\0');
  for (uint64_t done = 0; done < kZeros; done += mib.size()) feed(mib);
  feed(std::string(1024, '\0'));
  archive_write_close(a);
  archive_write_free(a);
  std::string diff_id = diff.final_digest();
  std::printf("bomb: %llu bytes of tar in a %zu-byte gzip layer (%.0fx)\n", static_cast<unsigned long long>(kZeros + 1536),
              blob.size(), static_cast<double>(kZeros) / static_cast<double>(blob.size()));
  ASSERT_LT(blob.size(), kZeros / 900);

  std::string config = R"({"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[")" +
                       diff_id + R"("]}})";
  TarBuilder b;
  b.file("c.json", config).file("l.tar", blob);
  b.file("manifest.json", R"([{"Config":"c.json","RepoTags":["hostile/bomb:1"],"Layers":["l.tar"]}])");
  std::string ar = file("bomb.tar", b.build());
  blob.clear();
  ASSERT_EQ(mr({"images", "-q"}).code, 0);  // creates the store

  auto before = listing(root());
  auto r = mr({"load", "-q", "--max-layer-size", "512M", "-i", ar});
  std::printf("bomb: refused with --max-layer-size 512M: exit %d, peak RSS %ld KiB\n", r.code, r.max_rss_kb);
  EXPECT_EQ(r.code, 125) << r.err;
  EXPECT_NE(r.err.find("maximum size"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("layer sha256:"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_LT(r.max_rss_kb, 64 * 1024) << "peak RSS of the refused load";
  EXPECT_EQ(listing(root()), before);
  // A bad size is refused before anything is read.
  r = mr({"load", "-q", "--max-layer-size", "lots", "-i", ar});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("invalid size \"lots\""), std::string::npos) << r.err;
  // run ARCHIVE loads with the same limit.
  r = mr({"run", "--rm", "--max-layer-size", "1M", ar, "/bin/true"});
  EXPECT_EQ(r.code, 125) << r.err;
  EXPECT_NE(r.err.find("maximum size"), std::string::npos) << r.err;
  EXPECT_EQ(listing(root()), before);

  // Within the limit: loaded, streaming (peak RSS still small).
  r = mr({"load", "-q", "--max-layer-size", "2G", "-i", ar});
  std::printf("bomb: loaded with --max-layer-size 2G: exit %d, peak RSS %ld KiB\n", r.code, r.max_rss_kb);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_LT(r.max_rss_kb, 64 * 1024) << "peak RSS of the accepted load";
  EXPECT_EQ(mr({"images", "-q"}).out.size(), 13u);
  EXPECT_EQ(mr({"rmi", "hostile/bomb:1"}).code, 0);
}
