#include "minirun/build/add_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "minirun/image/extract.h"
#include "minirun/util/error.h"

namespace minirun::build {

namespace {

enum class Magic { none, gzip, bzip2, xz, zstd };

// Docker's DetectCompression: the stream's first bytes.
Magic sniff(const unsigned char* b, size_t n) {
  auto starts = [&](const char* m, size_t len) { return n >= len && std::memcmp(b, m, len) == 0; };
  if (starts("\x1f\x8b\x08", 3)) return Magic::gzip;
  if (starts("BZh", 3)) return Magic::bzip2;
  if (starts("\xfd\x37\x7a\x58\x5a\x00", 6)) return Magic::xz;
  if (starts("\x28\xb5\x2f\xfd", 4)) return Magic::zstd;
  return Magic::none;
}

}  // namespace

bool is_tar_archive(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  unsigned char head[8] = {};
  ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  if (n <= 0) return false;
  Magic m = sniff(head, static_cast<size_t>(n));
  // Then, as Docker: a tar reader must read a first header from the (decompressed) stream. Only
  // the filter the magic names, and only when libarchive has it built in (no external program).
  struct archive* a = archive_read_new();
  if (!a) return false;
  int r = ARCHIVE_OK;
  switch (m) {
    case Magic::gzip: r = archive_read_support_filter_gzip(a); break;
    case Magic::bzip2: r = archive_read_support_filter_bzip2(a); break;
    case Magic::xz: r = archive_read_support_filter_xz(a); break;
    case Magic::zstd: r = archive_read_support_filter_zstd(a); break;
    case Magic::none: break;
  }
  if (r != ARCHIVE_OK) {
    archive_read_free(a);
    return true;  // compressed, and no built-in reader to look inside: the extraction will tell
  }
  archive_read_support_format_tar(a);
  struct archive_entry* e = nullptr;
  bool ok = archive_read_open_filename(a, path.c_str(), 64 * 1024) == ARCHIVE_OK &&
            archive_read_next_header(a, &e) == ARCHIVE_OK;
  archive_read_free(a);
  return ok;
}

void extract_archive(const std::string& path, const std::string& dest) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw sys_error(path);
  try {
    extract_layer(path, 0, static_cast<uint64_t>(st.st_size), dest, ExtractOptions{});
  } catch (const Error& e) {
    throw Error("ADD: extracting " + path + ": " + e.what(), 1);
  }
}

}  // namespace minirun::build
