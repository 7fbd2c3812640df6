// Pulls through a recording fake registry::Source: what is fetched (and what is not), what is
// stored when a blob lies, how many layers are in flight, where a cut blob resumes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "minirun/engine/pull.h"
#include "minirun/image/image_config.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::Compression;
using minirun::test::TarBuilder;
using minirun::test::TempDir;
using nlohmann::json;

namespace {

struct BlobCall {
  std::string digest;
  uint64_t offset;
};

class FakeSource : public registry::Source {
 public:
  std::map<std::string, registry::FetchedManifest> manifests;  // by tag or digest
  std::map<std::string, std::string> blobs;                    // by digest
  std::map<std::string, uint64_t> cut_once_at;                 // a blob's first delivery stops there
  std::chrono::milliseconds delay{0};                          // per blob call

  std::mutex mu;
  std::vector<std::string> manifest_calls;
  std::vector<BlobCall> blob_calls;
  std::atomic<int> in_flight{0}, max_in_flight{0};

  registry::FetchedManifest manifest(std::string_view ref) override {
    std::lock_guard<std::mutex> l(mu);
    manifest_calls.emplace_back(ref);
    auto it = manifests.find(std::string(ref));
    if (it == manifests.end()) throw Error("manifest unknown: " + std::string(ref));
    return it->second;
  }

  void blob(std::string_view digest, uint64_t offset, uint64_t size,
            const std::function<void(const char*, size_t)>& sink) override {
    std::string bytes;
    uint64_t cut = UINT64_MAX;
    {
      std::lock_guard<std::mutex> l(mu);
      blob_calls.push_back({std::string(digest), offset});
      auto it = blobs.find(std::string(digest));
      if (it == blobs.end()) throw Error("blob unknown: " + std::string(digest));
      bytes = it->second;
      if (auto c = cut_once_at.find(std::string(digest)); c != cut_once_at.end()) {
        cut = c->second;
        cut_once_at.erase(c);
      }
    }
    (void)size;
    int now = ++in_flight;
    for (int m = max_in_flight; now > m && !max_in_flight.compare_exchange_weak(m, now);) {
    }
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { --n; }
    } leave{in_flight};
    std::this_thread::sleep_for(delay);
    for (uint64_t i = offset; i < bytes.size();) {
      if (i >= cut) throw Error("connection reset");
      size_t n = static_cast<size_t>(std::min<uint64_t>({7000, bytes.size() - i, cut - i}));
      sink(bytes.data() + i, n);
      i += n;
    }
  }

  std::string where() const override { return "registry.test/library/x"; }

  int fetches_of(const std::string& digest) {
    std::lock_guard<std::mutex> l(mu);
    int n = 0;
    for (const auto& c : blob_calls) n += c.digest == digest && c.offset == 0;
    return n;
  }

  std::string last_config;

};

// A layer: its tar and its gzip'd blob.
struct Layer {
  std::string tar, blob;
};
Layer layer(const TarBuilder& b) { return {b.build(), b.build(Compression::gzip)}; }

// Puts an image of these layers into the fake registry under `ref`; returns its manifest's digest.
std::string add_image(FakeSource& src, const std::string& ref, const std::vector<Layer>& layers,
                      const std::string& arch = "amd64", bool oci = false) {
  json diff_ids = json::array(), descs = json::array();
  for (const auto& l : layers) {
    src.blobs[sha256_digest(l.blob)] = l.blob;
    diff_ids.push_back(sha256_digest(l.tar));
    descs.push_back({{"mediaType", oci ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                     {"digest", sha256_digest(l.blob)},
                     {"size", l.blob.size()}});
  }
  std::string config = json({{"architecture", arch},
                             {"os", "linux"},
                             {"config", {{"Cmd", {"/bin/sh"}}}},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}})
                           .dump();
  src.blobs[sha256_digest(config)] = config;
  std::string mt = oci ? "application/vnd.oci.image.manifest.v1+json" : "application/vnd.docker.distribution.manifest.v2+json";
  std::string man = json({{"schemaVersion", 2},
                          {"mediaType", mt},
                          {"config",
                           {{"mediaType", oci ? "application/vnd.oci.image.config.v1+json" : "application/vnd.docker.container.image.v1+json"},
                            {"digest", sha256_digest(config)},
                            {"size", config.size()}}},
                          {"layers", descs}})
                        .dump();
  std::string d = sha256_digest(man);
  src.manifests[ref] = src.manifests[d] = {man, mt, d};
  src.last_config = sha256_digest(config);
  return d;
}

