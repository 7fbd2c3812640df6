// tarwrite.h — writing tars from the store: the merged root filesystem of a layer stack
// (`export`), and one layer directory back as an OCI layer tar (`commit`, `save`), overlay
// whiteouts turned back into ".wh." entries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minirun {

// The merged view of layers (nearest first) as one tar on out_fd: whiteouts and opaque
// directories applied, no overlay metadata, hard links kept, PAX with xattrs, numeric owners.
// Entries sorted by name: the same stack always gives the same bytes.
void write_merged_tar(const std::vector<std::string>& layers, int out_fd);

struct LayerTar {
  std::string diff_id;  // sha256 of the bytes written
  uint64_t size = 0;
};
// One layer directory as an OCI layer tar on out_fd: a 0/0 character device becomes an empty
// ".wh.<name>", an opaque directory gets "<dir>/.wh..wh..opq" right after its own entry.
LayerTar write_layer_tar(const std::string& layer_dir, int out_fd);

// Rebuilds a layer's original tar from its tar split (extract.h) and its diff directory.
LayerTar write_tar_from_split(const std::string& split_file, const std::string& diff_dir, int out_fd);

}  // namespace minirun
