// The registry harness itself (tests/support/registry_fixture.h, fault_proxy.h): each scenario's
// registry answers as distribution 2.8 does (the /v2/ ping, Basic and Bearer challenges, TLS with
// the test's CA, redirects to storage, a pull-through mirror), pushes land, the fault proxy cuts,
// refuses, corrupts and logs, and nothing is left running. Skipped where docker-registry, python3
// or skopeo is missing.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "fault_proxy.h"
#include "minirun/util/digest.h"
#include "registry_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
using nlohmann::json;

namespace {

const char* kSchema2 = "Accept: application/vnd.docker.distribution.manifest.v2+json";
const char* kOciIndex = "Accept: application/vnd.oci.image.index.v1+json";

TestImage small_image(const std::string& text) {
  TestImage img;
  img.layers = {TarBuilder().dir("etc").file("etc/hello", text).build()};
  return img;
}

std::string basic(const std::string& user, const std::string& pass) {
  // base64 of "user:pass" via the digest helpers' neighbour: written out here (RFC 4648).
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = user + ":" + pass, out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += t[(n >> 18) & 63];
    out += t[(n >> 12) & 63];
    out += i + 1 < in.size() ? t[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? t[n & 63] : '=';
  }
  return "Authorization: Basic " + out;
}

// The manifest of repo:tag and its first layer's digest, as the registry serves them.
std::pair<std::string, std::string> manifest_and_layer(const std::string& host, const std::string& repo,
                                                       const std::string& tag,
                                                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> h = {kSchema2};
  h.insert(h.end(), extra.begin(), extra.end());
  HttpReply m = http_request(host, "GET", "/v2/" + repo + "/manifests/" + tag, h);
  EXPECT_EQ(m.status, 200) << m.body;
  if (m.status != 200) return {"", ""};
  EXPECT_EQ(m.headers["docker-content-digest"], sha256_digest(m.body));
  return {m.body, json::parse(m.body)["layers"][0]["digest"].get<std::string>()};
}

}  // namespace

TEST(RegistryFixture, PlainHttpServesPushedImages) {
  MINIRUN_REQUIRE_SKOPEO();
  std::string host;
  {
    Registry reg;
    host = reg.host();
    HttpReply ping = http_request(reg.host(), "GET", "/v2/");
    EXPECT_EQ(ping.status, 200);
    EXPECT_EQ(ping.headers["docker-distribution-api-version"], "registry/2.0");

    TempDir work;
    reg.push(docker_archive_source(work.path(), small_image("docker\n"), "img"), "test/docker:1");
    reg.push(oci_archive_source(work.path(), small_image("oci\n"), "img"), "test/oci:1");
    auto [manifest, layer] = manifest_and_layer(reg.host(), "test/docker", "1");
    EXPECT_EQ(json::parse(manifest)["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
    HttpReply blob = http_request(reg.host(), "GET", "/v2/test/docker/blobs/" + layer);
    EXPECT_EQ(blob.status, 200);
    EXPECT_EQ(sha256_digest(blob.body), layer);
    HttpReply oci = http_request(reg.host(), "GET", "/v2/test/oci/manifests/1",
                                 {"Accept: application/vnd.oci.image.manifest.v1+json"});
    EXPECT_EQ(oci.status, 200);
    EXPECT_EQ(json::parse(oci.body)["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(http_request(reg.host(), "GET", "/v2/test/none/manifests/1", {kSchema2}).status, 404);
  }
  // Nothing left: the port is closed.
  EXPECT_THROW(http_request(host, "GET", "/v2/"), std::runtime_error);
}

TEST(RegistryFixture, HtpasswdChallengesWithBasic) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::htpasswd;
  Registry reg(o);
  HttpReply anon = http_request(reg.host(), "GET", "/v2/");
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(anon.headers["www-authenticate"], "Basic realm=\"minirun-test\"");
  EXPECT_EQ(http_request(reg.host(), "GET", "/v2/", {basic(o.user, "wrong")}).status, 401);
  EXPECT_EQ(http_request(reg.host(), "GET", "/v2/", {basic(o.user, o.password)}).status, 200);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("basic\n"), "img"), "private/img:1");
  manifest_and_layer(reg.host(), "private/img", "1", {basic(o.user, o.password)});
}

TEST(RegistryFixture, SillyTokenAuthChallengesWithBearer) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::token;
  Registry reg(o);
  HttpReply anon = http_request(reg.host(), "GET", "/v2/app/manifests/1", {kSchema2});
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(anon.headers["www-authenticate"], "Bearer realm=\"" + reg.token_realm() +
                                                  "\",service=\"minirun-test-registry\",scope=\"repository:app:pull\"");
  // The token endpoint answers only to the credentials.
  std::string token_host = reg.token_realm().substr(7, reg.token_realm().find("/token") - 7);
  std::string query = "/token?service=minirun-test-registry&scope=repository:app:pull";
  EXPECT_EQ(http_request(token_host, "GET", query).status, 401);
  HttpReply tok = http_request(token_host, "GET", query, {basic(o.user, o.password)});
  ASSERT_EQ(tok.status, 200);
  json t = json::parse(tok.body);
  EXPECT_EQ(t["token"], t["access_token"]);
  EXPECT_EQ(t["expires_in"], 300);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("bearer\n"), "img"), "app:1");
  manifest_and_layer(reg.host(), "app", "1", {"Authorization: Bearer " + t["token"].get<std::string>()});
  auto log = reg.token_requests();
  ASSERT_GE(log.size(), 3u);  // ours, and skopeo's
  EXPECT_EQ(log[0].status, 401);
  EXPECT_EQ(log[0].query, "service=minirun-test-registry&scope=repository:app:pull");
  EXPECT_EQ(log[1].status, 200);
}

