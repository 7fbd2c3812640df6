// Registry documents: manifests and indexes parsed strictly, schema1 and foreign layers refused,
// platforms normalised and matched as containerd does.
#include <gtest/gtest.h>

#include <string>

#include "minirun/registry/manifest.h"
#include "minirun/util/error.h"

using namespace minirun;
using namespace minirun::registry;

namespace {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

std::string docker_manifest(const std::string& layer_type = "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            const std::string& layer_digest = kB, const std::string& size = "123") {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" + kA + R"(","size":7023},
    "layers":[{"mediaType":")" + layer_type + R"(","digest":")" + layer_digest + R"(","size":)" + size + "}]}";
}

std::string error_of(const std::string& doc, const std::string& ct = "") {
  try {
    parse_document(doc, ct);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string entry(const std::string& digest, const std::string& platform) {
  return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest + R"(","size":500,"platform":)" +
         platform + "}";
}

}  // namespace

TEST(Manifest, DockerSchema2) {
  Document d = parse_document(docker_manifest(), "application/vnd.docker.distribution.manifest.v2+json");
  ASSERT_FALSE(d.is_index);
  EXPECT_EQ(d.manifest.media_type, kDockerManifest);
  EXPECT_EQ(d.manifest.config.digest, kA);
  EXPECT_EQ(d.manifest.config.size, 7023u);
  ASSERT_EQ(d.manifest.layers.size(), 1u);
  EXPECT_EQ(d.manifest.layers[0].digest, kB);
  EXPECT_EQ(d.manifest.layers[0].size, 123u);
}

TEST(Manifest, OciManifestWithoutMediaTypeTakesTheContentType) {
  std::string doc = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kA +
                    R"(","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" + kB +
                    R"(","size":9}]})";
  Document d = parse_document(doc, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_FALSE(d.is_index);
  EXPECT_EQ(d.manifest.media_type, kOciManifest);
  // No type at all: by content.
  EXPECT_FALSE(parse_document(doc, "").is_index);
}

TEST(Manifest, Schema1IsRefusedClearly) {
  EXPECT_NE(error_of(R"({"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]})").find("schema 1 is not supported"),
            std::string::npos);
  EXPECT_NE(error_of("{}", "application/vnd.docker.distribution.manifest.v1+prettyjws").find("schema 1"), std::string::npos);
}

TEST(Manifest, ForeignLayersAreRefusedByName) {
  std::string e = error_of(docker_manifest("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"));
  EXPECT_NE(e.find("foreign (non-distributable) layer of type application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
            std::string::npos)
      << e;
  EXPECT_NE(error_of(docker_manifest("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")).find("foreign"),
            std::string::npos);
}

TEST(Manifest, MalformedDescriptorsAreRefused) {
  EXPECT_NE(error_of(docker_manifest("application/vnd.docker.image.rootfs.diff.tar.gzip", "sha256:abc")).find("invalid digest"),
            std::string::npos);
  EXPECT_NE(error_of(docker_manifest("application/vnd.docker.image.rootfs.diff.tar.gzip", "sha512:" + std::string(128, 'a')))
                .find("unsupported digest algorithm"),
            std::string::npos);
  EXPECT_NE(error_of(docker_manifest("application/vnd.docker.image.rootfs.diff.tar.gzip", "sha256:../../etc/passwd"))
                .find("invalid digest"),
            std::string::npos);
  EXPECT_NE(error_of(docker_manifest("application/vnd.docker.image.rootfs.diff.tar.gzip", kB, "-1")).find("non-negative"),
            std::string::npos);
  EXPECT_NE(error_of(docker_manifest("application/vnd.docker.image.rootfs.diff.tar.gzip", kB, "\"5\"")).find("non-negative"),
            std::string::npos);
  EXPECT_NE(error_of(docker_manifest("text/html")).find("unsupported media type"), std::string::npos);
  EXPECT_NE(error_of("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of("{").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"schemaVersion":3})").find("schemaVersion 3"), std::string::npos);
  EXPECT_NE(error_of(docker_manifest(), "application/vnd.oci.image.manifest.v1+json").find("differs"), std::string::npos);
  // An artifact's config is not an image's.
  std::string artifact = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":")" +
                         kA + R"(","size":2},"layers":[]})";
  EXPECT_NE(error_of(artifact).find("not an image config"), std::string::npos);
}

