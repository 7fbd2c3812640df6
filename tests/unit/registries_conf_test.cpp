// containers-registries.conf: parsing and its errors (file and line), the longest-prefix lookup
// with wildcards, mirrors in order with the origin last, blocked registries, short-name
// resolution, drop-ins and the $CONTAINERS_REGISTRIES_CONF file.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "minirun/registry/registries_conf.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::registry;
using minirun::test::TempDir;

namespace {

std::string error_of(const std::string& text) {
  try {
    parse_registries_conf(text, "test.conf");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted:\n" << text;
  return "";
}

std::vector<std::string> sources(const RegistriesConf& c, const std::string& ref) {
  std::vector<std::string> out;
  for (const auto& s : c.pull_sources(with_default_tag(parse_normalized_reference(ref))))
    out.push_back(s.reference.string() + (s.insecure ? " insecure" : "") + (s.mirror ? " mirror" : ""));
  return out;
}

std::vector<std::string> resolved(const RegistriesConf& c, const std::string& input) {
  std::vector<std::string> out;
  for (const auto& r : c.resolve(input)) out.push_back(r.string());
  return out;
}

const std::string kDigest = "sha256:" + std::string(64, 'a');

}  // namespace

// The man page's example: both mirrors in order, then the rewritten location.
TEST(RegistriesConf, MirrorsInOrderThenTheLocation) {
  auto c = parse_registries_conf(R"(
unqualified-search-registries = ["example.com"]

[[registry]]
prefix = "example.com/foo"
insecure = false
blocked = false
location = "internal-registry-for-example.com/bar"

[[registry.mirror]]
location = "example-mirror-0.local/mirror-for-foo"

[[registry.mirror]]
location = "example-mirror-1.local/mirrors/foo"
insecure = true
)",
                                 "test.conf");
  ASSERT_EQ(c.registries.size(), 1u);
  EXPECT_EQ(c.registries[0].origin, "test.conf:4");
  EXPECT_EQ(sources(c, "example.com/foo/image:latest"),
            (std::vector<std::string>{"example-mirror-0.local/mirror-for-foo/image:latest mirror",
                                      "example-mirror-1.local/mirrors/foo/image:latest insecure mirror",
                                      "internal-registry-for-example.com/bar/image:latest"}));
  // A name the prefix does not cover goes to its own registry.
  EXPECT_EQ(sources(c, "example.com/foobar/image"), (std::vector<std::string>{"example.com/foobar/image:latest"}));
  EXPECT_EQ(sources(c, "busybox"), (std::vector<std::string>{"docker.io/library/busybox:latest"}));
}

// Docker Hub mirrored like any other registry; the prefix defaults to the location.
TEST(RegistriesConf, AnyRegistryMirrored) {
  auto c = parse_registries_conf(R"(
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:5001"
insecure = true

[[registry]]
location = "localhost:5000"
[[registry.mirror]]
location = "127.0.0.1:5002/cache/"
)",
                                 "t");
  EXPECT_EQ(c.registries[0].prefix, "docker.io");
  EXPECT_EQ(sources(c, "busybox:1.36"), (std::vector<std::string>{"127.0.0.1:5001/library/busybox:1.36 insecure mirror",
                                                                   "docker.io/library/busybox:1.36"}));
  EXPECT_EQ(sources(c, "localhost:5000/a/b@" + kDigest),
            (std::vector<std::string>{"127.0.0.1:5002/cache/a/b@" + kDigest + " mirror", "localhost:5000/a/b@" + kDigest}));
  EXPECT_TRUE(c.insecure("docker.io") == false);
}

