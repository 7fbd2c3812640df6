// hidden.h — files an image ships but nobody can see: content of a layer that a later layer
// deletes (whiteout, opaque directory) or overwrites. Read from the extracted layers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minirun {

struct HiddenFile {
  std::string path;      // "/root/.credentials"
  size_t layer = 0;      // index (bottom = 0) of the layer that holds the file
  size_t hidden_by = 0;  // index of the first later layer that hides it
  uint64_t size = 0;
};

// layers: diff directories, bottom first. Regular files only, sorted by layer then path.
std::vector<HiddenFile> hidden_files(const std::vector<std::string>& layers);

}  // namespace minirun
