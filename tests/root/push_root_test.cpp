// `minirun push` end to end against the tests' real registry (registry_fixture.h), through the
// fault proxy (fault_proxy.h) that logs each request: an image loaded into one store is pushed,
// pulled back into another with the same image ID and root; a re-push makes no upload (HEAD and
// the manifest PUT only); the pulled copy pushed to a second repository mounts its layers and
// keeps the manifest digest; --format oci pulls back; an upload answered 503 is started again;
// htpasswd and Bearer-token authentication after `minirun login` (the token asked for
// repository:PATH:pull,push). Root (the pulled image runs); skipped where
// docker-registry or python3 is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fault_proxy.h"
#include "registry_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;

namespace {

TestImage pushed_image(const std::string& text) {
  TestImage img;
  img.layers = {busybox_rootfs().build(), TarBuilder().dir("etc").file("etc/pushed", text).build()};
  img.cmd = {"/bin/sh"};
  img.repo_tags = {"local/app:1"};
  return img;
}

class PushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    MINIRUN_REQUIRE_REGISTRY();
    t_ = std::make_unique<TempDir>("push");
  }
  void TearDown() override {
    if (t_)
      for (const char* s : {"a", "b", "c"}) mr(s, {"rm", "-f", "pushed-run"});
  }
  // minirun --root <t>/STORE ARGS; no host registries.conf, credentials only from `auth`.
  CmdResult mr(const std::string& store, std::vector<std::string> args, const std::string& auth = "",
               const std::string& input = "") {
    std::vector<std::string> argv = {"/usr/bin/env", "CONTAINERS_REGISTRIES_CONF=/dev/null",
                                     "REGISTRY_AUTH_FILE=" + (auth.empty() ? *t_ / "no-auth.json" : auth),
                                     MINIRUN_BINARY, "--root", *t_ / store};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_cmd(argv, input, 180);
  }
  // Loads pushed_image(text) into `store` and tags it `name`.
  void load_as(const std::string& store, const std::string& text, const std::string& name) {
    std::vector<TestImage> imgs = {pushed_image(text)};
    std::string ar = *t_ / ("img-" + store + ".tar");
    write_file(ar, docker_archive(imgs));
    CmdResult l = mr(store, {"load", "-i", ar});
    ASSERT_EQ(l.code, 0) << l.err;
    ASSERT_EQ(mr(store, {"tag", "local/app:1", name}).code, 0);
  }
  std::string id_of(const std::string& store, const std::string& name) {
    CmdResult r = mr(store, {"inspect", "--type", "image", "--format", "{{.Id}}", name});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }
  std::string runs(const std::string& store, const std::string& name) {
    CmdResult r = mr(store, {"run", "--rm", "--name", "pushed-run", name, "cat", "/etc/pushed"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }
  static std::string digest_in(const std::string& out) {
    size_t at = out.find("digest: sha256:");
    return at == std::string::npos ? "" : out.substr(at + 8, 71);
  }
  std::unique_ptr<TempDir> t_;
};

}  // namespace

