// layer_stream.h — the layer pipeline shared by pull and load: a layer blob's bytes, pushed in
// as they arrive (from a registry, or read from an archive), become an overlay2 diff/ while they
// arrive. Three threads per layer: the writer's (its bytes hashed: the blob digest), one
// decompressing (gzip/zstd/xz/bzip2, sniffed; the uncompressed bytes hashed: the DiffID) and one
// creating the entries (entry_writer.h) and recording the tar split (tar_split.h). Bounded memory
// (chunk_pipe.h): a slow extraction slows the writer down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "minirun/image/extract.h"

namespace minirun {

class LayerStream {
 public:
  // dest: an existing, empty directory. Starts the decompressing and extracting threads.
  LayerStream(const std::string& dest, const ExtractOptions& opts);
  // A stream not finished is abandoned: its threads stop, dest holds part of the layer (the
  // caller removes it).
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // The blob's next bytes. Once the layer cannot be extracted, they are only hashed (finish()
  // throws why).
  void write(const char* data, size_t n);
  // Reads size bytes of fd from offset into the stream (no copy); stops early once the layer
  // cannot be extracted. Throws Error when the file is shorter.
  void write_from(int fd, uint64_t offset, uint64_t size);
  // The end of the blob: waits for the extraction and returns its digests and sizes. Throws the
  // first Error of any stage. The caller compares the digests with what it expected.
  ExtractResult finish();
  // Bytes written so far.
  uint64_t written() const;
  // The SHA-256 of the bytes written, once finish() has returned or thrown.
  const std::string& blob_digest() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace minirun
