// layer_blob.h — a layer of the store as the compressed blob a registry gets (push): its tar,
// rebuilt from its tar split when it has one (the original bytes), else regenerated from diff/
// (tarwrite.h), compressed with gzip or zstd into a file while both are hashed. The tar's
// digest is checked against the layer's DiffID as it streams: a layer that no longer gives its
// DiffID (a damaged store) makes no blob, and the push stops.
#pragma once

#include <cstdint>
#include <string>

namespace minirun {

struct CompressedBlob {
  std::string digest;  // "sha256:…" of the compressed bytes
  uint64_t size = 0;
};

// Writes the blob of layer `diff_dir` (its split at `split_file`, which may be missing) to
// `out_file` (created). compression: "gzip" or "zstd". Throws Error naming the layer's expected
// and actual DiffID when they differ (out_file is then removed).
CompressedBlob compress_layer(const std::string& split_file, const std::string& diff_dir, const std::string& diff_id,
                              const std::string& compression, const std::string& out_file);

}  // namespace minirun
