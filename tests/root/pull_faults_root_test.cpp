// `minirun pull` interrupted and lied to, against the tests' real registry behind the fault
// proxy (registry_fixture.h, fault_proxy.h):
// - killed (SIGKILL, and SIGINT) while its last layer is held back by the proxy, once the layers
//   under it are committed: no image, no tag, only the complete layers in overlay2/, the staging
//   directory removed by the next command's store open; the next pull fetches only the missing
//   layer (the proxy's request log) and the image runs;
// - hostile answers (a manifest not matching Docker-Content-Digest or the pinned digest, a blob
//   not matching its digest or its size, a foreign layer, schema 1, a config not matching its
//   digest, diff_ids that do not match the layers): exit 1, one line naming what was wrong, and
//   nothing stored (no image, no layer, no tag, tmp/ empty).
// Root (the pulled image runs); skipped where docker-registry, python3 or skopeo is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "fault_proxy.h"
#include "minirun/store/store.h"
#include "minirun/util/digest.h"
#include "registry_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

// busybox, a small layer of its own, and an incompressible layer of about 300 kB.
TestImage three_layer_image() {
  TestImage img;
  std::string noise(300000, '\0');
  uint32_t x = 991;
  for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  img.layers = {busybox_rootfs().build(), TarBuilder().dir("etc").file("etc/pulled", "faults\n").build(),
                TarBuilder().file("noise", noise).build()};
  img.cmd = {"/bin/sh"};
  return img;
}

// What the registry holds for REPO:TAG: the manifest (Docker schema 2), its config, the layers'
// descriptors and ChainIDs (hex).
struct Pushed {
  std::string manifest, manifest_digest, config, config_digest;
  json doc;
  std::vector<std::string> layer_digests, chains;
};