TEST(RegistriesConf, LongestPrefixWins) {
  auto c = parse_registries_conf(R"(
[[registry]]
location = "example.com"
insecure = true
[[registry]]
prefix = "example.com/team"
location = "team.mirror.local/t"
[[registry]]
prefix = "example.com/team/app:1"
location = "pinned.local/app:1.0.1"
[[registry]]
prefix = "*.example.com"
blocked = true
[[registry]]
prefix = "eu.example.com"
location = "eu.example.com"
)",
                                 "t");
  auto prefix_of = [&](const std::string& ref) {
    const RegistryEntry* e = c.find(ref);
    return e ? e->prefix : "";
  };
  EXPECT_EQ(prefix_of("example.com/x/y:1"), "example.com");
  EXPECT_EQ(prefix_of("example.com/team/app:2"), "example.com/team");
  EXPECT_EQ(prefix_of("example.com/team/app:1"), "example.com/team/app:1");
  EXPECT_EQ(prefix_of("example.com/teamwork/app:1"), "example.com");
  EXPECT_EQ(prefix_of("example.com@" + kDigest), "example.com");
  EXPECT_EQ(prefix_of("example.community/x"), "");
  // The wildcard: any subdomain, at any depth, but not the domain itself; an exact entry is longer.
  EXPECT_EQ(prefix_of("blah.example.com/foo:1"), "*.example.com");
  EXPECT_EQ(prefix_of("a.b.example.com:5000/foo"), "*.example.com");
  EXPECT_EQ(prefix_of("eu.example.com/foo"), "eu.example.com");
  EXPECT_EQ(prefix_of("x.example.com.evil.org/foo"), "");
  EXPECT_EQ(prefix_of("evil.org/x.example.com"), "");
  EXPECT_EQ(sources(c, "example.com/team/app:2"), (std::vector<std::string>{"team.mirror.local/t/app:2"}));
  // What follows the prefix follows the location: here nothing, the location names the tag.
  EXPECT_EQ(sources(c, "example.com/team/app:1"), (std::vector<std::string>{"pinned.local/app:1.0.1"}));
  EXPECT_TRUE(c.insecure("example.com"));
  EXPECT_FALSE(c.insecure("other.com"));
}

TEST(RegistriesConf, BlockedNamesTheFileAndLine) {
  auto c = parse_registries_conf("# comment\n[[registry]]\nprefix = \"*.evil.org\"\nblocked = true\n", "/etc/x.conf");
  try {
    c.pull_sources(parse_normalized_reference("a.evil.org/x:1"));
    FAIL() << "a blocked registry was allowed";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("a.evil.org is blocked"), std::string::npos) << m;
    EXPECT_NE(m.find("/etc/x.conf:2"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(c.pull_sources(parse_normalized_reference("evil.org/x:1")));
}

// A wildcard entry without location keeps the reference; its mirrors replace the matched host.
TEST(RegistriesConf, WildcardWithoutLocation) {
  auto c = parse_registries_conf(R"(
[[registry]]
prefix = "*.corp.local"
insecure = true
[[registry.mirror]]
location = "cache.local/corp"
)",
                                 "t");
  EXPECT_EQ(sources(c, "git.corp.local/a/b:1"),
            (std::vector<std::string>{"cache.local/corp/a/b:1 mirror", "git.corp.local/a/b:1 insecure"}));
}

TEST(RegistriesConf, MirrorsForDigestsOrTagsOnly) {
  auto c = parse_registries_conf(R"(
[[registry]]
location = "a.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "m.a.io"

[[registry]]
location = "b.io"
[[registry.mirror]]
location = "digests.b.io"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "tags.b.io"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "all.b.io"
pull-from-mirror = "all"
)",
                                 "t");
  EXPECT_EQ(sources(c, "a.io/x:1"), (std::vector<std::string>{"a.io/x:1"}));
  EXPECT_EQ(sources(c, "a.io/x@" + kDigest), (std::vector<std::string>{"m.a.io/x@" + kDigest + " mirror", "a.io/x@" + kDigest}));
  EXPECT_EQ(sources(c, "b.io/x:1"),
            (std::vector<std::string>{"tags.b.io/x:1 mirror", "all.b.io/x:1 mirror", "b.io/x:1"}));
  EXPECT_EQ(sources(c, "b.io/x@" + kDigest),
            (std::vector<std::string>{"digests.b.io/x@" + kDigest + " mirror", "all.b.io/x@" + kDigest + " mirror",
                                      "b.io/x@" + kDigest}));
}

