// tar_index.h — an index of an uncompressed, seekable tar file built from its headers alone
// (ustar, GNU long names, PAX path/linkpath/size), seeking over the data. Used for the outer
// image archive, so that a layer is found by offset and read (or skipped) without copying.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace minirun {

struct TarEntry {
  std::string name;  // normalised: no leading "./" or "/", no trailing "/"
  char type = '0';   // '0' file, '1' hard link, '2' symlink, '5' dir, …
  uint64_t offset = 0, size = 0;
  std::string link;
};

class TarIndex {
 public:
  // Reads the headers of the tar file at fd (file_size bytes). Throws Error on malformed or
  // truncated data ("… runs past the end of the archive").
  static TarIndex build(int fd, uint64_t file_size);
  // The entry holding `path`'s data, following symlinks and hard links inside the archive
  // (never out of it, at most 40 hops); nullptr when absent.
  const TarEntry* resolve(const std::string& path) const;
  const std::map<std::string, TarEntry>& entries() const { return entries_; }

 private:
  std::map<std::string, TarEntry> entries_;
};

// A numeric tar header field (octal, or GNU base-256), leniently: stops at the first non-octal
// character.
uint64_t tar_number(const char* field, size_t len);
// The same, strictly: false for a non-octal character before the terminator, a negative
// base-256 value, or one that does not fit in 63 bits.
bool tar_number_strict(const char* field, size_t len, uint64_t& out);
// The PAX extended header records minirun cares about; throws Error on a malformed record.
void parse_pax(const std::string& data, std::string& path, std::string& link, uint64_t& size, bool& has_size);

// Lexically normalises an archive path: strips "./" and leading "/", folds "a/../b"; returns ""
// for the root and throws Error when ".." would climb above it.
std::string normalize_archive_path(const std::string& path);

// Cleans a layer entry's path against "/", as Docker does: "./a//b/../c" → "a/c", "../../x" →
// "x" (never refused: a layer's ".." stops at its root). "" means the root.
std::string clean_entry_path(const std::string& path);

}  // namespace minirun
