// build_cache.h — the build cache, as Docker's classic builder keeps it: every step's image is an
// ordinary (untagged) store image, and an entry of the store (Store::BuildCacheEntry) maps the
// step's key to it. Owns: the key (the parent image and a JSON description of what the step does,
// which the builder makes complete: the RUN's argv and build args, the resulting config of a
// config step, a COPY's file checksum), the lookup that never lies (an entry whose image is gone
// is a miss), the record, which images are intermediate (`images` hides them without -a), and
// `builder prune`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "minirun/store/store.h"

namespace minirun::build {

// 64 hex: sha256 of the parent image ID and the step's description (its JSON text).
std::string step_cache_key(const std::string& parent_hex, const nlohmann::ordered_json& step);

// The image (hex) an entry for key holds, when the entry and its image exist.
std::optional<std::string> cached_step_image(const Store& store, const std::string& key);

// Records (replacing) the entry for key: parent → image. Takes the store's lock.
void record_cached_step(Store& store, const std::string& key, const std::string& parent_hex,
                        const std::string& image_hex);

// Untagged images that are the parent of another image of the cache (Docker's intermediate
// images: `images` lists them only with -a).
std::set<std::string> intermediate_images(const Store& store);

struct BuilderPruneResult {
  std::vector<std::string> entries;  // keys of the removed entries
  std::vector<std::string> deleted;  // "sha256:<hex>" of the images removed
  uint64_t reclaimed = 0;            // bytes of layer content removed
};
// `builder prune`: removes every entry, then the images only entries held (untagged, used by no
// container), then the layers nothing uses.
BuilderPruneResult prune_build_cache(Store& store);

}  // namespace minirun::build
