// add_archive.h — ADD's local archives: whether a source file is a tar archive (plain, or gzip,
// bzip2, xz or zstd compressed; told by its content, as Docker does, never by its name: a file
// that is not a tar is copied as it is) and extracting one with minirun's layer extraction code
// (extract.h: every entry inside the destination), owners and modes as the archive has them.
#pragma once

#include <string>

namespace minirun::build {

bool is_tar_archive(const std::string& path);

// Extracts the archive at path into dest (an existing, empty directory). Throws Error.
void extract_archive(const std::string& path, const std::string& dest);

}  // namespace minirun::build
