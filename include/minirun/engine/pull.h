// pull.h — pulling an image from a registry into the store, through registry::Source (the
// manifest, the platform's manifest of an index, the config, the layers), with the layer
// pipeline (image/layer_stream.h): several layers at once, each committed into the store once
// verified (blob digest and size, DiffID), the image and its tag only once all are. A layer
// the store has (by ChainID) is never fetched; a failure stores nothing more than the complete,
// verified layers (which the next pull reuses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "minirun/registry/manifest.h"
#include "minirun/registry/source.h"
#include "minirun/store/store.h"

namespace minirun {

enum class LayerState { kWaiting, kDownloading, kExtracting, kComplete, kExists };

struct LayerProgress {
  size_t index = 0;       // in the image, bottom first
  std::string id;         // the blob digest's first 12 hex characters, as docker pull shows it
  LayerState state = LayerState::kWaiting;
  uint64_t done = 0, total = 0;  // blob bytes
};

struct PullOptions {
  std::string reference;    // what the registry is asked for: a tag, or "sha256:<hex>"
  std::string repo_name;    // the familiar name ("busybox", "127.0.0.1:5000/foo"), for RepoDigests
  std::string tag;          // the store's tag to set ("busybox:latest"); "" for a pull by digest
  registry::Platform platform = registry::host_platform();
  size_t max_concurrent = 4;  // layers downloaded (and extracted) at once
  // Called (serialised) as each layer changes state or makes progress.
  std::function<void(const LayerProgress&)> progress;
  // Called once the manifest is chosen, before any layer starts: the layers' initial states.
  std::function<void(const std::vector<LayerProgress>&)> layers;
};

struct PullResult {
  std::string image_id;     // "sha256:<hex>"
  std::string digest;       // the digest of the manifest or index the reference named
  bool downloaded = false;  // false: the image was in the store already ("up to date")
};

PullResult pull_image(Store& store, registry::Source& source, const PullOptions& opts);

}  // namespace minirun