std::vector<Layer> layers_of(int n, size_t file_size = 1000) {
  std::vector<Layer> out;
  for (int i = 0; i < n; i++) {
    TarBuilder b;
    b.file("layer" + std::to_string(i), std::string(file_size, static_cast<char>('a' + i)));
    out.push_back(layer(b));
  }
  return out;
}

PullOptions opts_for(const std::string& ref, const std::string& tag) {
  PullOptions o;
  o.reference = ref;
  o.repo_name = "registry.test/x";
  o.tag = tag;
  o.platform = registry::parse_platform("linux/amd64");
  return o;
}

size_t entries(const std::string& dir) { return minirun::test::files_in(dir); }

}  // namespace

TEST(Pull, DockerSchema2IntoTheStore) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  TarBuilder base, top;
  base.dir("etc").file("etc/os-release", "ID=test\n");
  top.file("hello", "world");
  std::string digest = add_image(src, "1", {layer(base), layer(top)});
  std::vector<LayerState> states;
  PullOptions o = opts_for("1", "registry.test/x:1");
  o.progress = [&](const LayerProgress& p) { states.push_back(p.state); };
  PullResult r = pull_image(store, src, o);
  EXPECT_EQ(r.image_id, src.last_config);
  EXPECT_EQ(r.digest, digest);
  EXPECT_TRUE(r.downloaded);
  std::string hex = digest_hex(r.image_id);
  EXPECT_TRUE(store.has_image(hex));
  EXPECT_EQ(store.tags().at("registry.test/x:1"), r.image_id);
  EXPECT_EQ(store.repo_digests(hex), std::vector<std::string>{"registry.test/x@" + digest});
  EXPECT_EQ(store.resolve_image("registry.test/x@" + digest), hex);
  auto chains = chain_ids(parse_image_config(store.image_config(hex)).diff_ids);
  EXPECT_EQ(minirun::test::read_file(store.diff_dir(digest_hex(chains[0])) + "/etc/os-release"), "ID=test\n");
  EXPECT_EQ(minirun::test::read_file(store.diff_dir(digest_hex(chains[1])) + "/hello"), "world");
  EXPECT_EQ(std::count(states.begin(), states.end(), LayerState::kComplete), 2);
  EXPECT_EQ(entries(t / "root/tmp"), 0u);

  // Again: nothing fetched but the manifest and config, "up to date".
  size_t calls = src.blob_calls.size();
  PullResult again = pull_image(store, src, opts_for("1", "registry.test/x:1"));
  EXPECT_FALSE(again.downloaded);
  EXPECT_EQ(src.blob_calls.size(), calls + 1);  // the config only
}

TEST(Pull, IndexResolvedToTheAskedPlatform) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  TarBuilder a, b;
  a.file("arch", "arm64");
  b.file("arch", "amd64");
  std::string arm = add_image(src, "arm", {layer(a)}, "arm64", true);
  std::string arm_config = src.last_config;
  std::string amd = add_image(src, "amd", {layer(b)}, "amd64", true);
  auto entry = [&](const std::string& d, const char* arch, const char* variant) {
    json p = {{"os", "linux"}, {"architecture", arch}};
    if (*variant) p["variant"] = variant;
    return json{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"digest", d},
                {"size", src.manifests[d].bytes.size()},
                {"platform", p}};
  };
  std::string index = json({{"schemaVersion", 2},
                            {"mediaType", "application/vnd.oci.image.index.v1+json"},
                            {"manifests", {entry(amd, "amd64", ""), entry(arm, "arm64", "v8")}}})
                          .dump();
  std::string idx = sha256_digest(index);
  src.manifests["multi"] = {index, "application/vnd.oci.image.index.v1+json", idx};
  PullOptions o = opts_for("multi", "registry.test/x:multi");
  o.platform = registry::parse_platform("linux/arm64");
  PullResult r = pull_image(store, src, o);
  EXPECT_EQ(r.image_id, arm_config);
  EXPECT_EQ(r.digest, idx);  // RepoDigests name the index, as Docker's
  EXPECT_EQ(src.manifest_calls, (std::vector<std::string>{"multi", arm}));
  EXPECT_EQ(src.fetches_of(sha256_digest(layer(b).blob)), 0);

  o.platform = registry::parse_platform("linux/s390x");
  try {
    pull_image(store, src, o);
    FAIL() << "s390x pulled";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no matching manifest for linux/s390x in the manifest list entries");
  }
}