TEST(RegistryFixture, TlsWithTheTestsCa) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.tls = true;
  Registry reg(o);
  EXPECT_EQ(reg.url(), "https://" + reg.host());
  // Plain HTTP to it is refused by the server itself.
  EXPECT_EQ(http_request(reg.host(), "GET", "/v2/").status, 400);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("tls\n"), "img"), "secure:1");
  auto inspect = [&](const std::string& cert_dir) {
    std::vector<std::string> argv = {"/usr/bin/env", "CONTAINERS_REGISTRIES_CONF=/dev/null", "/usr/bin/skopeo",
                                     "inspect", "--raw", "--tls-verify=true"};
    if (!cert_dir.empty()) argv.push_back("--cert-dir=" + cert_dir);
    argv.push_back("docker://" + reg.host() + "/secure:1");
    return run_cmd(argv, "", 60);
  };
  CmdResult verified = inspect(reg.certs_dir() + "/" + reg.host());
  EXPECT_EQ(verified.code, 0) << verified.err;
  CmdResult unknown = inspect(work.path());  // no CA there: the certificate is not trusted
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("certificate"), std::string::npos) << unknown.err;
}

TEST(RegistryFixture, RedirectsBlobsToStorage) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.redirect = true;
  o.auth = RegistryOptions::Auth::htpasswd;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("redirected\n"), "img"), "r/img:1");
  auto [manifest, layer] = manifest_and_layer(reg.host(), "r/img", "1", {basic(o.user, o.password)});
  HttpReply r = http_request(reg.host(), "GET", "/v2/r/img/blobs/" + layer, {basic(o.user, o.password)});
  ASSERT_EQ(r.status, 307);
  std::string loc = r.headers["location"];
  ASSERT_EQ(loc.rfind("http://127.0.0.1:", 0), 0u) << loc;
  std::string host = loc.substr(7, loc.find('/', 7) - 7);
  ASSERT_NE(host, reg.host());
  std::string path = loc.substr(7 + host.size());
  HttpReply whole = http_request(host, "GET", path);
  EXPECT_EQ(whole.status, 200);
  EXPECT_EQ(sha256_digest(whole.body), layer);
  HttpReply tail = http_request(host, "GET", path, {"Range: bytes=10-"});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, whole.body.substr(10));
  auto log = reg.storage_requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].range, "bytes=10-");
  EXPECT_EQ(log[1].authorization, "");  // what a client sent: nothing here
}

