// make_seeds.cpp — writes the fuzzers' seed corpora, generated like the tests' fixtures (never
// checked in): make_seeds ROOT, one directory per target under ROOT (archive, config, manifest,
// registries_conf, auth_challenge, dockerfile).
// Archives: docker-save (one and two images, untagged), OCI layout tars with gzip/zstd layers,
// whole-archive gzip, and broken ones (truncated, a digest that does not match).
// Configs: valid configs and ones with wrong types, plus references and PAX records.
// Manifests: a first byte choosing manifest.json (even) or index.json (odd), then the document,
// naming the blobs of fuzz_tar.h's fixed image (valid, nested, wrong types).
// registries.conf: the man page's examples, wildcards, mirrors, aliases, v1 lists, broken TOML.
// WWW-Authenticate: registries' Bearer and Basic challenges, several in one header, escapes, an
// unclosed quote, token68.
// Dockerfiles: stages and meta args, continuations, the backtick escape, heredocs, JSON forms,
// mounts, substitutions; and a .dockerignore.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_tar.h"
#include "testutil.h"

using namespace minirun::test;

namespace {

void put(const std::string& dir, const std::string& name, const std::string& data) {
  write_file(dir + "/" + name, data);
}

TestImage small_image(const std::string& tag, int n) {
  TestImage img;
  if (!tag.empty()) img.repo_tags = {tag};
  TarBuilder a;
  a.dir("etc").file("etc/hostname", "seed\n").symlink("etc/link", "hostname");
  img.layers.push_back(a.build());
  for (int i = 1; i < n; i++) {
    TarBuilder b;
    b.file("f" + std::to_string(i), std::string(i * 10, 'x')).file(".wh.f" + std::to_string(i - 1), "");
    img.layers.push_back(b.build());
  }
  img.user = "1000:1000";
  img.workdir = "/etc";
  return img;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds ROOT\n");
    return 2;
  }
  std::string root = argv[1];
  std::string ad = root + "/archive", cd = root + "/config", md = root + "/manifest", rd = root + "/registries_conf";
  std::string wd = root + "/auth_challenge", dd = root + "/dockerfile";
  for (const auto& d : {ad, cd, md, rd, wd, dd}) std::filesystem::create_directories(d);

  std::vector<TestImage> one = {small_image("seed/one:1", 2)};
  std::string docker = docker_archive(one);
  put(ad, "docker-save.tar", docker);
  put(ad, "docker-save.tar.gz", compress(docker, Compression::gzip));
  std::vector<TestImage> two = {small_image("seed/a:1", 1), small_image("", 3)};
  put(ad, "docker-save-two.tar", docker_archive(two));
  std::vector<TestImage> oci = {small_image("seed/oci:1", 2)};
  put(ad, "oci-gzip.tar", oci_archive(oci, Compression::gzip));
  std::vector<TestImage> ociz = {small_image("seed/oci:z", 1)};
  put(ad, "oci-zstd.tar", oci_archive(ociz, Compression::zstd));
  std::vector<TestImage> ocip = {small_image("", 1)};
  std::string plain = oci_archive(ocip, Compression::none);
  put(ad, "oci-plain.tar", plain);
  put(ad, "oci-truncated.tar", plain.substr(0, plain.size() / 2));
  // A digest that does not match: flip a byte inside the first layer's content.
  std::string bad = docker;
  auto pos = bad.find("seed\n");
  if (pos != std::string::npos) bad[pos] = 'S';
  put(ad, "docker-bad-digest.tar", bad);

  // The header kinds libarchive's writer does not produce for short names: GNU long name and long
  // link ('L', 'K'), PAX path/linkpath/size ('x'), a hard link, over the fixed image.
  {
    minirun::fuzz::FixedImage f = minirun::fuzz::fixed_image();
    minirun::fuzz::UstarWriter t;
    t.entry("././@LongLink", 'L', std::string(120, 'c') + ".json", "");
    t.add("short-config-name", f.config);
    t.entry("pax", 'x', minirun::fuzz::pax_record("path", "layers/" + std::string(90, 'l') + "/layer.tar") +
                            minirun::fuzz::pax_record("mtime", "1700000000.5"), "");
    t.add("short-layer-name", f.layer);
    t.entry("././@LongLink", 'K', "layers/" + std::string(90, 'l') + "/layer.tar", "");
    t.entry("hard.tar", '1', "", "placeholder");
    t.add("manifest.json", R"([{"Config":")" + std::string(120, 'c') + R"(.json","RepoTags":["seed/long:1"],"Layers":["hard.tar"]}])");
    put(ad, "gnu-pax-headers.tar", t.finish());
  }

