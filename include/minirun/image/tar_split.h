// tar_split.h — a layer's "tar split": every byte of its uncompressed tar except regular files'
// contents (which stay in diff/, referenced by path), recorded while the layer is extracted, so
// that `save` rebuilds the exact tar and keeps the DiffID. A tar that names a file twice or holds
// sparse entries cannot be rebuilt from diff/: then no split is kept.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace minirun {

class TarSplitRecorder {
 public:
  // Creates (truncating) the split file at path.
  explicit TarSplitRecorder(const std::string& path);
  ~TarSplitRecorder();
  TarSplitRecorder(const TarSplitRecorder&) = delete;
  TarSplitRecorder& operator=(const TarSplitRecorder&) = delete;
  // The next bytes of the uncompressed tar, in order.
  void feed(const char* p, size_t n);
  // Writes what is buffered; removes the file when the tar cannot be rebuilt.
  void finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace minirun
