// manifest.cpp — strict parsing of registry manifests and indexes, and platform matching.
//
// A document is an index when its media type (the document's own, else the Content-Type) says
// so, or, with neither, when it has "manifests". Everything a pull later trusts is checked
// here: schemaVersion 2, each descriptor's digest ("sha256:<hex>", the only algorithm the store
// names files by) and size (a non-negative integer), the config's media type (an image's, not
// an artifact's) and each layer's (tar, gzip or zstd; foreign and non-distributable layers are
// refused by name: their bytes live outside the registry). Platform variants are compared as
// levels (amd64 v1..v4, arm v5..v8, arm64 v8 = "" and v9), newer hosts running older levels.
#include "minirun/registry/manifest.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"

namespace minirun::registry {

using nlohmann::json;

namespace {

constexpr size_t kMaxDocument = 4u << 20;  // what distribution itself accepts for a manifest
constexpr size_t kMaxEntries = 1000;

constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
constexpr std::string_view kDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";

Error schema1_error() {
  return Error(
      "Docker Image manifest version 2, schema 1 is not supported: the image must be pushed again as an OCI or "
      "Docker schema 2 image (https://docs.docker.com/go/deprecated-image-specs/)");
}

bool is_foreign_layer(std::string_view mt) {
  return mt == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" ||
         mt.rfind("application/vnd.oci.image.layer.nondistributable.", 0) == 0;
}

bool is_layer_type(std::string_view mt) {
  return mt == "application/vnd.oci.image.layer.v1.tar" || mt == "application/vnd.oci.image.layer.v1.tar+gzip" ||
         mt == "application/vnd.oci.image.layer.v1.tar+zstd" || mt == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
         mt == "application/vnd.docker.image.rootfs.diff.tar";
}

std::string str_member(const json& obj, const char* key, const std::string& what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (!it->is_string()) throw Error(what + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

std::string clip(std::string_view s) { return std::string(s.substr(0, 80)); }

Descriptor parse_descriptor(const json& d, const std::string& what) {
  if (!d.is_object()) throw Error(what + ": not a JSON object");
  Descriptor out;
  out.media_type = str_member(d, "mediaType", what);
  out.digest = str_member(d, "digest", what);
  if (out.digest.empty()) throw Error(what + ": no digest");
  if (!is_valid_digest(out.digest)) {
    if (out.digest.rfind("sha256:", 0) != 0 && out.digest.find(':') != std::string::npos)
      throw Error(what + ": unsupported digest algorithm in \"" + clip(out.digest) + "\"");
    throw Error(what + ": invalid digest \"" + clip(out.digest) + "\"");
  }
  auto it = d.find("size");
  if (it == d.end()) throw Error(what + " " + out.digest + ": no size");
  if (!it->is_number_unsigned()) throw Error(what + " " + out.digest + ": size is not a non-negative integer");
  out.size = it->get<uint64_t>();
  return out;
}

const json& array_member(const json& obj, const char* key, const std::string& what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) throw Error(what + ": no \"" + key + "\"");
  if (!it->is_array()) throw Error(what + ": \"" + key + "\" is not an array");
  if (it->size() > kMaxEntries) throw Error(what + ": more than " + std::to_string(kMaxEntries) + " " + key);
  return *it;
}

Manifest parse_manifest(const json& j, const std::string& media_type) {
  Manifest m;
  m.media_type = media_type;
  if (!j.contains("config")) throw Error("manifest: no config");
  m.config = parse_descriptor(j["config"], "manifest config");
  std::string_view ct = m.config.media_type;
  if (media_type == kDockerManifest && ct != kDockerConfig)
    throw Error("manifest: config media type \"" + clip(ct) + "\" is not an image config");
  if (media_type == kOciManifest && !ct.empty() && ct != kOciConfig && ct != kDockerConfig)
    throw Error("manifest: config media type \"" + clip(ct) + "\" is not an image config (an OCI artifact is not an image)");
  if (m.config.size > kMaxDocument * 4) throw Error("manifest: config of " + std::to_string(m.config.size) + " bytes is too large");
  const json& layers = array_member(j, "layers", "manifest");
  for (size_t i = 0; i < layers.size(); i++) {
    Descriptor d = parse_descriptor(layers[i], "manifest layer " + std::to_string(i));
    if (is_foreign_layer(d.media_type))
      throw Error("layer " + d.digest + ": foreign (non-distributable) layer of type " + d.media_type +
                  " is not supported: its content is not in the registry");
    if (!is_layer_type(d.media_type))
      throw Error("layer " + d.digest + ": unsupported media type \"" + clip(d.media_type) + "\"");
    m.layers.push_back(std::move(d));
  }
  return m;
}

Index parse_index(const json& j, const std::string& media_type) {
  Index idx;
  idx.media_type = media_type;
  const json& ms = array_member(j, "manifests", "index");
  for (size_t i = 0; i < ms.size(); i++) {
    std::string what = "index entry " + std::to_string(i);
    IndexEntry e;
    e.desc = parse_descriptor(ms[i], what);
    const std::string& mt = e.desc.media_type;
    if (mt == kDockerSchema1 || mt == kDockerSchema1Signed) {
      // listed, but never chosen: select_platform skips what it cannot pull
    } else if (mt != kOciManifest && mt != kDockerManifest && mt != kOciIndex && mt != kDockerList) {
      throw Error(what + ": unsupported media type \"" + clip(mt) + "\"");
    }
    auto p = ms[i].find("platform");
    if (p != ms[i].end() && !p->is_null()) {
      if (!p->is_object()) throw Error(what + ": \"platform\" is not an object");
      e.has_platform = true;
      e.platform = normalize({str_member(*p, "os", what + " platform"), str_member(*p, "architecture", what + " platform"),
                              str_member(*p, "variant", what + " platform")});
    } else if (media_type == kDockerList) {
      throw Error(what + ": no platform");
    }
    idx.manifests.push_back(std::move(e));
  }
  return idx;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A variant as a comparable level: "v8.1" → 81, the architecture's default for ""; -1 when
// not of the form v<major>[.<minor>].
int variant_level(const std::string& arch, const std::string& v) {
  if (v.empty()) {
    if (arch == "amd64") return 10;
    if (arch == "arm64") return 80;
    if (arch == "arm") return 70;
    return -1;
  }
  if (v.size() < 2 || v[0] != 'v' || !std::isdigit(static_cast<unsigned char>(v[1]))) return -1;
  size_t i = 1;
  int major = 0, minor = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && major < 100) major = major * 10 + (v[i++] - '0');
  if (i < v.size()) {
    if (v[i] != '.' || i + 2 != v.size() || !std::isdigit(static_cast<unsigned char>(v[i + 1]))) return -1;
    minor = v[i + 1] - '0';
  }
  return major * 10 + minor;
}

}  // namespace

std::string accept_header() {
  return std::string(kOciIndex) + ", " + std::string(kOciManifest) + ", " + std::string(kDockerList) + ", " +
         std::string(kDockerManifest);
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform normalize(Platform p) {
  p.os = lower(p.os);
  p.architecture = lower(p.architecture);
  p.variant = lower(p.variant);
  if (p.os == "macos") p.os = "darwin";
  std::string& a = p.architecture;
  std::string& v = p.variant;
  if (a == "i386") {
    a = "386";
    v = "";
  } else if (a == "x86_64" || a == "x86-64" || a == "amd64") {
    a = "amd64";
    if (v == "v1") v = "";
  } else if (a == "aarch64" || a == "arm64") {
    a = "arm64";
    if (v == "8" || v == "v8" || v == "v8.0") v = "";
    else if (v == "9" || v == "9.0" || v == "v9.0") v = "v9";
  } else if (a == "armhf") {
    a = "arm";
    v = "v7";
  } else if (a == "armel") {
    a = "arm";
    v = "v6";
  } else if (a == "arm") {
    if (v.empty() || v == "7") v = "v7";
    else if (v == "5" || v == "6" || v == "8") v = "v" + v;
  }
  return p;
}

Platform parse_platform(std::string_view s) {
  std::vector<std::string> parts;
  size_t i = 0;
  for (;;) {
    size_t j = s.find('/', i);
    parts.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  bool ok = parts.size() >= 2 && parts.size() <= 3;
  for (const auto& p : parts)
    ok = ok && !p.empty() && std::all_of(p.begin(), p.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
         });
  if (!ok) throw Error("\"" + clip(s) + "\": invalid platform: expected OS/ARCH[/VARIANT], as linux/arm64/v8");
  return normalize({parts[0], parts[1], parts.size() == 3 ? parts[2] : ""});
}

Platform host_platform() {
  Platform p{"linux", "", ""};
#if defined(__x86_64__)
  p.architecture = "amd64";
  // The x86-64 micro-architecture levels by their features (clang 14 has no "x86-64-vN" names).
  const bool v2 = __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("sse3") &&
                  __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1") &&
                  __builtin_cpu_supports("sse4.2");
  const bool v3 = v2 && __builtin_cpu_supports("avx") && __builtin_cpu_supports("avx2") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("fma");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
  p.variant = v4 ? "v4" : v3 ? "v3" : v2 ? "v2" : "";
#elif defined(__aarch64__)
  p.architecture = "arm64";
#elif defined(__arm__)
  p.architecture = "arm";
#else
  struct utsname u;
  uname(&u);
  p.architecture = u.machine;
#endif
  return normalize(p);
}

int platform_score(const Platform& want_in, const Platform& have_in) {
  Platform want = normalize(want_in), have = normalize(have_in);
  if (want.os != have.os || want.architecture != have.architecture) return 0;
  if (want.variant == have.variant) return 1000;
  if (want.architecture != "amd64" && want.architecture != "arm" && want.architecture != "arm64") return 0;
  int w = variant_level(want.architecture, want.variant), h = variant_level(have.architecture, have.variant);
  if (w < 0 || h < 0 || h > w) return 0;
  return 1 + h;  // the newest level the host runs first
}

Document parse_document(std::string_view bytes, std::string_view content_type) {
  if (bytes.size() > kMaxDocument) throw Error("manifest of " + std::to_string(bytes.size()) + " bytes is too large");
  // "application/json; charset=utf-8" → "application/json"
  std::string ct(content_type.substr(0, content_type.find(';')));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  if (ct == kDockerSchema1 || ct == kDockerSchema1Signed) throw schema1_error();
  json j;
  try {
    j = json::parse(bytes);
  } catch (const json::exception& e) {
    throw Error("manifest: malformed JSON: " + std::string(e.what()).substr(0, 200));
  }
  if (!j.is_object()) throw Error("manifest: not a JSON object");
  auto sv = j.find("schemaVersion");
  if (sv == j.end() || !sv->is_number_integer()) throw Error("manifest: no schemaVersion");
  if (sv->get<int64_t>() == 1) throw schema1_error();
  if (sv->get<int64_t>() != 2) throw Error("manifest: unsupported schemaVersion " + std::to_string(sv->get<int64_t>()));
  std::string mt = str_member(j, "mediaType", "manifest");
  if (mt == kDockerSchema1 || mt == kDockerSchema1Signed) throw schema1_error();
  const bool generic_ct = ct.empty() || ct == "application/json" || ct == "text/plain" || ct == "application/octet-stream";
  if (!mt.empty() && !generic_ct && mt != ct)
    throw Error("manifest: media type \"" + clip(mt) + "\" differs from the registry's Content-Type \"" + clip(ct) + "\"");
  if (mt.empty() && !generic_ct) mt = ct;
  if (mt.empty()) mt = j.contains("manifests") ? std::string(kOciIndex) : std::string(kOciManifest);
  Document doc;
  if (mt == kOciIndex || mt == kDockerList) {
    if (j.contains("config") || j.contains("layers")) throw Error("index: has a config or layers (ambiguous document)");
    doc.is_index = true;
    doc.index = parse_index(j, mt);
  } else if (mt == kOciManifest || mt == kDockerManifest) {
    if (j.contains("manifests")) throw Error("manifest: has manifests (ambiguous document)");
    doc.manifest = parse_manifest(j, mt);
  } else {
    throw Error("manifest: unsupported media type \"" + clip(mt) + "\"");
  }
  return doc;
}

const IndexEntry& select_platform(const Index& index, const Platform& want) {
  const IndexEntry* best = nullptr;
  int best_score = 0;
  for (const auto& e : index.manifests) {
    const std::string& mt = e.desc.media_type;
    if (mt == kDockerSchema1 || mt == kDockerSchema1Signed) continue;
    int s = e.has_platform ? platform_score(want, e.platform) : 1;
    if (s > best_score) best = &e, best_score = s;
  }
  if (!best) throw Error("no matching manifest for " + normalize(want).str() + " in the manifest list entries");
  return *best;
}

std::string layer_media_type(std::string_view manifest_type, std::string_view compression) {
  const bool oci = manifest_type == kOciManifest;
  if (compression == "gzip")
    return oci ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.docker.image.rootfs.diff.tar.gzip";
  if (compression == "none") return oci ? "application/vnd.oci.image.layer.v1.tar" : "application/vnd.docker.image.rootfs.diff.tar";
  if (compression == "zstd") {
    if (oci) return "application/vnd.oci.image.layer.v1.tar+zstd";
    throw Error("zstd-compressed layers need an OCI manifest (--format oci)");
  }
  throw Error("unknown compression \"" + std::string(compression) + "\"");
}

std::string serialize_manifest(const Manifest& m) {
  using ojson = nlohmann::ordered_json;
  auto desc = [](const Descriptor& d) {
    return ojson{{"mediaType", d.media_type}, {"size", d.size}, {"digest", d.digest}};
  };
  ojson j;
  j["schemaVersion"] = 2;
  j["mediaType"] = m.media_type;
  j["config"] = desc(m.config);
  j["layers"] = ojson::array();
  for (const auto& l : m.layers) j["layers"].push_back(desc(l));
  return j.dump(3);
}

}  // namespace minirun::registry