TEST(Pull, LayersInTheStoreAreNeverFetched) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  auto ls = layers_of(3);
  add_image(src, "two", {ls[0], ls[1]});
  pull_image(store, src, opts_for("two", "registry.test/x:two"));
  add_image(src, "three", {ls[0], ls[1], ls[2]});
  std::vector<LayerProgress> initial;
  PullOptions o = opts_for("three", "registry.test/x:three");
  o.layers = [&](const std::vector<LayerProgress>& l) { initial = l; };
  pull_image(store, src, o);
  EXPECT_EQ(src.fetches_of(sha256_digest(ls[0].blob)), 1);
  EXPECT_EQ(src.fetches_of(sha256_digest(ls[1].blob)), 1);
  EXPECT_EQ(src.fetches_of(sha256_digest(ls[2].blob)), 1);
  ASSERT_EQ(initial.size(), 3u);
  EXPECT_EQ(initial[0].state, LayerState::kExists);
  EXPECT_EQ(initial[1].state, LayerState::kExists);
  EXPECT_EQ(initial[2].state, LayerState::kWaiting);
}

TEST(Pull, DigestMismatchNamesBothAndStoresNothing) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  auto ls = layers_of(2, 300000);
  add_image(src, "bad", ls);
  std::string want = sha256_digest(ls[0].blob);
  std::string lie = ls[0].blob;
  lie[lie.size() / 2] ^= 1;  // same size, other bytes
  src.blobs[want] = lie;
  try {
    pull_image(store, src, opts_for("bad", "registry.test/x:bad"));
    FAIL() << "a lying blob was stored";
  } catch (const Error& e) {
    // gzip's own check sees the damage first: the digests still name it
    std::string m = e.what();
    EXPECT_NE(m.find("digest mismatch: expected " + want + ", got " + sha256_digest(lie)), std::string::npos) << m;
  }
  EXPECT_TRUE(store.image_ids().empty());
  EXPECT_TRUE(store.tags().empty());
  EXPECT_TRUE(store.layer_ids().empty());
  EXPECT_EQ(entries(t / "root/tmp"), 0u);
}

TEST(Pull, DigestMismatchOfAPlainLayerNamesBoth) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  TarBuilder b;
  b.file("f", std::string(5000, 'x'));
  Layer plain{b.build(), b.build()};  // an uncompressed layer: no gzip check before the digest's
  add_image(src, "plain", {plain});
  std::string want = sha256_digest(plain.blob);
  std::string lie = plain.blob;
  lie[600] = 'y';  // inside the file's content
  src.blobs[want] = lie;
  try {
    pull_image(store, src, opts_for("plain", "registry.test/x:plain"));
    FAIL() << "a lying blob was stored";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("digest mismatch: expected " + want + ", got " + sha256_digest(lie)), std::string::npos) << m;
  }
  EXPECT_TRUE(store.layer_ids().empty());
  EXPECT_TRUE(store.image_ids().empty());
}

TEST(Pull, ConcurrencyBoundRespected) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  src.delay = std::chrono::milliseconds(60);
  add_image(src, "six", layers_of(6));
  PullOptions o = opts_for("six", "registry.test/x:six");
  o.max_concurrent = 2;
  pull_image(store, src, o);
  EXPECT_EQ(src.max_in_flight.load(), 2);

  TempDir t2;
  Store store2(t2 / "root");
  src.max_in_flight = 0;
  o.max_concurrent = 1;
  pull_image(store2, src, o);
  EXPECT_EQ(src.max_in_flight.load(), 1);
}

