// The registry client's pure parts: WWW-Authenticate challenges, auth files, URLs, base64, the
// retry and resumption decisions, and which registries count as loopback.
#include <gtest/gtest.h>

#include <cstdlib>

#include "minirun/registry/auth_challenge.h"
#include "minirun/registry/credentials.h"
#include "minirun/registry/distribution_source.h"
#include "minirun/registry/retry.h"
#include "minirun/registry/url.h"
#include "minirun/util/base64.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::registry;
using namespace std::chrono_literals;

TEST(AuthChallenge, BearerWithRealmServiceScope) {
  auto c = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c[0].param("service"), "registry.docker.io");
  EXPECT_EQ(c[0].param("scope"), "repository:library/busybox:pull");
}

TEST(AuthChallenge, SeveralChallengesQuotedCommasAndEscapes) {
  auto c = parse_challenges(
      R"(Bearer realm="https://a/token", scope="repository:x:pull,push", error="insufficient_scope", Basic realm="say \"hi\"")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].param("scope"), "repository:x:pull,push");
  EXPECT_EQ(c[0].param("error"), "insufficient_scope");
  EXPECT_EQ(c[1].scheme, "basic");
  EXPECT_EQ(c[1].param("realm"), "say \"hi\"");
}

TEST(AuthChallenge, CaseSpacingTokensAndJunk) {
  auto c = parse_challenges("BASIC  Realm = minirun , Negotiate");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].param("realm"), "minirun");
  EXPECT_EQ(c[1].scheme, "negotiate");
  EXPECT_TRUE(c[1].params.empty());
  EXPECT_TRUE(parse_challenges("").empty());
  EXPECT_NO_THROW(parse_challenges("Bearer realm=\"unterminated"));
  EXPECT_EQ(parse_challenges("Bearer realm=\"unterminated")[0].param("realm"), "unterminated");
  EXPECT_NO_THROW(parse_challenges(",,= \"\" ;;"));
}

TEST(Base64, RoundTripsAndRefuses) {
  EXPECT_EQ(base64_encode("minirun:test-pass-1"), "bWluaXJ1bjp0ZXN0LXBhc3MtMQ==");
  EXPECT_EQ(base64_decode("bWluaXJ1bjp0ZXN0LXBhc3MtMQ=="), "minirun:test-pass-1");
  EXPECT_EQ(base64_decode("bWluaXJ1bjp0ZXN0LXBhc3MtMQ"), "minirun:test-pass-1");  // padding left out
  EXPECT_EQ(base64_decode(""), "");
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x80", 3)})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_FALSE(base64_decode("a$b="));
  EXPECT_FALSE(base64_decode("abcde"));
  EXPECT_FALSE(base64_decode("ab=c"));
}

TEST(Credentials, MostSpecificKeyWins) {
  std::string file = R"({"auths": {
    "127.0.0.1:5000": {"auth": ")" + base64_encode("host:h") + R"("},
    "127.0.0.1:5000/team": {"auth": ")" + base64_encode("team:t") + R"("},
    "127.0.0.1:5000/team/app": {"auth": ")" + base64_encode("app:a:with:colons") + R"("},
    "quay.io": {"username": "u", "password": "p"}}})";
  auto c = credentials_from_auth_file(file, "127.0.0.1:5000", "team/app", "auth.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "app");
  EXPECT_EQ(c->password, "a:with:colons");
  EXPECT_EQ(credentials_from_auth_file(file, "127.0.0.1:5000", "team/other", "f")->username, "team");
  EXPECT_EQ(credentials_from_auth_file(file, "127.0.0.1:5000", "x", "f")->username, "host");
  EXPECT_EQ(credentials_from_auth_file(file, "quay.io", "a/b", "f")->password, "p");
  EXPECT_FALSE(credentials_from_auth_file(file, "127.0.0.1:5001", "team/app", "f"));
  EXPECT_FALSE(credentials_from_auth_file("{}", "quay.io", "a", "f"));
}

TEST(Credentials, IdentityTokensAreKeptBesideTheUser) {
  // As `docker login` stores a registry's identity token: "auth" is "user:" (no password).
  std::string file = R"({"auths": {"reg.example.com": {"auth": ")" + base64_encode("me:") +
                     R"(", "identitytoken": "id-token-1"},
    "other.example.com": {"identitytoken": "id-token-2", "username": "you"},
    "plain.example.com": {"auth": ")" + base64_encode("u:p") + R"(", "identitytoken": ""}}})";
  auto c = credentials_from_auth_file(file, "reg.example.com", "a/b", "config.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "me");
  EXPECT_EQ(c->password, "");
  EXPECT_EQ(c->identity_token, "id-token-1");
  c = credentials_from_auth_file(file, "other.example.com", "x", "config.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "you");
  EXPECT_EQ(c->identity_token, "id-token-2");
  c = credentials_from_auth_file(file, "plain.example.com", "x", "config.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "p");
  EXPECT_EQ(c->identity_token, "");
}

TEST(Credentials, DockerHubKeysAndUrlKeys) {
  std::string hub = R"({"auths": {"https://index.docker.io/v1/": {"auth": ")" + base64_encode("me:pw") + R"("},
                         "https://reg.example.com/v2/": {"auth": ")" + base64_encode("r:s") + R"("}}})";
  auto c = credentials_from_auth_file(hub, "docker.io", "library/busybox", "config.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "me");
  EXPECT_EQ(c->password, "pw");
  EXPECT_EQ(credentials_from_auth_file(hub, "reg.example.com", "x", "f")->username, "r");
  std::string plain = R"({"auths": {"docker.io": {"auth": ")" + base64_encode("d:e") + R"("}}})";
  EXPECT_EQ(credentials_from_auth_file(plain, "docker.io", "x/y", "f")->username, "d");
}