TEST(Manifest, IndexAndPlatformSelection) {
  std::string doc = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                    entry(kA, R"({"os":"linux","architecture":"arm64","variant":"v8"})") + "," +
                    entry(kB, R"({"os":"linux","architecture":"amd64"})") + "," +
                    entry(kC, R"({"os":"unknown","architecture":"unknown"})") + "]}";
  Document d = parse_document(doc, "application/vnd.oci.image.index.v1+json");
  ASSERT_TRUE(d.is_index);
  ASSERT_EQ(d.index.manifests.size(), 3u);
  EXPECT_EQ(d.index.manifests[0].platform.variant, "");  // arm64/v8 is arm64
  EXPECT_EQ(select_platform(d.index, parse_platform("linux/arm64")).desc.digest, kA);
  EXPECT_EQ(select_platform(d.index, parse_platform("linux/aarch64/v8")).desc.digest, kA);
  EXPECT_EQ(select_platform(d.index, parse_platform("linux/amd64/v3")).desc.digest, kB);  // v3 runs v1
  try {
    select_platform(d.index, parse_platform("linux/s390x"));
    FAIL() << "s390x matched";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "no matching manifest for linux/s390x in the manifest list entries");
  }
}

TEST(Manifest, NewestCompatibleVariantWins) {
  std::string doc = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                    entry(kA, R"({"os":"linux","architecture":"amd64"})") + "," +
                    entry(kB, R"({"os":"linux","architecture":"amd64","variant":"v3"})") + "," +
                    entry(kC, R"({"os":"linux","architecture":"amd64","variant":"v2"})") + "]}";
  Index idx = parse_document(doc, "").index;
  EXPECT_EQ(select_platform(idx, parse_platform("linux/amd64/v4")).desc.digest, kB);
  EXPECT_EQ(select_platform(idx, parse_platform("linux/amd64/v2")).desc.digest, kC);
  EXPECT_EQ(select_platform(idx, parse_platform("linux/amd64")).desc.digest, kA);
}

TEST(Manifest, DockerListNeedsPlatformsAndKnownTypes) {
  std::string doc = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" +
                    kA + R"(","size":5}]})";
  EXPECT_NE(error_of(doc).find("no platform"), std::string::npos);
  std::string bad = R"({"schemaVersion":2,"manifests":[{"mediaType":"image/png","digest":")" + kA + R"(","size":5}]})";
  EXPECT_NE(error_of(bad).find("unsupported media type"), std::string::npos);
}

TEST(Platform, NormalisedAsContainerd) {
  EXPECT_EQ(parse_platform("linux/x86_64").str(), "linux/amd64");
  EXPECT_EQ(parse_platform("linux/amd64/v1").str(), "linux/amd64");
  EXPECT_EQ(parse_platform("linux/amd64/v3").str(), "linux/amd64/v3");
  EXPECT_EQ(parse_platform("linux/aarch64").str(), "linux/arm64");
  EXPECT_EQ(parse_platform("linux/arm64/8").str(), "linux/arm64");
  EXPECT_EQ(parse_platform("linux/arm64/9").str(), "linux/arm64/v9");
  EXPECT_EQ(parse_platform("linux/arm").str(), "linux/arm/v7");
  EXPECT_EQ(parse_platform("linux/armhf").str(), "linux/arm/v7");
  EXPECT_EQ(parse_platform("linux/armel").str(), "linux/arm/v6");
  EXPECT_EQ(parse_platform("linux/arm/6").str(), "linux/arm/v6");
  EXPECT_EQ(parse_platform("Linux/I386").str(), "linux/386");
  EXPECT_THROW(parse_platform("linux"), Error);
  EXPECT_THROW(parse_platform("linux/amd64/v2/x"), Error);
  EXPECT_THROW(parse_platform("linux//v2"), Error);
  EXPECT_THROW(parse_platform("linux/am d64"), Error);
}

TEST(Platform, OlderVariantsRunOnNewer) {
  EXPECT_GT(platform_score(parse_platform("linux/arm/v7"), parse_platform("linux/arm/v6")), 0);
  EXPECT_EQ(platform_score(parse_platform("linux/arm/v6"), parse_platform("linux/arm/v7")), 0);
  EXPECT_GT(platform_score(parse_platform("linux/arm64/v9"), parse_platform("linux/arm64")), 0);
  EXPECT_EQ(platform_score(parse_platform("linux/arm64"), parse_platform("linux/arm64/v9")), 0);
  EXPECT_EQ(platform_score(parse_platform("linux/amd64"), parse_platform("linux/arm64")), 0);
  EXPECT_EQ(platform_score(parse_platform("linux/amd64"), parse_platform("windows/amd64")), 0);
  EXPECT_GT(platform_score(host_platform(), Platform{"linux", host_platform().architecture, ""}), 0);
}