TEST(Pull, CutBlobResumesWhereItStopped) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  std::string noise(200000, '\0');
  uint32_t x = 7;
  for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  TarBuilder b;
  b.file("noise", noise);  // incompressible: the blob is larger than the cut
  std::vector<Layer> ls{layer(b)};
  add_image(src, "cut", ls);
  std::string d = sha256_digest(ls[0].blob);
  src.cut_once_at[d] = 12345;
  pull_image(store, src, opts_for("cut", "registry.test/x:cut"));
  std::vector<uint64_t> offsets;
  for (const auto& c : src.blob_calls)
    if (c.digest == d) offsets.push_back(c.offset);
  EXPECT_EQ(offsets, (std::vector<uint64_t>{0, 12345}));
  EXPECT_EQ(store.layer_ids().size(), 1u);
}

TEST(Pull, InterruptedPullKeepsCompleteLayersAndTheNextFetchesOnlyTheRest) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  auto ls = layers_of(2, 4000);
  add_image(src, "x", ls);
  std::string top = sha256_digest(ls[1].blob);
  src.blobs.erase(top);  // the registry fails the top layer
  PullOptions o = opts_for("x", "registry.test/x:x");
  o.max_concurrent = 1;
  EXPECT_THROW(pull_image(store, src, o), Error);
  EXPECT_EQ(store.layer_ids().size(), 1u);  // the base, verified, is kept
  EXPECT_TRUE(store.image_ids().empty());
  EXPECT_TRUE(store.tags().empty());
  src.blobs[top] = ls[1].blob;
  src.blob_calls.clear();
  pull_image(store, src, o);
  EXPECT_EQ(src.fetches_of(sha256_digest(ls[0].blob)), 0);
  EXPECT_EQ(src.fetches_of(top), 1);
  EXPECT_EQ(store.image_ids().size(), 1u);
}

TEST(Pull, PinnedDigestIsCheckedAndTagsNothing) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  std::string d = add_image(src, "1", layers_of(1));
  PullResult r = pull_image(store, src, opts_for(d, ""));
  EXPECT_TRUE(store.tags().empty());
  EXPECT_EQ(store.repo_digests(digest_hex(r.image_id)), std::vector<std::string>{"registry.test/x@" + d});

  // A registry answering a pinned digest with other bytes is refused.
  std::string other = "sha256:" + std::string(64, 'e');
  src.manifests[other] = src.manifests[d];
  try {
    pull_image(store, src, opts_for(other, ""));
    FAIL() << "a manifest not matching its pinned digest was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("digest mismatch"), std::string::npos) << e.what();
  }
}

TEST(Pull, HostileManifestsStoreNothing) {
  TempDir t;
  Store store(t / "root");
  FakeSource src;
  std::string d = add_image(src, "1", layers_of(1));
  // A config whose digest the manifest does not name.
  json m = json::parse(src.manifests["1"].bytes);
  std::string wrong_config = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
  src.blobs[m["config"]["digest"]] = wrong_config;
  m["config"]["size"] = wrong_config.size();
  std::string man = m.dump();
  src.manifests["evil"] = {man, "application/vnd.docker.distribution.manifest.v2+json", sha256_digest(man)};
  EXPECT_THROW(pull_image(store, src, opts_for("evil", "registry.test/x:evil")), Error);
  // A layer listed larger than the bytes the registry has.
  m = json::parse(src.manifests["1"].bytes);
  m["layers"][0]["size"] = m["layers"][0]["size"].get<uint64_t>() + 10;
  man = m.dump();
  src.manifests["short"] = {man, "application/vnd.docker.distribution.manifest.v2+json", sha256_digest(man)};
  src.blobs.clear();
  add_image(src, "1", layers_of(1));
  try {
    pull_image(store, src, opts_for("short", "registry.test/x:short"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blob ended after"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(store.image_ids().empty());
  EXPECT_TRUE(store.layer_ids().empty());
  (void)d;
}
