// push.h — pushing an image of the store to a registry through registry::Destination: each
// layer's compressed blob (kept from a pull, or made once from the store's tar stream, checked
// against its DiffID, and remembered: a later push sends the same bytes), skipped when the
// registry has it (HEAD), mounted from another repository of the same registry known to hold
// it, else uploaded; several layers at once; then the config, byte for byte the stored one (its
// digest is the image ID), and the manifest (Docker schema2 or OCI). Nothing is published
// (no manifest PUT) unless every blob is there; the RepoDigest is recorded once it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "minirun/registry/destination.h"
#include "minirun/store/store.h"

namespace minirun {

enum class PushState { kPreparing, kPushing, kPushed, kExists, kMounted };

struct PushProgress {
  size_t index = 0;     // in the image, bottom first
  std::string id;       // the DiffID's first 12 hex characters, as docker push shows a layer
  PushState state = PushState::kPreparing;
  std::string from;     // kMounted: the repository's path it was mounted from
};

struct PushOptions {
  std::string tag = "latest";  // the manifest's reference at the registry
  std::string repo_name;       // the familiar name ("127.0.0.1:5000/app"), for RepoDigests
  std::string format = "docker";  // "docker" (schema2) or "oci"
  // "gzip" or "zstd"; "": a kept blob of either (a pulled image's own), else gzip.
  std::string compression;
  size_t max_concurrent = 5;   // layers prepared and uploaded at once
  std::function<void(const PushProgress&)> progress;  // serialised
};

struct PushResult {
  std::string digest;    // the manifest's
  uint64_t size = 0;     // the manifest's bytes
  std::string manifest;  // its bytes
};

// Pushes image `hex` to `dest`. Throws Error (nothing published when a blob could not be had).
PushResult push_image(Store& store, registry::Destination& dest, const std::string& hex, const PushOptions& opts);

}  // namespace minirun
