// manifest.h — the registry's documents: OCI image manifest and index, Docker schema2 manifest
// and manifest list, parsed strictly (schemaVersion 2, known media types, well-formed digests
// and sizes; schema1 and foreign/non-distributable layers refused by name), and platforms as
// containerd normalises and matches them (amd64 v1..v4, arm v5..v7, arm64 v8/v9).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::registry {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
// What a pull asks for (the Accept header's value).
std::string accept_header();

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<64 hex>"
  uint64_t size = 0;
};

struct Platform {
  std::string os, architecture, variant;
  // "linux/arm64/v8" as Docker prints it ("linux/amd64" without a variant).
  std::string str() const;
  bool operator==(const Platform&) const = default;
};

// containerd's normalisation: lower case; x86_64/x86-64 → amd64 (v1 → no variant); aarch64 →
// arm64 (8, v8, v8.0 → no variant; 9 → v9); armhf → arm/v7, armel → arm/v6; arm without a
// variant → v7, 5/6/7/8 → v5…v8; i386 → 386; macos → darwin.
Platform normalize(Platform p);
// "OS/ARCH[/VARIANT]" (as --platform takes it), normalised. Throws Error when malformed.
Platform parse_platform(std::string_view s);
// This machine: linux, its architecture, and for amd64 the highest x86-64 level it runs (v2..v4).
Platform host_platform();
// How well an image for `have` runs where `want` is asked: 0 = not at all, higher = better
// (the exact variant first, then older ones of the same architecture, newest first).
int platform_score(const Platform& want, const Platform& have);

struct Manifest {
  std::string media_type;  // kOciManifest or kDockerManifest
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct IndexEntry {
  Descriptor desc;
  Platform platform;      // normalised; empty when the entry has none
  bool has_platform = false;
};

struct Index {
  std::string media_type;  // kOciIndex or kDockerList
  std::vector<IndexEntry> manifests;
};

struct Document {
  bool is_index = false;
  Manifest manifest;  // when !is_index
  Index index;        // when is_index
};

// Parses a manifest or index. `content_type` is the registry's Content-Type ("" when unknown);
// the document's own mediaType must agree with it when both are given. Throws Error naming what
// is wrong (schema1 with Docker's deprecation wording, a foreign layer by its media type).
Document parse_document(std::string_view bytes, std::string_view content_type);

// The media type of a layer blob in a manifest of type `manifest_type` (kDockerManifest or
// kOciManifest): compression "gzip", "zstd" (OCI only: Error for Docker's) or "none".
std::string layer_media_type(std::string_view manifest_type, std::string_view compression);
// A manifest as a push PUTs it (m.media_type: kDockerManifest or kOciManifest), in the layout
// Docker and containers/image write (3-space indentation, schemaVersion, mediaType, config,
// layers): the same manifest always gives the same bytes.
std::string serialize_manifest(const Manifest& m);

// The entry of an index that best fits `want` (platform_score); Error "no matching manifest for
// linux/arm64/v8 in the manifest list entries" (Docker's words) when none does.
const IndexEntry& select_platform(const Index& index, const Platform& want);

}  // namespace minirun::registry