TEST(Credentials, MalformedFilesAreNamed) {
  try {
    credentials_from_auth_file("{not json", "h", "p", "/x/auth.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/x/auth.json"), std::string::npos);
  }
  EXPECT_THROW(credentials_from_auth_file(R"({"auths": {"h": {"auth": "!!!"}}})", "h", "p", "f"), Error);
  EXPECT_THROW(credentials_from_auth_file(R"({"auths": {"h": {"auth": ")" + base64_encode("nocolon") + R"("}}})", "h",
                                          "p", "f"),
               Error);
}

TEST(Credentials, FileOrder) {
  minirun::test::TempDir dir;
  std::string f = dir / "auth.json";
  minirun::test::write_file(f, R"({"auths": {"r.example": {"auth": ")" + base64_encode("a:b") + R"("}}})");
  ::setenv("REGISTRY_AUTH_FILE", f.c_str(), 1);
  EXPECT_EQ(auth_file_paths(), std::vector<std::string>{f});
  EXPECT_EQ(find_credentials("r.example", "x")->username, "a");
  EXPECT_FALSE(find_credentials("other.example", "x"));
  ::unsetenv("REGISTRY_AUTH_FILE");
  ::setenv("DOCKER_CONFIG", "/nonexistent-docker-config", 1);
  auto paths = auth_file_paths();
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], "/run/containers/0/auth.json");
  EXPECT_EQ(paths[1], "/nonexistent-docker-config/config.json");
  ::unsetenv("DOCKER_CONFIG");
}

TEST(Credentials, HelpersNamedByTheFile) {
  std::string file = R"({"auths": {"r.example": {}}, "credsStore": "store",
                         "credHelpers": {"special.example": "special", "https://index.docker.io/v1/": "hub"}})";
  EXPECT_EQ(credential_helper_for(file, "special.example", "f"), "special");
  EXPECT_EQ(credential_helper_for(file, "docker.io", "f"), "hub");
  EXPECT_EQ(credential_helper_for(file, "r.example", "f"), "store");
  EXPECT_EQ(credential_helper_for(R"({"auths": {}})", "r.example", "f"), "");
}

TEST(Credentials, CredentialHelperIsRun) {
  minirun::test::TempDir dir;
  // A helper answering for one server only, as docker-credential-pass and the others do.
  minirun::test::write_file(dir / "docker-credential-minirun-test",
                            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread server\n"
                            "if [ \"$server\" = r.example:5000 ]; then\n"
                            "  echo '{\"ServerURL\":\"r.example:5000\",\"Username\":\"helped\",\"Secret\":\"s3cret\"}'\n"
                            "else echo 'credentials not found in native keychain'; exit 1; fi\n",
                            0755);
  minirun::test::write_file(dir / "docker-credential-broken", "#!/bin/sh\necho 'no keyring' >&2\nexit 3\n", 0755);
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir.path() + ":" + path).c_str(), 1);
  auto c = run_credential_helper("minirun-test", "r.example:5000");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "helped");
  EXPECT_EQ(c->password, "s3cret");
  EXPECT_FALSE(run_credential_helper("minirun-test", "other.example"));
  EXPECT_THROW(run_credential_helper("broken", "r.example:5000"), Error);
  EXPECT_THROW(run_credential_helper("nosuch-helper-here", "r.example:5000"), Error);
  // Through the auth file: the helper first, then the file's own entries.
  std::string f = dir / "auth.json";
  minirun::test::write_file(f, R"({"credHelpers": {"r.example:5000": "minirun-test", "o.example": "minirun-test"},
                                   "auths": {"o.example": {"auth": ")" + base64_encode("file:pw") + R"("}}})");
  ::setenv("REGISTRY_AUTH_FILE", f.c_str(), 1);
  EXPECT_EQ(find_credentials("r.example:5000", "x")->username, "helped");
  EXPECT_EQ(find_credentials("o.example", "x")->username, "file");
  ::unsetenv("REGISTRY_AUTH_FILE");
  ::setenv("PATH", path.c_str(), 1);
}

