// distribution_destination.h — the real registry::Destination: one repository of a registry
// speaking the distribution API, on the Session pull uses (session.h: ping, TLS, auth with the
// scope repository:PATH:pull,push, retries). Owns the upload protocol: HEAD to skip what is
// there, the cross-repository mount, upload sessions whose Location (relative or absolute) is
// followed at each step, monolithic or chunked (PATCH with Content-Range) uploads, the manifest PUT.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "minirun/image/reference.h"
#include "minirun/registry/destination.h"
#include "minirun/registry/distribution_source.h"

namespace minirun::registry {

inline constexpr uint64_t kDefaultChunkSize = 16u << 20;

struct DestinationOptions {
  SourceOptions conn;  // TLS, credentials, tries, as pull's
  // Blobs larger than this go up in PATCHes of this size; others in one PUT.
  uint64_t chunk_size = kDefaultChunkSize;
  // Repositories of the same registry blobs may be mounted from: their pull scope is asked for too.
  std::vector<std::string> mount_from;
};

// Whether a blob of `size` bytes is uploaded in chunks.
inline bool upload_in_chunks(uint64_t size, uint64_t chunk_size) { return chunk_size > 0 && size > chunk_size; }

// The repository `ref` names (tag and digest unused), reached with a /v2/ ping now.
std::unique_ptr<Destination> open_destination(const Reference& ref, const DestinationOptions& opts);

}  // namespace minirun::registry