// Errors name the file and the line, and say what is wrong.
TEST(RegistriesConf, ErrorsNameFileAndLine) {
  auto expect = [](const std::string& text, const std::string& where, const std::string& what) {
    std::string m = error_of(text);
    EXPECT_EQ(m.rfind(where, 0), 0u) << m;
    EXPECT_NE(m.find(what), std::string::npos) << m;
  };
  expect("[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"\n", "test.conf:3:", "insecure must be true or false");
  expect("\n\n[[registry]\n", "test.conf:3:", "");  // TOML syntax: toml++'s own words
  expect("[[registry]]\nlocation = \"https://a.io\"\n", "test.conf:2:", "URI schemes are not supported");
  expect("[[registry]]\ninsecure = true\n", "test.conf:1:", "neither prefix nor location");
  expect("[[registry]]\nprefix = \"a.io/x\"\n", "test.conf:1:", "not a wildcard");
  expect("[[registry]]\nprefix = \"a.*.io\"\nlocation = \"a.io\"\n", "test.conf:2:", "a wildcard is written *.example.com");
  expect("[[registry]]\nprefix = \"*.a.io/x\"\n", "test.conf:2:", "a wildcard is written");
  expect("[[registry]]\nlocation = \"A b\"\n", "test.conf:2:", "invalid location");
  expect("[[registry]]\nlocation = \"*.a.io\"\n", "test.conf:2:", "a location has no wildcard");
  expect("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\ninsecure = true\n", "test.conf:3:", "mirror]] has no location");
  expect("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"some\"\n",
         "test.conf:5:", "unsupported pull-from-mirror value \"some\"");
  expect("[[registry]]\nlocation = \"a.io\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m.io\"\n"
         "pull-from-mirror = \"all\"\n",
         "test.conf:6:", "cannot be set together");
  expect("[[registry]]\nlocation = \"a.io\"\npull-from-mirror = \"all\"\n", "test.conf:3:", "set on the mirrors");
  expect("[[registry]]\nlocation = \"a.io\"\n[[registry]]\nprefix = \"a.io/x\"\nlocation = \"a.io\"\ninsecure = true\n",
         "test.conf:3:", "conflicting 'insecure' setting (first at test.conf:1)");
  expect("[[registry]]\nlocation = \"a.io\"\nblocked = true\n[[registry]]\nprefix = \"b.io\"\nlocation = \"a.io\"\n",
         "test.conf:4:", "conflicting 'blocked'");
  expect("unqualified-search-registries = [\"quay.io\", \"a.io/ns\"]\n", "test.conf:1:",
         "invalid unqualified-search-registries entry \"a.io/ns\"");
  expect("unqualified-search-registries = \"quay.io\"\n", "test.conf:1:", "must be an array of strings");
  expect("short-name-mode = \"ask\"\n", "test.conf:1:", "invalid short-name-mode");
  expect("[aliases]\n\"quay.io/x\" = \"quay.io/x\"\n", "test.conf:2:", "names a registry");
  expect("[aliases]\n\"x:1\" = \"quay.io/x\"\n", "test.conf:2:", "has a tag or digest");
  expect("[aliases]\n\"x\" = \"x/y\"\n", "test.conf:2:", "names no registry");
  expect("[aliases]\n\"x\" = \"quay.io/x:1\"\n", "test.conf:2:", "has a tag or digest");
  expect("[aliases]\n\"x\" = 1\n", "test.conf:2:", "must be a string");
  expect("unqualified-search-registries = [\"a.io\"]\n[registries.search]\nregistries = [\"b.io\"]\n", "test.conf:2:",
         "mixed");
}

// Files written for Podman carry settings minirun does not use: they are not errors.
TEST(RegistriesConf, UnknownKeysIgnored) {
  auto c = parse_registries_conf(R"(
credential-helpers = ["containers-auth.json"]
additional-layer-store-auth-helper = "x"
short-name-mode = "enforcing"
[[registry]]
location = "a.io"
some-future-key = 1
)",
                                 "t");
  EXPECT_EQ(c.short_name_mode, "enforcing");
  EXPECT_EQ(c.registries.size(), 1u);
}