Pushed inspect_pushed(const Registry& reg, const std::string& repo, const std::string& tag) {
  Pushed p;
  HttpReply m = http_request(reg.host(), "GET", "/v2/" + repo + "/manifests/" + tag, {std::string("Accept: ") + kDockerManifest});
  EXPECT_EQ(m.status, 200);
  p.manifest = m.body;
  p.manifest_digest = sha256_digest(m.body);
  p.doc = json::parse(m.body);
  p.config_digest = p.doc["config"]["digest"].get<std::string>();
  HttpReply c = http_request(reg.host(), "GET", "/v2/" + repo + "/blobs/" + p.config_digest);
  EXPECT_EQ(c.status, 200);
  p.config = c.body;
  for (const auto& l : p.doc["layers"]) p.layer_digests.push_back(l["digest"].get<std::string>());
  std::vector<std::string> diff_ids = json::parse(p.config)["rootfs"]["diff_ids"].get<std::vector<std::string>>();
  for (const auto& chain : chain_ids(diff_ids)) p.chains.push_back(digest_hex(chain));
  return p;
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

std::vector<std::string> entries_of(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

class PullFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    MINIRUN_REQUIRE_SKOPEO();
    t_ = std::make_unique<TempDir>("pullfaults");
  }
  void TearDown() override {
    if (t_) mr({"rm", "-f", "faults-run"});
  }
  std::string store() const { return *t_ / "store"; }
  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> a = {"/usr/bin/env", "CONTAINERS_REGISTRIES_CONF=/dev/null",
                                  "REGISTRY_AUTH_FILE=" + (*t_ / "no-auth.json"), MINIRUN_BINARY, "--root", store()};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }
  CmdResult mr(const std::vector<std::string>& args) { return run_cmd(argv(args), "", 180); }

  // The store holds no image, no tag, no image layer, and nothing in tmp/.
  void expect_nothing_stored(const std::string& what) {
    Store s(store());
    EXPECT_TRUE(s.image_ids().empty()) << what;
    EXPECT_TRUE(s.tags().empty()) << what;
    EXPECT_TRUE(s.layer_ids().empty()) << what;
    EXPECT_EQ(files_in(store() + "/tmp"), 0u) << what;
  }

  // The pull fails (exit 1) with one line holding each of `needles`, and stores nothing.
  void expect_refused(const std::string& name, const std::vector<std::string>& needles, const std::string& what) {
    CmdResult r = mr({"pull", name});
    EXPECT_EQ(r.code, 1) << what << ": " << r.out << r.err;
    EXPECT_EQ(r.err.rfind("Error: ", 0), 0u) << what << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << ": " << r.err;
    for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << what << ": wanted " << n << " in " << r.err;
    expect_nothing_stored(what);
  }

  // Pulls a three-layer image whose top layer the proxy holds back, kills minirun with `sig`
  // once the two layers under it are in the store, and checks what is left; then pulls again.
  void kill_mid_pull(int sig) {
    Registry reg;
    TempDir work;
    reg.push(docker_archive_source(work.path(), three_layer_image(), "img"), "k/app:1");
    Pushed p = inspect_pushed(reg, "k/app", "1");
    ASSERT_EQ(p.chains.size(), 3u);
    FaultProxy proxy(reg.url());
    proxy.set_faults({Fault::delay("/blobs/" + p.layer_digests[2], 60000, -1)});
    std::string name = proxy.host() + "/k/app:1";
    {
      ChildProcess pull(argv({"pull", name}), *t_ / "pull.log");
      std::string ov = store() + "/overlay2/";
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
      while (!(exists(ov + p.chains[0]) && exists(ov + p.chains[1])) && pull.running() &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ASSERT_TRUE(pull.running()) << "the pull ended before it could be killed: " << read_file(*t_ / "pull.log");
      ASSERT_TRUE(exists(ov + p.chains[0]) && exists(ov + p.chains[1])) << read_file(*t_ / "pull.log");
      ASSERT_FALSE(exists(ov + p.chains[2]));
      ASSERT_EQ(::kill(pull.pid(), sig), 0);
      for (int i = 0; i < 500 && pull.running(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ASSERT_FALSE(pull.running()) << "minirun pull outlived signal " << sig;
    }
    // What the dead pull left, before any store is opened: its top layer's staging directory.
    if (sig == SIGKILL) {
      EXPECT_GE(files_in(store() + "/tmp"), 1u);
    }
    EXPECT_FALSE(exists(store() + "/images/" + digest_hex(p.config_digest) + ".json"));
    // The next command's store open removes the dead process's tmp/ entries.
    CmdResult images = mr({"images", "-q"});
    EXPECT_EQ(images.code, 0) << images.err;
    EXPECT_EQ(images.out, "");
    EXPECT_EQ(files_in(store() + "/tmp"), 0u);
    {
      Store s(store());
      EXPECT_TRUE(s.image_ids().empty());
      EXPECT_TRUE(s.tags().empty());
      std::vector<std::string> layers = s.layer_ids();
      std::sort(layers.begin(), layers.end());
      std::vector<std::string> want = {p.chains[0], p.chains[1]};
      std::sort(want.begin(), want.end());
      EXPECT_EQ(layers, want);  // the complete, verified layers only
      EXPECT_EQ(read_file(s.diff_dir(p.chains[1]) + "/etc/pulled"), "faults\n");
    }
    std::vector<std::string> overlay;
    for (const auto& e : entries_of(store() + "/overlay2"))
      if (e != "l") overlay.push_back(e);
    EXPECT_EQ(overlay.size(), 2u) << "half a layer in overlay2/";

    // Again, without the fault: only the missing layer is fetched.
    proxy.clear_faults();
    size_t mark = proxy.requests().size();
    CmdResult r = mr({"pull", name});
    ASSERT_EQ(r.code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find(p.layer_digests[0].substr(7, 12) + ": Already exists\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(p.layer_digests[1].substr(7, 12) + ": Already exists\n"), std::string::npos) << r.out;
    std::vector<LoggedRequest> after;
    for (int i = 0; i < 40; i++) {  // a request is logged once answered
      auto all = proxy.requests();
      after.assign(all.begin() + static_cast<std::ptrdiff_t>(std::min(mark, all.size())), all.end());
      bool top = std::any_of(after.begin(), after.end(), [&](const LoggedRequest& q) {
        return q.method == "GET" && q.path.find(p.layer_digests[2]) != std::string::npos && q.status == 200;
      });
      if (top) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    int top = 0;
    for (const auto& q : after) {
      EXPECT_EQ(q.path.find(p.layer_digests[0]), std::string::npos) << "fetched again: " << q.path;
      EXPECT_EQ(q.path.find(p.layer_digests[1]), std::string::npos) << "fetched again: " << q.path;
      top += q.method == "GET" && q.path.find(p.layer_digests[2]) != std::string::npos && q.status == 200;
    }
    EXPECT_EQ(top, 1);
    CmdResult run = mr({"run", "--rm", "--name", "faults-run", name, "sh", "-c", "cat /etc/pulled; wc -c < /noise"});
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(run.out, "faults\n300000\n");
  }

  std::unique_ptr<TempDir> t_;
};

}  // namespace

TEST_F(PullFaultsTest, KilledPullLeavesOnlyCompleteLayersAndTheNextFetchesOnlyTheRest) { kill_mid_pull(SIGKILL); }

TEST_F(PullFaultsTest, InterruptedPullLeavesOnlyCompleteLayersAndTheNextFetchesOnlyTheRest) { kill_mid_pull(SIGINT); }

TEST_F(PullFaultsTest, HostileManifestsAndBlobsAreRefusedWithNothingStored) {
  Registry reg;
  TempDir work;
  TestImage img;
  img.layers = {busybox_rootfs().build(), TarBuilder().dir("etc").file("etc/pulled", "hostile\n").build()};
  reg.push(docker_archive_source(work.path(), img, "img"), "h/app:1");
  Pushed p = inspect_pushed(reg, "h/app", "1");
  ASSERT_EQ(p.layer_digests.size(), 2u);
  FaultProxy proxy(reg.url());
  const std::string name = proxy.host() + "/h/app:1";
  const std::string manifests = "/v2/h/app/manifests/";
  using Headers = std::vector<std::pair<std::string, std::string>>;
  auto serve_manifest = [&](const json& doc, const std::string& ref = "1", Headers extra = {}) {
    std::string body = doc.dump();
    extra.emplace_back("Content-Type", kDockerManifest);
    proxy.set_faults({Fault::serve(manifests + ref + "$", body, extra)});
    return body;
  };

  // A manifest whose bytes are not what Docker-Content-Digest says.
  {
    json doc = p.doc;
    doc["annotations"] = {{"x", "y"}};
    std::string body = serve_manifest(doc, "1", {{"Docker-Content-Digest", p.manifest_digest}});
    expect_refused(name, {"digest mismatch", p.manifest_digest, sha256_digest(body)}, "Docker-Content-Digest");
  }
  // Pinned by digest, answered with other bytes (and no Docker-Content-Digest).
  {
    json doc = p.doc;
    doc["annotations"] = {{"x", "z"}};
    std::string body = serve_manifest(doc, p.manifest_digest);
    expect_refused(proxy.host() + "/h/app@" + p.manifest_digest,
                   {"digest mismatch", p.manifest_digest, sha256_digest(body)}, "pinned digest");
  }
  // A layer blob whose bytes do not match its digest: both digests named.
  {
    HttpReply blob = http_request(reg.host(), "GET", "/v2/h/app/blobs/" + p.layer_digests[0]);
    ASSERT_EQ(blob.status, 200);
    size_t at = blob.body.size() / 2;
    std::string lie = blob.body;
    lie[at] = static_cast<char>(lie[at] ^ 0xFF);
    proxy.set_faults({Fault::corrupt("/blobs/" + p.layer_digests[0], at, -1)});
    expect_refused(name, {"digest mismatch: expected " + p.layer_digests[0] + ", got " + sha256_digest(lie)},
                   "blob digest");
  }
  // A layer whose descriptor says more bytes than the blob has, and fewer.
  for (int64_t delta : {int64_t{10}, int64_t{-10}}) {
    json doc = p.doc;
    uint64_t size = doc["layers"][0]["size"].get<uint64_t>();
    doc["layers"][0]["size"] = size + static_cast<uint64_t>(delta);
    serve_manifest(doc);
    expect_refused(name, {p.layer_digests[0].substr(0, 19), std::to_string(size + static_cast<uint64_t>(delta))},
                   "blob size " + std::to_string(delta));
  }
  // A foreign (non-distributable) layer: refused by its media type.
  {
    json doc = p.doc;
    doc["layers"][1]["mediaType"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    doc["layers"][1]["urls"] = {"http://127.0.0.1:1/layer.tar.gz"};
    serve_manifest(doc);
    expect_refused(name, {"foreign (non-distributable) layer", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                          p.layer_digests[1]},
                   "foreign layer");
  }
  // Schema 1.
  {
    json s1 = {{"schemaVersion", 1},
               {"name", "h/app"},
               {"tag", "1"},
               {"architecture", "amd64"},
               {"fsLayers", json::array({{{"blobSum", p.layer_digests[0]}}})},
               {"history", json::array({{{"v1Compatibility", "{}"}}})}};
    proxy.set_faults({Fault::serve(manifests + "1$", s1.dump(),
                                   {{"Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws"}})});
    expect_refused(name, {"schema 1 is not supported"}, "schema 1");
  }
  // A config whose bytes are not the digest the manifest names.
  {
    json cfg = json::parse(p.config);
    cfg["author"] = "someone else";
    std::string lie = cfg.dump();
    json doc = p.doc;
    doc["config"]["size"] = lie.size();
    std::string body = doc.dump();
    proxy.set_faults({Fault::serve(manifests + "1$", body, {{"Content-Type", kDockerManifest}}),
                      Fault::serve("/blobs/" + p.config_digest, lie, {{"Content-Type", "application/octet-stream"}})});
    expect_refused(name, {"image config: digest mismatch", p.config_digest, sha256_digest(lie)}, "config digest");
  }
  // A config whose diff_ids do not match the layers: the base's content, then the count.
  {
    json cfg = json::parse(p.config);
    std::string real = cfg["rootfs"]["diff_ids"][0].get<std::string>();
    std::string wrong = "sha256:" + std::string(64, '1');
    cfg["rootfs"]["diff_ids"][0] = wrong;
    std::string bad = cfg.dump();
    json doc = p.doc;
    doc["config"]["digest"] = sha256_digest(bad);
    doc["config"]["size"] = bad.size();
    proxy.set_faults({Fault::serve(manifests + "1$", doc.dump(), {{"Content-Type", kDockerManifest}}),
                      Fault::serve("/blobs/" + sha256_digest(bad), bad, {{"Content-Type", "application/octet-stream"}})});
    expect_refused(name, {"content digest " + real + " does not match the image config's diff_id " + wrong},
                   "diff_id");

    cfg = json::parse(p.config);
    cfg["rootfs"]["diff_ids"].erase(1);
    std::string fewer = cfg.dump();
    doc = p.doc;
    doc["config"]["digest"] = sha256_digest(fewer);
    doc["config"]["size"] = fewer.size();
    proxy.set_faults({Fault::serve(manifests + "1$", doc.dump(), {{"Content-Type", kDockerManifest}}),
                      Fault::serve("/blobs/" + sha256_digest(fewer), fewer, {{"Content-Type", "application/octet-stream"}})});
    expect_refused(name, {"2 layers but the image config lists 1 diff_ids"}, "diff_id count");
  }
  // Untouched again, the same image pulls into the same store.
  proxy.clear_faults();
  CmdResult ok = mr({"pull", name});
  EXPECT_EQ(ok.code, 0) << ok.err;
}
