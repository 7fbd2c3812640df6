// Image references: Docker's grammar and normalisation, checked against distribution/reference's
// own test vectors (reference_test.go, normalize_test.go), and the familiar form the store keeps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "minirun/image/reference.h"
#include "minirun/util/error.h"

using namespace minirun;

namespace {

const std::string kF64(64, 'f');
const std::string kF128(128, 'f');

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The message of the Error `fn` throws, or "" (and a failure) when it does not throw.
template <typename Fn>
std::string error_of(Fn fn, const std::string& what) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << what << " was accepted";
  return "";
}

struct ParseCase {
  std::string input;
  std::string error;  // a part of the message; "" when the reference is valid
  std::string name, domain, tag, digest;
};

}  // namespace

// reference_test.go's TestReferenceParse: Parse without normalisation.
TEST(Reference, ParsesDockersVectors) {
  const std::vector<ParseCase> cases = {
      {"test_com", "", "test_com", "", "", ""},
      {"test.com:tag", "", "test.com", "", "tag", ""},
      {"test.com:5000", "", "test.com", "", "5000", ""},
      {"test.com/repo:tag", "", "test.com/repo", "test.com", "tag", ""},
      {"test:5000/repo", "", "test:5000/repo", "test:5000", "", ""},
      {"test:5000/repo:tag", "", "test:5000/repo", "test:5000", "tag", ""},
      {"test:5000/repo@sha256:" + kF64, "", "test:5000/repo", "test:5000", "", "sha256:" + kF64},
      {"test:5000/repo:tag@sha256:" + kF64, "", "test:5000/repo", "test:5000", "tag", "sha256:" + kF64},
      {"", "at least one component"},
      {":justtag", "no repository name"},
      {"@sha256:" + kF64, "no repository name"},
      {"repo@sha256:" + std::string(34, 'f'), "invalid checksum digest length"},
      {"validname@invaliddigest:" + kF64, "unsupported digest algorithm invaliddigest"},
      {"Uppercase:tag", "must be lowercase"},
      {"test:5000/Uppercase/lowercase:tag", "must be lowercase"},
      {"lowercase:Uppercase", "", "lowercase", "", "Uppercase", ""},
      {repeat("a/", 128) + "a:tag", "not be more than 255 characters"},
      {repeat("a/", 127) + "a:tag-puts-this-over-max", "", repeat("a/", 127) + "a", "a", "tag-puts-this-over-max", ""},
      {"aa/asdf$$^/aa", "invalid repository name"},
      {"sub-dom1.foo.com/bar/baz/quux", "", "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "", ""},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "", "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com",
       "some-long-tag", ""},
      {"b.gcr.io/test.example.com/my-app:test.example.com", "", "b.gcr.io/test.example.com/my-app", "b.gcr.io",
       "test.example.com", ""},
      {"xn--n3h.com/myimage:xn--n3h.com", "", "xn--n3h.com/myimage", "xn--n3h.com", "xn--n3h.com", ""},
      {"xn--7o8h.com/myimage:xn--7o8h.com@sha512:" + kF128, "", "xn--7o8h.com/myimage", "xn--7o8h.com", "xn--7o8h.com",
       "sha512:" + kF128},
      {"foo_bar.com:8080", "", "foo_bar.com", "", "8080", ""},
      {"foo/foo_bar.com:8080", "", "foo/foo_bar.com", "foo", "8080", ""},
      {"192.168.1.1", "", "192.168.1.1", "", "", ""},
      {"192.168.1.1:tag", "", "192.168.1.1", "", "tag", ""},
      {"192.168.1.1:5000", "", "192.168.1.1", "", "5000", ""},
      {"192.168.1.1/repo", "", "192.168.1.1/repo", "192.168.1.1", "", ""},
      {"192.168.1.1:5000/repo", "", "192.168.1.1:5000/repo", "192.168.1.1:5000", "", ""},
      {"192.168.1.1:5000/repo:5050", "", "192.168.1.1:5000/repo", "192.168.1.1:5000", "5050", ""},
      {"[2001:db8::1]", "invalid"},
      {"[2001:db8::1]:5000", "invalid"},
      {"[2001:db8::1]:tag", "invalid"},
      {"[2001:db8::1]/repo", "", "[2001:db8::1]/repo", "[2001:db8::1]", "", ""},
      {"[2001:db8:1:2:3:4:5:6]/repo:tag", "", "[2001:db8:1:2:3:4:5:6]/repo", "[2001:db8:1:2:3:4:5:6]", "tag", ""},
      {"[2001:db8::1]:5000/repo", "", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "", ""},
      {"[2001:db8::1]:5000/repo:tag", "", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "tag", ""},
      {"[2001:db8::1]:5000/repo@sha256:" + kF64, "", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "",
       "sha256:" + kF64},
      {"[2001:db8::1]:5000/repo:tag@sha256:" + kF64, "", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "tag",
       "sha256:" + kF64},
      {"[2001:db8::]:5000/repo", "", "[2001:db8::]:5000/repo", "[2001:db8::]:5000", "", ""},
      {"[::1]:5000/repo", "", "[::1]:5000/repo", "[::1]:5000", "", ""},
      {"[fe80::1%eth0]:5000/repo", "invalid"},
      {"[fe80::1%@invalidzone]:5000/repo", "invalid"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    if (!c.error.empty()) {
      std::string msg = error_of([&] { parse_reference(c.input); }, c.input);
      EXPECT_NE(msg.find(c.error), std::string::npos) << msg;
      EXPECT_NE(msg.find("invalid reference format"), std::string::npos) << msg;
      continue;
    }
    Reference r = parse_reference(c.input);
    EXPECT_EQ(r.string(), c.input);  // the parse loses nothing
    EXPECT_EQ(r.name(), c.name);
    EXPECT_EQ(r.domain, c.domain);
    EXPECT_EQ(r.tag, c.tag);
    EXPECT_EQ(r.digest, c.digest);
  }
}

// reference_test.go's TestDomainAndPath.
TEST(Reference, SplitsDomainAndPath) {
  const std::vector<std::vector<std::string>> cases = {
      {"test.com/foo", "test.com", "foo"},           {"test_com/foo", "", "test_com/foo"},
      {"test:8080/foo", "test:8080", "foo"},         {"test.com:8080/foo", "test.com:8080", "foo"},
      {"test-com:8080/foo", "test-com:8080", "foo"}, {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"},
  };
  for (const auto& c : cases) {
    Reference r = parse_reference(c[0]);
    EXPECT_EQ(r.domain, c[1]) << c[0];
    EXPECT_EQ(r.path, c[2]) << c[0];
  }
}

// normalize_test.go's TestValidateReferenceName and TestValidateRemoteName.
TEST(Reference, ValidatesNamesAsDocker) {
  const std::vector<std::string> valid = {
      "docker/docker", "library/debian", "debian", "docker.io/docker/docker", "docker.io/library/debian",
      "docker.io/debian", "index.docker.io/docker/docker", "index.docker.io/library/debian", "index.docker.io/debian",
      "127.0.0.1:5000/docker/docker", "127.0.0.1:5000/library/debian", "127.0.0.1:5000/debian", "192.168.0.1",
      "192.168.0.1:80", "192.168.0.1:8/debian", "192.168.0.2:25000/debian",
      "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "[fc00::1]:5000/docker",
      "[fc00::1]:5000/docker/docker", "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
      "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "Docker/docker",
      "DOCKER/docker", "docker-rules/docker", "docker---rules/docker", "doc/docker", "d/docker", "jess/t",
      "dock__er/docker"};
  for (const auto& n : valid) EXPECT_NO_THROW(parse_normalized_reference(n)) << n;
  const std::vector<std::string> invalid = {
      "https://github.com/docker/docker", "docker/Docker", "-docker", "-docker/docker", "-docker.io/docker/docker",
      "docker///docker", "docker.io/docker/Docker", "docker.io/docker///docker", "[fc00::1]", "[fc00::1]:5000",
      "fc00::1:5000/debian", "[fe80::1%eth0]:5000/debian", "[2001:db8:3:4::192.0.2.33]:5000/debian",
      "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "docker-/docker", "-docker-/docker",
      "____/____", "_docker/_docker", "dock..er/docker", "dock_.er/docker", "dock-.er/docker", "docker/",
      "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_"
      "its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_"
      "not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker"};
  for (const auto& n : invalid) EXPECT_THROW(parse_normalized_reference(n), Error) << n;
}

// normalize_test.go's TestParseRepositoryInfo: every spelling gives the same familiar name,
// full name, domain and path.
TEST(Reference, NormalisesEverySpelling) {
  struct Info {
    std::string path, familiar, full, ambiguous, domain;
  };
  const std::vector<Info> cases = {
      {"fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"},
      {"library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"},
      {"nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"},
      {"other/library", "other/library", "docker.io/other/library", "", "docker.io"},
      {"private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "", "127.0.0.1:8000"},
      {"privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "", "127.0.0.1:8000"},
      {"private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "", "example.com"},
      {"privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"},
      {"private/moonbase", "example.com:8000/private/moonbase", "example.com:8000/private/moonbase", "",
       "example.com:8000"},
      {"privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "", "example.com:8000"},
      {"library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
       "index.docker.io/library/ubuntu-12.04-base", "docker.io"},
      {"library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"},
      {"library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"},
      {"store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"},
      {"bar", "Foo/bar", "Foo/bar", "", "Foo"},
      {"bar", "FOO/bar", "FOO/bar", "", "FOO"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> spellings = {c.familiar, c.full};
    if (!c.ambiguous.empty()) spellings.push_back(c.ambiguous);
    for (const auto& s : spellings) {
      SCOPED_TRACE(s);
      Reference r = parse_normalized_reference(s);
      EXPECT_EQ(r.familiar_name(), c.familiar);
      EXPECT_EQ(r.string(), c.full);
      EXPECT_EQ(r.domain, c.domain);
      EXPECT_EQ(r.path, c.path);
    }
  }
}

// normalize_test.go's TestNormalizedSplitHostname and TestParseReferenceWithTagAndDigest.
TEST(Reference, SplitsDockerHubNames) {
  const std::vector<std::vector<std::string>> cases = {
      {"test.com/foo", "test.com", "foo"},
      {"test_com/foo", "docker.io", "test_com/foo"},
      {"docker/migrator", "docker.io", "docker/migrator"},
      {"test.com:8080/foo", "test.com:8080", "foo"},
      {"test-com:8080/foo", "test-com:8080", "foo"},
      {"foo", "docker.io", "library/foo"},
      {"xn--n3h.com/foo", "xn--n3h.com", "foo"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"},
      {"docker.io/foo", "docker.io", "library/foo"},
      {"docker.io/library/foo", "docker.io", "library/foo"},
      {"docker.io/library/foo/bar", "docker.io", "library/foo/bar"},
      {"localhost/foo", "localhost", "foo"},
      {"localhost:5000/a/b", "localhost:5000", "a/b"},
  };
  for (const auto& c : cases) {
    Reference r = parse_normalized_reference(c[0]);
    EXPECT_EQ(r.domain, c[1]) << c[0];
    EXPECT_EQ(r.path, c[2]) << c[0];
  }
  const std::string shortref = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
  Reference r = parse_normalized_reference(shortref);
  EXPECT_EQ(r.string(), "docker.io/library/" + shortref);
  EXPECT_EQ(r.tag, "latest");
  EXPECT_EQ(r.familiar_string(), shortref);
  EXPECT_EQ(r.manifest_reference(), r.digest);  // a pinned digest wins over the tag
}

// A name alone gets "latest" (TagNameOnly); a tag or a digest is kept as given.
TEST(Reference, DefaultTagAndManifestReference) {
  Reference r = parse_normalized_reference("redis");
  EXPECT_EQ(r.tag, "");
  EXPECT_EQ(r.manifest_reference(), "latest");
  EXPECT_EQ(with_default_tag(r).string(), "docker.io/library/redis:latest");
  EXPECT_EQ(with_default_tag(parse_normalized_reference("redis:7")).string(), "docker.io/library/redis:7");
  const std::string pinned = "dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
  Reference p = with_default_tag(parse_normalized_reference(pinned));
  EXPECT_EQ(p.string(), "docker.io/" + pinned);
  EXPECT_EQ(p.tag, "");
  EXPECT_EQ(p.manifest_reference(), "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c");
  // A 63-character hex name is a name, 64 would be an image ID.
  const std::string hex63 = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9";
  EXPECT_EQ(parse_normalized_reference(hex63).string(), "docker.io/library/" + hex63);
  EXPECT_NE(error_of([&] { parse_normalized_reference(hex63 + "c"); }, "a 64-hex name").find("hexadecimal"),
            std::string::npos);
}

TEST(Reference, DockerHubApiHost) {
  EXPECT_EQ(registry_api_host("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(registry_api_host("index.docker.io"), "registry-1.docker.io");
  EXPECT_EQ(registry_api_host("localhost:5000"), "localhost:5000");
  EXPECT_EQ(registry_api_host("quay.io"), "quay.io");
  EXPECT_EQ(registry_api_host(parse_normalized_reference("busybox").domain), "registry-1.docker.io");
}

TEST(Reference, ErrorsNameTheReferenceAndTheProblem) {
  std::string m = error_of([] { parse_normalized_reference("Foo"); }, "Foo");
  EXPECT_EQ(m, "invalid reference format \"Foo\": repository name must be lowercase");
  m = error_of([] { parse_normalized_reference("x:bad tag"); }, "bad tag");
  EXPECT_NE(m.find("invalid tag"), std::string::npos) << m;
  m = error_of([] { parse_normalized_reference("x@sha256:ABCDEF" + std::string(58, '0')); }, "uppercase digest");
  EXPECT_NE(m.find("invalid checksum digest format"), std::string::npos) << m;
  m = error_of([] { parse_normalized_reference("x@sha256"); }, "digest without hex");
  EXPECT_NE(m.find("invalid digest"), std::string::npos) << m;
  m = error_of([] { parse_normalized_reference("x:" + std::string(129, 't')); }, "129-character tag");
  EXPECT_NE(m.find("invalid tag"), std::string::npos) << m;
  EXPECT_NO_THROW(parse_normalized_reference("x:" + std::string(128, 't')));
}

// The familiar form with the default tag: what the store's tags hold.
TEST(Reference, NormalisesLikeDocker) {
  EXPECT_EQ(normalize_reference("busybox"), "busybox:latest");
  EXPECT_EQ(normalize_reference("docker.io/library/busybox:1.36"), "busybox:1.36");
  EXPECT_EQ(normalize_reference("index.docker.io/library/busybox:1.36"), "busybox:1.36");
  EXPECT_EQ(normalize_reference("docker.io/x/y:t"), "x/y:t");
  EXPECT_EQ(normalize_reference("docker.io/library/a/b"), "library/a/b:latest");
  EXPECT_EQ(normalize_reference("localhost/local/edge:1"), "localhost/local/edge:1");
  EXPECT_EQ(normalize_reference("localhost:5000/whiteout"), "localhost:5000/whiteout:latest");
  EXPECT_EQ(normalize_reference("Upper/case"), "Upper/case:latest");  // "Upper" is a registry host
  EXPECT_EQ(normalize_reference("busybox@sha256:" + kF64), "busybox@sha256:" + kF64);
  EXPECT_EQ(normalize_reference("busybox:1@sha256:" + kF64), "busybox:1@sha256:" + kF64);
  EXPECT_THROW(normalize_reference(""), Error);
  EXPECT_THROW(normalize_reference("upper/Case"), Error);
  EXPECT_THROW(normalize_reference("a b"), Error);
  EXPECT_THROW(normalize_reference("x:bad tag"), Error);
  EXPECT_THROW(normalize_reference("busybox@sha256:abc"), Error);
}
