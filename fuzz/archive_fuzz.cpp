// archive_fuzz.cpp — libFuzzer target over the image archive reader: the input is written to a
// file and opened as an image archive (tar header index, docker-save manifest.json and
// repositories, OCI oci-layout / index.json / nested indexes / manifests, every config,
// whole-archive gzip/zstd detection), then each image's config is parsed again. minirun::Error
// is the expected answer to a bad archive; a crash, a sanitizer report, a hang or another
// exception type is a finding.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "fuzz_tar.h"
#include "minirun/image/archive.h"
#include "minirun/util/error.h"
#include "minirun/image/image_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = minirun::fuzz::scratch_dir();
  std::string path = dir + "/input.tar";
  minirun::fuzz::write_whole(path, std::string(reinterpret_cast<const char*>(data), size));
  try {
    auto archive = minirun::ImageArchive::open(path, dir + "/spool");
    for (const auto& img : archive->images()) {
      auto cfg = minirun::parse_image_config(img.config);
      (void)cfg;
      if (img.layers.size() != img.diff_ids.size()) std::abort();  // the reader promises this
    }
  } catch (const minirun::Error&) {
  }
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(dir + "/spool", ec)) std::filesystem::remove_all(e.path(), ec);
  return 0;
}
