// images.h — image-level operations on the store: loading an archive (verify everything,
// extract each missing layer once, commit all-or-nothing), importing a root filesystem tar,
// removing images and collecting the layers nothing uses any more.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "minirun/image/image_config.h"
#include "minirun/store/store.h"

namespace minirun {

struct LoadProgress {
  uint64_t bytes_total = 0;  // stored (compressed) bytes of the layers to extract
  uint64_t bytes_done = 0;
  size_t layers_total = 0, layers_done = 0, layers_skipped = 0;
};

struct LoadOptions {
  // Called from worker threads, serialised by the loader, after each layer.
  std::function<void(const LoadProgress&)> progress;
  uint64_t max_layer_size = 0;  // 0 = the extractor's default
};

struct LoadedImage {
  std::string id;                 // "sha256:<hex>"
  std::vector<std::string> tags;  // normalised
};

// Loads every image of an archive (file, OCI layout directory or "-"). Either every image is
// stored, or (on any error) the store is left as it was. Throws Error with context.
std::vector<LoadedImage> load_archive(Store& store, const std::string& path, const LoadOptions& opts = {});

// Imports a root filesystem tar (plain or compressed, or "-") as a one-layer image; tags it
// with ref when not empty; applies Dockerfile-style changes (config_change.h). Returns "sha256:<hex>".
std::string import_rootfs(Store& store, const std::string& path, const std::string& ref,
                          const std::vector<std::string>& changes = {}, const std::string& message = "");

// Stores an image whose layers are all in the store already (commit, import): writes the config
// and moves the tags to it. Returns the image ID hex. Caller holds the lock.
std::string put_image_locked(Store& store, const std::string& config, const std::vector<std::string>& tags);

// Gives an image of kFlattenFrom layers or more its flat layer (flatten.h), unless it has one.
// Best effort: on any error the reason is logged and the image runs on its layers as before.
// Called by load and commit once the image is stored; ids = image_layer_ids(), bottom first.
void flatten_image(Store& store, const std::vector<std::string>& ids);

// The ChainIDs (hex) of an image's layers, bottom first.
std::vector<std::string> image_layer_ids(const ImageConfig& cfg);
// Sum of the layers' content sizes.
uint64_t image_size(const Store& store, const ImageConfig& cfg);

struct RemoveResult {
  std::vector<std::string> untagged;  // "name:tag"
  std::vector<std::string> deleted;   // "sha256:<hex>" of images and layers
};
// `rmi`: a tag untags (and deletes the image when it was its last tag); an ID deletes the image
// and all its tags (refused when it has several tags unless force). Refused while a container
// uses the image unless force. Then removes layers nothing uses.
RemoveResult remove_image(Store& store, const std::string& ref, bool force);
// Removes image layers used by no image and no container. Caller holds the lock.
std::vector<std::string> collect_layers(Store& store);
// `image prune`: removes untagged images no container uses (the build's intermediate images
// too) and the build cache entries of images gone, then unused layers.
RemoveResult prune_images(Store& store);

}  // namespace minirun
