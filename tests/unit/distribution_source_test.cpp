// The libcurl registry client (registry/distribution_source.h) against the tests' real
// registry (registry_fixture.h): plain HTTP, Bearer tokens and Basic credentials, TLS with a
// certs directory, blobs redirected to another server (which never sees the Authorization), and
// the fault proxy's cuts and refusals, survived with Range and bounded retries. Skipped where
// docker-registry, python3 or skopeo is missing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fault_proxy.h"
#include "minirun/registry/distribution_source.h"
#include "minirun/registry/manifest.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "registry_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

TestImage small_image(const std::string& text) {
  TestImage img;
  img.layers = {TarBuilder().dir("etc").file("etc/hello", text).build()};
  return img;
}

// An image whose (gzip) layer stays about 200 kB: incompressible content.
TestImage big_image() {
  TestImage img;
  std::string noise(200000, '\0');
  uint32_t x = 4242;
  for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  img.layers = {TarBuilder().file("data", noise).build()};
  return img;
}

Reference ref_at(const std::string& host, const std::string& path) {
  Reference r;
  r.domain = host;
  r.path = path;
  return r;
}

// No auth files read, short waits.
registry::SourceOptions quick(std::optional<registry::Credentials> c = std::nullopt) {
  registry::SourceOptions o;
  o.credentials = std::move(c);
  o.read_auth_files = false;
  o.certs_dirs = {};
  o.max_delay = 2s;
  return o;
}

std::string fetch_blob(registry::Source& s, const std::string& digest, uint64_t size, uint64_t offset = 0) {
  std::string out;
  s.blob(digest, offset, size, [&](const char* p, size_t n) { out.append(p, n); });
  return out;
}

// The manifest of `tag` and its first layer's descriptor, checked.
registry::Descriptor first_layer(registry::Source& s, const std::string& tag, std::string* media_type = nullptr) {
  registry::FetchedManifest m = s.manifest(tag);
  EXPECT_EQ(m.digest, sha256_digest(m.bytes));
  if (media_type) *media_type = m.media_type;
  registry::Document d = registry::parse_document(m.bytes, m.media_type);
  EXPECT_FALSE(d.is_index);
  return d.manifest.layers.at(0);
}

}  // namespace

TEST(DistributionSource, PlainHttpManifestsAndBlobs) {
  MINIRUN_REQUIRE_SKOPEO();
  Registry reg;
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("docker\n"), "img"), "test/docker:1");
  reg.push(oci_archive_source(work.path(), small_image("oci\n"), "img"), "test/oci:1");
  auto src = registry::open_source(ref_at(reg.host(), "test/docker"), quick());
  EXPECT_EQ(src->where(), reg.host() + "/test/docker");
  std::string mt;
  registry::Descriptor layer = first_layer(*src, "1", &mt);
  EXPECT_EQ(mt, registry::kDockerManifest);
  std::string bytes = fetch_blob(*src, layer.digest, layer.size);
  EXPECT_EQ(sha256_digest(bytes), layer.digest);
  EXPECT_EQ(fetch_blob(*src, layer.digest, layer.size, 10), bytes.substr(10));
  // By digest, and a pinned digest that is not the content's.
  registry::FetchedManifest m = src->manifest("1");
  EXPECT_EQ(src->manifest(m.digest).bytes, m.bytes);
  try {
    src->manifest("nosuch");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "manifest for " + reg.host() + "/test/docker:nosuch not found: manifest unknown: manifest unknown");
  }
  EXPECT_THROW(src->manifest("sha256:" + std::string(64, 'a')), Error);
  // A blob larger than its descriptor says is refused.
  EXPECT_THROW(fetch_blob(*src, layer.digest, layer.size - 1), Error);

  auto oci = registry::open_source(ref_at(reg.host(), "test/oci"), quick());
  registry::Descriptor l2 = first_layer(*oci, "1", &mt);
  EXPECT_EQ(mt, registry::kOciManifest);
  EXPECT_EQ(sha256_digest(fetch_blob(*oci, l2.digest, l2.size)), l2.digest);
}

TEST(DistributionSource, NothingListeningNamesBothSchemes) {
  try {
    registry::open_source(ref_at("127.0.0.1:1", "x"), quick());
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("Get \"https://127.0.0.1:1/v2/\""), std::string::npos) << m;
    EXPECT_NE(m.find("Get \"http://127.0.0.1:1/v2/\""), std::string::npos) << m;
  }
}

