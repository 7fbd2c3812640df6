// extract.cpp — a layer blob read from a file, through the layer pipeline (layer_stream.h).
#include "minirun/image/extract.h"

#include <fcntl.h>
#include <unistd.h>

#include "minirun/image/layer_stream.h"
#include "minirun/util/error.h"
#include "minirun/util/layer_fs.h"

namespace minirun {

ExtractResult extract_layer(const std::string& file, uint64_t offset, uint64_t size, const std::string& dest,
                            const ExtractOptions& opts) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw sys_error(file);
  LayerStream stream(dest, opts);
  stream.write_from(fd.get(), offset, size);
  return stream.finish();
}

}  // namespace minirun
