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

#include "minirun/archive.h"
#include "minirun/error.h"
#include "minirun/image_config.h"

namespace {

char g_dir[4096];  // a plain buffer: still valid in the atexit handler

const std::string& work_dir() {
  static const std::string dir = [] {
    // Under $MINIRUN_FUZZ_TMP when set (scripts/fuzz.sh removes it, also after a crash, which
    // skips the atexit handler below), else in /dev/shm.
    const char* base = std::getenv("MINIRUN_FUZZ_TMP");
    std::snprintf(g_dir, sizeof g_dir, "%s/minirun-fuzz-XXXXXX", base && *base ? base : "/dev/shm");
    if (!::mkdtemp(g_dir)) std::abort();
    std::filesystem::create_directories(std::string(g_dir) + "/spool");
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(g_dir, ec);
    });
    return std::string(g_dir);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = work_dir();
  std::string path = dir + "/input.tar";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  for (size_t off = 0; off < size;) {
    ssize_t w = ::write(fd, data + off, size - off);
    if (w <= 0) std::abort();
    off += static_cast<size_t>(w);
  }
  ::close(fd);
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