TEST(RegistryUrl, ParseResolveOrigin) {
  auto u = parse_url("https://Reg.example:443/v2/x/blobs/sha256:ab?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "Reg.example:443");
  EXPECT_EQ(u->target, "/v2/x/blobs/sha256:ab?x=1");
  EXPECT_TRUE(u->same_origin(*parse_url("https://reg.example/other")));
  EXPECT_FALSE(u->same_origin(*parse_url("http://reg.example:443/")));
  EXPECT_FALSE(u->same_origin(*parse_url("https://reg.example:5000/")));
  EXPECT_FALSE(parse_url("ftp://x/y"));
  EXPECT_FALSE(parse_url("/relative"));
  EXPECT_FALSE(parse_url("http://user@host/"));
  EXPECT_EQ(parse_url("http://[::1]:5000")->host, "[::1]:5000");
  EXPECT_EQ(parse_url("http://h")->target, "/");

  Url base = *parse_url("http://127.0.0.1:5000/v2/r/blobs/sha256:ab");
  EXPECT_EQ(resolve_location(base, "http://127.0.0.1:6000/docker/x?sig=1").str(), "http://127.0.0.1:6000/docker/x?sig=1");
  EXPECT_EQ(resolve_location(base, "//cdn.example/x").str(), "http://cdn.example/x");
  EXPECT_EQ(resolve_location(base, "/storage/y").str(), "http://127.0.0.1:5000/storage/y");
  EXPECT_EQ(resolve_location(base, "z").str(), "http://127.0.0.1:5000/v2/r/blobs/z");
  EXPECT_THROW(resolve_location(base, "file:///etc/passwd"), Error);
}

TEST(RegistryUrl, ApiAndTokenUrls) {
  EXPECT_EQ(api_url("https", "registry-1.docker.io"), "https://registry-1.docker.io/v2/");
  EXPECT_EQ(api_url("http", "127.0.0.1:5000", "a/b/manifests/latest"), "http://127.0.0.1:5000/v2/a/b/manifests/latest");
  EXPECT_EQ(token_url("https://auth.docker.io/token", "registry.docker.io", "repository:library/busybox:pull"),
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fbusybox%3Apull");
  EXPECT_EQ(token_url("https://a/token?x=1", "", "repository:a:pull"), "https://a/token?x=1&scope=repository%3Aa%3Apull");
  EXPECT_EQ(query_escape("a b&c=d~_.-"), "a%20b%26c%3Dd~_.-");
}

TEST(RetryDecisions, StatusesDelaysAndRetryAfter) {
  for (int s : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(retryable_status(s)) << s;
  for (int s : {200, 206, 301, 400, 401, 403, 404, 416, 501}) EXPECT_FALSE(retryable_status(s)) << s;
  EXPECT_EQ(retry_delay(1, "", 10s), 250ms);
  EXPECT_EQ(retry_delay(2, "", 10s), 500ms);
  EXPECT_EQ(retry_delay(4, "", 10s), 2000ms);
  EXPECT_EQ(retry_delay(30, "", 10s), 10s);  // bounded
  EXPECT_EQ(retry_delay(1, "2", 10s), 2s);
  EXPECT_EQ(retry_delay(1, " 0 ", 10s), 0ms);
  EXPECT_EQ(retry_delay(1, "86400", 10s), 10s);  // a server's wish is bounded too
  EXPECT_EQ(retry_delay(1, "99999999999999999999999", 10s), 250ms);  // unreadable: the doubling
  EXPECT_EQ(retry_delay(3, "Wed, 21 Oct 2015 07:28:00 GMT", 10s), 1000ms);
}

TEST(RetryDecisions, WhereAResumedBodyStarts) {
  EXPECT_EQ(bytes_to_skip(200, "", 0), 0u);
  EXPECT_EQ(bytes_to_skip(200, "", 1000), 1000u);  // Range ignored: the whole blob again
  EXPECT_EQ(bytes_to_skip(206, "bytes 1000-1999/2000", 1000), 0u);
  EXPECT_EQ(bytes_to_skip(206, "bytes 900-1999/2000", 1000), 100u);
  EXPECT_FALSE(bytes_to_skip(206, "bytes 1100-1999/2000", 1000));  // a gap
  EXPECT_FALSE(bytes_to_skip(206, "", 1000));
  EXPECT_FALSE(bytes_to_skip(206, "bytes */2000", 1000));
  EXPECT_FALSE(bytes_to_skip(416, "bytes */2000", 1000));
}

TEST(RegistryDefaults, LoopbackRegistries) {
  for (const char* d : {"localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000"})
    EXPECT_TRUE(is_loopback_registry(d)) << d;
  for (const char* d : {"docker.io", "128.0.0.1:5000", "localhost.example:5000", "10.0.0.1", "[::2]:1"})
    EXPECT_FALSE(is_loopback_registry(d)) << d;
}