TEST(DistributionSource, BearerTokenWithCredentials) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::token;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("bearer\n"), "img"), "app/x:1");
  size_t before = reg.token_requests().size();
  auto src = registry::open_source(ref_at(reg.host(), "app/x"), quick(registry::Credentials{o.user, o.password}));
  registry::Descriptor layer = first_layer(*src, "1");
  EXPECT_EQ(sha256_digest(fetch_blob(*src, layer.digest, layer.size)), layer.digest);
  auto log = reg.token_requests();
  for (int i = 0; i < 40 && log.size() < before + 1; i++) {  // logged once answered
    std::this_thread::sleep_for(50ms);
    log = reg.token_requests();
  }
  ASSERT_EQ(log.size(), before + 1);  // one token, reused
  EXPECT_EQ(log.back().status, 200);
  EXPECT_NE(log.back().query.find("scope=repository%3Aapp%2Fx%3Apull"), std::string::npos) << log.back().query;

  // No credentials: the token server refuses, and the error says why.
  try {
    auto anon = registry::open_source(ref_at(reg.host(), "app/x"), quick());
    anon->manifest("1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("authentication required"), std::string::npos) << e.what();
  }
  EXPECT_THROW(registry::open_source(ref_at(reg.host(), "app/x"), quick(registry::Credentials{o.user, "wrong"})), Error);
}

TEST(DistributionSource, ARefusedTokenIsRenewedOnce) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::token;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("renew\n"), "img"), "app/y:1");
  FaultProxy proxy(reg.url());
  auto src = registry::open_source(ref_at(proxy.host(), "app/y"), quick(registry::Credentials{o.user, o.password}));
  registry::Descriptor layer = first_layer(*src, "1");
  size_t tokens = reg.token_requests().size();
  proxy.set_faults({Fault::fail("/blobs/", 401, 1)});  // as if the token had expired
  EXPECT_EQ(sha256_digest(fetch_blob(*src, layer.digest, layer.size)), layer.digest);
  for (int i = 0; i < 40 && reg.token_requests().size() < tokens + 1; i++) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(reg.token_requests().size(), tokens + 1);
  proxy.set_faults({Fault::fail("/blobs/", 401, -1)});  // refused again and again: one renewal, then the error
  EXPECT_THROW(fetch_blob(*src, layer.digest, layer.size), Error);
}

TEST(DistributionSource, BasicCredentialsAndRedirectedBlobs) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::htpasswd;
  o.redirect = true;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), big_image(), "img"), "r/img:1");
  auto src = registry::open_source(ref_at(reg.host(), "r/img"), quick(registry::Credentials{o.user, o.password}));
  registry::Descriptor layer = first_layer(*src, "1");
  EXPECT_EQ(sha256_digest(fetch_blob(*src, layer.digest, layer.size)), layer.digest);
  EXPECT_EQ(fetch_blob(*src, layer.digest, layer.size, 1000).size(), layer.size - 1000);
  auto log = reg.storage_requests();
  for (int i = 0; i < 40 && log.size() < 2; i++) {  // the server logs a request once it has answered
    std::this_thread::sleep_for(50ms);
    log = reg.storage_requests();
  }
  ASSERT_GE(log.size(), 2u);
  for (const auto& r : log) EXPECT_EQ(r.authorization, "") << r.path;
  EXPECT_EQ(log.back().range, "bytes=1000-");
  EXPECT_THROW(registry::open_source(ref_at(reg.host(), "r/img"), quick())->manifest("1"), Error);
}

TEST(DistributionSource, TlsWithACertsDirectory) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.tls = true;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("tls\n"), "img"), "secure:1");
  registry::SourceOptions opts = quick();
  opts.certs_dirs = {reg.certs_dir()};
  auto src = registry::open_source(ref_at(reg.host(), "secure"), opts);
  registry::Descriptor layer = first_layer(*src, "1");
  EXPECT_EQ(sha256_digest(fetch_blob(*src, layer.digest, layer.size)), layer.digest);
  registry::SourceOptions flat = quick();
  flat.cert_dir = reg.certs_dir() + "/" + reg.host();
  EXPECT_NO_THROW(registry::open_source(ref_at(reg.host(), "secure"), flat)->manifest("1"));
  // Without the CA the certificate is not trusted (and plain http is not the registry either).
  try {
    registry::open_source(ref_at(reg.host(), "secure"), quick())->manifest("1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("certificate"), std::string::npos) << e.what();
  }
  // registries.conf's insecure: TLS without verification.
  registry::SourceOptions insecure = quick();
  insecure.insecure = true;
  EXPECT_NO_THROW(registry::open_source(ref_at(reg.host(), "secure"), insecure)->manifest("1"));
}

