// archive.cpp — image archive formats.
//
// Everything goes through a tiny read-only "file system" over the archive (a TarIndex over a
// seekable tar file, or a directory): exists / read small file / locate a blob. The format is
// chosen by content: index.json (OCI layout, also inside Docker 25+ archives, where
// manifest.json is preferred because it carries the tags) or manifest.json (docker-archive);
// neither is refused. Compressed archives and standard input are first decompressed into a
// spool file so that layers can be located by offset and extracted in parallel.
#include "minirun/image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/image/image_config.h"
#include "minirun/image/reference.h"
#include "minirun/image/tar_index.h"

namespace minirun {

using nlohmann::json;

namespace {

constexpr size_t kMaxJson = 16u << 20;

class ArchiveFs {
 public:
  virtual ~ArchiveFs() = default;
  virtual bool exists(const std::string& path) const = 0;
  // Throws Error when missing.
  virtual LayerSource locate(const std::string& path) const = 0;
  std::string read(const std::string& path) const {
    LayerSource s = locate(path);
    if (s.size > kMaxJson) throw Error(path + ": too large for metadata (" + std::to_string(s.size) + " bytes)");
    std::string out(s.size, '\0');
    int fd = ::open(s.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw sys_error(s.file);
    size_t done = 0;
    while (done < s.size) {
      ssize_t r = ::pread(fd, out.data() + done, s.size - done, static_cast<off_t>(s.offset + done));
      if (r <= 0) {
        ::close(fd);
        throw Error(path + ": truncated");
      }
      done += static_cast<size_t>(r);
    }
    ::close(fd);
    return out;
  }
};

class TarFs : public ArchiveFs {
 public:
  explicit TarFs(const std::string& file) : file_(file) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw sys_error(file);
    struct stat st;
    fstat(fd, &st);
    try {
      index_ = TarIndex::build(fd, static_cast<uint64_t>(st.st_size));
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
  }
  bool exists(const std::string& path) const override { return index_.resolve(path) != nullptr; }
  LayerSource locate(const std::string& path) const override {
    const TarEntry* e = index_.resolve(path);
    if (!e || (e->type != '0' && e->type != '7')) throw Error(path + ": not found in the archive");
    return {file_, e->offset, e->size, ""};
  }

 private:
  std::string file_;
  TarIndex index_;
};

class DirFs : public ArchiveFs {
 public:
  explicit DirFs(const std::string& dir) : dir_(dir) {}
  bool exists(const std::string& path) const override {
    struct stat st;
    return ::stat(full(path).c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }
  LayerSource locate(const std::string& path) const override {
    std::string p = full(path);
    struct stat st;
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) throw Error(path + ": not found in the layout");
    return {p, 0, static_cast<uint64_t>(st.st_size), ""};
  }

