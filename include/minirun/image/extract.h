// extract.h — one layer blob into an overlay2 `diff/` directory, read from a file (an archive's
// layer, a spooled tar). The bytes go through the layer pipeline (layer_stream.h): decompressed
// (gzip/zstd/xz/bzip2 sniffed), hashed as stored and uncompressed, every entry created inside
// the destination only (entry_writer.h), whiteouts converted to overlay form.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minirun {

inline constexpr uint64_t kDefaultMaxLayerSize = 64ull << 30;

struct ExtractOptions {
  std::vector<std::string> lower_diffs;  // diff dirs of the layers below, nearest first
  uint64_t max_size = 0;                 // uncompressed byte limit; 0 = default (64 GiB)
  // Where to record the layer's "tar split" (tar_split.h), so `save` can rebuild the exact tar
  // and keep the DiffID; "" = none.
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