TEST(RegistryFixture, PullThroughMirror) {
  MINIRUN_REQUIRE_SKOPEO();
  Registry origin;
  TempDir work;
  origin.push(docker_archive_source(work.path(), small_image("mirrored\n"), "img"), "library/m:1");
  RegistryOptions o;
  o.mirror_of = origin.url();
  Registry mirror(o);
  auto [from_origin, layer] = manifest_and_layer(origin.host(), "library/m", "1");
  auto [from_mirror, layer2] = manifest_and_layer(mirror.host(), "library/m", "1");
  EXPECT_EQ(from_mirror, from_origin);
  HttpReply blob = http_request(mirror.host(), "GET", "/v2/library/m/blobs/" + layer);
  EXPECT_EQ(blob.status, 200);
  EXPECT_EQ(sha256_digest(blob.body), layer);
}

TEST(RegistryFixture, TwoPlatformIndex) {
  MINIRUN_REQUIRE_SKOPEO();
  Registry reg;
  TempDir work;
  auto src = two_platform_source(work.path(), small_image("amd64\n"), small_image("arm64\n"), "multi");
  reg.push(src.source, "multi:1", true);
  HttpReply idx = http_request(reg.host(), "GET", "/v2/multi/manifests/1", {kOciIndex});
  ASSERT_EQ(idx.status, 200);
  EXPECT_EQ(sha256_digest(idx.body), src.index_digest);
  json j = json::parse(idx.body);
  ASSERT_EQ(j["manifests"].size(), 2u);
  EXPECT_EQ(j["manifests"][1]["platform"]["variant"], "v8");
  for (const auto& d : {src.amd64_digest, src.arm64_digest})
    EXPECT_EQ(http_request(reg.host(), "GET", "/v2/multi/manifests/" + d,
                           {"Accept: application/vnd.oci.image.manifest.v1+json"})
                  .status,
              200);
}

TEST(RegistryFixture, FaultProxyCutsRefusesCorruptsAndLogs) {
  MINIRUN_REQUIRE_SKOPEO();
  Registry reg;
  TempDir work;
  TestImage big;  // incompressible: the pushed (gzip) layer stays about 200 kB
  std::string noise(200000, '\0');
  uint32_t x = 12345;
  for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  big.layers = {TarBuilder().file("data", noise).build()};
  reg.push(docker_archive_source(work.path(), big, "img"), "f/img:1");
  auto [manifest, layer] = manifest_and_layer(reg.host(), "f/img", "1");
  FaultProxy proxy(reg.url());
  std::string blob_path = "/v2/f/img/blobs/" + layer;
  HttpReply whole = http_request(proxy.host(), "GET", blob_path);
  ASSERT_EQ(whole.status, 200);
  ASSERT_EQ(sha256_digest(whole.body), layer);

  proxy.set_faults({Fault::cut("/blobs/", 1000), Fault::fail("/manifests/", 429, 2, "1"), Fault::corrupt("/blobs/", 5)});
  HttpReply cut = http_request(proxy.host(), "GET", blob_path);
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(cut.body.size(), 1000u);  // then the connection closed, short of Content-Length
  EXPECT_EQ(std::stoul(cut.headers["content-length"]), whole.body.size());
  for (int i = 0; i < 2; ++i) {
    HttpReply limited = http_request(proxy.host(), "GET", "/v2/f/img/manifests/1", {kSchema2});
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.headers["retry-after"], "1");
  }
  EXPECT_EQ(http_request(proxy.host(), "GET", "/v2/f/img/manifests/1", {kSchema2}).status, 200);
  HttpReply corrupt = http_request(proxy.host(), "GET", blob_path, {"Range: bytes=0-99"});
  ASSERT_EQ(corrupt.body.size(), 100u);
  EXPECT_EQ(corrupt.status, 206);  // the registry's own Range answer, one byte changed
  EXPECT_NE(corrupt.body, whole.body.substr(0, 100));
  EXPECT_EQ(corrupt.body.substr(6), whole.body.substr(6, 94));
  EXPECT_EQ(http_request(proxy.host(), "GET", blob_path).body, whole.body);  // each fault spent

  proxy.set_faults({Fault::delay("/v2/", 300)});
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(http_request(proxy.host(), "GET", "/v2/").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(300));

  auto log = proxy.requests();
  ASSERT_EQ(log.size(), 8u);
  EXPECT_EQ(log[1].path, blob_path);
  EXPECT_EQ(log[1].bytes, 1000u);
  EXPECT_EQ(log[2].status, 429);
  EXPECT_EQ(log[5].range, "bytes=0-99");
  EXPECT_EQ(log[5].status, 206);
  EXPECT_EQ(log[7].method, "GET");
}