TEST(RegistriesConf, VersionOneLists) {
  auto c = parse_registries_conf(R"(
[registries.search]
registries = ["registry1.com", "registry2.com"]
[registries.insecure]
registries = ["registry3.com/"]
[registries.block]
registries = ["registry.untrusted.com", "registry3.com"]
)",
                                 "t");
  EXPECT_EQ(c.unqualified_search, (std::vector<std::string>{"registry1.com", "registry2.com"}));
  ASSERT_EQ(c.registries.size(), 2u);
  EXPECT_TRUE(c.insecure("registry3.com"));
  EXPECT_THROW(c.pull_sources(parse_normalized_reference("registry.untrusted.com/x")), Error);
  EXPECT_THROW(c.pull_sources(parse_normalized_reference("registry3.com/x")), Error);
}

// The choice for short names: an alias, else the search registries in order when there are
// some, else Docker Hub as Docker does.
TEST(RegistriesConf, ResolvesShortNames) {
  RegistriesConf none;
  EXPECT_EQ(resolved(none, "busybox"), (std::vector<std::string>{"docker.io/library/busybox"}));
  EXPECT_EQ(resolved(none, "x/y:1"), (std::vector<std::string>{"docker.io/x/y:1"}));

  auto c = parse_registries_conf(R"(
unqualified-search-registries = ["quay.io", "docker.io"]
[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"team/tool" = "localhost:5000/tools/tool"
)",
                                 "t");
  EXPECT_EQ(resolved(c, "fedora"), (std::vector<std::string>{"registry.fedoraproject.org/fedora"}));
  EXPECT_EQ(resolved(c, "fedora:39"), (std::vector<std::string>{"registry.fedoraproject.org/fedora:39"}));
  EXPECT_EQ(resolved(c, "fedora@" + kDigest), (std::vector<std::string>{"registry.fedoraproject.org/fedora@" + kDigest}));
  EXPECT_EQ(resolved(c, "team/tool:2"), (std::vector<std::string>{"localhost:5000/tools/tool:2"}));
  EXPECT_EQ(resolved(c, "busybox:1"),
            (std::vector<std::string>{"quay.io/busybox:1", "docker.io/library/busybox:1"}));
  // Qualified names are never searched nor aliased.
  EXPECT_EQ(resolved(c, "docker.io/fedora"), (std::vector<std::string>{"docker.io/library/fedora"}));
  EXPECT_EQ(resolved(c, "localhost/fedora"), (std::vector<std::string>{"localhost/fedora"}));
  EXPECT_EQ(resolved(c, "Reg/fedora"), (std::vector<std::string>{"Reg/fedora"}));
  EXPECT_THROW(c.resolve("Fedora"), Error);
  EXPECT_THROW(c.resolve(""), Error);
}

TEST(RegistriesConf, DropInsOverrideInNameOrder) {
  TempDir dir;
  std::filesystem::create_directories(dir / "registries.conf.d");
  test::write_file(dir / "registries.conf", R"(
unqualified-search-registries = ["quay.io"]
[[registry]]
location = "a.io"
[[registry]]
location = "b.io"
insecure = true
[aliases]
"one" = "a.io/one"
"two" = "a.io/two"
)");
  test::write_file(dir / "registries.conf.d/20-b.conf", R"(
[[registry]]
location = "b.io"
blocked = true
insecure = true
[aliases]
"two" = ""
"three" = "c.io/three"
)");
  test::write_file(dir / "registries.conf.d/10-a.conf", "unqualified-search-registries = [\"c.io\", \"d.io\"]\n");
  test::write_file(dir / "registries.conf.d/30-off.conf.disabled", "this is not TOML");
  auto c = load_registries_conf(dir / "registries.conf", true, dir / "registries.conf.d");
  EXPECT_EQ(c.files, (std::vector<std::string>{dir / "registries.conf", dir / "registries.conf.d/10-a.conf",
                                               dir / "registries.conf.d/20-b.conf"}));
  EXPECT_EQ(c.unqualified_search, (std::vector<std::string>{"c.io", "d.io"}));
  ASSERT_EQ(c.registries.size(), 2u);
  EXPECT_TRUE(c.registries[1].blocked);
  EXPECT_EQ(c.registries[1].origin, dir / "registries.conf.d/20-b.conf:2");
  EXPECT_EQ(c.aliases, (std::map<std::string, std::string>{{"one", "a.io/one"}, {"three", "c.io/three"}}));

  // A drop-in's empty list clears the search registries.
  test::write_file(dir / "registries.conf.d/40-clear.conf", "unqualified-search-registries = []\n");
  EXPECT_TRUE(load_registries_conf(dir / "registries.conf", true, dir / "registries.conf.d").unqualified_search.empty());
  // A drop-in's error names the drop-in.
  test::write_file(dir / "registries.conf.d/50-bad.conf", "[[registry]]\nlocation = \"http://x\"\n");
  try {
    load_registries_conf(dir / "registries.conf", true, dir / "registries.conf.d");
    FAIL() << "a bad drop-in was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir / "registries.conf.d/50-bad.conf:2:", 0), 0u) << e.what();
  }
}