TEST(DistributionSource, CutsAndRefusalsAreRetriedAndResumed) {
  MINIRUN_REQUIRE_SKOPEO();
  Registry reg;
  TempDir work;
  reg.push(docker_archive_source(work.path(), big_image(), "img"), "f/img:1");
  FaultProxy proxy(reg.url());
  auto src = registry::open_source(ref_at(proxy.host(), "f/img"), quick());
  registry::Descriptor layer = first_layer(*src, "1");
  std::string blob_path = "/v2/f/img/blobs/" + layer.digest;
  proxy.set_faults({Fault::cut("/blobs/", 50000), Fault::fail("/blobs/", 503, 1), Fault::fail("/manifests/", 429, 2, "1")});
  std::string bytes = fetch_blob(*src, layer.digest, layer.size);
  EXPECT_EQ(sha256_digest(bytes), layer.digest);
  EXPECT_NO_THROW(src->manifest("1"));
  std::vector<LoggedRequest> blobs;
  for (const auto& r : proxy.requests())
    if (r.path == blob_path) blobs.push_back(r);
  ASSERT_EQ(blobs.size(), 3u);
  EXPECT_EQ(blobs[0].bytes, 50000u);
  EXPECT_EQ(blobs[1].status, 503);
  EXPECT_EQ(blobs[1].range, "bytes=50000-");
  EXPECT_EQ(blobs[2].range, "bytes=50000-");
  EXPECT_EQ(blobs[2].status, 206);

  // Refusals without end: the tries are bounded.
  proxy.set_faults({Fault::fail("/blobs/", 503, -1)});
  registry::SourceOptions few = quick();
  few.max_attempts = 3;
  few.max_delay = 100ms;
  auto limited = registry::open_source(ref_at(proxy.host(), "f/img"), few);
  try {
    fetch_blob(*limited, layer.digest, layer.size);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 tries"), std::string::npos) << e.what();
  }
}

// An identity token: Docker's OAuth2 flow (a POST of the refresh_token grant, no Basic
// credentials), the answer's new refresh token used for the next token (in memory), and a
// refused identity token named as such.
TEST(DistributionSource, IdentityTokenUsesTheOAuth2RefreshGrant) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::token;
  o.refresh_token = "minirun-identity-token-1";
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("identity\n"), "img"), "app/id:1");
  FaultProxy proxy(reg.url());
  size_t before = reg.token_requests().size();
  registry::Credentials creds{o.user, "", o.refresh_token};
  auto src = registry::open_source(ref_at(proxy.host(), "app/id"), quick(creds));
  registry::Descriptor layer = first_layer(*src, "1");
  EXPECT_EQ(sha256_digest(fetch_blob(*src, layer.digest, layer.size)), layer.digest);
  proxy.set_faults({Fault::fail("/blobs/", 401, 1)});  // as if the token had expired: a new one
  EXPECT_EQ(sha256_digest(fetch_blob(*src, layer.digest, layer.size)), layer.digest);
  std::vector<LoggedRequest> log;
  for (int i = 0; i < 40; i++) {  // logged once answered
    log = reg.token_requests();
    if (log.size() >= before + 2) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(log.size(), before + 2);
  const LoggedRequest& first = log[before];
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.authorization, "");  // the password is never sent
  EXPECT_EQ(first.query, "");
  EXPECT_EQ(first.body,
            "grant_type=refresh_token&refresh_token=minirun-identity-token-1&service=minirun-test-registry"
            "&scope=repository%3Aapp%2Fid%3Apull&client_id=minirun");
  const LoggedRequest& second = log[before + 1];
  EXPECT_EQ(second.method, "POST");
  EXPECT_EQ(second.status, 200);
  // The refresh token the first answer carried (the token server's first issue).
  EXPECT_NE(second.body.find("refresh_token=minirun-test-refresh-"), std::string::npos) << second.body;

  registry::Credentials wrong{o.user, "", "not-the-identity-token"};
  try {
    registry::open_source(ref_at(reg.host(), "app/id"), quick(wrong))->manifest("1");
    FAIL() << "a wrong identity token was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unauthorized: the identity token was refused"), std::string::npos)
        << e.what();
  }
}
