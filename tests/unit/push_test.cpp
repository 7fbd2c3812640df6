// Pushes through a recording fake registry::Destination: a pulled image goes back with the
// blobs it came with (same digests, same manifest), a blob the registry has is skipped after
// its HEAD, one known in another repository of the registry is mounted, a layer made here is
// compressed once and remembered, the manifests' bytes for Docker and OCI, a damaged layer stops
// the push before the manifest; the chunking decision of the real destination.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "minirun/engine/pull.h"
#include "minirun/engine/push.h"
#include "minirun/image/image_config.h"
#include "minirun/registry/distribution_destination.h"
#include "minirun/registry/manifest.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::Compression;
using minirun::test::TarBuilder;
using minirun::test::TempDir;
using nlohmann::json;

namespace {

// Serves one image (a Docker schema2 manifest of gzip'd layers) for pull.
class OneImageSource : public registry::Source {
 public:
  std::map<std::string, std::string> blobs;
  registry::FetchedManifest man;
  std::string config_digest;

  explicit OneImageSource(const std::vector<TarBuilder>& layers) {
    json diff_ids = json::array(), descs = json::array();
    for (const auto& l : layers) {
      std::string tar = l.build(), blob = l.build(Compression::gzip);
      blobs[sha256_digest(blob)] = blob;
      diff_ids.push_back(sha256_digest(tar));
      descs.push_back({{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                       {"digest", sha256_digest(blob)},
                       {"size", blob.size()}});
    }
    std::string config = json({{"architecture", "amd64"},
                               {"os", "linux"},
                               {"config", {{"Cmd", {"/bin/sh"}}}},
                               {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}})
                             .dump();
    config_digest = sha256_digest(config);
    blobs[config_digest] = config;
    std::string mt(registry::kDockerManifest);
    std::string bytes = json({{"schemaVersion", 2},
                              {"mediaType", mt},
                              {"config", {{"mediaType", registry::kDockerConfig}, {"digest", config_digest}, {"size", config.size()}}},
                              {"layers", descs}})
                            .dump();
    man = {bytes, mt, sha256_digest(bytes)};
  }
  registry::FetchedManifest manifest(std::string_view) override { return man; }
  void blob(std::string_view digest, uint64_t, uint64_t, const std::function<void(const char*, size_t)>& sink) override {
    const std::string& b = blobs.at(std::string(digest));
    sink(b.data(), b.size());
  }
  std::string where() const override { return "registry.test/origin/app"; }
};

class FakeDestination : public registry::Destination {
 public:
  std::string repo = "registry.test/team/app";
  std::map<std::string, std::string> have;     // blobs at the registry
  std::map<std::string, std::string> mountable;  // digest -> repository it can be mounted from
  std::mutex mu;
  std::vector<std::string> calls;  // "HEAD d", "MOUNT d from", "UPLOAD d", "MANIFEST ref"
  std::string manifest, manifest_type;

  bool has_blob(const std::string& d) override {
    std::lock_guard l(mu);
    calls.push_back("HEAD " + d);
    return have.count(d) > 0;
  }
  bool mount_blob(const std::string& d, const std::string& from) override {
    std::lock_guard l(mu);
    calls.push_back("MOUNT " + d + " " + from);
    return mountable.count(d) && mountable[d] == from;
  }
  void upload_blob(const std::string& d, const registry::BlobBody& body) override {
    std::string bytes = body.path.empty() ? body.bytes : minirun::test::read_file(body.path);
    EXPECT_EQ(bytes.size(), body.size);
    EXPECT_EQ(sha256_digest(bytes), d);
    std::lock_guard l(mu);
    calls.push_back("UPLOAD " + d);
    have[d] = bytes;
  }
  std::string put_manifest(const std::string& ref, const std::string& mt, const std::string& bytes) override {
    std::lock_guard l(mu);
    calls.push_back("MANIFEST " + ref);
    manifest = bytes;
    manifest_type = mt;
    return sha256_digest(bytes);
  }
  std::string where() const override { return repo; }
  size_t count(const std::string& prefix) {
    size_t n = 0;
    for (const auto& c : calls) n += c.rfind(prefix, 0) == 0;
    return n;
  }
};

std::vector<TarBuilder> two_layers() {
  TarBuilder base, top;
  base.dir("etc").file("etc/os-release", "ID=test\n");
  top.file("hello", std::string(5000, 'h'));
  return {base, top};
}

// Pulls src's image into store; its ID hex.
std::string pulled(Store& store, OneImageSource& src) {
  PullOptions o;
  o.reference = "1";
  o.repo_name = "registry.test/origin/app";
  o.tag = "registry.test/origin/app:1";
  o.platform = registry::parse_platform("linux/amd64");
  return digest_hex(pull_image(store, src, o).image_id);
}

// What a FakeDestination holds, served back to a pull.
class RegistryView : public registry::Source {
 public:
  explicit RegistryView(FakeDestination& d) : d_(d) {}
  registry::FetchedManifest manifest(std::string_view) override {
    return {d_.manifest, d_.manifest_type, sha256_digest(d_.manifest)};
  }
  void blob(std::string_view digest, uint64_t, uint64_t, const std::function<void(const char*, size_t)>& sink) override {
    const std::string& b = d_.have.at(std::string(digest));
    sink(b.data(), b.size());
  }
  std::string where() const override { return d_.repo; }

