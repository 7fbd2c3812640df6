// extract.h — turns one layer blob into an overlay2 `diff/` directory: decompresses (sniffing
// gzip/zstd/xz/bzip2), hashes the stored and the uncompressed bytes in the same pass, and
// creates every entry inside the destination only, whiteouts converted to overlay form.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minirun {

struct ExtractOptions {
  std::vector<std::string> lower_diffs;  // diff dirs of the layers below, nearest first
  uint64_t max_size = 0;                 // uncompressed byte limit; 0 = default (64 GiB)
  // Where to record the layer's "tar split" (every byte of the tar but file contents, which
  // stay in diff/), so `save` can rebuild the exact tar and keep the DiffID; "" = none.
  std::string tar_split_path;
};

struct ExtractResult {
  std::string diff_id;        // sha256 of the uncompressed tar stream
  std::string blob_digest;    // sha256 of the bytes as stored
  uint64_t tar_size = 0;      // uncompressed bytes
  uint64_t content_size = 0;  // regular file bytes (hard links counted once)
};

// Extracts the blob at file[offset, offset+size) into the existing, empty directory dest.
// Throws Error naming the entry ("usr/bin/x: File exists") on any failure; the caller removes dest.
ExtractResult extract_layer(const std::string& file, uint64_t offset, uint64_t size, const std::string& dest,
                            const ExtractOptions& opts);

}  // namespace minirun
