// source.h — what a pull needs of a registry: one repository's manifests and blobs, whatever
// lies between (mirrors, authentication, TLS, redirects, retries, resumption after a cut).
//
// The pull pipeline (registry/pull.h) works only through this interface, so that it is tested
// with a recording fake; open_source() gives the real one, on libcurl (registry/http.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace minirun::registry {

// A manifest or index as the registry served it.
struct FetchedManifest {
  std::string bytes;       // exactly as received: its SHA-256 is its digest
  std::string media_type;  // the response's Content-Type (or the document's mediaType)
  std::string digest;      // "sha256:<hex>" of bytes, checked against Docker-Content-Digest
};

class Source {
 public:
  virtual ~Source() = default;

  // The manifest or index that `reference` (a tag, or "sha256:<hex>") names in this repository,
  // asked for with an Accept of the OCI manifest and index and Docker's schema2 manifest and
  // manifest list. Throws Error: unknown manifest (naming the reference), a digest that differs
  // from Docker-Content-Digest or from a pinned reference, schema1 (refused with a clear message).
  virtual FetchedManifest manifest(std::string_view reference) = 0;

  // Streams blob `digest` from byte `offset` into `sink`, in order, each byte once: a connection
  // cut or a retryable status is retried with backoff and resumed with Range from what was
  // delivered. `size` (the descriptor's) bounds what is accepted. The caller hashes and checks
  // the digest; this only moves bytes. Throws Error when the retries are spent.
  virtual void blob(std::string_view digest, uint64_t offset, uint64_t size,
                    const std::function<void(const char* data, size_t n)>& sink) = 0;

  // "HOST[:PORT]/PATH" of the repository actually serving (a mirror's, when one answered).
  virtual std::string where() const = 0;
};

}  // namespace minirun::registry