 private:
  FakeDestination& d_;
};

PushOptions opts(const std::string& format = "docker") {
  PushOptions o;
  o.tag = "1";
  o.repo_name = "registry.test/team/app";
  o.format = format;
  return o;
}

}  // namespace

TEST(Push, APulledImageGoesBackWithItsOwnBlobsAndManifestDigest) {
  TempDir t;
  Store store(t / "root");
  OneImageSource src(two_layers());
  std::string hex = pulled(store, src);
  FakeDestination dest;
  std::vector<PushState> states;
  PushOptions o = opts();
  o.progress = [&](const PushProgress& p) { states.push_back(p.state); };
  PushResult r = push_image(store, dest, hex, o);
  // The same layer blobs, the same config: the same manifest as the one pulled.
  auto m = registry::parse_document(r.manifest, registry::kDockerManifest).manifest;
  auto pm = registry::parse_document(src.man.bytes, registry::kDockerManifest).manifest;
  ASSERT_EQ(m.layers.size(), 2u);
  for (size_t i = 0; i < 2; i++) {
    EXPECT_EQ(m.layers[i].digest, pm.layers[i].digest);
    EXPECT_EQ(dest.have.at(m.layers[i].digest), src.blobs.at(pm.layers[i].digest));
  }
  EXPECT_EQ(m.config.digest, "sha256:" + hex);
  EXPECT_EQ(dest.have.at(m.config.digest), store.image_config(hex));
  EXPECT_EQ(dest.manifest_type, std::string(registry::kDockerManifest));
  EXPECT_EQ(r.digest, sha256_digest(dest.manifest));
  // The registry's own manifest bytes (not minirun's layout): the digest it was pulled by.
  EXPECT_EQ(dest.manifest, src.man.bytes);
  EXPECT_EQ(r.digest, src.man.digest);
  EXPECT_EQ(dest.count("UPLOAD "), 3u);
  EXPECT_EQ(dest.calls.back(), "MANIFEST 1");
  EXPECT_EQ(std::count(states.begin(), states.end(), PushState::kPushed), 2);
  auto digests = store.repo_digests(hex);
  EXPECT_NE(std::find(digests.begin(), digests.end(), "registry.test/team/app@" + r.digest), digests.end());

  // Again: every blob is there (HEAD only), the same manifest.
  dest.calls.clear();
  PushResult again = push_image(store, dest, hex, opts());
  EXPECT_EQ(again.digest, r.digest);
  EXPECT_EQ(dest.count("UPLOAD "), 0u);
  EXPECT_EQ(dest.count("HEAD "), 3u);
  EXPECT_EQ(dest.count("MANIFEST "), 1u);
}

TEST(Push, ALayerKnownInAnotherRepositoryOfTheRegistryIsMounted) {
  TempDir t;
  Store store(t / "root");
  OneImageSource src(two_layers());
  std::string hex = pulled(store, src);
  FakeDestination first;  // registry.test/team/app: the blobs now known there
  push_image(store, first, hex, opts());
  FakeDestination second;
  second.repo = "registry.test/other/app";
  for (const auto& [d, _] : first.have) second.mountable[d] = "team/app";
  std::vector<std::string> from;
  PushOptions o = opts();
  o.progress = [&](const PushProgress& p) {
    if (p.state == PushState::kMounted) from.push_back(p.from);
  };
  push_image(store, second, hex, o);
  EXPECT_EQ(from.size(), 2u);
  for (const auto& f : from) EXPECT_TRUE(f == "team/app" || f == "origin/app") << f;
  EXPECT_EQ(second.count("UPLOAD "), 1u);  // the config only
  // A registry elsewhere: no mount is tried.
  FakeDestination elsewhere;
  elsewhere.repo = "other.test/team/app";
  push_image(store, elsewhere, hex, opts());
  EXPECT_EQ(elsewhere.count("MOUNT "), 0u);
}

TEST(Push, ALayerMadeHereIsCompressedOnceAndTheOciManifestNamesIt) {
  TempDir t;
  Store store(t / "root");
  OneImageSource src(two_layers());
  std::string hex = pulled(store, src);
  FakeDestination dest;
  PushOptions o = opts("oci");
  o.compression = "zstd";  // not the pulled gzip: made from the store's tar stream
  PushResult r = push_image(store, dest, hex, o);
  json j = json::parse(r.manifest);
  EXPECT_EQ(j["mediaType"], std::string(registry::kOciManifest));
  EXPECT_EQ(j["config"]["mediaType"], std::string(registry::kOciConfig));
  EXPECT_EQ(j["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(r.manifest, registry::serialize_manifest(registry::parse_document(r.manifest, "").manifest));
  // Remembered: a second push (another registry) sends the same blobs.
  FakeDestination other;
  other.repo = "other.test/x";
  PushResult again = push_image(store, other, hex, o);
  EXPECT_EQ(again.digest, r.digest);
  EXPECT_EQ(other.have, dest.have);
  // And it pulls back: the zstd blobs give the layers' DiffIDs, the same image.
  TempDir t2;
  Store fresh(t2 / "root");
  RegistryView view(dest);
  PullOptions po;
  po.reference = "1";
  po.tag = "registry.test/team/app:1";
  po.platform = registry::parse_platform("linux/amd64");
  EXPECT_EQ(pull_image(fresh, view, po).image_id, "sha256:" + hex);
  // A Docker manifest has no zstd layers.
  EXPECT_THROW(push_image(store, dest, hex, [] {
                 PushOptions d = opts("docker");
                 d.compression = "zstd";
                 return d;
               }()),
               Error);
}

TEST(Push, ADamagedLayerStopsThePushBeforeTheManifest) {
  TempDir t;
  Store store(t / "root");
  OneImageSource src(two_layers());
  std::string hex = pulled(store, src);
  auto ids = chain_ids(parse_image_config(store.image_config(hex)).diff_ids);
  minirun::test::write_file(store.diff_dir(digest_hex(ids[1])) + "/hello", std::string(5000, 'X'));
  FakeDestination dest;
  PushOptions o = opts();
  o.compression = "gzip";
  // The kept (pulled) blob would hide the damage: only a blob made from the store checks it.
  for (const auto& id : ids) std::remove((store.layer_dir(digest_hex(id)) + "/blobs.json").c_str());
  try {
    push_image(store, dest, hex, o);
    ADD_FAILURE() << "pushed a damaged layer";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dest.count("MANIFEST "), 0u);
  EXPECT_EQ(minirun::test::files_in(t / "root/tmp"), 0u);
}

TEST(Push, DockerManifestBytesAndTheChunkingDecision) {
  registry::Manifest m;
  m.media_type = registry::kDockerManifest;
  m.config = {std::string(registry::kDockerConfig), "sha256:" + std::string(64, 'c'), 1234};
  m.layers = {{registry::layer_media_type(registry::kDockerManifest, "gzip"), "sha256:" + std::string(64, 'a'), 99}};
  EXPECT_EQ(registry::serialize_manifest(m),
            "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
            "   \"config\": {\n      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
            "      \"size\": 1234,\n      \"digest\": \"sha256:" + std::string(64, 'c') + "\"\n   },\n"
            "   \"layers\": [\n      {\n         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
            "         \"size\": 99,\n         \"digest\": \"sha256:" + std::string(64, 'a') + "\"\n      }\n   ]\n}");
  EXPECT_THROW(registry::layer_media_type(registry::kDockerManifest, "zstd"), Error);
  EXPECT_FALSE(registry::upload_in_chunks(100, 100));
  EXPECT_TRUE(registry::upload_in_chunks(101, 100));
  EXPECT_FALSE(registry::upload_in_chunks(1u << 30, 0));
}