 private:
  std::string full(const std::string& path) const { return dir_ + "/" + normalize_archive_path(path); }
  std::string dir_;
};

json parse_json(const std::string& bytes, const std::string& what) {
  try {
    return json::parse(bytes);
  } catch (const json::exception& e) {
    throw Error(what + ": malformed JSON: " + std::string(e.what()).substr(0, 200));
  }
}

// A string member of a JSON object: "" when absent or null, Error when of another type (never
// nlohmann's own type_error, which is not a one-line refusal).
std::string str_member(const json& obj, const char* key, const std::string& what) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (!it->is_string()) throw Error(what + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

// "blobs/sha256/<hex>" → "sha256:<hex>", else "".
std::string blob_digest_of(const std::string& path) {
  std::string p;
  try {
    p = normalize_archive_path(path);
  } catch (const Error&) {
    return "";
  }
  if (p.rfind("blobs/sha256/", 0) != 0) return "";
  std::string d = "sha256:" + p.substr(13);
  return is_valid_digest(d) ? d : "";
}

std::string read_blob(const ArchiveFs& fs, const json& desc, const std::string& what) {
  if (!desc.is_object() || !desc.contains("digest") || !desc["digest"].is_string())
    throw Error(what + ": descriptor without a digest");
  std::string d = desc["digest"];
  if (!is_valid_digest(d)) throw Error(what + ": invalid digest \"" + d.substr(0, 80) + "\"");
  std::string path = "blobs/sha256/" + d.substr(7);
  if (!fs.exists(path)) throw Error(what + " " + d.substr(0, 19) + "…: blob missing from the archive");
  std::string bytes = fs.read(path);
  if (sha256_digest(bytes) != d) throw Error(what + " " + d.substr(0, 19) + "…: content does not match its digest");
  if (desc.contains("size") && desc["size"].is_number_unsigned() && desc["size"].get<uint64_t>() != bytes.size())
    throw Error(what + " " + d.substr(0, 19) + "…: size does not match its descriptor");
  return bytes;
}

ArchiveImage image_from_config(const std::string& config, const std::string& what) {
  ArchiveImage img;
  img.config = config;
  img.id = sha256_digest(config);
  ImageConfig cfg;
  try {
    cfg = parse_image_config(config);
  } catch (const Error& e) {
    throw with_context(what, e);
  }
  img.diff_ids = cfg.diff_ids;
  return img;
}

std::vector<std::string> normalized_tags(const json& tags, const std::string& what) {
  std::vector<std::string> out;
  if (tags.is_null()) return out;
  if (!tags.is_array()) throw Error(what + ": RepoTags is not an array");
  for (const auto& t : tags) {
    if (!t.is_string()) throw Error(what + ": RepoTags holds a non-string");
    try {
      out.push_back(normalize_reference(t.get<std::string>()));
    } catch (const Error& e) {
      throw with_context(what, e);
    }
  }
  return out;
}

std::vector<ArchiveImage> read_docker_archive(const ArchiveFs& fs) {
  json m = parse_json(fs.read("manifest.json"), "manifest.json");
  if (m.is_null()) throw Error("manifest.json: null manifest");
  if (!m.is_array()) throw Error("manifest.json: not a JSON array");
  if (m.empty()) throw Error("manifest.json: no image");
  std::vector<ArchiveImage> out;
  for (size_t i = 0; i < m.size(); i++) {
    const json& e = m[i];
    std::string what = "manifest.json entry " + std::to_string(i);
    if (!e.is_object() || !e.contains("Config") || !e["Config"].is_string())
      throw Error(what + ": no Config");
    if (!e.contains("Layers") || !e["Layers"].is_array()) throw Error(what + ": no Layers array");
    std::string cpath = e["Config"];
    if (!fs.exists(cpath)) throw Error(what + ": config " + cpath + " missing from the archive");
    std::string config = fs.read(cpath);
    if (std::string d = blob_digest_of(cpath); !d.empty() && sha256_digest(config) != d)
      throw Error("config " + cpath + ": content does not match its digest");
    ArchiveImage img = image_from_config(config, "image config " + cpath);
    img.repo_tags = normalized_tags(e.value("RepoTags", json()), what);
    const json& layers = e["Layers"];
    if (layers.size() != img.diff_ids.size())
      throw Error(what + ": " + std::to_string(layers.size()) + " layers but the config lists " +
                  std::to_string(img.diff_ids.size()) + " diff_ids");
    for (const auto& l : layers) {
      if (!l.is_string()) throw Error(what + ": a layer path is not a string");
      std::string lp = l;
      if (!fs.exists(lp)) throw Error(what + ": layer " + lp + " missing from the archive");
      LayerSource s = fs.locate(lp);
      s.blob_digest = blob_digest_of(lp);
      img.layers.push_back(s);
    }
    out.push_back(std::move(img));
  }
  return out;
}

std::string host_arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  struct utsname u;
  uname(&u);
  return u.machine;
#endif
}

bool is_index(const std::string& mt) {
  return mt == "application/vnd.oci.image.index.v1+json" ||
         mt == "application/vnd.docker.distribution.manifest.list.v2+json";
}

struct Candidate {
  json manifest_desc;
  std::string tag;
};

std::string tag_from_annotations(const json& desc) {
  if (!desc.contains("annotations") || !desc["annotations"].is_object()) return "";
  const json& a = desc["annotations"];
  for (const char* key : {"io.containerd.image.name", "org.opencontainers.image.ref.name"}) {
    if (!a.contains(key) || !a[key].is_string()) continue;
    std::string v = a[key];
    // A bare tag ("1", "latest") names no repository: not usable as an image name.
    if (v.find('/') == std::string::npos && v.find(':') == std::string::npos) continue;
    try {
      return normalize_reference(v);
    } catch (const Error&) {
    }
  }
  return "";
}

bool platform_matches(const json& desc, const std::string& what) {
  if (!desc.contains("platform") || !desc["platform"].is_object()) return true;  // unknown: accept
  const json& p = desc["platform"];
  std::string os = str_member(p, "os", what + ": platform"), arch = str_member(p, "architecture", what + ": platform");
  return (os.empty() || os == "linux") && (arch.empty() || arch == host_arch());
}

std::string media_type(const json& desc, const std::string& what) { return str_member(desc, "mediaType", what); }

// Descend an index to one manifest descriptor for this machine (or the only one present).
json pick_manifest(const ArchiveFs& fs, const json& index, int depth) {
  if (depth > 4) throw Error("index.json: indexes nested too deeply");
  if (!index.contains("manifests") || !index["manifests"].is_array()) throw Error("image index: no manifests");
  std::vector<json> matching;
  const json& ms = index["manifests"];
  for (const auto& d : ms) {
    if (!d.is_object()) throw Error("image index: a descriptor is not an object");
    if (platform_matches(d, "image index")) matching.push_back(d);
  }
  json chosen;
  if (!matching.empty()) chosen = matching.front();
  else if (ms.size() == 1) chosen = ms[0];
  else throw Error("image index: no image for linux/" + host_arch());
  if (is_index(media_type(chosen, "image index"))) {
    json sub = parse_json(read_blob(fs, chosen, "image index"), "image index");
    return pick_manifest(fs, sub, depth + 1);
  }
  return chosen;
}

ArchiveImage image_from_manifest(const ArchiveFs& fs, const json& desc) {
  json m = parse_json(read_blob(fs, desc, "manifest"), "manifest");
  if (!m.is_object() || !m.contains("config") || !m.contains("layers") || !m["layers"].is_array())
    throw Error("manifest: no config or layers");
  std::string config = read_blob(fs, m["config"], "config");
  ArchiveImage img = image_from_config(config, "image config");
  const json& layers = m["layers"];
  if (layers.size() != img.diff_ids.size())
    throw Error("manifest: " + std::to_string(layers.size()) + " layers but the config lists " +
                std::to_string(img.diff_ids.size()) + " diff_ids");
  for (const auto& l : layers) {
    if (!l.is_object() || !l.contains("digest") || !l["digest"].is_string()) throw Error("manifest: layer without digest");
    std::string d = l["digest"];
    if (!is_valid_digest(d)) throw Error("manifest: invalid layer digest \"" + d.substr(0, 80) + "\"");
    std::string path = "blobs/sha256/" + d.substr(7);
    if (!fs.exists(path)) throw Error("layer " + d.substr(0, 19) + "…: blob missing from the archive");
    LayerSource s = fs.locate(path);
    s.blob_digest = d;
    img.layers.push_back(s);
  }
  return img;
}

std::vector<ArchiveImage> read_oci(const ArchiveFs& fs) {
  json index = parse_json(fs.read("index.json"), "index.json");
  if (!index.is_object()) throw Error("index.json: not a JSON object");
  if (!index.contains("manifests") || index["manifests"].is_null()) throw Error("index.json: null manifests");
  if (!index["manifests"].is_array()) throw Error("index.json: manifests is not an array");
  std::vector<ArchiveImage> out;
  const json& ms = index["manifests"];
  std::vector<json> top;
  for (const auto& d : ms) {
    if (!d.is_object()) throw Error("index.json: a descriptor is not an object");
    if (is_index(media_type(d, "index.json")) || platform_matches(d, "index.json")) top.push_back(d);
  }
  if (top.empty() && ms.size() == 1) top.push_back(ms[0]);
  if (top.empty()) throw Error("index.json: no image for linux/" + host_arch());
  for (const auto& d : top) {
    json mdesc = d;
    if (is_index(media_type(d, "index.json"))) mdesc = pick_manifest(fs, parse_json(read_blob(fs, d, "image index"), "image index"), 1);
    ArchiveImage img = image_from_manifest(fs, mdesc);
    std::string tag = tag_from_annotations(d);
    if (tag.empty()) tag = tag_from_annotations(mdesc);
    if (!tag.empty()) img.repo_tags.push_back(tag);
    out.push_back(std::move(img));
  }
  return out;
}

std::vector<ArchiveImage> read_any(const ArchiveFs& fs) {
  bool has_manifest = fs.exists("manifest.json"), has_index = fs.exists("index.json");
  if (has_manifest) return read_docker_archive(fs);
  if (has_index) return read_oci(fs);
  throw Error("unrecognized image archive: no manifest.json or index.json (archives from Docker before 1.10 are not supported)");
}

// Decompresses (or copies) a stream into dest with libarchive's raw reader.
void spool(const std::string& src, const std::string& dest) {
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  int rc = src == "-" ? archive_read_open_fd(a, 0, 1 << 20) : archive_read_open_filename(a, src.c_str(), 1 << 20);
  struct archive_entry* e;
  if (rc != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK) {
    std::string msg = archive_error_string(a) ? archive_error_string(a) : "cannot read";
    archive_read_free(a);
    throw Error((src == "-" ? std::string("standard input") : src) + ": " + msg);
  }
  int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    archive_read_free(a);
    throw sys_error(dest);
  }
  std::vector<char> buf(1 << 20);
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      std::string msg = archive_error_string(a) ? archive_error_string(a) : "read error";
      archive_read_free(a);
      ::close(fd);
      throw Error((src == "-" ? std::string("standard input") : src) + ": " + msg);
    }
    try {
      write_all(fd, buf.data(), static_cast<size_t>(n), dest);
    } catch (...) {
      archive_read_free(a);
      ::close(fd);
      throw;
    }
  }
  archive_read_free(a);
  ::close(fd);
}