TEST_F(PushTest, PushPullBackRepushMountAndOci) {
  Registry reg;
  FaultProxy proxy(reg.url());
  const std::string name = proxy.host() + "/team/app:1";
  load_as("a", "pushed\n", name);

  CmdResult p = mr("a", {"push", name});
  ASSERT_EQ(p.code, 0) << p.err << p.out;
  EXPECT_EQ(p.out.rfind("The push refers to repository [" + proxy.host() + "/team/app]\n", 0), 0u) << p.out;
  EXPECT_NE(p.out.find(": Preparing\n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find(": Pushed\n"), std::string::npos) << p.out;
  std::string digest = digest_in(p.out);
  ASSERT_FALSE(digest.empty()) << p.out;
  EXPECT_NE(p.out.find("1: digest: " + digest + " size: "), std::string::npos) << p.out;
  CmdResult digests = mr("a", {"inspect", "--type", "image", "--format", "{{json .RepoDigests}}", name});
  EXPECT_NE(digests.out.find(proxy.host() + "/team/app@" + digest), std::string::npos) << digests.out;

  // Pulled back into another store: the same image, the same root.
  CmdResult pulled = mr("b", {"pull", name});
  ASSERT_EQ(pulled.code, 0) << pulled.err;
  EXPECT_NE(pulled.out.find("Digest: " + digest), std::string::npos) << pulled.out;
  EXPECT_EQ(id_of("b", name), id_of("a", name));
  EXPECT_EQ(runs("b", name), "pushed\n");

  // Pushed again: nothing uploaded, only HEADs and the manifest.
  size_t before = proxy.requests().size();
  CmdResult again = mr("a", {"push", name});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(digest_in(again.out), digest);
  EXPECT_NE(again.out.find(": Layer already exists\n"), std::string::npos) << again.out;
  auto log = proxy.requests();
  size_t puts = 0;
  for (size_t i = before; i < log.size(); i++) {
    const auto& r = log[i];
    EXPECT_TRUE(r.method == "HEAD" || r.method == "GET" || (r.method == "PUT" && r.path.find("/manifests/") != std::string::npos))
        << r.method << " " << r.path;
    EXPECT_EQ(r.path.find("/uploads/"), std::string::npos) << r.method << " " << r.path;
    puts += r.method == "PUT";
  }
  EXPECT_EQ(puts, 1u);

  // The pulled copy, pushed to another repository of the registry: its layers mounted from the
  // first, the same manifest digest.
  const std::string copy = proxy.host() + "/team/copy:1";
  ASSERT_EQ(mr("b", {"tag", name, copy}).code, 0);
  CmdResult c = mr("b", {"push", copy});
  ASSERT_EQ(c.code, 0) << c.err << c.out;
  EXPECT_NE(c.out.find(": Mounted from team/app\n"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find(": Pushed\n"), std::string::npos) << c.out;
  EXPECT_EQ(digest_in(c.out), digest);
  bool mounted = false;
  for (const auto& r : proxy.requests())
    mounted |= r.method == "POST" && r.path.find("/team/copy/blobs/uploads/") != std::string::npos &&
               r.query.find("mount=") != std::string::npos && r.status == 201;
  EXPECT_TRUE(mounted);

  // OCI: a manifest of its own type that pulls back to the same image.
  const std::string oci = proxy.host() + "/team/oci:1";
  ASSERT_EQ(mr("a", {"tag", name, oci}).code, 0);
  CmdResult o = mr("a", {"push", "--format", "oci", oci});
  ASSERT_EQ(o.code, 0) << o.err << o.out;
  HttpReply m = http_request(reg.host(), "GET", "/v2/team/oci/manifests/1",
                             {"Accept: application/vnd.oci.image.manifest.v1+json"});
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(nlohmann::json::parse(m.body)["mediaType"], "application/vnd.oci.image.manifest.v1+json") << m.body;
  CmdResult po = mr("c", {"pull", oci});
  ASSERT_EQ(po.code, 0) << po.err;
  EXPECT_EQ(id_of("c", oci), id_of("a", name));

  // -q: the reference alone; a name with no local image: docker push's error, exit 1.
  CmdResult q = mr("a", {"push", "-q", name});
  EXPECT_EQ(q.code, 0) << q.err;
  EXPECT_EQ(q.out, name + "\n");
  CmdResult missing = mr("a", {"push", proxy.host() + "/team/nothing:1"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "Error: An image does not exist locally with the tag: " + proxy.host() + "/team/nothing\n");
}

// With skopeo (containers/image) on the other side: an image skopeo pushed, pulled by minirun and
// pushed to another repository, keeps skopeo's manifest digest; an image minirun pushed reads back
// in skopeo with the image ID as its config digest and its layers.
TEST_F(PushTest, RoundTripsThroughSkopeo) {
  MINIRUN_REQUIRE_SKOPEO();
  Registry reg;
  std::vector<TestImage> imgs = {pushed_image("by skopeo\n")};
  std::string ar = *t_ / "skopeo.tar";
  write_file(ar, docker_archive(imgs));
  reg.push("docker-archive:" + ar, "sk/app:1");
  HttpReply m = http_request(reg.host(), "GET", "/v2/sk/app/manifests/1",
                             {"Accept: application/vnd.docker.distribution.manifest.v2+json"});
  ASSERT_EQ(m.status, 200);
  const std::string skopeo_digest = m.headers["docker-content-digest"];
  ASSERT_EQ(skopeo_digest.rfind("sha256:", 0), 0u) << skopeo_digest;

  const std::string app = reg.host() + "/sk/app:1", copy = reg.host() + "/sk/copy:1";
  CmdResult pulled = mr("a", {"pull", app});
  ASSERT_EQ(pulled.code, 0) << pulled.err;
  ASSERT_EQ(mr("a", {"tag", app, copy}).code, 0);
  CmdResult p = mr("a", {"push", copy});
  ASSERT_EQ(p.code, 0) << p.err << p.out;
  EXPECT_EQ(digest_in(p.out), skopeo_digest) << p.out;
  EXPECT_EQ(runs("a", copy), "by skopeo\n");

  const std::string mine = reg.host() + "/sk/mine:1";
  load_as("b", "by minirun\n", mine);
  CmdResult q = mr("b", {"push", mine});
  ASSERT_EQ(q.code, 0) << q.err << q.out;
  const std::string skopeo = find_in_path("skopeo");
  CmdResult raw = run_cmd({skopeo, "inspect", "--raw", "--tls-verify=false", "docker://" + mine});
  ASSERT_EQ(raw.code, 0) << raw.err;
  auto manifest = nlohmann::json::parse(raw.out, nullptr, false);
  ASSERT_TRUE(manifest.is_object()) << raw.out;
  std::string id = id_of("b", mine);
  while (!id.empty() && id.back() == '\n') id.pop_back();
  EXPECT_EQ(manifest["config"]["digest"], id);
  EXPECT_EQ(manifest["layers"].size(), 2u);
  CmdResult cfg = run_cmd({skopeo, "inspect", "--config", "--tls-verify=false", "docker://" + mine});
  ASSERT_EQ(cfg.code, 0) << cfg.err;
  EXPECT_EQ(nlohmann::json::parse(cfg.out)["rootfs"]["diff_ids"].size(), 2u) << cfg.out;
}

TEST_F(PushTest, AnUploadAnswered503IsStartedAgainAndBigBlobsGoInChunks) {
  Registry reg;
  FaultProxy proxy(reg.url());
  const std::string name = proxy.host() + "/flaky/app:1";
  load_as("a", "flaky\n", name);
  proxy.set_faults({Fault::fail("/blobs/uploads/.+", 503, 1)});
  // Blobs over 64 KiB (busybox's layer) go up in PATCHes of 64 KiB.
  std::vector<std::string> argv = {"/usr/bin/env", "CONTAINERS_REGISTRIES_CONF=/dev/null",
                                   "REGISTRY_AUTH_FILE=" + (*t_ / "no-auth.json"), "MINIRUN_PUSH_CHUNK_SIZE=65536",
                                   MINIRUN_BINARY, "--root", *t_ / "a", "push", name};
  CmdResult p = run_cmd(argv, "", 180);
  ASSERT_EQ(p.code, 0) << p.err << p.out;
  bool failed = false;
  size_t patches = 0;
  for (const auto& r : proxy.requests()) {
    failed |= r.status == 503;
    patches += r.method == "PATCH" && r.status == 202;
  }
  EXPECT_TRUE(failed);
  EXPECT_GE(patches, 2u);
  CmdResult pulled = mr("b", {"pull", name});
  ASSERT_EQ(pulled.code, 0) << pulled.err;
  EXPECT_EQ(id_of("b", name), id_of("a", name));
  EXPECT_EQ(runs("b", name), "flaky\n");
}

class PushAuthTest : public PushTest, public ::testing::WithParamInterface<RegistryOptions::Auth> {};

TEST_P(PushAuthTest, AfterLogin) {
  RegistryOptions o;
  o.auth = GetParam();
  Registry reg(o);
  const std::string name = reg.host() + "/private/app:1";
  load_as("a", "private\n", name);
  CmdResult denied = mr("a", {"push", name});
  EXPECT_EQ(denied.code, 1) << denied.out;
  std::string file = *t_ / "auth.json";
  CmdResult login = mr("a", {"login", "-u", o.user, "--password-stdin", reg.host()}, file, o.password + "\n");
  ASSERT_EQ(login.code, 0) << login.err;
  CmdResult p = mr("a", {"push", name}, file);
  ASSERT_EQ(p.code, 0) << p.err << p.out;
  CmdResult pulled = mr("b", {"pull", name}, file);
  ASSERT_EQ(pulled.code, 0) << pulled.err;
  EXPECT_EQ(id_of("b", name), id_of("a", name));
  if (GetParam() == RegistryOptions::Auth::token) {
    bool push_scope = false;
    for (const auto& r : reg.token_requests()) push_scope |= r.query.find("private%2Fapp%3Apull%2Cpush") != std::string::npos;
    EXPECT_TRUE(push_scope);
  }
}

INSTANTIATE_TEST_SUITE_P(Auth, PushAuthTest,
                         ::testing::Values(RegistryOptions::Auth::htpasswd, RegistryOptions::Auth::token),
                         [](const auto& info) {
                           return std::string(info.param == RegistryOptions::Auth::htpasswd ? "Htpasswd" : "Token");
                         });