  for (size_t i = 0; i < one.size(); i++) put(cd, "config" + std::to_string(i) + ".json", one[i].config_json);
  put(cd, "config-oci.json", oci[0].config_json);
  put(cd, "wrong-types.json",
      R"({"architecture":1,"os":["linux"],"config":{"Env":"PATH=/bin","Cmd":{"a":1},"User":7},"rootfs":{"type":"layers","diff_ids":[3]}})");
  put(cd, "history.json",
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"history":[{"empty_layer":"yes"}]})");
  put(cd, "reference.txt", "docker.io/library/busybox:1.36@sha256:" + std::string(64, 'a'));
  put(cd, "pax.txt", "30 path=a/very/long/name/x/y/z\n20 linkpath=../../x\n12 size=99\n");

  minirun::fuzz::FixedImage f = minirun::fuzz::fixed_image();
  std::string mdesc = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + f.manifest_digest +
                      R"(","size":)" + std::to_string(f.manifest.size());
  put(md, "docker-manifest", std::string(1, '\0') + R"([{"Config":"c.json","RepoTags":["fuzz/x:1"],"Layers":["l/layer.tar"]}])");
  put(md, "docker-manifest-blobs",
      std::string(1, '\0') + R"([{"Config":"blobs/sha256/)" + f.config_digest.substr(7) + R"(","RepoTags":null,"Layers":["link.tar"]}])");
  put(md, "docker-wrong-types", std::string(1, '\0') + R"([{"Config":["c.json"],"RepoTags":"x","Layers":[1]}])");
  put(md, "oci-index", std::string(1, '\1') + R"({"schemaVersion":2,"manifests":[)" + mdesc +
                           R"(,"annotations":{"io.containerd.image.name":"docker.io/fuzz/oci:1"}}]})");
  put(md, "oci-index-platforms",
      std::string(1, '\1') + R"({"schemaVersion":2,"manifests":[)" + mdesc + R"(,"platform":{"os":"linux","architecture":"arm64"}},)" +
          mdesc + R"(,"platform":{"os":"linux","architecture":"amd64"},"annotations":{"org.opencontainers.image.ref.name":"1"}}]})");
  // A nested index: the document itself is also stored as a blob, so an index whose descriptor
  // names a second copy of the manifest list reaches pick_manifest.
  put(md, "oci-nested",
      std::string(1, '\1') + R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:)" +
          std::string(64, '0') + R"("},)" + mdesc + "}]}");
  put(md, "oci-wrong-types", std::string(1, '\1') + R"({"schemaVersion":2,"manifests":[{"digest":7,"size":"x","platform":[]}]})");

  put(rd, "example.conf", R"(unqualified-search-registries = ["example.com", "docker.io"]
short-name-mode = "permissive"

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
pull-from-mirror = "digest-only"
)");
  put(rd, "wildcard.conf", R"([[registry]]
prefix = "*.example.com"
blocked = true
[[registry]]
location = "docker.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "127.0.0.1:5001/hub"
)");
  put(rd, "aliases.conf", R"([aliases]
"busybox" = "docker.io/library/busybox"
"ns/app" = "localhost:5000/team/app"
"gone" = ""
)");
  put(rd, "v1.conf", R"([registries.search]
registries = ["registry1.com", "registry2.com"]
[registries.insecure]
registries = ["registry3.com/"]
[registries.block]
registries = ["registry.untrusted.com"]
)");
  put(rd, "wrong-types.conf", R"(unqualified-search-registries = "quay.io"
[[registry]]
location = ["a.io"]
insecure = "yes"
[[registry.mirror]]
location = 5
)");
  put(wd, "bearer", R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  put(wd, "basic", R"(Basic realm="Registry Realm")");
  put(wd, "two", R"(Basic realm="a, b", Bearer realm="https://r/t?x=1",service="s",error="invalid_token")");
  put(wd, "escapes", R"(Bearer realm="a\"b\\c" , scope=repository:x/y:pull,push)");
  put(wd, "unclosed", R"(Bearer realm="https://r/t,service=)");
  put(wd, "token68", "Negotiate abc123==, Basic realm=x");
  put(dd, "stages", R"(ARG BASE=alpine
FROM --platform=$BUILDPLATFORM ${BASE}:${TAG:-3} AS build
ENV A=1 B="two words" \
    C=${A:+set}
RUN --mount=type=cache,target=/root/.cache,sharing=locked --network=none make -j2
FROM scratch
COPY --from=build --chown=1:1 --chmod=0755 /out/app /app
HEALTHCHECK --interval=5s --retries=3 CMD ["/app", "health"]
ENTRYPOINT ["/app"]
)");
  put(dd, "escape", "# escape=`\nFROM x\nRUN echo a `\n  b\nWORKDIR c:\\dir\n");
  put(dd, "heredocs", "FROM x\nRUN <<EOF\necho $HOME\nEOF\nCOPY <<-'A' <<B /d/\n\tx\n\tA\ny\nB\nRUN 3<<X cat <&3\nx\nX\n");
  put(dd, "words", "FROM x\nEXPOSE 80/tcp ${P}\nLABEL \"a b\"=c d='e f'\nVOLUME [\"/v\"]\nUSER ${U#*:}\nARG V=${A%%.*}\n");
  put(dd, "dockerignore", "# comment\n**/*.go\n!src/**/main.go\n/build\n[a-z]?x\n");
  put(rd, "broken.toml", "[[registry]\nlocation = \"a.io\n\"\"\"\n[aliases]\n\"x\" = { a = [1, [2, [3]]] }\n");
  return 0;
}
