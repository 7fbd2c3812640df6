// destination.h — what a push needs of a registry: one repository it writes blobs and a
// manifest into, whatever lies between (authentication, TLS, upload sessions, chunking,
// retries). The push pipeline (engine/push.h) works only through this interface, so that it is
// tested with a recording fake; open_destination() (distribution_destination.h) gives the real one.
#pragma once

#include <cstdint>
#include <string>

namespace minirun::registry {

// A blob's bytes as an upload sends them: a file of the store (read again for each try), or
// bytes in memory (the image config).
struct BlobBody {
  std::string path;   // the file, when not empty
  std::string bytes;  // else these
  uint64_t size = 0;
};

class Destination {
 public:
  virtual ~Destination() = default;

  // Whether the repository has blob `digest` (HEAD /v2/PATH/blobs/DIGEST). Throws Error when the
  // registry cannot tell (denied, retries spent).
  virtual bool has_blob(const std::string& digest) = 0;
  // Mounts blob `digest` from repository `from` (a path on the same registry): true when the
  // registry mounted it (201), false when it wants an upload instead (202).
  virtual bool mount_blob(const std::string& digest, const std::string& from) = 0;
  // Uploads `body` as blob `digest`: monolithic (POST, then PUT ?digest= with the bytes) or, for
  // a blob larger than the chunk size, PATCHes of one chunk each, then the PUT. A cut or a
  // retryable answer starts the upload again (bounded tries). Throws Error when it fails.
  virtual void upload_blob(const std::string& digest, const BlobBody& body) = 0;
  // PUTs the manifest under `reference` (a tag) with its media type; returns its digest (the
  // registry's Docker-Content-Digest, checked against the bytes').
  virtual std::string put_manifest(const std::string& reference, const std::string& media_type,
                                   const std::string& bytes) = 0;
  // "HOST[:PORT]/PATH".
  virtual std::string where() const = 0;
};

}  // namespace minirun::registry
