// archive.h — reading image archives: docker-archive (legacy `docker save`, podman/skopeo with
// tar symlinks, Docker 25+ with blobs/), OCI image layout (as a tar or a directory, nested
// indexes), plain or gzip/zstd-compressed, from a file or standard input. Detects the format
// by content, validates every manifest, index and config (digests included), and says where each
// layer's bytes are — without reading them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace minirun {

struct LayerSource {
  std::string file;         // absolute path of the file holding the bytes
  uint64_t offset = 0, size = 0;
  std::string blob_digest;  // descriptor digest to verify ("sha256:…"), or ""
};

struct ArchiveImage {
  std::string config;                  // exact config bytes
  std::string id;                      // "sha256:<hex>" of config
  std::vector<std::string> repo_tags;  // normalised; may be empty
  std::vector<std::string> diff_ids;
  std::vector<LayerSource> layers;     // same length as diff_ids
};

class ImageArchive {
 public:
  // path: a tar (plain, gzip, zstd, xz, bzip2), an OCI layout directory, or "-" (stdin).
  // Compressed or non-seekable input is spooled (decompressed) into spool_dir first.
  static std::unique_ptr<ImageArchive> open(const std::string& path, const std::string& spool_dir);
  const std::vector<ArchiveImage>& images() const { return images_; }

 private:
  std::vector<ArchiveImage> images_;
};

}  // namespace minirun