bool compressed(const std::string& path) {
  unsigned char m[6] = {0};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw sys_error(path);
  ssize_t n = ::read(fd, m, sizeof m);
  ::close(fd);
  if (n < 4) return false;
  return (m[0] == 0x1f && m[1] == 0x8b) || (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) ||
         (n >= 6 && m[0] == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z') ||
         (m[0] == 'B' && m[1] == 'Z' && m[2] == 'h');
}

}  // namespace

std::unique_ptr<ImageArchive> ImageArchive::open(const std::string& path, const std::string& spool_dir) {
  auto out = std::unique_ptr<ImageArchive>(new ImageArchive());
  std::string what = path == "-" ? "standard input" : path;
  try {
    struct stat st;
    if (path != "-" && ::stat(path.c_str(), &st) != 0) throw sys_error(path);
    if (path != "-" && S_ISDIR(st.st_mode)) {
      char* real = ::realpath(path.c_str(), nullptr);
      std::string dir = real ? real : path;
      free(real);
      out->images_ = read_any(DirFs(dir));
      return out;
    }
    std::string file = path;
    if (path == "-" || compressed(path)) {
      file = spool_dir + "/archive.tar";
      spool(path, file);
    } else {
      char* real = ::realpath(path.c_str(), nullptr);
      file = real ? real : path;
      free(real);
    }
    out->images_ = read_any(TarFs(file));
  } catch (const Error& e) {
    throw with_context(what, e);
  }
  return out;
}

}  // namespace minirun