// $CONTAINERS_REGISTRIES_CONF names the one file read; it must exist.
TEST(RegistriesConf, EnvironmentNamesTheFile) {
  TempDir dir;
  test::write_file(dir / "r.conf", "unqualified-search-registries = [\"e.io\"]\n");
  const char* old = getenv("CONTAINERS_REGISTRIES_CONF");
  std::string saved = old ? old : "";
  setenv("CONTAINERS_REGISTRIES_CONF", (dir / "r.conf").c_str(), 1);
  auto c = load_registries_conf();
  EXPECT_EQ(c.unqualified_search, (std::vector<std::string>{"e.io"}));
  EXPECT_EQ(c.files, (std::vector<std::string>{dir / "r.conf"}));
  setenv("CONTAINERS_REGISTRIES_CONF", (dir / "missing.conf").c_str(), 1);
  EXPECT_THROW(load_registries_conf(), Error);
  if (old) setenv("CONTAINERS_REGISTRIES_CONF", saved.c_str(), 1);
  else unsetenv("CONTAINERS_REGISTRIES_CONF");
  // A missing system file is an empty configuration.
  auto none = load_registries_conf(dir / "absent.conf", false, dir / "absent.d");
  EXPECT_TRUE(none.registries.empty());
  EXPECT_TRUE(none.files.empty());
}

// toml++ 3.3 asks whether U+00A1..U+0499, U+2C5E..U+3057 (but U+3000) or U+FB26..U+FEFE is
// whitespace and reaches __builtin_unreachable(): such characters are refused before it parses,
// with the line; others outside ASCII still parse.
TEST(RegistriesConf, CharactersTheTomlParserCannotClassifyAreRefusedWithTheirLine) {
  EXPECT_EQ(error_of("unqualified-search-registries = [\"docker.io\"]\n# caf\xC3\xA9\n"),
            "test.conf:2: character U+00E9 is not accepted (the TOML parser cannot read it safely)");
  // The input registries_conf_fuzz found: U+018F right after a value.
  EXPECT_NE(error_of(std::string("[aliases]\n\"bupp[[\" =0t900:5-?tea\xC6\x8Fn]\x06\0@Z\0\0ne\"  =\"q\"\n", 52))
                .find("test.conf:2: character U+018F"),
            std::string::npos);
  EXPECT_NE(error_of("x = \"\xD2\x99\"\n").find("U+0499"), std::string::npos);
  // The three-byte ranges, at their ends.
  EXPECT_NE(error_of("x = 1\n# \xE2\xB1\x9E\n").find("test.conf:2: character U+2C5E"), std::string::npos);
  EXPECT_NE(error_of("# \xE3\x80\x81\n").find("U+3001"), std::string::npos);
  EXPECT_NE(error_of("# \xE3\x81\x97\n").find("U+3057"), std::string::npos);
  EXPECT_NE(error_of("# \xEF\xAC\xA6\n").find("U+FB26"), std::string::npos);
  EXPECT_NE(error_of("# \xEF\xBB\xBE\n").find("U+FEFE"), std::string::npos);
  // U+00A0, U+3000 and U+FEFF are classified (whitespace); U+2C5D, U+3058, U+4E2D and U+FB25 are
  // in buckets the parser answers at once. (tests/sanitized/toml_guard_check.cpp checks them all.)
  EXPECT_NO_THROW(parse_registries_conf("# \xC2\xA0 \xE3\x80\x80 \xEF\xBB\xBF \xE2\xB1\x9D \xE3\x81\x98 \xE4\xB8\xAD \xEF\xAC\xA5\n"
                                        "unqualified-search-registries = [\"docker.io\"]\n", "ok.conf"));
}
